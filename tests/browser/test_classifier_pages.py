"""The photo pages in a real browser: upload a photo, or take one with Chromium's fake camera,
and get an answer; phone screenshots of every page with a result on it."""

from __future__ import annotations

import re

import pytest
from PIL import Image
from skimage import data

from tests.browser.conftest import assert_no_exception, screenshot, wait_for_app
from tests.browser.test_navigation import assert_fits_the_width

PAGES = {"Bike_ID": "bikes", "Flower_ID": "flowers", "Film-Star_Lookalike": "stars"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory, shapes_data):
    folder = tmp_path_factory.mktemp("photos")
    square = Image.open(sorted((shapes_data / "square").glob("*.jpg"))[0]).resize((480, 360))
    square.save(folder / "square.jpg")
    Image.fromarray(data.astronaut()).resize((400, 400)).save(folder / "me.jpg")
    return folder


def upload(page, path) -> None:
    page.get_by_role("tab", name="🖼️ Upload").click()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(path))


@pytest.mark.parametrize("path", ["Bike_ID", "Flower_ID"])
def test_upload_gets_an_answer(page, app_url, photos, path):
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    upload(page, photos / "square.jpg")
    page.get_by_text("as the model sees it").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_text("square", exact=False).count() >= 1
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1
    assert_no_exception(page)
    verdict = page.get_by_text(re.compile(r"\(\d+% sure\)|^Not sure which")).first.bounding_box()
    assert verdict["y"] + verdict["height"] <= page.viewport_size["height"], verdict  # no scrolling
    assert_fits_the_width(page)
    screenshot(page, f"{path.lower()}_result")


def test_lookalike_upload(page, app_url, photos):
    page.goto(f"{app_url}/Film-Star_Lookalike")
    wait_for_app(page)
    upload(page, photos / "me.jpg")
    page.get_by_text("You look most like").wait_for(timeout=60_000)
    wait_for_app(page)
    said = page.get_by_text("You look most like").inner_text()
    assert "Eileen Collins" in said and "could be the same person" in said
    box = page.get_by_text("You look most like").bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"], box  # the answer before the pictures
    assert_fits_the_width(page)
    assert_no_exception(page)
    screenshot(page, "film_star_lookalike_result")


def test_fake_camera_takes_a_photo_and_gets_an_answer(page, app_url):
    page.goto(f"{app_url}/Bike_ID")
    wait_for_app(page)
    take = page.get_by_role("button", name="Take Photo")
    take.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # the fake device needs a moment to deliver frames
    take.click()
    page.get_by_text("camera photo, as the model sees it").wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.locator('[data-testid="stPlotlyChart"]').count() >= 1
    assert_no_exception(page)
    screenshot(page, "bike_id_camera")
