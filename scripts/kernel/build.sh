#!/usr/bin/env bash
# Builds the project's Jupyter kernel: evcxr_jupyter 0.22.0 from its crates.io
# source with the series in scripts/kernel/patches/ applied in order (each
# patch's header says why it exists and which test covers it), and links it
# as target/kernel/evcxr_jupyter.
#
# Idempotent: the build lives in a per-user cache keyed by the patches'
# content, fetch/Cargo.lock and workspace.toml ($CNN_LAB_KERNEL_CACHE,
# default ~/.cache/cnn_lab/kernel), so every checkout on the machine with the
# same series shares one binary, a changed patch rebuilds only the two evcxr
# crates (the dependencies stay compiled), and a re-run with nothing changed
# only refreshes the link.
#
# The kernel comes in two builds of the same series. The whole kernel has
# rust-analyzer's analysis (Tab completion, Shift+Tab, the rare variable type
# the running program cannot name); its semantic crates are about half of the
# build. The lean kernel (evcxr without its `analysis` feature,
# 14-analysis-optional.patch) runs every cell the same and is what a headless
# run needs: scripts/run_notebooks.sh builds only it on a new machine, so the
# first notebook runs ~5 minutes sooner, and scripts/setup.sh adds the
# analysis (its dependencies then stay compiled). The link names the whole
# kernel when it is built, else the lean one.
#
#   scripts/kernel/build.sh              build (if needed) and link
#   scripts/kernel/build.sh --lean       the lean kernel, unless the whole
#                                        one is built (then only the link)
#   scripts/kernel/build.sh --lean-path  the lean kernel, built if missing
#                                        (the link as it was); prints its path
#   scripts/kernel/build.sh --stock-path upstream's evcxr_jupyter (no patches),
#                                        built if missing; prints its path
#   scripts/kernel/build.sh --test       also run the series' own unit tests
#   scripts/kernel/build.sh --key        print the cache key
#   scripts/kernel/build.sh --sources D  the patched sources in D, a git
#                                        repository with one commit per patch
#   scripts/kernel/build.sh --export D   D's commits (after --sources and
#                                        edits) written back as the series
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/../env.sh"

