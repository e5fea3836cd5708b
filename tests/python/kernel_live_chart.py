"""The live chart through the project's kernel, for tests/kernel_live_chart.rs.

  kernel_live_chart.py

A 1-epoch `fit` in a kernel started by jupyter_client: the chart (one
image/png display) must be shown and updated at least 5 times before the
stream message carrying the epoch's line, updates in place (one display id),
and the lecture's printed lines unchanged. Prints its figures. The Kernel
helper is copied from kernel_check.py.
"""
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KERNEL = "cnn_lab"
DEP = f':dep cnn_lab = {{ path = "{ROOT / "crate"}" }}\nuse cnn_lab::*;'


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class Kernel:
    """One kernel; every iopub message is kept with its arrival time."""

    def __init__(self):
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, cwd=str(ROOT / "notebooks"), startup_timeout=600)
        self.messages = []  # (arrival, msg) in arrival order

    def _pump(self, timeout):
        msg = self.kc.get_iopub_msg(timeout=timeout)
        self.messages.append((time.monotonic(), msg))
        return msg

    def execute(self, code, timeout=900, on_busy=None):
        """Runs `code`; returns (reply content, messages under this request
        up to its idle, idle time). Messages under other requests that arrive
        meanwhile stay in self.messages for the checks."""
        msg_id = self.kc.execute(code)
        own = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f"no idle within {timeout} s for: {code[:60]!r}")
            try:
                msg = self._pump(min(left, 1.0))
            except Exception:  # queue.Empty
                if on_busy:
                    on_busy()
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            own.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle_at = time.monotonic()
                break
        reply = self.kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=60)
        return reply["content"], own, msg_id, idle_at

    def load_cnn_lab(self):
        """`:dep cnn_lab` and `use cnn_lab::*;`, as a notebook starts."""
        reply, own, _, _ = self.execute(DEP)
        if reply["status"] != "ok":
            fail(f"loading cnn_lab failed: {outputs_text(own)}")

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._pump(max(0.01, end - time.monotonic()))
            except Exception:
                pass

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def outputs_text(msgs):
    parts = []
    for m in msgs:
        c = m["content"]
        if m["msg_type"] == "stream":
            parts.append(c["text"])
        elif m["msg_type"] == "error":
            parts.append(f"{c['ename']}: {c['evalue']}\n" + "\n".join(c["traceback"]))
        elif m["msg_type"] in ("display_data", "execute_result"):
            parts.append(c["data"].get("text/plain", ""))
    return "".join(parts)



LECTURE_LINE = re.compile(
    r"Epoch\[1/1\] - Train loss: [0-9.]+ Train Accucracy: [0-9.]+ \|\| "
    r"Validation Loss: [0-9.]+ Validation Accuracy: [0-9.]+$"
)


def main():
    with Kernel() as k:
        k.load_cnn_lab()
        # 60 batches of 64: a point every 6 batches, 10 per epoch.
        code = """use cnn_lab::models::MnistCNNModel;
manual_seed(0);
let full = load_mnist_dataset(&data_root(), 64, true)?;
let train_loader = DataLoader::new(full.images().narrow(0, 0, 3840), full.labels().narrow(0, 0, 3840), 64)?;
let test_full = load_mnist_dataset(&data_root(), 256, false)?;
let test_loader = DataLoader::new(test_full.images().narrow(0, 0, 512), test_full.labels().narrow(0, 0, 512), 256)?;
let model = MnistCNNModel::new(0.3);
let mut optimizer = Adam::new(model.parameters(), 1e-3);
let result = fit(&train_loader, &test_loader, &model, &CrossEntropyLoss::new(), &mut optimizer, 1, FitOptions::default())?;"""
        reply, own, _, _ = k.execute(code)
        if reply["status"] != "ok":
            fail(f"fit cell failed: {outputs_text(own)[-800:]}")
        chart_ids, before_line, after_line, line_seen = set(), 0, 0, False
        lines = []
        for m in own:
            c = m["content"]
            if m["msg_type"] == "stream":
                for l in c["text"].splitlines():
                    if l.startswith("Epoch["):
                        lines.append(l)
                        line_seen = True
            elif m["msg_type"] in ("display_data", "update_display_data") and "image/png" in c["data"]:
                chart_ids.add(c["transient"]["display_id"])
                if line_seen:
                    after_line += 1
                else:
                    before_line += 1
        print(f"live chart: {before_line} chart messages before the epoch line, {after_line} after, "
              f"{len(chart_ids)} display id(s); lines: {lines}")
        if len(chart_ids) != 1:
            fail(f"expected one chart display updated in place, got {chart_ids}")
        if before_line < 5:
            fail(f"only {before_line} chart updates before the epoch's line")
        if len(lines) != 1 or not LECTURE_LINE.match(lines[0]):
            fail(f"the lecture's epoch line changed: {lines}")
        text = outputs_text([m for m in own if m["msg_type"] == "stream"])
        if not re.search(r"\n[0-9.]+ 초\n?$", "\n" + text):
            fail(f"the elapsed-seconds line is missing: {text[-200:]!r}")


if __name__ == "__main__":
    main()
