"""Headless Jupyter for cnn_lab: run notebooks, warm the kernel, time it.

    python scripts/notebooks.py run [NOTEBOOK ...]   # default: notebooks/*.ipynb
    python scripts/notebooks.py warm

Run by scripts/run_notebooks.sh and scripts/setup.sh (which set up the
environment first); scripts/bench_kernel.py times the kernel with its Kernel. Executed copies and HTML go to
target/notebooks/.

The project's kernel (scripts/kernel/patches/) reports a `?` error, a
panic and a compile error as Jupyter errors, and publishes every output of a
cell before the cell's idle (tests/kernel.rs proves both), so nbclient sees
everything in its own cell. Besides error outputs, any stderr output fails
the run (cnn_lab writes nothing to stderr when all is well). The failure
names the notebook and the cell.
"""

import argparse
import base64
import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "cnn_lab"
OUT_DIR = ROOT / "target" / "notebooks"
DEP_LINE = ':dep cnn_lab = { path = "../crate" }'

# Signs of failure in a cell's stdout or rich text (stderr always fails).
FAILURE_PATTERNS = [
    re.compile(r"panicked at"),
    re.compile(r"Child process terminated with status"),
    re.compile(r"Subprocess terminated with status"),
]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def cell_failure(cell):
    """The failure text found in a code cell's outputs, or None."""
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            tb = ANSI.sub("", "\n".join(out.get("traceback", [])))
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}\n{tb}".strip()
        if kind == "stream" and out.get("name") == "stderr" and _text(out.get("text")).strip():
            return "stderr: " + _text(out.get("text")).strip()
        if kind == "stream":
            text = _text(out.get("text"))
        elif kind in ("display_data", "execute_result"):
            text = _text(out.get("data", {}).get("text/plain", ""))
        else:
            continue
        for pat in FAILURE_PATTERNS:
            if pat.search(text):
                return text.strip()
    return None


def run_notebook(path, timeout):
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=timeout,
        allow_errors=True,  # we judge the outputs ourselves, below
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.monotonic()
    error = None
    try:
        client.execute()
    except CellExecutionError as e:  # pragma: no cover - allow_errors=True
        error = str(e)
    except Exception as e:  # kernel died, timeout, ...
        error = f"{type(e).__name__}: {e}"
    elapsed = time.monotonic() - started

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    executed = OUT_DIR / path.name
    nbformat.write(nb, executed)
    try:
        from nbconvert import HTMLExporter

        html, _ = HTMLExporter().from_notebook_node(nb)
        executed.with_suffix(".html").write_text(html)
    except Exception as e:  # HTML is a convenience; never fail the run on it
        print(f"  (no HTML for {path.name}: {e})", file=sys.stderr)

    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    failed = None
    for n, (index, cell) in enumerate(code_cells, start=1):
        problem = cell_failure(cell)
        if problem:
            failed = (index, n, cell.source, problem)
            break
        if cell.get("execution_count") is None and cell.source.strip():
            failed = (index, n, cell.source, error or "cell was not executed")
            break
    return elapsed, executed, failed


