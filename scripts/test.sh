#!/usr/bin/env bash
# All tests: set-up (idempotent), then formatting and lints, then the Rust
# test suite — unit tests, integration tests comparing against PyTorch /
# torchvision / torchinfo in the venv, and the notebooks executed headless
# through the real kernel (tests/notebooks.rs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Free disk, before and after: the CI log then says how much a run takes.
disk_free() {
  df -h "$here" | awk -v when="$1" 'NR==2 {print "test.sh: disk " $4 " free of " $2 " " when}'
}
disk_free "before the run"
trap 'disk_free "after the run"' EXIT
# The browser test's system packages (apt; mostly the network) while set-up
# builds; only this script's browser test needs them.
"$here/setup_browser.sh" &
browser_pid=$!
"$here/setup.sh"
wait "$browser_pid"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$CNN_LAB_ROOT"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# One test binary at a time runs its tests on two threads; the notebook tests
# serialise themselves (each kernel needs a warm build slot).
cargo test --workspace --no-fail-fast "$@"
# The kernel patch's own unit tests (evcxr's crate, patched).
"$here/kernel/build.sh" --test
# The lecture as a learner meets it: JupyterLab in Debian's headless Chromium
# (pytest + Selenium; screenshots and timings in target/browser/).
python -m pytest tests/browser
