"""core.dream.figures: the seam, at the borders and the centre, and the flicker the motion leaves."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.dream.figures import (LoopFigures, ghosting_in_words, headline, jolt_in_words, loop_in_words, seam_figure,
                                seam_in_words, window_in_words)
from core.dream.camera import IDENTITY, Camera, compose, step_warp
from core.dream.zoom import move, to_float, to_uint8


def test_seam_figure():
    assert seam_figure([1.0, 2.0, 3.0, 2.0]) == 1.0
    assert seam_figure([1.0, 1.0, 1.0, 10.0]) == 10.0
    assert seam_figure([0.0, 0.0, 5.0]) is None  # a still video has no scale to compare with


def test_with_cadence_the_seam_is_measured_against_the_steps_onto_drawn_frames():
    """The seam lands on frame 0, a drawn frame: with cadence 2 the steps onto drawn frames (5)
    are its kind, the cross-fades between (1) are not."""
    steps = [1.0, 5.0, 1.0, 5.0, 5.0]
    assert seam_figure(steps, alike=[False, True, False, True]) == 1.0
    assert seam_figure(steps) == 5.0 / 3.0


def test_the_words_go_by_the_moved_figures_and_name_where_the_seam_shows():
    """The words read the motion-compensated figures where there are any (a raw jump is mostly
    the zoom), naming the region that jumps most; a run with raw figures only is read by those."""
    raw = {"seam": 1.0, "seam_border": 1.1, "seam_centre": 0.9}
    moved = {"seam_moved": 1.1, "seam_moved_border": 1.0, "seam_moved_centre": 0.8, "seam_moved_ring1": 0.7,
             "seam_moved_ring2": 0.9, "seam_moved_ring3": 1.6, "seam_moved_ring4": 1.3}
    assert seam_in_words({**raw, **moved}) == "the loop jumps where it starts again, most halfway out to the frame's edges"
    assert headline({**raw, **moved}) == ("seam with the camera's motion taken out", 1.1)
    assert seam_in_words(raw) == "the loop's last step looks like any other"
    assert headline(raw) == ("seam", 1.0)
    assert seam_in_words({**raw, "seam_border": 2.0}) == "the loop jumps where it starts again, most at the frame's edges"
    assert headline({}) is None and seam_in_words({}) == "the loop's seam was not measured"
    assert ghosting_in_words({"ghosting": 0.07, "ghosting_frame": 274}) == "" == ghosting_in_words({})
    assert ghosting_in_words({"ghosting": 0.36, "ghosting_frame": 269}) == (
        "; around frame 269 the picture's edges fade (two pictures at once, or a blur)")
    assert loop_in_words({**raw, "seam_border": 2.0, "ghosting": 0.36, "ghosting_frame": 269}) == (
        "The loop jumps where it starts again, most at the frame's edges; around frame 269 the picture's edges "
        "fade (two pictures at once, or a blur)")
    assert jolt_in_words({"window_jolt": 1.1, "window_jolt_frame": 260}) == "" == jolt_in_words({})
    assert loop_in_words({**raw, "window_jolt": 2.2, "window_jolt_frame": 263}) == (
        "The loop's last step looks like any other; at frame 263 the picture jumps more than anywhere in the ride")
    assert window_in_words({"window_load": 1.1, "window_wanted": 20}) == "" == window_in_words({})
    assert loop_in_words({**raw, "window_load": 2.78, "window_wanted": 69}) == (
        "The loop's last step looks like any other; the loop window is short for how far the ride has travelled "
        "from frame 0: getting back to it takes steps 2.8 times the ride's (looping back over about 69 frames "
        "brings that to about 1)")
    assert window_in_words({"window_load": 2.0, "window_wanted": None}).endswith(
        "(the stage is too short for a window that brings that to about 1: give it more frames)")


def _zoom_chain(count: int, zoom_px: float) -> list[np.ndarray]:
    """A textured frame zoomed in step by step: motion and nothing else."""
    rng = np.random.default_rng(0)
    noise = torch.from_numpy(rng.integers(0, 255, (3, 16, 16), dtype=np.uint8))
    frame = to_uint8(torch.nn.functional.interpolate(to_float(noise), size=(96, 96), mode="bicubic").clamp(0, 1))
    frames = [frame]
    for _ in range(count - 1):
        frames.append(to_uint8(move(to_float(frames[-1]), step_warp((96, 96), Camera(zoom_px)))))
    return [f.permute(1, 2, 0).numpy() for f in frames]


def _measured(frames: list[np.ndarray], zoom_px: float) -> LoopFigures:
    figures = LoopFigures([IDENTITY] + [step_warp((96, 96), Camera(zoom_px))] * (len(frames) - 1))
    for frame in frames:
        figures.add(frame)
    figures.close()
    return figures


def test_pure_motion_has_no_flicker_and_redraws_do():
    chain = _zoom_chain(8, 1.5)
    assert _measured(chain, 1.5).figures()["flicker"] < 1.0  # resampling's rounding only
    noisy = [np.clip(f.astype(int) + np.random.default_rng(i).integers(-20, 21, f.shape), 0, 255).astype(np.uint8)
             for i, f in enumerate(chain)]
    assert _measured(noisy, 1.5).figures()["flicker"] > 8


def test_a_seam_left_at_the_borders_shows_in_seam_border_not_in_the_centre():
    chain = _zoom_chain(8, 1.5)
    frames = chain + [chain[0].copy()]  # the last frame is frame 0 ...
    frames[-1][:4] = 255 - frames[-1][:4]  # ... but for a band at the top edge
    figures = _measured(frames, 1.5).figures()
    assert figures["seam_border"] > 2 * figures["seam_centre"]
    assert figures["seam_border"] > figures["seam"]
    assert set(figures) == {"seam", "seam_border", "seam_centre", "flicker", "unrelated", "ghosting", "ghosting_frame",
                            "window_jolt", "window_jolt_frame", "window_load", "window_wanted", "seam_moved",
                            "seam_moved_border", "seam_moved_centre", *(f"seam_moved_ring{n}" for n in range(1, 5))}
    assert figures["seam_moved"] is None  # no step into frame 0 given: the video does not loop


def test_distances_end_with_the_seam():
    chain = _zoom_chain(4, 2.0)
    figures = _measured(chain, 2.0)
    whole = figures.distances["whole"]
    assert len(whole) == 4 and whole[-1] > max(whole[:-1])  # back from 3 zooms in, in one step
    assert figures.figures()["seam"] == pytest.approx(whole[-1] / np.median(whole[:-1]), abs=1e-3)


def test_a_loop_of_unrelated_frames_has_no_seam_figure_and_says_so():
    """A seam figure of about 1 for frames that do not follow one another would call a jumble
    seamless: there is none, and the words say why."""
    rng = np.random.default_rng(1)
    jumble = [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8) for _ in range(12)]
    figures = _measured(jumble, 1.5).figures()
    assert figures["unrelated"] > 0.9 and figures["seam"] is figures["seam_border"] is figures["seam_centre"] is None
    assert seam_in_words(figures) == "the frames do not follow one another, so there is no loop to judge"
    ride = _measured(_zoom_chain(12, 1.5), 1.5).figures()
    assert ride["unrelated"] < 0.2 and ride["seam"] is not None


def test_with_cadence_a_jumble_of_drawn_frames_is_a_jumble_though_in_betweens_follow():
    """Drawn frames every third, unrelated (as a random model draws them), the frames between
    cross-faded: each step is a third of a jumble's, yet the drawn frames do not follow."""
    rng = np.random.default_rng(2)
    drawn = [rng.integers(0, 256, (64, 96, 3)).astype(np.float32) for _ in range(5)]
    frames = []
    for a, b in zip(drawn, drawn[1:]):
        frames += [((1 - t) * a + t * b).round().astype(np.uint8) for t in (0, 1 / 3, 2 / 3)]
    figures = LoopFigures([IDENTITY] * len(frames), IDENTITY, drawn=[i % 3 == 0 for i in range(len(frames))])
    for frame in frames:
        figures.add(frame)
    figures.close()
    assert figures.figures()["unrelated"] > 0.9 and figures.figures()["seam_moved"] is None


