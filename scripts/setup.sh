#!/usr/bin/env bash
# Set-up for a fresh machine, idempotent and quiet when all is in place:
#   1. the project venv (.venv) with pinned torch 2.13.0 (the libtorch tch
#      links against), torchvision/torchinfo/safetensors for reference tests,
#      and Jupyter (nbclient for headless runs, JupyterLab);
#   2. at the same time (it needs no torch, the venv mostly the network): the
#      project's kernel, evcxr_jupyter 0.22.0 with scripts/kernel/patches/
#      (scripts/kernel/build.sh), built once per machine; with --no-analysis
#      (scripts/run_notebooks.sh: a headless run needs no completions) the
#      lean kernel, half the build, unless the whole one is there;
#   3. the `cnn_lab` Jupyter kernel (scripts/kernel.sh) registered for this
#      checkout in target/jupyter (env.sh puts it on JUPYTER_PATH), and for the
#      user with --user-kernel, for a Jupyter started elsewhere;
#   4. the datasets root ($CNN_LAB_DATA, default data/);
#   5. a warm kernel build slot, so a new kernel's `:dep cnn_lab` takes seconds.
# The browser test's system packages are scripts/setup_browser.sh's, run by
# scripts/test.sh: running the notebooks needs no browser.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$CNN_LAB_ROOT"

user_kernel=0
warm=1
kernel=()
for arg in "$@"; do
  case "$arg" in
    --user-kernel) user_kernel=1 ;;
    --no-warm) warm=0 ;;
    --no-analysis) kernel=(--lean) ;;
    *) echo "setup.sh: unknown option $arg (known: --user-kernel, --no-warm, --no-analysis)" >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*"; }

command -v cargo >/dev/null || { echo "setup: cargo not found (install Rust with rustup)" >&2; exit 1; }

# 1 and 2 at once: the venv (in the background; a stamp holding the
# requirements' hash makes a re-run a no-op) and the kernel.
req="$CNN_LAB_ROOT/scripts/requirements.txt"
stamp="$CNN_LAB_VENV/.cnn_lab-requirements"
want="$(sha256sum "$req" | cut -d' ' -f1)"
venv_pid=""
if [ ! -x "$CNN_LAB_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "[1/5] the Python venv at $CNN_LAB_VENV: torch 2.13.0 and its CUDA libraries (~2.5 GB download," \
    "~5 GB on disk; about 3 minutes, while the kernel builds)"
  [ -x "$CNN_LAB_VENV/bin/python" ] || python3 -m venv "$CNN_LAB_VENV"
  (
    "$CNN_LAB_VENV/bin/python" -m pip install -q --upgrade pip
    python3 "$CNN_LAB_ROOT/scripts/progress.py" venv --watch "$CNN_LAB_VENV" -- \
      "$CNN_LAB_VENV/bin/python" -m pip install -q -r "$req"
    echo "$want" > "$stamp"
  ) &
  venv_pid=$!
  # Should set-up stop early (a failed kernel build), the install stops too.
  trap '[ -z "$venv_pid" ] || kill "$venv_pid" 2>/dev/null || true' EXIT
fi

# 2. The kernel binary (a no-op when already built; it says what it does).
"$CNN_LAB_ROOT/scripts/kernel/build.sh" "${kernel[@]}"

if [ -n "$venv_pid" ]; then
  wait "$venv_pid" || { echo "setup: installing the venv failed (see pip's message above)" >&2; exit 1; }
  venv_pid=""
  say "the venv is ready"
  # env.sh found no torch the first time: source it again for the lib dir.
  # shellcheck source=scripts/env.sh
  source "$CNN_LAB_ROOT/scripts/env.sh"
fi

# mold, where it can be installed: the kernel links every cell with it
# (scripts/kernel.sh), quicker than GNU ld (docs/performance.md). Optional.
command -v mold >/dev/null || "$CNN_LAB_ROOT/scripts/apt_install.sh" "quicker notebook cells" mold

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
    say "[3/5] registered the Rust (cnn_lab) kernel in $dir"
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
  say "[4/5] created $CNN_LAB_DATA; the loaders download MNIST / Fashion-MNIST into it"
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
      "$CNN_LAB_ROOT/scripts/kernel/patches" \
      -newer "$warm_stamp" -print -quit 2>/dev/null | wc -l)"
  fi
  if [ "$changed" != 0 ]; then
    "$CNN_LAB_VENV/bin/python" "$CNN_LAB_ROOT/scripts/notebooks.py" warm
    touch "$warm_stamp"
  fi
fi
case "$(readlink "$CNN_LAB_ROOT/target/kernel/evcxr_jupyter")" in
  *-lean) say "the kernel runs every cell; Tab completion and Shift+Tab come with its analysis," \
    "which scripts/setup.sh builds (about 5 minutes on 2 cores)" ;;
esac
