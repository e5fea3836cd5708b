#!/usr/bin/env bash
# The main job: execute every notebook in notebooks/ (or the ones named)
# headless with the cnn_lab kernel; executed copies and HTML land in
# target/notebooks/. Exits non-zero naming the notebook and cell that failed.
#
# Knobs (environment): CNN_LAB_EPOCHS (default: the lecture's 1),
# CNN_LAB_DATA (datasets root), CNN_LAB_DEVICE (cpu / cuda; default: cuda if
# available), CNN_LAB_CELL_TIMEOUT (seconds per cell, default 3600).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# A headless run needs no completions: the lean kernel will do where the
# whole one is not built yet (scripts/kernel/build.sh).
"$here/setup.sh" --no-analysis
# shellcheck source=scripts/env.sh
source "$here/env.sh"
exec "$CNN_LAB_VENV/bin/python" "$here/notebooks.py" run "$@"
