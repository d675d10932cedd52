"""Notebooks 01 and 05 in a real browser: JupyterLab 4 on 127.0.0.1 with a token, driven in headless
Chromium (Debian ``chromium`` + ``chromium-driver``) by selenium. Each notebook is opened as a user
would, all cells are run, and the test asserts: opening does not mark it modified, no cell has an error
or a warning on stderr, figures render, and (notebook 05) the explorer widget answers a query typed
into it. Runs on synthetic data copied next to the notebooks; nothing is written to the checkout.

Needs the browser and its driver: ``apt-get install chromium chromium-driver`` (``.ci/run`` does).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from kokoro_analysis.paths import PROJECT_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("KOKORO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KOKORO_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_dir) -> Path:
    """A folder with copies of the notebooks whose ``output_dir`` parameter points into it."""
    root = tmp_path_factory.mktemp("lab")
    for name in ("01_corpus_statistics", "05_explore_sessions"):
        notebook = nbformat.read(PROJECT_ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
        cell.source = cell.source.replace(
            "output_dir = None", f"output_dir = {str(root / 'out')!r}"
        )
        nbformat.write(notebook, root / f"{name}.ipynb")
    return root


@pytest.fixture(scope="module")
def lab(workspace, synthetic_dir, tmp_path_factory):
    """A JupyterLab server serving ``workspace``; yields (base URL, token)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            f"{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install chromium chromium-driver"
        )
    state = tmp_path_factory.mktemp("lab-state")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "KOKOROCHAT_DATA": str(synthetic_dir),
        "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
        "JUPYTER_CONFIG_DIR": str(state / "config"),
        "KOKORO_ANALYSIS_CACHE": str(state / "cache"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    env.pop("KOKORO_PEERS_DIR", None)
    env.pop("KOKOROCHAT_TRANSLATIONS", None)  # the real release does not align with synthetic data
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={workspace}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
        f"--LabApp.user_settings_dir={state / 'settings'}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    with open(state / "lab.log", "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield _wait_for(server, f"http://127.0.0.1:{port}", token, state / "lab.log"), token
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()


def _wait_for(server: subprocess.Popen, base: str, token: str, log: Path) -> str:
    """Wait until the server answers (at most 60 s); return its base URL."""
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            return base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    os.environ["SE_OFFLINE"] = (
        "true"  # Selenium Manager must never try to download a browser or driver
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


CURRENT = "window.jupyterapp.shell.currentWidget"


def open_and_run(driver, base: str, token: str, name: str) -> dict:
    """Open ``name`` in JupyterLab, wait for its kernel, run all cells; return what the page shows."""
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(condition, seconds: float = 120):
        return WebDriverWait(driver, seconds, poll_frequency=0.25).until(condition)

    driver.get(f"{base}/lab/tree/{name}.ipynb?token={token}")
    wait(
        lambda d: d.execute_script(
            f"const w = window.jupyterapp && {CURRENT}; return !!(w && w.context && w.context.path === '{name}.ipynb'"
            " && w.context.isReady && w.sessionContext.session && w.sessionContext.session.kernel"
            " && w.sessionContext.session.kernel.status === 'idle')"
        )
    )
    time.sleep(1)  # kernel info (language_info) arrives just after the kernel turns idle
    dirty_on_open = driver.execute_script(f"return {CURRENT}.context.model.dirty")
    driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    wait(
        lambda d: d.execute_script(
            f"const w = {CURRENT}; const cells = w.content.widgets.filter(c => c.model.type === 'code');"
            " return w.sessionContext.session.kernel.status === 'idle' && cells.every(c =>"
            " c.model.executionCount !== null && c.promptNode.textContent.indexOf('*') < 0)"
        ),
        300,
    )
    outputs = driver.execute_script(
        f"return {CURRENT}.content.widgets.filter(c => c.model.type === 'code').map(c => c.model.toJSON().outputs)"
    )
    images = driver.execute_script(
        "return Array.from(document.querySelectorAll('.jp-Notebook .jp-RenderedImage img'))"
        ".filter(i => i.complete && i.naturalWidth > 100).length"
    )
    return {
        "dirty_on_open": dirty_on_open,
        "outputs": [o for cell in outputs for o in cell],
        "images": images,
    }


def committed_language_version(name: str) -> str:
    metadata = json.loads(
        (PROJECT_ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
    )["metadata"]
    return metadata["language_info"].get("version", "")


def check_clean_run(result: dict, name: str) -> None:
    import platform

    if committed_language_version(name) == platform.python_version():
        assert not result["dirty_on_open"], (
            f"{name} is marked modified as soon as it opens (metadata incomplete?)"
        )
    errors = [o for o in result["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    stderr = "".join(o.get("text", "") for o in result["outputs"] if o.get("name") == "stderr")
    assert "Warning" not in stderr, f"{name} printed a warning: {stderr[:500]}"


def test_notebook_01_runs_in_jupyterlab(browser, lab):
    result = open_and_run(browser, *lab, "01_corpus_statistics")
    check_clean_run(result, "01_corpus_statistics")
    assert result["images"] >= 5, f"only {result['images']} figures rendered"


def test_notebook_05_explorer_answers_a_query(browser, lab, workspace):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    result = open_and_run(browser, *lab, "05_explore_sessions")
    check_clean_run(result, "05_explore_sessions")
    assert browser.find_elements(By.CSS_SELECTOR, ".ka-transcript .ka-counselor")
    assert browser.find_elements(By.CSS_SELECTOR, ".ka-transcript .ka-client")
    tab = browser.find_element(
        By.XPATH, "//*[contains(@class,'lm-TabBar-tab')][.//*[text()='Concordance']]"
    )
    tab.click()
    box = WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".ka-query input")
    )
    box.clear()
    box.send_keys("思う")
    # as a user does: Search (leaving the box commits its value; headless Chromium's Enter does not)
    browser.find_element(By.CSS_SELECTOR, ".ka-search").click()
    WebDriverWait(browser, 60).until(
        lambda d: "hits for 思う" in d.find_element(By.CSS_SELECTOR, ".ka-results").text
    )
    browser.find_element(By.CSS_SELECTOR, ".ka-export").click()
    exported = workspace / "out" / "tables" / "concordance_思う.csv"
    WebDriverWait(browser, 30).until(
        lambda d: exported.exists() and "思う" in exported.read_text(encoding="utf-8")
    )
