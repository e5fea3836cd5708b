# Sourced by the other scripts: the environment that builds and runs tch code.
# shellcheck shell=bash
CNN_LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CNN_LAB_ROOT
export CNN_LAB_VENV="${CNN_LAB_VENV:-$CNN_LAB_ROOT/.venv}"
# tch finds libtorch through the venv's torch (torch-sys asks `python3`).
export LIBTORCH_USE_PYTORCH=1
export PATH="$CNN_LAB_VENV/bin:$HOME/.cargo/bin:$PATH"
# This checkout's kernelspec (scripts/setup.sh writes it there).
export JUPYTER_PATH="$CNN_LAB_ROOT/target/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
# The datasets root: the shared read-only copy when present, else data/.
if [ -z "${CNN_LAB_DATA:-}" ]; then
  if [ -d "$CNN_LAB_ROOT/../shared/datasets/MNIST" ]; then
    CNN_LAB_DATA="$(cd "$CNN_LAB_ROOT/../shared/datasets" && pwd)"
  else
    CNN_LAB_DATA="$CNN_LAB_ROOT/data"
  fi
fi
export CNN_LAB_DATA
# torch's lib dir, for the dynamic loader (torch-sys sets no rpath for
# dependents; evcxr cells die with exit status 99 without it).
if [ -x "$CNN_LAB_VENV/bin/python" ]; then
  CNN_LAB_TORCH_LIB="$("$CNN_LAB_VENV/bin/python" -c 'import importlib.util, os; s = importlib.util.find_spec("torch"); print(os.path.join(os.path.dirname(s.origin), "lib") if s else "")' 2>/dev/null || true)"
  if [ -n "$CNN_LAB_TORCH_LIB" ]; then
    export LD_LIBRARY_PATH="$CNN_LAB_TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
