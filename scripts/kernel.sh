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
export EVCXR_CONFIG_DIR="$CNN_LAB_ROOT/scripts/evcxr"
exec "$CNN_LAB_ROOT/target/kernel/evcxr_jupyter" --control_file "$1"
