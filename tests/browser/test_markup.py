"""User text never becomes a link or an image in the browser: the rendered page is checked, not
the markdown string (the browser's renderer turns bare addresses into links by itself)."""

from __future__ import annotations

import json
import re
import shutil

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import DESKTOP, open_tab, wait_for_app
from tests.browser.markup_page import HOSTILE
from tests.browser.server import AppServer
from tests.dream.test_run import OLD_RUN

# Links and images that name the hostile site; a heading's own anchor (href="#...", made by
# Streamlit from the heading's text) stays on the page and is no link to anywhere.
LINKS = ("() => [...document.querySelectorAll('a[href*=\"evil\"]:not([href^=\"#\"]), img[src*=\"evil\"]')]"
         ".map(e => e.outerHTML)")

ALL_DRAWN = """typed => document.querySelector('[data-testid="stMain"]').innerText.replaceAll('\\u200b', '')
  .split(typed).length - 1 >= 15"""


def shown(page) -> str:
    """The page's text as a person reads it (the invisible spaces that break autolinks left out)."""
    return page.locator('[data-testid="stMain"]').inner_text().replace("\u200b", "")


def test_every_markdown_element_shows_user_text_as_typed(browser, server_env, tmp_path):
    server = AppServer(server_env, tmp_path / "streamlit.log", script="tests/browser/markup_page.py")
    url = server.start()
    try:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url)
        wait_for_app(page)
        # Fifteen elements, each with the whole text as typed. The browser can still be drawing some
        # when the script has finished (10 of them then, all 15 seconds later): wait for all.
        try:
            page.wait_for_function(ALL_DRAWN, arg="[link](http://evil.example/a)", timeout=60_000)
        except PlaywrightTimeout:
            pass  # the assertion below says what is missing
        assert page.evaluate(LINKS) == []
        text = shown(page)
        assert text.count("[link](http://evil.example/a)") >= 15, text
        assert text.count("someone@evil.example") >= 15 and text.count(":red[hi] **bold**") >= 15
        page.close()
    finally:
        server.stop()


def test_a_planted_link_in_a_gallery_prompt_stays_text(browser, app_url, server_env):
    """A finished render whose prompt carries links, as an earlier guest could have typed it: the
    gallery every session sees shows the prompt, and no link or image comes from it."""
    from pathlib import Path

    run = Path(server_env["GIRO_RUNS"]) / "20000101-000000-planted"
    shutil.copytree(OLD_RUN, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["stage"]["segment"][0]["prompt"] = HOSTILE
    (run / "manifest.json").write_text(json.dumps(manifest))
    try:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(f"{app_url}/Dream_a_Stage")
        wait_for_app(page)
        open_tab(page, "Gallery")
        expander = page.locator('[data-testid="stExpander"]', has_text=re.compile("evil"))
        expander.first.wait_for(timeout=30_000)
        expander.first.locator("summary").click()
        expander.first.locator('[data-testid="stCode"]').wait_for(timeout=30_000)  # its last element, open
        assert page.evaluate(LINKS) == []
        assert "[link](http://evil.example/a)" in shown(page)
        page.close()
    finally:
        shutil.rmtree(run)
