"""The lecture in JupyterLab: each notebook opened in a fresh `jupyter lab`,
Run All from the Run menu, then what a learner sees checked in the DOM."""

import re
import time

import pytest

from conftest import TIMINGS
from lab import ROOT, LabServer, Notebook

NOTEBOOKS = ["00_quickstart.ipynb", "mnist_cnn.ipynb"]
RUN_TIMEOUT = {"00_quickstart.ipynb": 420, "mnist_cnn.ipynb": 900}
PROMPT_RAN = re.compile(r"^\[\d+\]:$")
_runs = {}


class Run:
    """A notebook after Run All: the DOM snapshot and the code cells."""

    def __init__(self, name, snap):
        self.name, self.snap = name, snap
        self.code = [c for c in snap["cells"] if c["code"]]

    def outputs(self):
        return [(c, o) for c in self.code for o in c["outputs"]]


def run_lecture(browser, name):
    """Runs a notebook once per session (the tests below share the result)."""
    if name in _runs:
        return _runs[name]
    server = LabServer({name: ROOT / "notebooks" / name}).start()
    try:
        t = {"jupyter lab answering": server.ready - server.started}
        nb = Notebook(browser, server, name)
        t["notebook open, kernel idle"] = nb.kernel_ready - server.started
        clicked = nb.run_all()
        first_image = []

        def note_image(snap):
            if not first_image and any(
                im["naturalWidth"] > 0 for c in snap["cells"] for o in c["outputs"] for im in o["images"]
            ):
                first_image.append(time.monotonic())

        snap = nb.wait_idle(RUN_TIMEOUT[name], on_snapshot=note_image)
        done = time.monotonic()
        if first_image:
            t["first chart loaded"] = first_image[0] - server.started
        t["Run All finished"] = done - server.started
        t["Run All itself"] = done - clicked
        TIMINGS[name] = t
        run = Run(name, snap)
        _screenshots(nb, run)
    finally:
        server.stop()
    _runs[name] = run
    return run


def _screenshots(nb, run):
    """The key outputs, for a person to look at: target/browser/<nb>-*.png."""
    code_index = {id(c): i for i, c in enumerate(run.code)}
    shots = {
        "chart": lambda o: o["images"],
        "summary": lambda o: any("620,234" in t for t in o["tables"]),
        "fit": lambda o: "Epoch[1/1] - " in o["text"],
    }
    for what, wanted in shots.items():
        for c, o in run.outputs():
            if wanted(o):
                i = code_index[id(c)]
                nb.screenshot(what, nb.cell_element(i))
                break
    nb.screenshot("window", scroll_to=nb.cell_element(0))


@pytest.fixture(scope="module", params=NOTEBOOKS)
def lecture(request, browser):
    return run_lecture(browser, request.param)


@pytest.fixture(scope="module")
def mnist(browser):
    return run_lecture(browser, "mnist_cnn.ipynb")


def test_every_code_cell_ran(lecture):
    not_run = [(i, c["prompt"]) for i, c in enumerate(lecture.code) if not PROMPT_RAN.match(c["prompt"])]
    assert not not_run, f"{lecture.name}: code cells without an execution count (index, prompt): {not_run}"


def test_no_cell_shows_an_error(lecture):
    bad = []
    for i, c in enumerate(lecture.code):
        for m in c["model"]:
            if m["output_type"] == "error" or m["name"] == "stderr":
                bad.append((i, m))
        for o in c["outputs"]:
            if "panicked at" in o["text"]:
                bad.append((i, o["text"][:300]))
    assert not bad, f"{lecture.name}: error output in code cells: {bad}"


def test_every_image_output_loads(lecture):
    images = [(i, im) for i, c in enumerate(lecture.code) for o in c["outputs"] for im in o["images"]]
    assert images, f"{lecture.name}: no image output at all"
    broken = [(i, im) for i, im in images if not (im["complete"] and im["naturalWidth"] > 0)]
    assert not broken, f"{lecture.name}: images that did not load (code cell, img): {broken}"


def test_mnist_shows_all_seven_charts_and_the_live_one(mnist):
    n = sum(len(o["images"]) for _, o in mnist.outputs())
    assert n == 8, f"mnist_cnn.ipynb: {n} images; the lecture draws 7, and fit's live chart is one more"


def test_mnist_summary_is_a_table_with_the_lectures_parameter_count(mnist):
    tables = [t for _, o in mnist.outputs() for t in o["tables"]]
    assert any("620,234" in t and "Total params" in t for t in tables), (
        f"no summary <table> with 'Total params' 620,234 among {len(tables)} tables: "
        + " | ".join(t[:200] for t in tables)
    )


def test_mnist_fit_prints_the_epoch_line(mnist):
    lines = [ln for _, o in mnist.outputs() for ln in o["text"].splitlines() if "Epoch[" in ln]
    assert any(ln.startswith("Epoch[1/1] - ") for ln in lines), f"no 'Epoch[1/1] - ' line; saw {lines}"
