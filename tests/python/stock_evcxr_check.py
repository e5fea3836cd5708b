"""A learner's own evcxr (issue 33): a stock evcxr_jupyter 0.22.0, no
patches, installed as its README says (`evcxr_jupyter --install`) and started
by Jupyter in the environment docs/kernel.md's "A learner's own evcxr" names
for tch, runs a small notebook of cnn_lab through nbclient: `:dep cnn_lab`,
the lecture's model and its printout, `summary`, a few training steps and
`fit` on a handful of tensors, `plot_fit_result`. The script also checks what
that section says a learner gives up there: `summary` as plain text, an `Err`
after `?` reported as an ok cell.

    python stock_evcxr_check.py STOCK_BINARY

STOCK_BINARY: `scripts/kernel/build.sh --stock-path` builds and prints it.
The kernel's build folder (EVCXR_TMPDIR, as the docs suggest) is
target/evcxr/stock, kept between runs: its first `:dep cnn_lab` compiles
tch and cnn_lab (minutes), later ones seconds.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(os.environ.get("CNN_LAB_VENV", ROOT / ".venv"))

CELLS = [
    f':dep cnn_lab = {{ path = "{ROOT / "crate"}" }}',
    "use cnn_lab::*;",
    "let model = cnn_lab::models::MnistCNNModel::new(0.3);\nmodel",
    "summary(&model, &[256, 1, 28, 28])?",
    'let n: i32 = "not a number".parse()?;',
    """manual_seed(0);
let x = Tensor::rand([16, 1, 28, 28], FLOAT_CPU);
let y = Tensor::from_slice(&[0i64, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5]);
let train_loader = DataLoader::new(x.shallow_clone(), y.shallow_clone(), 8)?;
let test_loader = DataLoader::new(x, y, 8)?;
let loss_fn = CrossEntropyLoss::new();
let mut optimizer = Adam::new(model.parameters(), 1e-3);
let result = fit(&train_loader, &test_loader, &model, &loss_fn, &mut optimizer, 2,
                 FitOptions::default())?;
println!("epochs {}", result.train_loss.len());""",
    "plot_fit_result(&result)?",
]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def learner_env(home):
    """The environment a learner starts Jupyter from, per docs/kernel.md:
    the venv's bin/ first on PATH, LIBTORCH_USE_PYTORCH=1, torch's lib/ on
    LD_LIBRARY_PATH, and EVCXR_TMPDIR for a kept build folder; nothing of
    scripts/env.sh or the project's kernel."""
    torch_lib = subprocess.run(
        [str(VENV / "bin/python"), "-c", "import torch, os; print(os.path.dirname(torch.__file__))"],
        check=True, stdout=subprocess.PIPE, text=True).stdout.strip() + "/lib"
    keep = ("HOME", "USER", "LANG", "TERM", "CARGO_HOME", "RUSTUP_HOME", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(VENV))]
    env["PATH"] = os.pathsep.join([str(VENV / "bin")] + path)
    env["LIBTORCH_USE_PYTORCH"] = "1"
    env["LD_LIBRARY_PATH"] = torch_lib
    slot = ROOT / "target/evcxr/stock"
    slot.mkdir(parents=True, exist_ok=True)
    # Upstream never deletes its cells' libraries: those of earlier runs go.
    for lib in slot.glob("**/libcode_*.so"):
        lib.unlink()
    env["EVCXR_TMPDIR"] = str(slot)
    # Where `evcxr_jupyter --install` writes its kernelspec (dirs' data dir),
    # and where Jupyter then finds it: a folder of this run's, not the
    # user's own.
    env["XDG_DATA_HOME"] = str(home)
    env["JUPYTER_PATH"] = str(home / "jupyter")
    env["JUPYTER_DATA_DIR"] = str(home / "jupyter")
    return env


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    stock = Path(sys.argv[1])
    import nbformat
    from nbclient import NotebookClient

    with tempfile.TemporaryDirectory(prefix="cnn_lab-stock-evcxr-") as tmp:
        home = Path(tmp)
        env = learner_env(home)
        subprocess.run([str(stock), "--install"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        specs = sorted(p.parent.name for p in (home / "jupyter/kernels").glob("*/kernel.json"))
        print(f"stock: `evcxr_jupyter --install` registered {specs}")
        if specs != ["rust"]:
            fail(f"expected evcxr_jupyter --install to register the kernel 'rust': {specs}")
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "rust", "display_name": "Rust", "language": "rust"}
        nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
        # nbclient starts the kernel from this process's environment, as
        # Jupyter started from the learner's shell would.
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            started = time.monotonic()
            client = NotebookClient(nb, kernel_name="rust", timeout=1800, startup_timeout=120,
                                    resources={"metadata": {"path": str(ROOT / "notebooks")}})
            client.execute()
        except Exception as e:  # a cell's error: name it
            fail(f"the stock kernel failed a cell: {str(e)[-1500:]}")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        print(f"stock: {len(CELLS)} cells in {time.monotonic() - started:.1f} s")

    def outputs(i):
        return nb.cells[i].outputs

    def text(i):
        parts = []
        for o in outputs(i):
            if o.output_type == "stream":
                parts.append(o.text)
            elif "data" in o:
                parts.append(o.data.get("text/plain", ""))
        return "".join(parts)

    def mimes(i):
        return sorted({m for o in outputs(i) if "data" in o for m in o.data})

    printout = text(2) + "".join(o.data.get("text/html", "") for o in outputs(2) if "data" in o)
    print(f"stock: the model: {mimes(2)}, {printout.strip().splitlines()[:1]}")
    if "MnistCNNModel(" not in printout or "Conv2d(1, 32" not in printout:
        fail(f"the model's printout is not PyTorch's: {printout[:400]!r}")
    print(f"stock: summary: {mimes(3)}, {[l for l in text(3).splitlines() if 'Total params' in l]}")
    if "Total params" not in text(3) or "Conv2d" not in text(3):
        fail(f"summary's table is missing: {text(3)[:400]!r}")
    if "text/html" in mimes(3):
        fail("summary shows as HTML: docs/kernel.md says a stock kernel shows it as plain text")
    # Its text goes to stderr, before or after the cell's idle (evcxr#353):
    # nbclient may show it or not; the cell is not an error either way, and
    # Run All went on (the cells after it ran).
    print(f"stock: an Err after `?`: not an error, its text {text(4).strip()[:120]!r}")
    if any(o.output_type == "error" for o in outputs(4)):
        fail(f"docs/kernel.md says a stock kernel reports a `?` error as an ok cell: {outputs(4)}")
    print(f"stock: fit: {text(5).strip().splitlines()[-1:]}")
    if "epochs 2" not in text(5):
        fail(f"fit did not run its two epochs: {text(5)[-600:]!r}")
    print(f"stock: plot_fit_result: {mimes(6)}")
    if "image/png" not in mimes(6):
        fail(f"plot_fit_result showed no picture: {mimes(6)}")


if __name__ == "__main__":
    main()
