"""core.dream.live: frames stream, a change reaches the next frame, one stream per server, and a
stream whose tab is gone ends with its thread."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from core.dream.live import LiveBusy, LiveHall, LiveSettings, LiveStream
from core.errors import GiroError


def settings(**changes) -> LiveSettings:
    return replace(LiveSettings(prompt="a road in tuscany", size=64, steps=2, strength=0.5), **changes)


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_frames_stream_and_a_change_reaches_the_next_frame(tiny_pipelines):
    stream = LiveStream("me", tiny_pipelines, settings())
    try:
        wait_for(lambda: len(stream.frames()) >= 3)
        assert stream.state == "running" and stream.latest().image.shape == (64, 64, 3)
        changed_at = stream.latest().index
        stream.update(settings(strength=0.75, zoom_px=3.0))
        wait_for(lambda: stream.latest().index >= changed_at + 3)
        made = {f.index: f.settings.strength for f in stream.frames()}
        # at most the frame in progress when the change came still carries the old value
        assert all(made[i] == 0.75 for i in made if i > changed_at + 1)
        assert stream.fps > 0
    finally:
        stream.stop()
        stream.join(30)
    assert not stream.alive and stream.state == "stopped"


def test_the_prompt_is_encoded_once_per_change(tiny_pipelines, monkeypatch):
    prompts = []
    original = tiny_pipelines.encode
    monkeypatch.setattr(tiny_pipelines, "encode", lambda *text: prompts.append(text) or original(*text))
    stream = LiveStream("me", tiny_pipelines, settings())
    try:
        wait_for(lambda: len(stream.frames()) >= 3)
        stream.update(settings(prompt="the dolomites"))
        wait_for(lambda: stream.latest().settings.prompt == "the dolomites" and len(stream.frames()) >= 6)
    finally:
        stream.stop()
        stream.join(30)
    assert prompts == [("a road in tuscany", ""), ("the dolomites", "")]  # with the negative prompt


def test_cadence_redraws_every_kth_frame(tiny_pipelines):
    stream = LiveStream("me", tiny_pipelines, settings(cadence=3))
    try:
        wait_for(lambda: len(stream.frames()) >= 7)
    finally:
        stream.stop()
        stream.join(30)
    assert [f.redrawn for f in stream.frames()[:7]] == [True, False, False, True, False, False, True]


def test_pause_and_resume(tiny_pipelines):
    stream = LiveStream("me", tiny_pipelines, settings())
    try:
        wait_for(lambda: len(stream.frames()) >= 2)
        stream.pause()
        wait_for(lambda: stream.state == "paused")
        count = stream.latest().index
        time.sleep(0.5)
        assert stream.latest().index <= count + 1  # the frame in progress may still land
        stream.resume()
        wait_for(lambda: stream.latest().index > count + 2)
    finally:
        stream.stop()
        stream.join(30)


def test_a_stream_whose_tab_is_gone_stops_and_leaves_no_thread(tiny_pipelines):
    before = threading.active_count()
    stream = LiveStream("me", tiny_pipelines, settings(), lost_seconds=1.0)
    wait_for(lambda: len(stream.frames()) >= 1)
    stream.join(30)  # nobody calls heartbeat(): the tab is gone
    assert not stream.alive and stream.message == "stopped: its tab was closed"
    assert threading.active_count() == before


def test_a_stream_left_without_a_change_stops(tiny_pipelines):
    stream = LiveStream("me", tiny_pipelines, settings(), idle_seconds=1.0)
    deadline = time.monotonic() + 30
    while stream.alive and time.monotonic() < deadline:
        stream.heartbeat()  # the tab is open, but nobody touches anything
        time.sleep(0.05)
    assert not stream.alive and stream.message.startswith("stopped after")


def test_a_render_has_priority(tiny_pipelines):
    rendering = threading.Event()
    stream = LiveStream("me", tiny_pipelines, settings(), busy=rendering.is_set)
    try:
        wait_for(lambda: len(stream.frames()) >= 1)
        rendering.set()
        wait_for(lambda: stream.state == "waiting")
        count = stream.latest().index
        time.sleep(0.3)
        assert stream.latest().index <= count + 1
        rendering.clear()
        wait_for(lambda: stream.latest().index > count + 1)
    finally:
        stream.stop()
        stream.join(30)


def test_one_stream_per_server(tiny_pipelines):
    hall = LiveHall(lambda model, vae: tiny_pipelines)
    mine = hall.start("me", "tiny", "auto", settings())
    try:
        with pytest.raises(LiveBusy, match="another session is steering Live Dream"):
            hall.start("guest", "tiny", "auto", settings())
        assert hall.current() is mine
        wait_for(lambda: mine.latest() is not None)
        again = hall.start("me", "tiny", "auto", settings(strength=0.8))  # the holder may restart
        assert again is not mine and not mine.alive
    finally:
        hall.stop("me")
    assert hall.current() is None
    hall.start("guest", "tiny", "auto", settings()).stop()  # free again


def test_a_start_image_is_the_first_frame(tiny_pipelines):
    start = np.zeros((80, 120, 3), np.uint8)
    start[:, :60] = 255
    stream = LiveStream("me", tiny_pipelines, settings(), start=start)
    try:
        wait_for(lambda: len(stream.frames()) >= 1)
    finally:
        stream.stop()
        stream.join(30)
    first = stream.frames()[0].image
    assert first.shape == (64, 64, 3) and first[:, :20].mean() > 200 and first[:, -20:].mean() < 50


@pytest.mark.parametrize("bad, message", [
    (dict(prompt="  "), "the live prompt is empty"),
    (dict(steps=1, strength=0.5), "runs no denoising step"),
    (dict(compare="seed", values=(1, 2)), "cannot compare 'seed': only strength, guidance, steps, zoom_px"),
    (dict(compare="strength", values=(0.5, 0.6, 0.7)), "compare two or four values of strength, not 3"),
    (dict(compare="steps", values=(1, 4)), "strength 0.5 with 1 steps runs no denoising step"),
    (dict(cadence=0), r"^live cadence must be from 1 to 8, got 0$"),
    (dict(steps=30), r"^live steps must be from 1 to 20, got 30$"),
    (dict(zoom_px=-1.0), r"^live zoom pixels must be from 0 to 8, got -1.0$"),
    (dict(guidance=float("nan")), r"^live guidance must be from 0 to 30, got nan$"),
    (dict(strength=True), r"^live strength must be from 0.01 to 1, got True$"),
    (dict(size=100), r"^the live size must be a multiple of 8 from 64 to 512 pixels, got 100$"),
    (dict(size=1024), r"^the live size must be a multiple of 8 from 64 to 512 pixels, got 1024$"),
    (dict(vanishing_point=(1.5, 0.5)), r"^the live vanishing point must lie in the frame \(each in \[0, 1\]\), got \[1.5, 0.5\]$"),
    (dict(compare="zoom_px", values=(1.0, 9.0)), r"^live zoom pixels must be from 0 to 8, got 9.0$"),
])
def test_bad_settings_are_one_line(bad, message):
    with pytest.raises(GiroError, match=message):
        settings(**bad)


def test_a_comparison_draws_its_variants_side_by_side_in_one_model_call(tiny_pipelines, monkeypatch):
    calls = []
    original = tiny_pipelines.redraw
    monkeypatch.setattr(tiny_pipelines, "redraw",
                        lambda images, embeds, variants, *rest: calls.append(variants) or original(images, embeds, variants, *rest))
    compared = settings(compare="strength", values=(0.5, 1.0))
    stream = LiveStream("me", tiny_pipelines, compared)
    try:
        wait_for(lambda: len(stream.frames()) >= 3)
        frame = stream.latest()
        assert frame.settings == compared and len(frame.variants) == 2
        assert frame.image is frame.variants[0] and not np.array_equal(*frame.variants)
        assert [v.strength for v in calls[-1]] == [0.5, 1.0]  # both in one call
        stream.update(settings(strength=1.0))  # keep the second
        wait_for(lambda: stream.latest().settings == settings(strength=1.0))
        assert stream.latest().variants == () and [v.strength for v in calls[-1]] == [1.0]
    finally:
        stream.stop()
        stream.join(30)


def test_keeping_a_variant_goes_on_from_its_picture():
    import torch

    from core.dream.live import _carried

    a, b = torch.zeros(3, 4, 4, dtype=torch.uint8), torch.ones(3, 4, 4, dtype=torch.uint8)
    compared = settings(compare="zoom_px", values=(1.0, 3.0))
    kept = _carried([a, b], compared.variants(), (settings(zoom_px=3.0),))
    assert len(kept) == 1 and kept[0] is b  # kept: its own picture
    other = _carried([a, b], compared.variants(), (settings(zoom_px=2.0),))
    assert len(other) == 1 and other[0] is a  # neither: the first
    started = _carried([a], (settings(zoom_px=1.0),), compared.variants())  # a comparison starts
    assert started[0] is a and started[1] is a


def test_a_change_drops_the_frame_in_progress_for_one_made_with_it(tiny_pipelines, monkeypatch):
    """The change arrives while a frame is being denoised: that frame is not finished with the old
    value; the very next frame on screen is made with the new one."""
    stream_box, arrived = [], []
    original = tiny_pipelines.redraw

    def spy(images, embeds, variants, seed, stop):
        stream = stream_box[0]
        if len(stream.frames()) >= 3 and not arrived:
            arrived.append(stream.latest().index)
            stream.update(settings(strength=1.0))  # mid-frame: before the first denoising step
        return original(images, embeds, variants, seed, stop)

    monkeypatch.setattr(tiny_pipelines, "redraw", spy)
    stream = LiveStream("me", tiny_pipelines, settings(steps=4))
    stream_box.append(stream)
    try:
        wait_for(lambda: arrived and stream.latest().index > arrived[0])
        after = [f for f in stream.frames() if f.index > arrived[0]]
        assert after[0].index == arrived[0] + 1 and after[0].settings == settings(strength=1.0)
    finally:
        stream.stop()
        stream.join(30)


def test_a_connected_tab_keeps_its_stream_however_seldom_it_looks(tiny_pipelines):
    """A busy server may redraw the steering tab only every few seconds: while the tab is still
    connected the stream goes on; once it is gone, the stream stops within the same seconds."""
    connected = threading.Event()
    connected.set()
    stream = LiveStream("me", tiny_pipelines, settings(), lost_seconds=0.5)
    try:
        stream.heartbeat(connected.is_set)
        wait_for(lambda: len(stream.frames()) >= 2)
        time.sleep(1.5)  # three times the lost seconds without a heartbeat
        assert stream.alive
        connected.clear()
        stream.join(30)
    finally:
        stream.stop()
    assert not stream.alive and stream.message == "stopped: its tab was closed"


def test_two_tabs_of_one_session_pressing_start_at_once_leave_one_stream(tiny_pipelines):
    hall = LiveHall(lambda model, vae: tiny_pipelines)
    barrier = threading.Barrier(2)

    def press_start():
        barrier.wait()
        hall.start("me", "tiny", "auto", settings())

    tabs = [threading.Thread(target=press_start) for _ in range(2)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(60)
    try:
        wait_for(lambda: hall.current() is not None and hall.current().latest() is not None)
        drawing = [t for t in threading.enumerate() if t.name == "live-me"]
        assert len(drawing) == 1 and drawing[0] is hall.current()._thread
    finally:
        hall.stop("me")
