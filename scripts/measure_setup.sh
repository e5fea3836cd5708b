#!/usr/bin/env bash
# Measures the set-up as a new user meets it, and prints the table of
# docs/setup.md: a clone of this checkout's HEAD in a temporary folder, with
# a new venv, an empty kernel cache, a new target/, an empty cargo registry
# and no pip cache, then `scripts/run_notebooks.sh` there; with --ci, also
# `.ci/run` in a second such clone. Every output line is timestamped into
# LOG (printed at the end); the steps' times come from the lines set-up
# prints. Run it on an otherwise idle machine: it takes 10–20 minutes of
# both cores (twice that with --ci) and ~8 GB of disk, removed afterwards
# unless --keep.
#
#   scripts/measure_setup.sh [--ci] [--keep] [--dir DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ci=0
keep=0
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) ci=1; shift ;;
    --keep) keep=1; shift ;;
    --dir) base="$2"; shift 2 ;;
    *) echo "measure_setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
base="${base:-$(mktemp -d /tmp/cnn_lab-measure.XXXXXX)}"
# The datasets are not what is measured (a learner's loaders download ~80 MB
# once): the clones use this checkout's datasets root, as scripts/env.sh
# resolves it, so a machine without the mirrors still runs the notebooks.
CNN_LAB_DATA="$(bash -c "source '$root/scripts/env.sh' >/dev/null 2>&1; echo \"\$CNN_LAB_DATA\"")"
export CNN_LAB_DATA
mkdir -p "$base"
[ "$keep" = 1 ] || trap 'rm -rf "$base"' EXIT

# One fresh clone: run COMMAND there, timestamping every line into LOG.
fresh_run() {
  local name="$1" log="$2"
  shift 2
  local dir="$base/$name"
  rm -rf "$dir"
  git clone --quiet --no-local "$root" "$dir/cnn_lab"
  set +e
  (
    cd "$dir/cnn_lab"
    # A new user's machine: nothing cached. Rust's toolchain (rustup) stays.
    unset CNN_LAB_VENV CARGO_TARGET_DIR VIRTUAL_ENV
    export CNN_LAB_KERNEL_CACHE="$dir/kernel-cache" CARGO_HOME="$dir/cargo-home" PIP_NO_CACHE_DIR=1
    export PATH="$HOME/.cargo/bin:$PATH"
    "$@" 2>&1
  ) | python3 -u -c '
import sys, time
t0 = time.monotonic()
with open(sys.argv[1], "w") as log:
    for line in sys.stdin:
        stamped = f"{time.monotonic() - t0:8.1f} {line}"
        log.write(stamped)
        log.flush()
        sys.stdout.write(stamped)
' "$log"
  local rc="${PIPESTATUS[0]}"
  set -e
  echo "$rc" > "$log.rc"
}

report() {
  local name="$1" log="$2" dir="$base/$1"
  python3 - "$log" "$(cat "$log.rc")" <<'PY'
import re, sys
log, rc = sys.argv[1], sys.argv[2]
lines = [(float(l[:8]), l[9:].rstrip("\n")) for l in open(log) if len(l) > 9 and l[:8].strip()]
def first(pattern):
    for t, text in lines:
        if re.search(pattern, text):
            return t
    return None
def mmss(t):
    return "—" if t is None else f"{int(t // 60)} min {int(t % 60):02d} s"
end = lines[-1][0] if lines else None
rows = [
    ("the venv ready", first(r"setup: the venv is ready")),
    ("the kernel built", first(r"^kernel: (done|failed)")),
    ("the first build slot ready", first(r"setup: the kernel's `:dep cnn_lab` took")),
    ("the first executed notebook", first(r"^ok \S+\.ipynb")),
    ("the end", end),
]
print(f"| step (from the start) | time |\n| --- | --- |")
for name, t in rows:
    print(f"| {name} | {mmss(t)} |")
print(f"| exit status | {rc} |")
PY
  echo "disk: venv $(du -sh "$dir/cnn_lab/.venv" 2>/dev/null | cut -f1), kernel cache $(du -sh "$dir/kernel-cache" 2>/dev/null | cut -f1)," \
    "target $(du -sh "$dir/cnn_lab/target" 2>/dev/null | cut -f1), cargo registry $(du -sh "$dir/cargo-home" 2>/dev/null | cut -f1)"
}

echo "measure_setup: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the start, in $base"
fresh_run notebooks "$base/notebooks.log" scripts/run_notebooks.sh
if [ "$ci" = 1 ]; then
  fresh_run ci "$base/ci.log" .ci/run
fi
echo
echo "scripts/run_notebooks.sh on a fresh clone (load average now $(cut -d' ' -f1-3 /proc/loadavg)):"
report notebooks "$base/notebooks.log"
if [ "$ci" = 1 ]; then
  echo
  echo ".ci/run on a fresh clone:"
  report ci "$base/ci.log"
fi
