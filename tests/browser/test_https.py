"""`make serve`: the app over HTTPS with a self-signed certificate, and the QR code for phones."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
import urllib.request

from core.lan import make_certificate
from tests.browser.conftest import ROOT, free_port, screenshot, wait_for_app


def test_https_serving_with_a_qr_code(browser, server_env, tmp_path):
    cert, key = make_certificate(tmp_path / "certs")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.sslCertFile", str(cert),
         "--server.sslKeyFile", str(key)],
        cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        context = ssl.create_default_context(cafile=str(cert))
        url = f"https://localhost:{port}"
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", context=context, timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert process.poll() is None
                time.sleep(0.3)
        browser_context = browser.new_context(ignore_https_errors=True, viewport={"width": 390, "height": 844})
        page = browser_context.new_page()
        page.viewport_name = "phone"
        page.goto(url)
        wait_for_app(page)
        page.get_by_text("Open on your phone").wait_for()
        assert page.get_by_text("https://").count() >= 1
        assert page.locator('[data-testid="stImage"] img').count() >= 1  # the QR code
        screenshot(page, "home_https")
        browser_context.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
