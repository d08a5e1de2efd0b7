"""Dream a Stage in a real browser with the tiny local Stable Diffusion: import a stage, set the
vanishing point on the canvas, render, reload mid-render, watch the loop, download everything."""

from __future__ import annotations

import io
import re
import tomllib
import zipfile

import imageio.v2 as imageio
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from PIL import Image
from skimage import data

from tests.browser.conftest import (DESKTOP, PHONE, assert_no_exception, open_tab, screenshot, show_tab,
                                    wait_for_app, wait_while_advancing)
from tests.browser.test_navigation import assert_fits_the_width

FRAMES = 36
STAGE = f"""
[render]
width = 64
height = 64
steps = 20
strength = 0.5
guidance = 7.5
zoom_px = 2.0
fps = 12
loop_frames = 8
seed = 7
[[segment]]
prompt = "a road in tuscany"
frames = {FRAMES // 2}
[[segment]]
prompt = "a road by the sea"
frames = {FRAMES // 2}
"""


def visible_slider(page, label: str):
    """The slider labelled `label` in the open tab."""
    return page.locator('[data-testid="stSlider"]:visible', has_text=label).first


def slider_value(page, label: str) -> float:
    return float(visible_slider(page, label).locator("input").first.get_attribute("value"))


def import_stage(page, tmp_path) -> None:
    path = tmp_path / "short_stage.toml"
    path.write_text(STAGE)
    uploader = page.locator('[data-testid="stFileUploader"]', has_text="Import a stage")
    uploader.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_text(re.compile(rf"^{FRAMES} frames, ")).first.wait_for(timeout=30_000)
    wait_for_app(page)


def click_canvas(page, x: float, y: float) -> None:
    """Click the visible picture canvas at (x, y) of its size, once the page is idle."""
    canvas = page.locator("canvas.upper-canvas:visible").first
    canvas.wait_for(timeout=30_000)
    wait_for_app(page)
    canvas.scroll_into_view_if_needed()  # a click outside the viewport lands nowhere
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])


def click_until(page, x: float, y: float, shows: re.Pattern) -> None:
    """Click the canvas at (x, y) until the page `shows` the point taken. A click that lands while
    the canvas is being drawn again (a rerun, its picture still loading) is lost, and clicking the
    same point again sets the same point."""
    for _ in range(5):
        click_canvas(page, x, y)
        try:
            page.get_by_text(shows).first.wait_for(timeout=15_000)
        except PlaywrightTimeout:
            continue
        wait_for_app(page)
        return
    raise AssertionError(f"five clicks on the canvas and no {shows.pattern!r}")


def click_point(page, x: float, y: float) -> None:
    """Click the canvas at (x, y), and wait for a slider (the point's x) to show `x`: the server
    took the click."""
    click_canvas(page, x, y)
    page.wait_for_function(
        "x => [...document.querySelectorAll('[data-testid=stSlider] input')].some(i => Math.abs(i.value - x) < 0.02)",
        arg=x, timeout=30_000)
    wait_for_app(page)


def download(page, label: str, tmp_path) -> bytes:
    """The file behind the visible download whose label starts with `label` (case and all: "Stage"
    is not the Stage tab's "Export stage (.toml)")."""
    # A click on a download (read when clicked) reruns the page; one that lands mid-rerun was lost.
    wait_for_app(page)
    with page.expect_download() as info:
        page.locator('[data-testid="stDownloadButton"] button:visible, a.giro-download:visible',
                     has_text=re.compile("^" + re.escape(label))).first.click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    return target.read_bytes()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    tab = context.new_page()
    tab.viewport_name = "desktop"
    yield tab
    context.close()