def test_the_moved_seam_takes_the_cameras_motion_out_and_finds_the_ring_where_it_jumps():
    """A ride whose frame 0 is its last frame moved one step on: a seam like any other step with
    the camera's motion out; frame 0 changed in its outer band: the outermost ring's figure jumps,
    the innermost one's does not."""
    step = step_warp((96, 96), Camera(1.5))
    rng = np.random.default_rng(3)
    ride = [np.clip(f.astype(int) + rng.integers(-6, 7, f.shape), 0, 255).astype(np.uint8) for f in _zoom_chain(9, 1.5)]
    frames = [to_uint8(move(to_float(torch.from_numpy(ride[-1].transpose(2, 0, 1).copy())), step)).permute(1, 2, 0).numpy()]
    frames += ride[1:]

    def measured(frames):
        figures = LoopFigures([IDENTITY] + [step] * (len(frames) - 1), wrap=step)
        for frame in frames:
            figures.add(frame)
        figures.close()
        return figures.figures()

    closing = measured(frames)
    assert closing["seam_moved"] < 1.2 and all(closing[f"seam_moved_ring{n}"] < 1.2 for n in range(1, 5))
    frames[0] = frames[0].copy()
    frames[0][:6] = 255 - frames[0][:6]  # the top band: the outermost ring
    jumping = measured(frames)
    assert jumping["seam_moved_ring4"] > 3 and jumping["seam_moved_ring1"] < 1.2


