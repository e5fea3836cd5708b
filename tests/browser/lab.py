"""JupyterLab in headless Chromium, as a learner meets the lecture.

`LabServer` starts JupyterLab from the project's venv on a free 127.0.0.1
port (known token, its own config, settings and workspace folders, so nothing
of the user's leaks in) over a scratch folder laid out like the repository:
copies of the notebooks in `notebooks/` beside a `crate` link, so the
notebooks' `:dep cnn_lab = { path = "../crate" }` resolves (evcxr
canonicalises the path, so the warm build slot is reused) and nothing in the
real `notebooks/` is touched. `Browser` is Debian's Chromium under
ChromeDriver. `Notebook` drives one open notebook through the UI (menus,
Shift+Enter) and reads what a person sees back from the DOM.

Everything started here is stopped by its own process group, even when a
test fails.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "target" / "browser"
VENV = Path(os.environ.get("CNN_LAB_VENV", ROOT / ".venv"))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
KERNEL = "cnn_lab"


def missing_prerequisites():
    """What the browser test needs and this machine lacks, as sentences."""
    missing = []
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            missing.append(f"{path} (Debian package {package})")
    fonts = subprocess.run(
        ["fc-list", ":lang=ko", "family"], capture_output=True, text=True, check=False
    ) if shutil.which("fc-list") else None
    if fonts is None or not fonts.stdout.strip():
        missing.append("a Korean font (Debian package fonts-noto-cjk)")
    if not (VENV / "bin" / "jupyter-lab").exists():
        missing.append(f"JupyterLab in {VENV} (scripts/requirements.txt)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append(f"Selenium in {VENV} (scripts/requirements.txt)")
    spec = ROOT / "target" / "jupyter" / "kernels" / KERNEL / "kernel.json"
    if not spec.exists():
        missing.append(f"the {KERNEL} kernelspec {spec} (scripts/setup.sh)")
    if not os.access(ROOT / "target" / "kernel" / "evcxr_jupyter", os.X_OK):
        missing.append("the kernel binary target/kernel/evcxr_jupyter (scripts/setup.sh)")
    return missing


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_group(pgid, grace=5.0):
    """SIGTERM a process group we started, then SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


class LabServer:
    """`jupyter lab` on 127.0.0.1 over a scratch copy of the notebooks."""

    def __init__(self, notebooks):
        """`notebooks`: {name in the scratch notebooks/ folder: source path}."""
        self.notebooks = notebooks
        self.proc = None
        self.scratch = None

    def start(self, timeout=120):
        self.scratch = Path(tempfile.mkdtemp(prefix="cnn_lab-browser-"))
        nbdir = self.scratch / "root" / "notebooks"
        nbdir.mkdir(parents=True)
        (self.scratch / "root" / "crate").symlink_to(ROOT / "crate")
        for name, src in self.notebooks.items():
            shutil.copyfile(src, nbdir / name)
        settings = self.scratch / "settings"
        # No news or update prompts over the notebook (they would ask the
        # network); everything else is JupyterLab's default, as a learner has it.
        notification = settings / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        env = dict(os.environ)
        # What a learner sees by default: no Rust backtraces under errors.
        env.pop("RUST_BACKTRACE", None)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.scratch / "config"),
            JUPYTER_RUNTIME_DIR=str(self.scratch / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.scratch / "workspaces"),
        )
        self.token = os.urandom(16).hex()
        self.port = free_port()
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / "jupyter-lab.log"
        log = open(self.log_path, "ab")
        log.write(f"\n=== jupyter lab on 127.0.0.1:{self.port} ({time.ctime()})\n".encode())
        log.flush()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                str(VENV / "bin" / "jupyter"), "lab", "--no-browser",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.scratch / 'root'}",
                "--ServerApp.terminals_enabled=False",
                # window.jupyterapp, to read each output's nbformat type (an
                # error and a stderr stream render alike in the DOM).
                "--LabApp.expose_app_in_browser=True",
            ] + (["--allow-root"] if os.geteuid() == 0 else []),
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped by stop()
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; see {self.log_path}")
            try:
                self.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer in {timeout} s; see {self.log_path}")
                time.sleep(0.25)
        self.ready = time.monotonic()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def api(self, method, path, body=None, timeout=10):
        req = urllib.request.Request(
            self.url + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = r.read()
        return json.loads(data) if data else None

    def kernel_groups(self):
        """Process groups of the kernels this server started (each kernel is
        a session leader, found by its connection file in our runtime dir)."""
        groups = set()
        runtime = str(self.scratch / "runtime") if self.scratch else None
        if not runtime:
            return groups
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                if runtime in cmd and "kernel-" in cmd:
                    groups.add(os.getpgid(int(pid)))
            except (OSError, ProcessLookupError):
                continue
        return groups

    def stop(self):
        if self.proc is None:
            return
        kernels = self.kernel_groups()
        if self.proc.poll() is None:
            try:  # the server's own shutdown stops its kernels cleanly
                self.api("POST", "/api/shutdown", timeout=10)
                self.proc.wait(timeout=20)
            except Exception:
                pass
        _kill_group(self.proc.pid)
        for pgid in kernels | self.kernel_groups():
            _kill_group(pgid)
        self.proc = None
        shutil.rmtree(self.scratch, ignore_errors=True)


class Browser:
    """Debian's headless Chromium under ChromeDriver (Selenium)."""

    def __init__(self, width=1400, height=1000):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="cnn_lab-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
        ):
            opts.add_argument(arg)
        OUT.mkdir(parents=True, exist_ok=True)
        self.service = Service(
            executable_path=CHROMEDRIVER,
            service_args=["--log-level=WARNING"],
            log_output=str(OUT / "chromedriver.log"),
            popen_kw={"start_new_session": True},  # chromedriver + chromium: one group
        )
        self.driver = webdriver.Chrome(service=self.service, options=opts)
        self.driver.set_script_timeout(30)

    def quit(self):
        pgid = None
        try:
            pgid = os.getpgid(self.service.process.pid)
        except (AttributeError, OSError):
            pass
        try:
            self.driver.quit()
        except Exception:
            pass
        if pgid is not None:
            _kill_group(pgid, grace=2.0)
        shutil.rmtree(self.profile, ignore_errors=True)


