"""A real `streamlit run app.py` on a free port, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.server import AppServer

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 1000}


@pytest.fixture(scope="session")
def app_url(server_env, tmp_path_factory):
    server = AppServer(server_env, tmp_path_factory.mktemp("logs") / "streamlit.log")
    try:
        yield server.start()
    finally:
        server.stop()


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


# True once the script has stopped: Streamlit marks its root with the script's state.
SCRIPT_DONE = (
    "() => document.querySelector('[data-testid=\"stApp\"]')"
    "?.getAttribute('data-test-script-state') === 'notRunning'"
)


def wait_for_app(tab, timeout: float = 60_000) -> None:
    """Wait until the script has run: the title is drawn and the script has stopped.

    The "Running..." status widget shows only for runs longer than about a second, so its absence
    proves nothing: a page whose title was drawn could still be drawing the rest (on a cold server,
    Home's title came 0.4 s before its last element and the sidebar's navigation). Streamlit marks
    its root with the script's state (SCRIPT_DONE).
    """
    tab.wait_for_selector("h1", timeout=timeout)
    tab.wait_for_function(SCRIPT_DONE, timeout=timeout)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(500)


def show_tab(page, name: str, text: str) -> None:
    """Open tab `name` until `text` shows in it: a click that lands while the page is still
    settling its first runs (the session id going into the address) can be undone by them."""
    for _ in range(3):
        open_tab(page, name)
        try:
            page.get_by_text(text).first.wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            wait_for_app(page)
    page.get_by_text(text).first.wait_for(timeout=15_000)


def wait_while_advancing(tab, done, progress: re.Pattern, stall_seconds: float = 120) -> None:
    """Wait for locator `done` while the page's `progress` text keeps changing: a busy machine
    renders slowly and the wait goes on, a render that stops advancing fails the test. Never a
    limit on the whole, which a loaded machine's pace would decide."""
    last, since = None, time.monotonic()
    while True:
        try:
            done.first.wait_for(timeout=2_000)
            return
        except PlaywrightTimeout:
            pass
        shown = tab.get_by_text(progress)
        now = shown.first.inner_text() if shown.count() else None
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > stall_seconds:
            raise AssertionError(f"no progress for {stall_seconds:.0f} s: the page still says {last!r}")


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
