"""Runs a long set-up command and shows that it is moving.

    python3 scripts/progress.py LABEL [--total N] [--watch DIR] -- COMMAND ...

On a terminal the command draws its own progress (cargo's bar, pip's) and
this only adds the time it took. Elsewhere (CI logs, nbclient, a pipe) cargo
prints one "Compiling <crate>" line per crate and pip nothing at all, so a
line every ~15 s says how long it has run, how many crates have started
compiling (of about --total) and which, or how large --watch DIR has grown.
Lines that are not cargo's progress (warnings, errors) pass through at once.
Exits with the command's status.
"""

import os
import re
import subprocess
import sys
import threading
import time

TICK_S = 15
PROGRESS = re.compile(r"^\s*(Compiling|Fresh|Downloaded|Downloading|Checking|Locking|Adding|Updating|Finished|Building)\b")
COMPILING = re.compile(r"^\s*Compiling (\S+)")


def minutes(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def dir_size(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def main(argv):
    if "--" not in argv or not argv:
        sys.exit(__doc__)
    sep = argv.index("--")
    opts, cmd = argv[:sep], argv[sep + 1 :]
    label, total, watch = opts[0], None, None
    i = 1
    while i < len(opts):
        if opts[i] == "--total":
            total, i = int(opts[i + 1]), i + 2
        elif opts[i] == "--watch":
            watch, i = opts[i + 1], i + 2
        else:
            sys.exit(f"progress.py: unknown option {opts[i]}")
    started = time.monotonic()
    if sys.stderr.isatty():
        rc = subprocess.call(cmd)
        if rc == 0:
            print(f"{label}: done in {minutes(time.monotonic() - started)}", file=sys.stderr)
        return rc

    state = {"compiled": 0, "recent": []}
    lock = threading.Lock()
    done = threading.Event()

    def tick():
        while not done.wait(TICK_S):
            with lock:
                what = []
                if state["compiled"]:
                    of = f" of ~{total}" if total else ""
                    what.append(f"{state['compiled']}{of} crates started, latest {', '.join(state['recent'])}")
                if watch and os.path.isdir(watch):
                    what.append(f"{dir_size(watch) / 1e9:.1f} GB in {watch}")
            detail = "; ".join(what) or "working"
            print(f"{label}: {minutes(time.monotonic() - started)}: {detail}", file=sys.stderr, flush=True)

    threading.Thread(target=tick, daemon=True).start()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, errors="replace")
    for line in proc.stderr:
        m = COMPILING.match(line)
        if m:
            with lock:
                state["compiled"] += 1
                state["recent"] = (state["recent"] + [m.group(1)])[-2:]
        elif not PROGRESS.match(line) and line.strip():
            sys.stderr.write(line)
            sys.stderr.flush()
    rc = proc.wait()
    done.set()
    outcome = "done in" if rc == 0 else f"failed (exit status {rc}) after"
    print(f"{label}: {outcome} {minutes(time.monotonic() - started)}", file=sys.stderr, flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