# What a person sees in the open notebook, read from the DOM: per cell its
# kind, prompt and outputs (the output's MIME type as JupyterLab rendered it,
# its text, its images and tables).
_SNAPSHOT_JS = r"""
const panel = [...document.querySelectorAll('.jp-NotebookPanel')]
  .find(p => !p.classList.contains('lm-mod-hidden'));
if (!panel) return null;
// The status bar's kernel item: "Rust (cnn_lab) | Idle".
const kernel = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
  .map(e => e.textContent).find(t => / \| /.test(t)) || '';
const app = window.jupyterapp;
const widget = app && app.shell.currentWidget;
const model = widget && widget.content && widget.content.model;
const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')].map((c, i) => {
  const json = model && i < model.cells.length ? model.cells.get(i).toJSON() : {};
  const prompt = c.querySelector('.jp-InputArea-prompt');
  const outputs = [...c.querySelectorAll('.jp-OutputArea-output')].map(o => {
    const typed = o.hasAttribute('data-mime-type') ? o : o.querySelector('[data-mime-type]');
    return {
      mime: typed ? typed.getAttribute('data-mime-type') : '',
      text: o.textContent,
      images: [...o.querySelectorAll('img')].map(im => ({
        complete: im.complete, naturalWidth: im.naturalWidth, naturalHeight: im.naturalHeight,
      })),
      tables: [...o.querySelectorAll('table')].map(t => t.textContent),
    };
  });
  return {
    index: i,
    code: c.classList.contains('jp-CodeCell'),
    prompt: prompt ? prompt.textContent.trim() : '',
    outputs: outputs,
    // nbformat's view: [{output_type, name (streams), ename, evalue (errors)}]
    model: (json.outputs || []).map(o => ({
      output_type: o.output_type, name: o.name || '', ename: o.ename || '', evalue: o.evalue || '',
    })),
  };
});
return {
  kernel: kernel,
  status: kernel.split(' | ').pop().trim().toLowerCase(),
  cells: cells,
};
"""


