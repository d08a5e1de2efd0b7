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
SERVER_LOG = pytest.StashKey[Path]()  # the app's log, for a failed test's report
DESKTOP = {"width": 1400, "height": 1000}


@pytest.fixture(scope="session")
def app_url(server_env, tmp_path_factory, request):
    server = AppServer(server_env, tmp_path_factory.mktemp("logs") / "streamlit.log")
    request.config.stash[SERVER_LOG] = server.log
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A browser test that fails says what each of its open tabs showed and what the server last
    logged, and leaves a screenshot of each tab (failed-<test>-<n>.png): a failure in a clean CI
    run on a busy machine can then be read from its log."""
    outcome = yield
    report = outcome.get_result()
    browser = item.funcargs.get("browser")
    if report.when != "call" or not report.failed or browser is None:
        return
    lines = []
    for number, tab in enumerate(t for context in browser.contexts for t in context.pages):
        try:
            state = tab.evaluate(SCRIPT_STATE)
            shown = tab.locator('[data-testid="stMain"]').inner_text(timeout=5_000)
            SCREENSHOTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(SCREENSHOTS / f"failed-{item.name}-{number}.png"), timeout=10_000)
        except Exception as error:  # a tab that cannot answer says so; the report goes on
            lines.append(f"tab {number} {tab.url}: could not be read ({error})")
            continue
        lines.append(f"tab {number} {tab.url}, script {state}, showing:\n" + shown[-2000:])
    log = item.config.stash.get(SERVER_LOG, None)
    if log is not None and log.is_file():
        lines.append("the server's last lines:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]))
    report.sections.append(("the browser when it failed", "\n\n".join(lines)))


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


# The script's state: Streamlit marks its root with it; 'notRunning' once the script has stopped.
SCRIPT_STATE = "() => document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state')"
SCRIPT_DONE = SCRIPT_STATE + " === 'notRunning'"


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
