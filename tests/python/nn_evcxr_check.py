"""Manual check (minutes: evcxr builds the crate): the lecture model written
in a real evcxr notebook cell (the cell in tests/nn_lecture.rs between the
"notebook cell" markers) prints and summarises exactly as PyTorch/torchinfo.

Usage: nn_evcxr_check.py [KERNEL]   (default kernel: cnn_lab; needs jupyter
nbconvert and the kernel installed, e.g. by scripts/setup.sh). Exits non-zero
on a difference.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

HERE = pathlib.Path(__file__).resolve().parent
CRATE = HERE.parent.parent / "crate"


def main():
    kernel = sys.argv[1] if len(sys.argv) > 1 else "cnn_lab"
    source = (HERE.parent / "nn_lecture.rs").read_text()
    begin = "// ---- the notebook cell, verbatim ----\n"
    cell = source[source.index(begin) + len(begin):source.index("// ---- end of the notebook cell ----")]
    cells = [
        f':dep cnn_lab = {{ path = "{CRATE}" }}\nuse cnn_lab::*;',
        cell,
        "let model = MnistCNNModel::new(0.3);\nmodel.repr()",
        "summary(&model, &[256, 1, 28, 28]).unwrap()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    with tempfile.TemporaryDirectory() as tmp:
        ExecutePreprocessor(timeout=3600, kernel_name=kernel).preprocess(nb, {"metadata": {"path": tmp}})

    def plain(i):
        for out in nb.cells[i].outputs:
            if "data" in out and "text/plain" in out["data"]:
                return out["data"]["text/plain"].rstrip("\n")
        raise SystemExit(f"cell {i}: no text/plain output: {nb.cells[i].outputs}")

    ref = json.loads(subprocess.check_output([sys.executable, str(HERE / "nn_reference.py"), "repr"]))
    ref_summary = json.loads(subprocess.check_output([sys.executable, str(HERE / "nn_reference.py"), "summary"]))
    ok = True
    for what, ours, theirs in [
        ("print(model)", plain(2), ref["model"]),
        ("summary", plain(3), ref_summary["model_256"]["text"]),
    ]:
        same = ours == theirs
        ok &= same
        print(f"{what}: {'identical' if same else 'DIFFERENT'}")
        if not same:
            print(ours, "\n--- expected ---\n", theirs, sep="")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