def cmd_run(args):
    paths = [Path(p).resolve() for p in args.notebooks] or sorted(
        (ROOT / "notebooks").glob("*.ipynb")
    )
    if not paths:
        print("no notebooks to run", file=sys.stderr)
        return 1
    status = 0
    # The image notebooks' photos (scikit-image's samples and a stand-in for
    # cats_and_dogs_filtered) beside them; idempotent and quick.
    subprocess.run([sys.executable, str(ROOT / "scripts/make_photos.py")], check=True)
    for path in paths:
        print(f"running {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ...", flush=True)
        if path.name == "mnist_cnn_inference.ipynb":  # its .pth cells read what the lecture's PyTorch saves
            subprocess.run([sys.executable, str(ROOT / "scripts/make_seed_pth.py"), str(path.parent / "saved_models")], check=True)
        stand_in = None
        if path.name == "transfer_learning.ipynb":  # resnet18's weights: a random stand-in where none can be had (CI)
            stand_in = subprocess.run([sys.executable, str(ROOT / "scripts/make_test_weights.py"), "--runner"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
            os.environ.update({"TORCH_HOME": stand_in} if stand_in else {})
        elapsed, executed, failed = run_notebook(path, args.timeout)
        if stand_in:
            del os.environ["TORCH_HOME"]
        if failed:
            index, code_index, source, problem = failed
            first = source.strip().splitlines()[0] if source.strip() else ""
            print(
                f"FAILED {path.name}: cell {index} (code cell {code_index}: {first!r})\n"
                f"{problem}\n(executed copy: {executed})",
                file=sys.stderr,
                flush=True,
            )
            status = 1
            if not args.keep_going:
                break
        else:
            print(f"ok {path.name} in {elapsed:.1f} s -> {executed}", flush=True)
    return status


class Kernel:
    """A cnn_lab kernel started through jupyter_client, as Jupyter starts it."""

    def __init__(self, cwd, **launch):
        """`launch` goes to the kernel's process (e.g. env=, stderr=)."""
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, cwd=str(cwd), **launch)

    def run(self, code, timeout=1800, on_text=None):
        """Executes `code`; returns (seconds, text outputs, error or None).
        `on_text` is called with each stream text as it arrives, and with ""
        every few seconds while none does."""
        import queue

        started = time.monotonic()
        msg_id = self.kc.execute(code)
        texts, error = [], None
        while True:
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                raise TimeoutError(f"no idle within {timeout} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 5.0))
            except queue.Empty:
                if on_text:
                    on_text("")
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                texts.append(content["text"])
                if on_text:
                    on_text(content["text"])
            elif kind in ("display_data", "execute_result"):
                texts.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif kind == "status" and content["execution_state"] == "idle":
                break
        reply = self.kc.get_shell_msg(timeout=timeout)
        if reply["content"]["status"] != "ok" and error is None:
            error = reply["content"].get("evalue", "error")
        return time.monotonic() - started, "".join(texts), error

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


class BuildProgress:
    """A line every ~15 s while a `:dep` compiles: the kernel shows cargo's
    `Compiling <crate>` lines in the cell; a learner's terminal gets how many
    have started and the latest ones."""

    TICK_S = 15

    def __init__(self, label):
        self.label, self.started, self.last = label, time.monotonic(), time.monotonic()
        self.crates = []

    def __call__(self, text):
        self.crates += re.findall(r"Compiling (\S+)", text)
        now = time.monotonic()
        if now - self.last >= self.TICK_S:
            self.last = now
            what = (f"{len(self.crates)} crates started, latest {', '.join(self.crates[-2:])}"
                    if self.crates else "checking what needs building")
            print(f"{self.label}: {now - self.started:.0f} s: {what}", flush=True)


def cmd_warm(args):
    slots = ROOT / "target" / "evcxr"
    print("setup: [5/5] a first `:dep cnn_lab` in the kernel, so that notebooks start in seconds: it compiles "
          "tch, its C++ wrapper and cnn_lab into target/evcxr/slot-0 (about 6 minutes on 2 cores the first "
          "time, a minute after cnn_lab changed)", flush=True)
    k = Kernel(ROOT / "notebooks")
    try:
        secs, _, err = k.run(DEP_LINE + "\nuse cnn_lab::*;", on_text=BuildProgress("setup: slot"))
        if err:
            print(f"warm-up failed: {err}", file=sys.stderr)
            return 1
        _, slot, err = k.run('println!("{}", std::env::var("EVCXR_TMPDIR").unwrap_or_default());')
    finally:
        k.close()
    print(f"setup: the kernel's `:dep cnn_lab` took {secs:.0f} s ({slot.strip()})", flush=True)
    slot = Path(slot.strip()) if slot.strip() else None
    if slot and slot.is_dir():
        # Warm-up runs when something that goes into the build changed, so
        # the other slots are stale: each is replaced by a copy of this one
        # (without the cells' libraries), unless a live kernel holds it.
        for i in range(args.slots):
            other = slots / f"slot-{i}"
            if other == slot:
                continue
            with open(slots / f"slot-{i}.lock", "w") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    print(f"setup: kernel build slot {other.name} is in use; left as it is")
                    continue
                shutil.rmtree(other, ignore_errors=True)
                shutil.copytree(slot, other, symlinks=True, ignore=shutil.ignore_patterns("libcode_*.so"))
                print(f"setup: prepared kernel build slot {other.name}")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute notebooks headless")
    r.add_argument("notebooks", nargs="*")
    r.add_argument("--timeout", type=int, default=int(os.environ.get("CNN_LAB_CELL_TIMEOUT", "3600")))
    r.add_argument("--keep-going", action="store_true", help="run the rest after a failure")
    w = sub.add_parser("warm", help="build the kernel's dependencies in a build slot")
    w.add_argument("--slots", type=int, default=2, help="slots to prepare by copying")
    args = p.parse_args()
    return {"run": cmd_run, "warm": cmd_warm}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
