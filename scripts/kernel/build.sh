#!/usr/bin/env bash
# Builds the project's Jupyter kernel: evcxr_jupyter 0.22.0 from its crates.io
# source with scripts/kernel/kernel.patch applied (see the patch's comments
# for what it changes and why), and links it as target/kernel/evcxr_jupyter.
#
# Idempotent: the build lives in a per-user cache keyed by the patch's hash
# ($CNN_LAB_KERNEL_CACHE, default ~/.cache/cnn_lab/kernel), so every checkout
# on the machine with the same patch shares one binary, a changed patch
# rebuilds only the two evcxr crates (the dependencies stay compiled), and a
# re-run with nothing changed only refreshes the link.
#
#   scripts/kernel/build.sh          build (if needed) and link
#   scripts/kernel/build.sh --test   also run the patch's own unit tests
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/../env.sh"

VERSION=0.22.0
cache="${CNN_LAB_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnn_lab/kernel}"
patch_file="$here/kernel.patch"
key="$(cat "$patch_file" "$here/fetch/Cargo.lock" | sha256sum | cut -c1-16)"
bin="$cache/bin/evcxr_jupyter-$key"
link="$CNN_LAB_ROOT/target/kernel/evcxr_jupyter"

mkdir -p "$cache"
# One build at a time per machine (checkouts share the cache).
exec 8>"$cache/.lock"
flock 8
if [ ! -x "$bin" ]; then
  echo "setup: building the cnn_lab kernel (evcxr_jupyter $VERSION + kernel.patch; ~9–11 minutes the first time on 2 cores)"
  # 1. Sources through cargo, checksums checked against fetch/Cargo.lock.
  cargo fetch --locked --quiet --manifest-path "$here/fetch/Cargo.toml"
  registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
  find_src() {
    local d
    d="$(find "$registry" -maxdepth 2 -type d -name "$1-$VERSION" | head -n 1)"
    [ -n "$d" ] || { echo "setup: $1-$VERSION not found under $registry after cargo fetch" >&2; exit 1; }
    echo "$d"
  }
  # 2. A fresh copy of both crates, patched.
  src="$cache/src"
  rm -rf "$src"
  mkdir -p "$src"
  cp -r "$(find_src evcxr)" "$src/evcxr"
  cp -r "$(find_src evcxr_jupyter)" "$src/evcxr_jupyter"
  if [ -s "$patch_file" ]; then
    patch --quiet --forward -p1 -d "$src" < "$patch_file"
  fi
  # 3. One workspace whose evcxr is the patched copy; evcxr_jupyter's own
  #    Cargo.lock pins every other dependency (as `cargo install --locked`).
  cp "$src/evcxr_jupyter/Cargo.lock" "$src/Cargo.lock"
  cat > "$src/Cargo.toml" <<'TOML'
[workspace]
members = ["evcxr_jupyter"]
exclude = ["evcxr"]
resolver = "2"

[patch.crates-io]
evcxr = { path = "evcxr" }

[profile.release]
debug = false
TOML
  CARGO_TARGET_DIR="$cache/target" cargo build --release --quiet \
    --manifest-path "$src/Cargo.toml" -p evcxr_jupyter --bin evcxr_jupyter
  mkdir -p "$cache/bin"
  cp "$cache/target/release/evcxr_jupyter" "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
# Binaries of other patches (other checkouts, older versions) unused for two
# weeks go; this one's time is refreshed each time a set-up uses it.
touch "$bin"
find "$cache/bin" -maxdepth 1 -name 'evcxr_jupyter-*' ! -path "$bin" -mtime +14 -delete 2>/dev/null || true
mkdir -p "$(dirname "$link")"
if [ "$(readlink "$link" 2>/dev/null)" != "$bin" ]; then
  ln -sfn "$bin" "$link"
fi
if [ "${1:-}" = "--test" ]; then
  # The unit tests the patch adds to evcxr (their names start cnn_lab), in
  # the release build's folder: its dependencies are already compiled there
  # (~10 s, not a second 2 GB debug build).
  rm -rf "$cache/test-target"
  CARGO_TARGET_DIR="$cache/target" cargo test --release --quiet \
    --manifest-path "$cache/src/Cargo.toml" -p evcxr --lib cnn_lab
fi
