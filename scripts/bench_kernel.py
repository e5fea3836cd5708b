"""What a learner waits for in the kernel, through jupyter_client as Jupyter
starts it: a new kernel's `:dep cnn_lab` + `use cnn_lab::*;` (set-up done,
so its build slot is warm) and a trivial cell (`1 + 1`); with --cold also the
`:dep` in an empty build slot (minutes); then where a trivial cell's time
goes: the processes the kernel starts for it (cargo, rustc, the linker),
timed with strace.

    scripts/bench_kernel.sh [--repeat N] [--trivial N] [--cold]
                            [--linkers mold,system] [--kernels BIN,BIN]
                            [--no-breakdown] [--no-phases] [--no-completions]
                            [--notebook NB]

Also (unless --no-phases) a learner's first cells as the kernel itself
accounts for them (CNN_LAB_KERNEL_TIMING=1): a `:dep`, a first `let` sent at
once (Jupyter's Run All) and one sent after the background analysis is
ready (a learner who reads the next cell first), then `let` cells and the
trivial cell; (unless --no-completions) how long after a new kernel's `:dep`
Tab and Shift+Tab answer on the names a learner types; and (unless
--notebook "") Run All of notebooks/mnist_cnn.ipynb
without its `fit` cells, every cell sent at once as Jupyter does.

Run by scripts/bench_kernel.sh (after set-up). Prints one table; the figures
move with the machine's load, so compare rows from one run.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebooks import DEP_LINE, ROOT, Kernel  # noqa: E402

TRIVIAL = "1 + 1"


def one_kernel(trivial, on_started=None):
    """A new kernel: seconds for `:dep` + `use`, and for each trivial cell."""
    k = Kernel(ROOT / "notebooks")
    try:
        dep, _, err = k.run(DEP_LINE + "\nuse cnn_lab::*;")
        if err:
            raise SystemExit(f"`:dep` failed: {err}")
        if on_started:
            on_started(k)
        cells = []
        for _ in range(trivial):
            secs, text, err = k.run(TRIVIAL)
            if err or "2" not in text:
                raise SystemExit(f"`{TRIVIAL}` gave {text!r} {err or ''}")
            cells.append(secs)
    finally:
        k.close()
    return dep, cells


def processes(trace):
    """(name, start, end, argv) of each process strace saw start."""
    started, ended = {}, {}
    for line in Path(trace).read_text(errors="replace").splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        pid, stamp, rest = parts
        try:
            t = float(stamp)
        except ValueError:
            continue
        if rest.startswith("execve(") and rest.rstrip().endswith("= 0"):
            path = rest[len('execve("') : rest.index('"', len('execve("'))]
            started[pid] = (os.path.basename(path), t, rest)
        elif rest.startswith(("exit_group(", "+++ exited", "+++ killed")):
            ended.setdefault(pid, t)
    return [(n, s, ended.get(pid, s), argv) for pid, (n, s, argv) in started.items()]


def breakdown(trivial):
    """Where trivial cells' time goes: the kernel's processes under strace."""
    if not shutil.which("strace"):
        print("(no strace: no breakdown)")
        return None
    trace = tempfile.NamedTemporaryFile(prefix="cnn_lab-strace-", suffix=".txt", delete=False).name
    tracer = {}
    windows = []

    def attach(k):
        pid = k.km.provisioner.pid
        tracer["p"] = subprocess.Popen(
            ["strace", "-f", "-qq", "--seccomp-bpf", "-ttt", "-e", "trace=execve,exit_group",
             "-o", trace, "-p", str(pid)],
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # strace attached to every thread
        for _ in range(trivial):
            start = time.time()
            k.run(TRIVIAL)
            windows.append((start, time.time()))

    try:
        one_kernel(0, on_started=attach)
    finally:
        if "p" in tracer:
            tracer["p"].terminate()
            tracer["p"].wait()
    procs = processes(trace)
    os.unlink(trace)
    rows = {"cell, through Jupyter (strace attached)": [], "cargo builds (in the kernel's slot)": [],
            "compiles of the cell's crate (rustc runs)": [], "rustc, the cell's crate": [],
            "of which the link (cc + ld/mold)": []}
    for start, end in windows:
        inside = [p for p in procs if start <= p[1] <= end]
        cargo = [p for p in inside if p[0] == "cargo"]
        rustc = [p for p in inside if p[0] == "rustc" and '"ctx"' in p[3]]
        link = [p for p in inside if p[0] == "cc"]
        rows["cell, through Jupyter (strace attached)"].append(end - start)
        rows["compiles of the cell's crate (rustc runs)"].append(len(rustc))
        if cargo:
            rows["cargo builds (in the kernel's slot)"].append(sum(p[2] - p[1] for p in cargo))
        if rustc:
            rows["rustc, the cell's crate"].append(sum(p[2] - p[1] for p in rustc))
        if link:
            rows["of which the link (cc + ld/mold)"].append(sum(p[2] - p[1] for p in link))
    return rows


def phases(trivial):
    """A learner's first cells, with the kernel's own account of each."""
    log = Path(tempfile.mkstemp(prefix="cnn_lab-kernel-timing-", suffix=".txt")[1])
    results = {}
    for pause in (False, True):
        with open(log, "w") as stderr:
            env = {**os.environ, "CNN_LAB_KERNEL_TIMING": "1"}
            k = Kernel(ROOT / "notebooks", env=env, stderr=stderr)
            try:
                dep, _, err = k.run(DEP_LINE + "\nuse cnn_lab::*;")
                if err:
                    raise SystemExit(f"`:dep` failed: {err}")
                results.setdefault("phases: new kernel, :dep + use", []).append(dep)
                if pause:
                    deadline = time.monotonic() + 300
                    while "background analysis: warm" not in log.read_text(errors="replace"):
                        if time.monotonic() > deadline:
                            raise SystemExit("no background analysis within 300 s")
                        time.sleep(0.5)
                secs, _, err = k.run("let x = 3;")
                if err:
                    raise SystemExit(f"`let x = 3;` failed: {err}")
                name = "first `let x = 3;`, " + ("after the background analysis" if pause
                                                  else "sent at once (Run All)")
                results[name] = [secs]
                if pause:
                    for i in range(trivial):
                        secs, _, err = k.run(f"let y{i} = x + {i};")
                        if err:
                            raise SystemExit(f"a `let` cell failed: {err}")
                        results.setdefault("`let` cell `let yN = x + N;`", []).append(secs)
                    for _ in range(trivial):
                        secs, _, _ = k.run(TRIVIAL)
                        results.setdefault(f"phases: trivial cell `{TRIVIAL}`", []).append(secs)
                    secs, _, _ = k.run("let t = Tensor::from(1.0f32);\nt.size()")
                    results["`let t = Tensor::from(1.0f32); t.size()`"] = [secs]
                    # Values without `let`: a Tensor (Debug) and a layer
                    # (its own evcxr_display).
                    for code in ("t", "Linear::new(2, 3)"):
                        for _ in range(3):
                            secs, _, _ = k.run(code)
                            results.setdefault(f"value cell `{code}`", []).append(secs)
            finally:
                k.close()
        text = log.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith("cnn_lab timing: "):
                what, _, secs = line[len("cnn_lab timing: "):].rpartition(": ")
                what = "kernel: " + what.split(" (")[0]
                try:
                    results.setdefault(what, []).append(float(secs.rstrip(" s")))
                except ValueError:
                    pass
    log.unlink()
    return results


# Tab and Shift+Tab on what a learner types (issue 33's list), as
# tests/python/kernel_check.py `complete` asks them: the lecture's model is a
# `#[derive(Module)]` struct.
sys.path.insert(0, str(ROOT / "tests" / "python"))
import kernel_check  # noqa: E402


def completions(give_up_s=60):
    """Seconds from a new kernel's `:dep` request until Tab on each name
    offers what is wanted and Shift+Tab on each item finds its rustdoc:
    every question not yet answered is asked again once a second, until
    `give_up_s` after the first asking (then None)."""
    import queue

    k = Kernel(ROOT / "notebooks")
    results, pending = {}, []
    for code, want in kernel_check.COMPLETIONS:
        pending.append((f"Tab `{code}` -> `{want}`",
                        lambda code=code: k.kc.complete(code, len(code)),
                        lambda c, want=want: any(m.startswith(want) for m in c.get("matches", []))))
    for item, path, pattern in kernel_check.INSPECTIONS:
        words = " ".join(kernel_check.rustdoc_first_line(path, pattern).replace("`", "").split()[:3])
        pending.append((f"Shift+Tab `{item}` -> its rustdoc",
                        lambda item=item: k.kc.inspect(item, len(item), detail_level=0),
                        lambda c, words=words: c.get("found") and words in " ".join(
                            c["data"].get("text/plain", "").split())))
    try:
        started = time.monotonic()
        _, _, err = k.run(DEP_LINE + "\nuse cnn_lab::*;")
        if err:
            raise SystemExit(f"`:dep` failed: {err}")
        _, _, err = k.run(kernel_check.COMPLETION_SETUP)
        if err:
            raise SystemExit(f"the completion cell failed: {err}")
        deadline = time.monotonic() + give_up_s
        while pending and time.monotonic() < deadline:
            for question in list(pending):
                name, send, ok = question
                msg_id = send()
                while True:
                    try:
                        reply = k.kc.get_shell_msg(timeout=give_up_s)
                    except queue.Empty:
                        raise SystemExit(f"no reply within {give_up_s} s: {name}")
                    if reply["parent_header"].get("msg_id") == msg_id:
                        break
                if ok(reply["content"]):
                    results[name] = time.monotonic() - started
                    pending.remove(question)
            time.sleep(1.0)
        for name, _, _ in pending:
            results[name] = None
    finally:
        k.close()
    return results


def run_all_notebook(path, skip=("fit(", "plot_fit_result(")):
    """Jupyter's Run All of `path` in a new kernel, every code cell sent at
    once, except those starting a training (`fit`) or using its result:
    (seconds from the first request to the last idle, [(seconds, first
    line) of each cell from its busy to its idle])."""
    import json

    cells = ["".join(c["source"]) for c in json.loads(Path(path).read_text())["cells"]
             if c["cell_type"] == "code"]
    cells = [c for c in cells if not any(s in c for s in skip)]
    k = Kernel(Path(path).parent)
    try:
        started = time.monotonic()
        ids = [k.kc.execute(c) for c in cells]
        busy, idle, errors = {}, {}, []
        while len(idle) < len(ids):
            msg = k.kc.get_iopub_msg(timeout=600)
            parent = msg["parent_header"].get("msg_id")
            if msg["msg_type"] == "status":
                state = msg["content"]["execution_state"]
                (busy if state == "busy" else idle).setdefault(parent, time.monotonic())
            elif msg["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
        total = time.monotonic() - started
        if errors:
            raise SystemExit(f"Run All of {path}: {errors}")
        per_cell = [(idle[i] - busy.get(i, started), c.splitlines()[0][:50])
                    for i, c in zip(ids, cells) if i in idle]
    finally:
        k.close()
    return total, per_cell


def table(title, results):
    print(f"\n{title}")
    print(f"{'measure':52} {'median s':>9} {'min s':>7} {'max s':>7} {'n':>3}")
    for name, xs in results.items():
        if xs:
            print(f"{name:52} {statistics.median(xs):9.3f} {min(xs):7.3f} {max(xs):7.3f} {len(xs):3}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3, help="new kernels per linker")
    p.add_argument("--trivial", type=int, default=5, help="trivial cells per kernel")
    p.add_argument("--cold", action="store_true", help="also time a cold slot (minutes)")
    p.add_argument("--linkers", default="",
                   help="comma-separated CNN_LAB_LINKER values to compare (default: the kernel's choice)")
    p.add_argument("--kernels", default="",
                   help="comma-separated kernel binaries to compare, each run in turn with every "
                        "measure (CNN_LAB_KERNEL_BIN; e.g. an earlier series' "
                        "~/.cache/cnn_lab/kernel/bin/evcxr_jupyter-<key>; `default`: this checkout's)")
    p.add_argument("--no-breakdown", action="store_true")
    p.add_argument("--no-phases", action="store_true")
    p.add_argument("--no-completions", action="store_true")
    p.add_argument("--notebook", default="notebooks/mnist_cnn.ipynb",
                   help="Run All of this notebook without `fit` (\"\" to skip)")
    args = p.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"bench_kernel: {os.cpu_count()} cores, load average {load} at the start")
    slots = ROOT / "target" / "evcxr"
    if args.cold:
        # A cold slot: move slot 0 aside so the new kernel builds from scratch.
        s0, aside = slots / "slot-0", slots / "slot-0.bench-aside"
        if s0.exists():
            s0.rename(aside)
        try:
            dep, _ = one_kernel(0)
            table("cold slot", {"cold :dep + use (new kernel, empty build slot)": [dep]})
        finally:
            shutil.rmtree(s0, ignore_errors=True)
            if aside.exists():
                aside.rename(s0)
    kernels = [x for x in args.kernels.split(",") if x] or [None]
    for kernel in kernels:
        if kernel == "default":
            os.environ.pop("CNN_LAB_KERNEL_BIN", None)
            print("\n##### kernel: this checkout's (target/kernel/evcxr_jupyter)")
        elif kernel:
            binary = Path(kernel).expanduser().resolve()
            if not os.access(binary, os.X_OK):
                raise SystemExit(f"--kernels: {binary} is not an executable")
            os.environ["CNN_LAB_KERNEL_BIN"] = str(binary)
            print(f"\n##### kernel {binary}")
        run_all(args)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\nload average {load} at the end")
    return 0


def run_all(args):
    """Every measure, with the kernel the environment names."""
    for linker in [x for x in args.linkers.split(",") if x] or [None]:
        if linker:
            os.environ["CNN_LAB_LINKER"] = linker
        warm, cells = [], []
        for _ in range(args.repeat):
            dep, trivial = one_kernel(args.trivial)
            warm.append(dep)
            cells.extend(trivial)
        results = {
            "new kernel: :dep cnn_lab + use cnn_lab::*;": warm,
            f"trivial cell `{TRIVIAL}`": cells,
        }
        if not args.no_breakdown:
            results.update(breakdown(args.trivial) or {})
        table(f"linker: {linker or 'the kernel default'}", results)
    if not args.no_phases:
        table("a learner's first cells, and the kernel's account of them", phases(args.trivial))
    if not args.no_completions:
        results = completions()
        missing = [name for name, secs in results.items() if secs is None]
        table("completions: seconds from a new kernel's `:dep` request (asked each second)",
              {name: [secs] for name, secs in results.items() if secs is not None})
        for name in missing:
            print(f"  not within 60 s: {name}")
    if args.notebook:
        total, per_cell = run_all_notebook(ROOT / args.notebook)
        slowest = sorted(per_cell, reverse=True)[:3]
        table(f"Run All of {args.notebook}, {len(per_cell)} code cells (no `fit`)", {
            "Run All, first request to last idle": [total],
            "one cell (busy to idle)": [secs for secs, _ in per_cell],
        })
        for secs, line in slowest:
            print(f"  slowest: {secs:6.2f} s  {line}")


if __name__ == "__main__":
    sys.exit(main())
