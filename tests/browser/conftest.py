"""A real `streamlit run Home.py` on a free port, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not become healthy in {timeout} s")


@pytest.fixture(scope="session")
def browser_folders(tmp_path_factory, trained) -> dict[str, Path]:
    """What a user's machine has after training: learners for Bike ID and Flower ID (the test's
    three-class learner), and a one-star gallery for the lookalike."""
    from PIL import Image
    from skimage import data

    base = tmp_path_factory.mktemp("browser")
    folders = {name: base / name for name in ("models", "data", "runs")}
    for folder in folders.values():
        folder.mkdir()
    for task in ("bikes", "flowers"):
        shutil.copy(trained["pkl"], folders["models"] / f"{task}.pkl")
        shutil.copy(trained["pkl"].with_suffix(".json"), folders["models"] / f"{task}.json")
    star = folders["data"] / "stars" / "Eileen Collins"
    star.mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(star / "1.jpg")
    return folders


@pytest.fixture(scope="session")
def tiny_dream_model(tmp_path_factory) -> Path:
    from core.dream.testing import save_pipeline

    return save_pipeline(tmp_path_factory.mktemp("sd") / "tiny-sd")


@pytest.fixture(scope="session")
def server_env(browser_folders, tiny_dream_model) -> dict[str, str]:
    """The app as a user runs it, pointed at private folders and the tiny local Stable Diffusion."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1",
               GIRO_DREAM_MODEL=str(tiny_dream_model))
    env.update({f"GIRO_{k.upper()}": str(v) for k, v in browser_folders.items()})
    return env


@pytest.fixture(scope="session")
def app_url(server_env, tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("logs") / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
         "--server.address", "127.0.0.1"],
        cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=["desktop", "phone"])
def page(request, browser):
    viewport = PHONE if request.param == "phone" else DESKTOP
    context = browser.new_context(
        viewport=viewport,
        is_mobile=request.param == "phone",
        has_touch=request.param == "phone",
        permissions=["camera"],
    )
    tab = context.new_page()
    tab.viewport_name = request.param
    yield tab
    context.close()


def wait_for_app(tab, timeout: float = 60_000) -> None:
    """Wait until the script has run: the title is drawn and nothing is running any more."""
    tab.wait_for_selector("h1", timeout=timeout)
    tab.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout
    )


def screenshot(tab, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its own container, so the window grows to fit it."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}-{tab.viewport_name}.png"
    viewport = tab.viewport_size
    height = tab.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stAppViewContainer\"], section.main')].map(e => e.scrollHeight), 0)"
    )
    tab.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], min(height, 6000))})
    tab.wait_for_timeout(1000)  # elements scrolled into view draw themselves after a moment
    tab.screenshot(path=str(path), full_page=True)
    tab.set_viewport_size(viewport)
    return path


def assert_no_exception(tab) -> None:
    """No traceback anywhere on the page; if there is one, show it."""
    errors = tab.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
