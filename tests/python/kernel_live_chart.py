"""The live chart through the project's kernel, for tests/kernel_live_chart.rs.

  kernel_live_chart.py

A 1-epoch `fit` in a kernel started by jupyter_client: the chart (one
image/png display) must be shown and updated at least 5 times before the
stream message carrying the epoch's line, updates in place (one display id),
and the lecture's printed lines unchanged. Prints its figures. The Kernel
helper comes from kernel_check.py.
"""
import re
import sys
from pathlib import Path

# The Kernel helper, fail() and outputs_text() are kernel_check.py's.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kernel_check import Kernel, fail, outputs_text  # noqa: E402

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