def test_a_double_exposure_shows_in_the_ghosting_figure_and_where():
    """A ride of sharp frames (the preview's card along the camera's path) cross-faded through its
    frame 6 with the card about another point shows two pictures at once there: each one's edges
    at part of their height. The ride alone keeps its edges."""
    from core.dream.preview import card_tensor

    step = step_warp((96, 96), Camera(1.5))
    ride, travelled = [], IDENTITY
    for _ in range(12):
        ride.append(to_uint8(card_tensor(96, 96, (0.5, 0.5), travelled)).permute(1, 2, 0).numpy())
        travelled = compose(travelled, step)
    other = to_uint8(card_tensor(96, 96, (0.3, 0.7))).permute(1, 2, 0).numpy()
    crossed = [f.copy() for f in ride]
    crossed[6] = ((ride[6].astype(np.float32) + other) / 2).round().astype(np.uint8)
    alone, ghosted = _measured(ride, 1.5).figures(), _measured(crossed, 1.5).figures()
    assert alone["ghosting"] <= 0.1
    assert ghosted["ghosting"] > 0.3 and ghosted["ghosting_frame"] == 6


def test_a_flash_in_the_loop_window_shows_in_the_window_jolt_and_where():
    """A still picture redrawn each frame with fresh grain, looping back to its start: the window
    (the last 6 frames) steps like the ride and reads about 1. One frame of it showing another
    picture at once reads far above, at that frame (or the step back from it)."""
    rng = np.random.default_rng(0)
    picture, other = rng.integers(40, 215, (2, 96, 96, 3))

    def grain(base):
        return np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)

    def measured(frames, window=6):
        figures = LoopFigures([IDENTITY] * len(frames), IDENTITY if window else None, window=window)
        for frame in frames:
            figures.add(frame)
        figures.close()
        return figures.figures()

    calm = [grain(picture) for _ in range(24)]
    assert 0.8 < measured(calm)["window_jolt"] < 1.2
    flashed = calm[:20] + [grain(other)] + calm[21:]
    jolted = measured(flashed)
    assert jolted["window_jolt"] > 3 and jolted["window_jolt_frame"] in (20, 21)
    assert measured(flashed, window=0)["window_jolt"] is None  # no loop, no window


def test_the_window_load_is_the_way_back_to_frame_0_spread_over_the_window():
    """A still picture redrawn each frame with fresh grain whose frame 0 is another picture: the
    window cross-fades to it linearly. Its load is the change back to frame 0 over the window's
    steps and a ride's step: the same change over a window five times as long, a fifth of it, and
    its seam like any step. The short window names the window that brings its load to about 1,
    and that window does."""
    picture, other = np.random.default_rng(1).integers(40, 215, (2, 96, 96, 3))

    def measured(window, frames=60):
        rng = np.random.default_rng(window + frames)

        def grain(base):
            return np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)

        shares = [0.0] * (frames - window) + [(n + 1) / (window + 1) for n in range(window)]
        loop = [grain(other)] + [grain((1 - s) * picture + s * other) for s in shares[1:]]
        figures = LoopFigures([IDENTITY] * frames, IDENTITY, window=window)
        for frame in loop:
            figures.add(frame)
        figures.close()
        return figures.figures()

    short, long = measured(4), measured(24)
    assert short["window_load"] > 2.5 and short["seam_moved"] > 1.2
    assert 4.5 < short["window_load"] / long["window_load"] < 5.5
    assert abs(short["window_load"] * 5 - (short["window_wanted"] + 1)) < 1
    assert measured(short["window_wanted"])["window_load"] <= 1.0
    assert long["seam_moved"] <= 1.2 and long["window_load"] <= 1.2
    assert measured(4, frames=13)["window_wanted"] is None  # a window that spreads it does not fit
    assert measured(0)["window_load"] is None
