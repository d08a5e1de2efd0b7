"""Live Dream in a real browser with the tiny local Stable Diffusion: frames stream, a slider's
change reaches the next frames, another session watches (and its view opens a dropped socket
again), Promote hands the settings to the stage, two zooms stream side by side (A/B) until one is
kept, and closing the tab ends the stream: the watcher's page says so and offers Start."""

from __future__ import annotations

import re
import tomllib

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, assert_no_exception, open_tab, screenshot, show_tab, wait_for_app
from tests.browser.test_dream_page import click_point, download, import_stage, slider_value, visible_slider
from tests.browser.test_navigation import assert_fits_the_width

MADE_WITH = re.compile(r"^Frame (\d+) · [\d.]+ frames a second.* made with strength ([\d.]+),")


def live_caption(page, strength: str | None = None) -> tuple[int, str]:
    """(frame index, strength) of the frame on screen, waiting for one made with `strength`."""
    pattern = MADE_WITH if strength is None else re.compile(MADE_WITH.pattern.replace(r"([\d.]+),", f"({strength}),"))
    caption = page.get_by_text(pattern).first
    caption.wait_for(timeout=120_000)
    match = MADE_WITH.match(caption.inner_text())
    return int(match.group(1)), match.group(2)


def frames_drawn(page) -> int:
    """Frames the Live view has drawn since the page opened (the view counts them)."""
    return page.evaluate("() => Number(document.querySelector('.giro-live')?.dataset.shown || 0)")


def wait_for_frames(page, count: int) -> None:
    """Until the Live view has drawn `count` frames: a state, however slowly the machine makes them."""
    page.wait_for_function("n => Number(document.querySelector('.giro-live')?.dataset.shown || 0) >= n",
                           arg=count, timeout=120_000)


def drawn_by_a_worker(page) -> bool:
    """Whether the Live view's canvas was handed to a worker (then the page cannot draw on it)."""
    return page.evaluate("""() => {
        try { document.querySelector('.giro-live .giro-frame').getContext('2d'); return false; }
        catch (error) { return error.name === 'InvalidStateError'; }
    }""")


def press(page, label: str, *keys: str) -> None:
    """Keys on the visible slider labelled `label`, each followed by the rerun it causes."""
    thumb = visible_slider(page, label).get_by_role("slider")
    for key in keys:
        thumb.focus()
        thumb.press(key)
        wait_for_app(page)