VERSION=0.22.0
cache="${CNN_LAB_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnn_lab/kernel}"
patches=("$here"/patches/*.patch)
key="$(for p in "${patches[@]}"; do basename "$p"; cat "$p"; done |
  cat - "$here/fetch/Cargo.lock" "$here/workspace.toml" | sha256sum | cut -c1-16)"
bin="$cache/bin/evcxr_jupyter-$key"
lean="$bin-lean"
link="$CNN_LAB_ROOT/target/kernel/evcxr_jupyter"
say() { echo "kernel: $*" >&2; }

# Pristine sources through cargo, checksums checked against fetch/Cargo.lock.
pristine() {
  cargo fetch --locked --quiet --manifest-path "$here/fetch/Cargo.toml"
  local registry="${CARGO_HOME:-$HOME/.cargo}/registry/src" d
  d="$(find "$registry" -maxdepth 2 -type d -name "$1-$VERSION" | head -n 1)"
  [ -n "$d" ] || { say "$1-$VERSION not found under $registry after cargo fetch"; exit 1; }
  echo "$d"
}

# A fresh copy of both crates in $1, the series applied (committed one patch
# at a time when $2 is "git").
patched_sources() {
  local dest="$1" p
  rm -rf "$dest"
  mkdir -p "$dest"
  cp -r "$(pristine evcxr)" "$dest/evcxr"
  cp -r "$(pristine evcxr_jupyter)" "$dest/evcxr_jupyter"
  if [ "${2:-}" = git ]; then
    git -C "$dest" init --quiet
    git -C "$dest" add -A
    git -C "$dest" -c user.name=cnn_lab -c user.email=cnn_lab@localhost commit --quiet -m "evcxr and evcxr_jupyter $VERSION"
  fi
  for p in "${patches[@]}"; do
    patch --quiet --forward --no-backup-if-mismatch -p1 -d "$dest" < "$p" ||
      { say "$(basename "$p") does not apply"; exit 1; }
    if [ "${2:-}" = git ]; then
      git -C "$dest" add -A
      # The commit message is the patch's header: the text before its first diff.
      sed '/^diff /,$d' "$p" | git -C "$dest" -c user.name=cnn_lab -c user.email=cnn_lab@localhost \
        commit --quiet -F - || true
    fi
  done
}

# The build's workspace in the cache: the patched crates, evcxr_jupyter's
# lock file, workspace.toml, and the key they were made for.
build_sources() {
  local src="$cache/src"
  patched_sources "$src"
  cp "$src/evcxr_jupyter/Cargo.lock" "$src/Cargo.lock"
  cp "$here/workspace.toml" "$src/Cargo.toml"
  echo "$key" > "$src/.cnn_lab-key"
}

case "${1:-}" in
  --key) echo "$key"; exit 0 ;;
  --stock-path)
    # Upstream's evcxr_jupyter, no patches, as `cargo install --locked
    # evcxr_jupyter` builds it (tests/python/stock_evcxr_check.py: a
    # learner's own evcxr). In the kernel's target folder, so the locked
    # dependencies both builds share are compiled once.
    stock="$cache/bin/evcxr_jupyter-stock-$VERSION"
    if [ ! -x "$stock" ]; then
      mkdir -p "$cache"
      exec 8>"$cache/.lock"
      flock 8
      src="$cache/stock-src"
      rm -rf "$src"
      mkdir -p "$src"
      cp -r "$(pristine evcxr_jupyter)" "$src/evcxr_jupyter"
      cp "$src/evcxr_jupyter/Cargo.lock" "$src/Cargo.lock"
      printf '[workspace]\nmembers = ["evcxr_jupyter"]\nresolver = "2"\n\n[profile.release]\ndebug = false\n' \
        > "$src/Cargo.toml"
      say "building a stock evcxr_jupyter $VERSION (no patches; the dependencies it shares with the kernel are compiled)"
      CARGO_TARGET_DIR="$cache/target" python3 "$here/../progress.py" kernel -- \
        cargo build --release --locked --manifest-path "$src/Cargo.toml" -p evcxr_jupyter --bin evcxr_jupyter >&2
      mkdir -p "$cache/bin"
      cp "$cache/target/release/evcxr_jupyter" "$stock.tmp"
      mv "$stock.tmp" "$stock"
    fi
    touch "$stock"
    echo "$stock"
    exit 0
    ;;
  --sources)
    patched_sources "${2:?--sources DIR}" git
    say "patched sources in $2, one commit per patch ($(git -C "$2" rev-list --count HEAD) commits)"
    exit 0
    ;;
  --export)
    dir="${2:?--export DIR}"
    rm -f "$here"/patches/*.patch
    n=0
    for c in $(git -C "$dir" rev-list --reverse HEAD | tail -n +2); do
      n=$((n + 1))
      old="${patches[$((n - 1))]:-}"
      name="$(basename "${old:-$(printf '%02d-%s.patch' "$n" "$(git -C "$dir" log -1 --format=%f "$c")")}")"
      # In the series' own format: diff -ruN's headers, no index lines, no
      # function names after the hunk headers.
      { git -C "$dir" log -1 --format=%B "$c"
        git -C "$dir" diff --no-color --no-renames "$c^" "$c" | sed -E \
          -e 's#^diff --git a/(\S+) b/(\S+)$#diff -ruN a/\1 b/\2#' -e '/^index [0-9a-f]+\.\.[0-9a-f]+/d' \
          -e 's#^(@@ [^@]+ @@).*#\1#'
      } > "$here/patches/$name"
      say "wrote patches/$name"
    done
    exit 0
    ;;
esac

mkdir -p "$cache"
# One build at a time per machine (checkouts share the cache).
exec 8>"$cache/.lock"
if ! flock -n 8; then
  say "waiting for another kernel build on this machine to finish"
  flock 8
fi
# build OUT WHAT CARGO-FEATURE-ARGS...: one of the two builds, into OUT.
build() {
  local out="$1" what="$2" total=()
  shift 2
  if [ -d "$cache/target/release/deps" ]; then
    say "building $what (evcxr_jupyter $VERSION + ${#patches[@]} patches; usually only the two evcxr crates, 1–3 minutes; longer when the series changed its locked dependencies or adds the analysis)"
  else
    say "building $what (evcxr_jupyter $VERSION + ${#patches[@]} patches; ${KERNEL_FIRST_TIME:-~340 crates, 9–11 minutes on 2 cores the first time})"
  fi
  build_sources
  [ -d "$cache/target/release/deps" ] || total=(--total "${KERNEL_CRATES:-$(grep -c '^name = ' "$cache/src/Cargo.lock")}")
  CARGO_TARGET_DIR="$cache/target" python3 "$here/../progress.py" kernel "${total[@]}" -- \
    cargo build --release --manifest-path "$cache/src/Cargo.toml" -p evcxr_jupyter --bin evcxr_jupyter "$@"
  mkdir -p "$cache/bin"
  cp "$cache/target/release/evcxr_jupyter" "$out.tmp"
  mv "$out.tmp" "$out"
}
build_lean() {
  KERNEL_FIRST_TIME="~150 crates, about 2 minutes on 2 cores the first time; scripts/setup.sh adds the analysis for Tab completion and Shift+Tab later" \
    KERNEL_CRATES=150 build "$lean" "the lean cnn_lab kernel, without its analysis" --no-default-features --features mimalloc
}
if [ "${1:-}" = --lean-path ]; then
  [ -x "$lean" ] || build_lean >&2
  touch "$lean"
  echo "$lean"
  exit 0
elif [ "${1:-}" = --lean ]; then
  [ -x "$bin" ] || [ -x "$lean" ] || build_lean
elif [ ! -x "$bin" ]; then
  build "$bin" "the cnn_lab kernel"
fi
# The whole kernel where it is built, else the lean one.
use="$bin"
[ -x "$bin" ] || use="$lean"
# Binaries of other series (other checkouts, older versions) unused for two
# weeks go; this one's time is refreshed each time a set-up uses it.
touch "$use"
find "$cache/bin" -maxdepth 1 -name 'evcxr_jupyter-*' ! -path "$use" -mtime +14 -delete 2>/dev/null || true
mkdir -p "$(dirname "$link")"
if [ "$(readlink "$link" 2>/dev/null)" != "$use" ]; then
  ln -sfn "$use" "$link"
fi
if [ "${1:-}" = "--test" ]; then
  # The unit tests the series adds to evcxr (their names start cnn_lab), in
  # the release build's folder: its dependencies are already compiled there
  # (seconds, not a second 2 GB debug build). The sources there may be
  # another checkout's series, built since.
  [ "$(cat "$cache/src/.cnn_lab-key" 2>/dev/null)" = "$key" ] || build_sources
  CARGO_TARGET_DIR="$cache/target" cargo test --release --quiet \
    --manifest-path "$cache/src/Cargo.toml" -p evcxr --lib cnn_lab
  # And without the analysis (the lean kernel's rust_analyzer_off.rs): cargo
  # takes features only for the package whose manifest it is given, here
  # evcxr's own, with the workspace's lock file.
  cp "$cache/src/Cargo.lock" "$cache/src/evcxr/Cargo.lock"
  CARGO_TARGET_DIR="$cache/target" cargo test --release --quiet \
    --manifest-path "$cache/src/evcxr/Cargo.toml" --lib --no-default-features cnn_lab
fi
