#!/usr/bin/env bash
# Set-up for a fresh machine, idempotent and quiet when all is in place:
#   - the project venv (.venv) with pinned torch 2.11.0 (the libtorch tch
#     links against), torchvision/torchinfo/safetensors for reference tests,
#     and Jupyter's headless pieces (nbclient, nbconvert);
#   - the project's kernel: evcxr_jupyter 0.22.0 built from its crates.io
#     source with scripts/kernel/kernel.patch (scripts/kernel/build.sh);
#   - the `cnn_lab` Jupyter kernel (scripts/kernel.sh) registered for this
#     checkout in target/jupyter (env.sh puts it on JUPYTER_PATH), and for the
#     user with --user-kernel, for a Jupyter started elsewhere;
#   - the datasets root ($CNN_LAB_DATA, ../shared/datasets or data/);
#   - a warm kernel build slot, so a new kernel's `:dep cnn_lab` takes seconds;
#   - the browser test's Debian packages (scripts/setup_browser.sh).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CNN_LAB_ROOT"

user_kernel=0
warm=1
for arg in "$@"; do
  case "$arg" in
    --user-kernel) user_kernel=1 ;;
    --no-warm) warm=0 ;;
    *) echo "setup.sh: unknown option $arg (known: --user-kernel, --no-warm)" >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*"; }

command -v cargo >/dev/null || { echo "setup: cargo not found (install Rust with rustup)" >&2; exit 1; }

# 1. The venv. A stamp holding the requirements' hash makes a re-run a no-op.
req="$CNN_LAB_ROOT/scripts/requirements.txt"
stamp="$CNN_LAB_VENV/.cnn_lab-requirements"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$CNN_LAB_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "creating the venv at $CNN_LAB_VENV (torch 2.11.0 is a large download)"
  [ -x "$CNN_LAB_VENV/bin/python" ] || python3 -m venv "$CNN_LAB_VENV"
  "$CNN_LAB_VENV/bin/python" -m pip install -q --upgrade pip
  "$CNN_LAB_VENV/bin/python" -m pip install -q -r "$req"
  echo "$want" > "$stamp"
  # env.sh found no torch the first time: source it again for the lib dir.
  # shellcheck source=scripts/env.sh
  source "$CNN_LAB_ROOT/scripts/env.sh"
fi

# 2. The kernel binary (patched evcxr_jupyter; a no-op when already built).
"$CNN_LAB_ROOT/scripts/kernel/build.sh"

# 3. The kernelspec, written in one step with its argv (evcxr_jupyter
#    --install would write a kernel.json without our environment).
write_spec() {
  local dir="$1/cnn_lab"
  mkdir -p "$dir"
  local json
  json=$(cat <<JSON
{
  "argv": ["$CNN_LAB_ROOT/scripts/kernel.sh", "{connection_file}"],
  "display_name": "Rust (cnn_lab)",
  "language": "rust",
  "interrupt_mode": "message"
}
JSON
)
  if [ "$(cat "$dir/kernel.json" 2>/dev/null)" != "$json" ]; then
    echo "$json" > "$dir/kernel.json"
    say "registered the cnn_lab kernel in $dir"
  fi
}
# Per checkout, not in the venv: two checkouts sharing a venv must each get
# their own kernel.
write_spec "$CNN_LAB_ROOT/target/jupyter/kernels"
if [ "$user_kernel" = 1 ]; then
  write_spec "${XDG_DATA_HOME:-$HOME/.local/share}/jupyter/kernels"
fi

# 4. The datasets root.
if [ ! -d "$CNN_LAB_DATA" ]; then
  mkdir -p "$CNN_LAB_DATA"
  say "created $CNN_LAB_DATA; the loaders download MNIST / Fashion-MNIST into it"
fi

# 5. Warm build slots: build cnn_lab's dependencies once in slot 0 through
#    the real kernel, then copy it to the other slots a second kernel takes.
#    Skipped when nothing that goes into the build changed since the last warm-up.
warm_stamp="$CNN_LAB_ROOT/target/evcxr/warm.stamp"
if [ "$warm" = 1 ]; then
  changed=1
  if [ -f "$warm_stamp" ] && [ -d "$CNN_LAB_ROOT/target/evcxr/slot-0" ]; then
    changed="$(find "$CNN_LAB_ROOT/crate/src" "$CNN_LAB_ROOT/crate/assets" "$CNN_LAB_ROOT/crate/Cargo.toml" \
      "$CNN_LAB_ROOT/crate/build.rs" "$CNN_LAB_ROOT/Cargo.lock" "$CNN_LAB_ROOT/scripts/evcxr" \
      "$CNN_LAB_ROOT/scripts/kernel/kernel.patch" \
      -newer "$warm_stamp" -print -quit 2>/dev/null | wc -l)"
  fi
  if [ "$changed" != 0 ]; then
    "$CNN_LAB_VENV/bin/python" "$CNN_LAB_ROOT/scripts/notebooks.py" warm
    touch "$warm_stamp"
  fi
fi

# 6. The browser test's system packages: Chromium, ChromeDriver, a CJK font.
"$CNN_LAB_ROOT/scripts/setup_browser.sh"