def wait_for_slider(page, label: str, value: float) -> None:
    """Until the visible slider labelled `label` holds `value` (as `slider_value` reads it)."""
    slider = visible_slider(page, label).locator("input").first
    expect(slider).to_have_attribute("value", re.compile(rf"^{re.escape(f'{value:g}')}(\.0*)?$"), timeout=60_000)


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the select box labelled `label`; its list can close under a rerun of the
    frames' fragment (twice a second while streaming), so the list is opened again if need be."""
    box = page.locator('[data-testid="stSelectbox"]', has_text=label)
    for _ in range(3):
        box.click()
        try:
            page.get_by_role("option", name=option).click(timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        wait_for_app(page)
        return
    raise AssertionError(f"could not choose {option!r} in {label!r}")


def test_live_stream_steer_watch_promote_and_close(browser, app_url, tmp_path):
    steering = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = steering.new_page()
    page.viewport_name = "desktop"
    page.goto(f"{app_url}/Dream_a_Stage")
    wait_for_app(page)
    import_stage(page, tmp_path)
    open_tab(page, "Live")
    page.get_by_text("the Stage tab's model").click()  # the tiny model; sd-turbo is not on CI
    # The choice brings the stage's sampling in its run; a key pressed before that run lands is undone
    # by it (a clean CI: guidance 7.5 streamed where the key had set 0).
    wait_for_slider(page, "Guidance", 7.5)
    wait_for_app(page)
    # Quick frames on two CPU cores: no guidance, one denoising step, 128 px.
    press(page, "Guidance", "Home")
    press(page, "Steps", "Home", "ArrowRight")
    press(page, "Size (pixels)", "Home")
    page.get_by_role("button", name="Start").click()
    first, strength = live_caption(page)
    assert strength == "0.5"
    live_caption(page)  # more frames come
    assert drawn_by_a_worker(page)
    screenshot(page, "live_streaming")

    # Strength to its top: the frames that follow are made with it, and say so.
    press(page, "Strength", "End")
    changed, strength = live_caption(page, strength="1")
    assert changed > first

    # Aim: a click on the frame moves the vanishing point, and the next frames are made about it.
    page.get_by_text("Aim: click on the frame").click()
    click_point(page, 0.25, 0.70)
    page.get_by_text(re.compile(r"made with .* about \(0\.2[456], 0\.(69|70|71)\)")).first.wait_for(timeout=120_000)
    assert slider_value(page, "Vanishing point x") == pytest.approx(0.25, abs=0.02)
    screenshot(page, "live_aimed")

    # Another session sees who holds the stream and watches its frames.
    watching = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    # Its browser has no OffscreenCanvas, as older phones: the view draws on the page itself.
    watching.add_init_script("delete HTMLCanvasElement.prototype.transferControlToOffscreen;")
    guest = watching.new_page()
    guest.viewport_name = "phone"
    sockets = []  # the guest's live sockets, relayed through Playwright so that the test can drop one
    guest.route_web_socket(re.compile(r"/giro/live/"), lambda socket: (socket.connect_to_server(), sockets.append(socket)))
    page_messages = []  # what Streamlit's own socket brings the guest: every rerun of its page sends some
    guest.on("websocket", lambda socket: socket.on("framereceived", lambda frame: page_messages.append(frame))
             if "/_stcore/stream" in socket.url else None)
    guest.goto(f"{app_url}/Dream_a_Stage")
    wait_for_app(guest)
    show_tab(guest, "Live", "Another session is steering Live Dream")
    assert guest.get_by_role("button", name="Start").count() == 0
    live_caption(guest, strength="1")
    # The frames come over the stream's own socket: they advance while the page does not rerun.
    # First the page's own settling: the session id put into the address, and the run it brings.
    guest.wait_for_url(re.compile(r"session="), timeout=60_000)
    wait_for_app(guest)
    wait_for_frames(guest, frames_drawn(guest) + 2)
    wait_for_app(guest)
    before, drawn = len(page_messages), frames_drawn(guest)
    wait_for_frames(guest, drawn + 3)
    assert len(page_messages) == before
    assert not drawn_by_a_worker(guest)
    # Its socket drops (a phone's Wi-Fi): the view opens another, and the frames go on.
    sockets[-1].close()
    wait_for_frames(guest, frames_drawn(guest) + 3)  # more than a frame in hand and one waiting
    assert len(sockets) == 2 and len(page_messages) == before
    assert_fits_the_width(guest)
    screenshot(guest, "live_watching")

    # Promote: the stage takes the live settings, and its TOML says so.
    page.get_by_role("button", name="Promote to the stage").click()
    # The run the promotion brings, with the live settings it took (not only the words' first).
    page.get_by_text(re.compile(r"^The stage now has these settings \(strength 1, guidance 0, steps 2,")).wait_for(
        timeout=30_000)
    wait_for_app(page)
    stage = tomllib.loads(download(page, "Stage (.toml)", tmp_path).decode())
    render = stage["render"]
    assert (render["strength"], render["steps"], render["guidance"]) == (1.0, 2, 0.0)
    assert render["vanishing_point"] == pytest.approx([0.25, 0.70], abs=0.02)
    open_tab(page, "Stage")
    assert slider_value(page, "Strength") == 1.0
    assert_no_exception(page)

    # A/B: two zooms side by side, drawn in one model call; the guest sees them too. Keeping one
    # puts its value on the slider and the stream goes on alone.
    open_tab(page, "Live")
    choose(page, "A/B: compare", "zoom pixels")
    values = page.get_by_label("Zoom pixels: two or four values")
    values.fill("0.5, 3")
    values.press("Enter")
    page.get_by_text("Left to right, zoom pixels 0.5 · 3").first.wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"made with strength 1, guidance 0, steps 2, the compared zoom pixels about")).first.wait_for(
        timeout=60_000)
    guest.get_by_text("Left to right, zoom pixels 0.5 · 3").first.wait_for(timeout=60_000)
    assert guest.get_by_role("button", name="Keep 3").count() == 0  # only the steering session keeps
    assert_fits_the_width(guest)
    screenshot(page, "live_compare")
    screenshot(guest, "live_compare_watching")
    page.get_by_role("button", name="Keep 3").click()
    page.get_by_text(re.compile(r"made with strength 1, guidance 0, steps 2, zoom 3 px")).first.wait_for(timeout=120_000)
    assert slider_value(page, "Zoom pixels per frame") == 3.0
    assert page.get_by_text("Left to right").count() == 0
    assert_no_exception(page)

    # The steering tab closes: the stream stops (GIRO_LIVE_LOST_SECONDS). The guest's page, told by
    # the stream's socket, runs again by itself: why it stopped, and Start, without a reload.
    before = len(page_messages)
    steering.close()
    guest.get_by_text("stopped: its tab was closed").wait_for(timeout=60_000)
    guest.get_by_role("button", name="Start").wait_for(timeout=60_000)
    wait_for_app(guest)
    assert guest.get_by_text("Another session is steering").count() == 0
    assert guest.get_by_text("stopped: its tab was closed").is_visible()
    assert len(page_messages) > before
    screenshot(guest, "live_stopped_watching")
    assert_no_exception(guest)
    watching.close()
