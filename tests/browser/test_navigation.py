"""Every page, reached through the app's own navigation, renders in a real browser."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app

PAGES = ["Dream a Stage", "Flower ID", "Film-Star Lookalike", "Bike ID"]


def open_nav(tab) -> None:
    """On a phone the sidebar starts collapsed: open it the way a person would."""
    nav = tab.locator('[data-testid="stSidebarNav"]')
    if not nav.is_visible():
        tab.locator('[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button').first.click()
        nav.wait_for(state="visible")


def test_home_and_every_page_through_the_navigation(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    assert "Giro Dreams" in page.locator("h1").first.inner_text()
    assert_no_exception(page)
    screenshot(page, "home")
    for title in PAGES:
        open_nav(page)
        page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
        page.wait_for_function(
            "t => document.querySelector('h1') && document.querySelector('h1').innerText.includes(t)",
            arg=title,
        )
        wait_for_app(page)
        assert_no_exception(page)
        assert_fits_the_width(page)
        screenshot(page, title.lower().replace(" ", "_").replace("-", "_"))


# Elements wider than the window, or sticking out past its right edge: what scrolls sideways or
# is cut off on a 390 px phone. Streamlit's own off-screen parts (a collapsed sidebar) are hidden.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid="stMain"]');
  return [...main.querySelectorAll('[data-testid]')]
    .filter(e => e.offsetParent !== null)
    .map(e => [e.getAttribute('data-testid'), Math.round(e.getBoundingClientRect().right)])
    .filter(([, right]) => right > width + 1);
}"""


def assert_fits_the_width(tab) -> None:
    """Nothing on the page scrolls sideways or is clipped at the right edge."""
    assert tab.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    overflowing = tab.evaluate(OVERFLOW)
    assert not overflowing, overflowing


@pytest.mark.parametrize("path", ["Flower_ID", "Bike_ID"])
def test_pages_open_by_address(page, app_url, path):
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    assert_no_exception(page)
    page.get_by_text("Take a photo").first.wait_for()
