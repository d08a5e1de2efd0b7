"""`make serve`: the app over HTTPS with a self-signed certificate, and the QR code for phones."""

from __future__ import annotations

from core.lan import make_certificate
from tests.browser.conftest import screenshot, wait_for_app
from tests.browser.server import AppServer


def test_https_serving_with_a_qr_code(browser, server_env, tmp_path):
    server = AppServer(server_env, tmp_path / "streamlit.log", make_certificate(tmp_path / "certs"))
    url = server.start()  # its health check already trusted the certificate and got 200
    assert url.startswith("https://")
    try:
        browser_context = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844})
        page = browser_context.new_page()
        page.viewport_name = "phone"
        page.goto(url)
        wait_for_app(page)
        page.get_by_text("Open on your phone").wait_for()
        assert page.get_by_text("https://").count() >= 1
        # The QR code: drawn a moment after the text above it, so waited for, not counted at once.
        page.locator('[data-testid="stImage"] img').first.wait_for()
        assert page.locator('[data-testid="stImage"] img').count() >= 1
        screenshot(page, "home_https")
        browser_context.close()
    finally:
        server.stop()