def test_render_end_to_end_with_reload_and_downloads(desktop, app_url, tmp_path):
    page = desktop
    page.goto(f"{app_url}/Dream_a_Stage")
    wait_for_app(page)
    import_stage(page, tmp_path)
    assert "loop-back over the last 8 frames" in page.get_by_text(re.compile(r"^36 frames, ")).inner_text()
    screenshot(page, "dream_before")

    # A segment's own vanishing point: a click on the picture in "Aim a segment's camera" sets it,
    # and the camera's path is plotted.
    page.get_by_text("Aim a segment's camera").click()
    click_until(page, 0.3, 0.6, re.compile(r"Segment 1 zooms and turns about \(0\.30, 0\.60\): its own"))
    screenshot(page, "dream_aim_segment")

    # The vanishing point: a click on the start frame canvas.
    open_tab(page, "Start frame")
    click_point(page, 0.25, 0.70)
    assert slider_value(page, "Vanishing point x") == pytest.approx(0.25, abs=0.02)
    assert slider_value(page, "Vanishing point y") == pytest.approx(0.70, abs=0.02)
    screenshot(page, "dream_vanishing_point")

    # Render, and reload while it runs: the render goes on and the page finds it again.
    open_tab(page, "Render")
    page.get_by_role("button", name="Render", exact=True).click()
    page.get_by_text(re.compile(r"frame \d+ of 36")).first.wait_for(timeout=90_000)
    screenshot(page, "dream_during")
    page.reload()
    wait_for_app(page)
    # The render goes on while the page is away; back on the Render tab, its progress or its video.
    show_tab(page, "Render", "Preview motion")
    wait_while_advancing(page, page.locator("video"), re.compile(r"frame \d+ of 36"))
    wait_for_app(page)
    screenshot(page, "dream_after")

    page.wait_for_function("() => document.querySelector('video').readyState >= 2", timeout=30_000)
    video = page.evaluate(
        "() => { const v = document.querySelector('video'); return {paused: v.paused, loop: v.loop,"
        " muted: v.muted, autoplay: v.autoplay, duration: v.duration, error: v.error && v.error.code,"
        " width: v.videoWidth}; }"
    )
    assert video["error"] is None and video["width"] == 64, video
    assert video["muted"] and video["autoplay"] and not video["paused"], video
    assert video["duration"] == pytest.approx(FRAMES / 12, abs=0.2), video
    # Streamlit loops in script, not with the attribute: past its end it must still be playing.
    page.wait_for_timeout(1000 * (FRAMES / 12) + 1500)
    assert page.evaluate("() => { const v = document.querySelector('video'); return !v.paused && !v.ended; }")

    gif = Image.open(io.BytesIO(download(page, "GIF", tmp_path)))
    assert gif.n_frames == FRAMES and gif.size == (64, 64)
    mp4_path = tmp_path / "check.mp4"
    mp4_path.write_bytes(download(page, "MP4", tmp_path))
    assert imageio.get_reader(mp4_path).count_frames() == FRAMES
    with zipfile.ZipFile(io.BytesIO(download(page, "Frames", tmp_path))) as archive:
        names = sorted(archive.namelist())
    assert names == [f"frames/{i:05d}.png" for i in range(FRAMES)]
    stage = tomllib.loads(download(page, "Stage", tmp_path).decode())
    assert stage["render"]["vanishing_point"] == pytest.approx([0.25, 0.70], abs=0.02)
    assert [s["prompt"] for s in stage["segment"]] == ["a road in tuscany", "a road by the sea"]
    assert_no_exception(page)


def test_phone_views(browser, app_url, tmp_path):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.viewport_name = "phone"
    page.goto(f"{app_url}/Dream_a_Stage")
    wait_for_app(page)
    screenshot(page, "dream_before")
    open_tab(page, "Render")
    page.get_by_role("button", name="Preview motion").click()
    page.locator("video").first.wait_for(timeout=60_000)
    wait_for_app(page)
    caption = re.compile(r"Preview: The loop's last step looks like any other: seam with the camera's motion "
                         r"taken out \d\.\d\d \(rings from the vanishing point out: ")
    assert page.get_by_text(caption).count() == 1
    assert_fits_the_width(page)
    screenshot(page, "dream_preview")
    open_tab(page, "Gallery")
    screenshot(page, "dream_gallery")
    assert_no_exception(page)
    context.close()


def test_a_preview_from_an_uploaded_photo_zooms_into_the_photo(browser, app_url, tmp_path):
    """On a phone: a photo uploaded as the start frame is what the Render tab starts from, and its
    motion preview (the photo nested in itself: see the screenshot) closes its loop. A preview that
    only zoomed the photo blurred it and said the loop jumps where it starts again."""
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.jpg")
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.viewport_name = "phone"
    page.goto(f"{app_url}/Dream_a_Stage")
    wait_for_app(page)
    show_tab(page, "Start frame", "Upload a photo")
    page.get_by_text("Upload a photo").click()
    uploader = page.locator('[data-testid="stFileUploader"]', has_text="Photo")
    uploader.locator('input[type="file"]').set_input_files(str(tmp_path / "coffee.jpg"))
    page.get_by_text("start frame", exact=True).wait_for(timeout=60_000)
    wait_for_app(page)
    show_tab(page, "Render", "from the start frame you chose")
    page.get_by_role("button", name="Preview motion").click()
    page.locator("video").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_text(re.compile(r"^Preview: The loop's last step looks like any other")).count() == 1
    assert_fits_the_width(page)
    screenshot(page, "dream_preview_photo")
    assert_no_exception(page)
    context.close()
