"""The whole hostile corpus dropped on Bike ID's uploader in a real browser, with one good photo.

Streamlit refuses other extensions and files over `server.maxUploadSize` in the browser itself, each
with its own line on its file; the app's loader gives every other bad file its line; the good photo
is still classified.
"""

from __future__ import annotations

import mimetypes

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from tests.reliability.corpus import corpus
from core.images import EXTENSIONS


def test_corpus_and_a_good_photo_in_one_drop(page, app_url, shapes_data):
    files = [{"name": name, "mimeType": mimetypes.guess_type(name)[0] or "application/octet-stream",
              "buffer": content} for name, content, _ in corpus()]
    good = sorted((shapes_data / "square").glob("*.jpg"))[0]
    files.append({"name": "my-square.jpg", "mimeType": "image/jpeg", "buffer": good.read_bytes()})
    page.goto(f"{app_url}/Bike_ID")
    wait_for_app(page)
    page.get_by_role("tab", name="🖼️ Upload").click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files=files)
    page.get_by_text("my-square.jpg, as the model sees it").wait_for(timeout=120_000)
    wait_for_app(page)

    chips = page.locator('[data-testid="stFileChip"]')
    refused_by_browser = {}
    for n in range(chips.count()):
        text = chips.nth(n).inner_text()
        if "Error:" in text:
            refused_by_browser[text.splitlines()[0]] = text.split("Error:", 1)[1].strip()
    alerts = [a.inner_text().strip() for a in page.locator('[data-testid="stAlertContentError"]').all()]
    shown = {line.split(" ", 1)[0] for alert in alerts for line in alert.splitlines() if line.strip()}

    for name, _, want in corpus():
        if name.rsplit(".", 1)[-1] not in EXTENSIONS:
            assert refused_by_browser.get(name, "").endswith("files are not allowed."), name
        elif want.startswith("over the"):
            assert refused_by_browser.get(name) == "File must be 25.0MB or smaller.", name
        elif want == "ok":
            assert name not in shown and page.get_by_text(f"{name}, as the model sees it").count() == 1, name
        else:
            assert name in shown, name
    assert page.get_by_text("my-square.jpg, as the model sees it").count() == 1
    assert_no_exception(page)
    screenshot(page, "bike_id_hostile_corpus")
