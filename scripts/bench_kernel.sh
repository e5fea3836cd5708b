#!/usr/bin/env bash
# Measures what a learner waits for: a new kernel's `:dep cnn_lab` + `use`,
# warm (after set-up) and, with --cold, from an empty build slot; the latency
# of a trivial cell, and where it goes. Through the real Jupyter kernel
# (jupyter_client); see scripts/bench_kernel.py.
#   scripts/bench_kernel.sh [--cold] [--repeat N] [--trivial N] [--linkers mold,system]
#                           [--kernels BIN,default] [--no-breakdown] [--no-phases]
#                           [--no-completions] [--notebook NB]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
exec "$CNN_LAB_VENV/bin/python" "$here/bench_kernel.py" "$@"
