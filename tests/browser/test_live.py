"""Live training in JupyterLab (issue 17): while `fit` runs, its progress is
one output whose text changes in place, and the loss/accuracy chart is one
image redrawn after each epoch, not one image per epoch. A fixture notebook
trains 2 epochs on 4,096 MNIST images; the DOM is sampled as it runs."""

import time
from pathlib import Path

import pytest

from lab import LabServer, Notebook

FIXTURE = Path(__file__).parent / "fixtures" / "live_fit.ipynb"
FIT = 3  # the fit cell, by its place among code cells
RUN_TIMEOUT = 600


def _progress(cell):
    """The texts of the cell's outputs that are fit's progress line."""
    return [o["text"].strip() for o in cell["outputs"] if "batch " in o["text"] and "images/s" in o["text"]]


@pytest.fixture(scope="module")
def live(browser):
    server = LabServer({"live_fit.ipynb": FIXTURE}).start()
    samples, shot = [], []
    try:
        nb = Notebook(browser, server, "live_fit.ipynb")
        nb.run_all()

        def sample(snap):
            fit = nb.code_cells(snap)[FIT]
            if fit["prompt"] != "[*]:":
                return
            progress = _progress(fit)
            if progress:
                samples.append((time.monotonic(), progress, sum(len(o["images"]) for o in fit["outputs"])))
                if not shot and "Epoch[2/2]" in progress[0]:
                    nb.screenshot("fit-running", nb.cell_element(FIT))
                    shot.append(True)

        final = nb.code_cells(nb.wait_idle(RUN_TIMEOUT, on_snapshot=sample))
        nb.screenshot("fit-done", nb.cell_element(FIT))
    finally:
        server.stop()
    return samples, final


def test_the_progress_line_changes_in_place_while_fit_runs(live):
    samples, _ = live
    assert len(samples) >= 2, f"fit's progress was seen in only {len(samples)} DOM samples"
    several = [p for _, p, _ in samples if len(p) != 1]
    assert not several, f"more than one progress output at a time: {several[:3]}"
    texts = [p[0] for _, p, _ in samples]
    assert len(set(texts)) >= 2, f"the progress text never changed: {texts[:3]}"
    assert any(t.startswith("Epoch[1/2] batch ") for t in texts), texts[:3]
    assert any(t.startswith("Epoch[2/2] batch ") for t in texts), texts[-3:]


def test_the_chart_is_one_image_redrawn_each_epoch_and_the_lecture_lines_stay(live):
    samples, final = live
    fit = final[FIT]
    images = [im for o in fit["outputs"] for im in o["images"]]
    assert len(images) == 1, f"the fit cell shows {len(images)} images, expected one live chart"
    assert images[0]["complete"] and images[0]["naturalWidth"] > 0, images
    assert max(n for _, _, n in samples) <= 1, "a second chart appeared while fit ran"
    progress = _progress(fit)
    assert len(progress) == 1 and progress[0].startswith("Epoch[2/2] batch 16/16 - loss: "), progress
    text = "\n".join(o["text"] for o in fit["outputs"])
    for epoch in (1, 2):
        assert f"Epoch[{epoch}/2] - Train loss: " in text, text
    assert not any(m["output_type"] == "error" or m["name"] == "stderr" for m in fit["model"]), fit["model"]
