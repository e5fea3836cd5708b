#!/usr/bin/env bash
# The cnn_lab Jupyter kernel: evcxr with the environment tch needs and a
# persistent build folder, so `:dep cnn_lab` takes seconds, not minutes.
#
# evcxr deletes its temporary build folder when a kernel exits, so every new
# kernel would rebuild tch and its C++ (~4 minutes). With EVCXR_TMPDIR set it
# keeps the folder. Two live kernels must never share one (they would corrupt
# each other's build), so each kernel takes the first free *slot*, held by a
# lock for the kernel's lifetime (the lock fd is inherited by evcxr).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

slots="$CNN_LAB_ROOT/target/evcxr"
mkdir -p "$slots"
# Profile settings for every slot (see scripts/evcxr/cargo-config.toml).
mkdir -p "$slots/.cargo"
cp -f "$CNN_LAB_ROOT/scripts/evcxr/cargo-config.toml" "$slots/.cargo/config.toml"

slot=""
for i in 0 1 2 3 4 5 6 7; do
  exec 9>"$slots/slot-$i.lock"
  if flock -n 9; then
    slot="$slots/slot-$i"
    break
  fi
  exec 9>&-
done
if [ -z "$slot" ]; then
  # Eight kernels open: fall back to evcxr's own throw-away folder.
  unset EVCXR_TMPDIR
else
  mkdir -p "$slot"
  # evcxr renames each cell's library to libcode_N.so and never deletes it;
  # in a kept slot they would pile up, kernel after kernel (a few MB each).
  # The kernel that made them has exited: we hold its slot's lock.
  find "$slot" -maxdepth 4 -name 'libcode_*.so' -delete 2>/dev/null || true
  export EVCXR_TMPDIR="$slot"
fi
# evcxr's start-up commands (scripts/evcxr/init.evcxr) and the linker. evcxr
# picks mold or lld by itself when it finds one; lld changes RUSTFLAGS, which
# rebuilds a slot's dependencies, so the choice is made here, once: mold where
# set-up could install it (a trivial cell 1.20 s against 1.47 s with GNU ld;
# `mold -run cargo` leaves RUSTFLAGS, and so the slot, as it is), else the
# system linker. CNN_LAB_LINKER=system|mold says which (scripts/bench_kernel.sh
# compares them).
linker="${CNN_LAB_LINKER:-}"
if [ -z "$linker" ]; then
  linker=system
  command -v mold >/dev/null && linker=mold
fi
config="$slots/config-$linker"
mkdir -p "$config"
init="$(printf ':linker %s\n' "$linker"; cat "$CNN_LAB_ROOT/scripts/evcxr/init.evcxr")"
if [ "$(cat "$config/init.evcxr" 2>/dev/null)" != "$init" ]; then
  printf '%s\n' "$init" > "$config/init.evcxr.$$"
  mv "$config/init.evcxr.$$" "$config/init.evcxr"
fi
export EVCXR_CONFIG_DIR="$config"
# CNN_LAB_KERNEL_BIN: another build of the kernel (scripts/bench_kernel.sh
# --kernels compares series, e.g. ~/.cache/cnn_lab/kernel/bin/evcxr_jupyter-<key>).
exec "${CNN_LAB_KERNEL_BIN:-$CNN_LAB_ROOT/target/kernel/evcxr_jupyter}" --control_file "$1"
