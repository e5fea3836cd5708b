"""Fixtures for the browser tests: one headless Chromium for the session;
JupyterLab servers are started per notebook run (lab.py)."""

import json
import time

import pytest

from known_kernel_failures import KNOWN_KERNEL_FAILURES
from lab import OUT, Browser, missing_prerequisites

# Timings each notebook run records, printed at the end and saved as
# target/browser/timings.json.
TIMINGS = {}


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = KNOWN_KERNEL_FAILURES.get(item.originalname)
        if reason:
            item.add_marker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))


@pytest.fixture(scope="session")
def browser():
    missing = missing_prerequisites()
    if missing:
        pytest.fail(
            "the browser test cannot run; missing: " + "; ".join(missing)
            + ". scripts/setup_browser.sh (run by scripts/test.sh) installs them (Debian packages through apt-get, as root).",
            pytrace=False,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):  # no picture from an earlier run left to mislead
        old.unlink()
    b = Browser()
    try:
        yield b
    finally:
        b.quit()


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n")
    terminalreporter.section("browser timings (s)")
    for name, t in TIMINGS.items():
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()))
    terminalreporter.write_line(f"screenshots: {OUT}/*.png ({time.strftime('%H:%M:%S')})")