class Notebook:
    """One notebook open in JupyterLab, driven as a person drives it."""

    def __init__(self, browser, server, name, timeout=120):
        self.browser, self.server, self.name = browser, server, name
        cells = json.loads(Path(server.notebooks[name]).read_text())["cells"]
        self.ncells = len(cells)
        self.d = browser.driver
        # A workspace of its own, reset: only this notebook is open.
        ws = f"t{int(time.monotonic() * 1000)}"
        self.d.get(f"{server.url}/lab/workspaces/{ws}/tree/notebooks/{name}?reset&token={server.token}")
        self.opened = time.monotonic()
        self.wait(lambda s: s and len(s["cells"]) == self.ncells and s["status"] == "idle",
                  timeout, f"{name}: the notebook did not open with an idle kernel")
        self.kernel_ready = time.monotonic()

    def snapshot(self):
        return self.d.execute_script(_SNAPSHOT_JS)

    def code_cells(self, snap=None):
        return [c for c in (snap or self.snapshot())["cells"] if c["code"]]

    def wait(self, cond, timeout, what, poll=0.25):
        deadline = time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            if cond(snap):
                return snap
            if time.monotonic() > deadline:
                self.screenshot("timeout")
                raise TimeoutError(f"{what} within {timeout} s; last state: {_brief(snap)}")
            time.sleep(poll)

    def wait_idle(self, timeout, settle=2.0, on_snapshot=None):
        """Waits until nothing runs: the kernel idle and no cell at [*], the
        same for `settle` seconds (output that comes after idle shows then).
        `on_snapshot` sees every snapshot taken meanwhile."""
        def quiet(s):
            return s and s["status"] == "idle" and not any(
                c["prompt"] == "[*]:" for c in s["cells"] if c["code"])

        quiet_since = None
        deadline = time.monotonic() + timeout
        while True:
            snap = self.snapshot()
            now = time.monotonic()
            if on_snapshot and snap:
                on_snapshot(snap)
            if quiet(snap):
                quiet_since = quiet_since or now
                if now - quiet_since >= settle:
                    return snap
            else:
                quiet_since = None
            if now > deadline:
                self.screenshot("timeout")
                raise TimeoutError(f"{self.name}: still running after {timeout} s: {_brief(snap)}")
            time.sleep(0.25)

    def menu(self, top, label):
        """Clicks a main-menu entry by its labels, e.g. ("Run", "Run All Cells")."""
        for item in self.d.find_elements("css selector", ".lm-MenuBar-item"):
            if item.text.strip() == top:
                item.click()
                break
        else:
            raise AssertionError(f"no {top!r} menu")
        for entry in self.d.find_elements("css selector", ".lm-Menu li.lm-Menu-item"):
            if entry.find_element("css selector", ".lm-Menu-itemLabel").text.strip() == label:
                entry.click()
                return
        raise AssertionError(f"no {label!r} in the {top!r} menu")

    def run_all(self):
        started = time.monotonic()
        self.menu("Run", "Run All Cells")
        # Run All marks the cells [*] at once; callers then wait for idle.
        self.wait(lambda s: any(c["prompt"] == "[*]:" for c in s["cells"] if c["code"])
                  or s["status"] != "idle", 10, f"{self.name}: Run All did not start")
        return started

    def run_cell(self, code_index, timeout):
        """Selects the code cell (by its place among code cells) and presses
        Shift+Enter, as a person runs one cell; waits until it has run."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        cell = self._code_cell_elements()[code_index]
        self.d.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
        cell.find_element("css selector", ".jp-InputArea-prompt").click()  # selects the cell in command mode
        ActionChains(self.d).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
        self.wait(lambda s: self.code_cells(s)[code_index]["prompt"] not in ("[ ]:", "")
                  or s["status"] != "idle", 10, f"{self.name}: code cell {code_index} did not start")
        return self.wait_idle(timeout)

    def _code_cell_elements(self):
        return self.d.find_elements(
            "css selector", ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell.jp-CodeCell")

    def cell_element(self, code_index):
        return self._code_cell_elements()[code_index]

    def screenshot(self, what, element=None, scroll_to=None):
        """Saves target/browser/<notebook>-<what>.png: an element (scrolled
        into view) or the window (scrolled to `scroll_to` first)."""
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{Path(self.name).stem}-{what}.png"
        try:
            if element is not None:
                # The notebook scrolls inside a fixed-size window: make the
                # window tall enough for the whole element, then put it back.
                size = self.d.get_window_size()
                tall = self.d.execute_script("return arguments[0].getBoundingClientRect().height", element)
                if tall + 250 > size["height"]:
                    self.d.set_window_size(size["width"], min(int(tall) + 250, 4000))
                try:
                    self.d.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
                    time.sleep(0.5)
                    element.screenshot(str(path))
                finally:
                    self.d.set_window_size(size["width"], size["height"])
            else:
                if scroll_to is not None:
                    self.d.execute_script("arguments[0].scrollIntoView({block: 'start'})", scroll_to)
                    time.sleep(0.5)
                self.d.save_screenshot(str(path))
        except Exception as e:  # a picture is for people; never hide the real failure
            print(f"(no screenshot {path.name}: {e})")
        return path


def _brief(snap):
    if not snap:
        return "no notebook panel"
    prompts = " ".join(c["prompt"] or "-" for c in snap["cells"] if c["code"])
    return f"kernel {snap['kernel'] or '?'}; {len(snap['cells'])} cells; prompts {prompts}"
