"""core.dream.plan: per-frame parameters, computable without a model."""

from __future__ import annotations

import math

import pytest

from core.dream.plan import loop_curve, make_plan
from tests.dream.conftest import small_stage


@pytest.mark.parametrize("curve", ["linear", "ease-in-out"])
def test_frame_zeros_share_is_the_declared_curve(curve):
    """The curve is what the viewer sees: frame 0's share of each frame, 1 only at the frame after
    the last (frame 0 itself)."""
    plans = make_plan(small_stage(frames=(20, 20), loop_frames=12, loop_curve=curve))
    shares = [p.frame0_share for p in plans]
    assert shares[:28] == [0.0] * 28
    assert shares[28:] == pytest.approx([loop_curve(n / 13, curve) for n in range(1, 13)])
    assert 0.9 < shares[-1] < 1.0 and all(b >= a for a, b in zip(shares, shares[1:]))


@pytest.mark.parametrize("curve", ["linear", "ease-in-out"])
@pytest.mark.parametrize("cadence", [1, 3])
def test_each_steps_weight_is_derived_from_the_share(curve, cadence):
    """Each mix carries the ones before it forward (1 - share = prod(1 - w) over the diffused
    frames), so the weights are derived from the curve; in-between frames mix nothing of their own
    and fade between their neighbours."""
    plans = make_plan(small_stage(frames=(20, 20), loop_frames=12, loop_curve=curve, cadence=cadence))
    kept = 1.0
    for p in plans:
        if p.diffused:
            kept *= 1 - p.loop_weight
            assert p.frame0_share == pytest.approx(1 - kept)
        else:
            assert p.loop_weight == 0
            target = 1.0 if p.target == 0 else plans[p.target].frame0_share
            assert p.frame0_share == pytest.approx((1 - p.fade) * plans[p.source].frame0_share + p.fade * target)
    if cadence == 1 and curve == "linear":
        assert [round(p.loop_weight, 4) for p in plans[-3:]] == [round(1 / n, 4) for n in (4, 3, 2)]


@pytest.mark.parametrize("curve", ["linear", "ease-in-out"])
@pytest.mark.parametrize("cadence", [2, 3, 8])
def test_with_cadence_the_curve_runs_to_the_last_diffused_frame(curve, cadence):
    """The in-betweens after the last diffused frame fade into frame 0 themselves, so the curve
    runs over the window up to that frame: it holds as much of frame 0 as the last frame of a
    window that long does without cadence (over the whole window, cadence 8 left it 0.38)."""
    plans = make_plan(small_stage(frames=(40,), loop_frames=12, loop_curve=curve, cadence=cadence))
    last = max(p.index for p in plans if p.diffused)  # 38, 39 and 32: the window starts at 28
    drawn_frames = last - 28 + 1
    alone = make_plan(small_stage(frames=(40,), loop_frames=drawn_frames, loop_curve=curve))
    assert plans[last].frame0_share == pytest.approx(alone[-1].frame0_share)
    assert plans[last].frame0_share == pytest.approx(loop_curve(drawn_frames / (drawn_frames + 1), curve))
    shares = [p.frame0_share for p in plans]
    assert shares == sorted(shares)  # it never recedes


def test_strength_and_passes_taper_through_the_window():
    """What frame 0 already covers is not redrawn: the passes fall with the strength on the stage's
    own schedule, to one pass, which a finer schedule keeps at the strength's noise level."""
    plans = make_plan(small_stage(frames=(20,), loop_frames=8, steps=10, strength=0.5))
    assert {(p.strength, p.steps) for p in plans[:12]} == {(0.5, 10)}
    window = plans[12:]
    assert all(b.strength < a.strength for a, b in zip(window, window[1:]))
    passes = [int(p.steps * p.strength) for p in window]
    assert all(b <= a for a, b in zip(passes, passes[1:])) and passes[0] < 5 and passes[-1] == 1
    for p in window:
        assert p.strength == pytest.approx(0.5 * (1 - p.frame0_share))
        assert p.steps == 10 if p.strength >= 0.1 else p.steps == math.ceil(1 / p.strength)  # one pass at its noise
    untapered = make_plan(small_stage(frames=(20,), loop_frames=8, steps=10, strength=0.5, strength_taper=False))
    assert {(p.strength, p.steps) for p in untapered} == {(0.5, 10)}


def test_curves():
    assert loop_curve(0.5, "linear") == 0.5 and loop_curve(0.5, "ease-in-out") == pytest.approx(0.5)
    assert loop_curve(0.1, "ease-in-out") < 0.1 and loop_curve(1.0, "ease-in-out") == pytest.approx(1)


def test_no_loop():
    assert all(p.loop_weight == p.frame0_share == 0 for p in make_plan(small_stage(loop_frames=0)))


def test_segments_prompts_seeds_and_overrides():
    stage = small_stage(frames=(3, 2), seed=100, strength_taper=False, loop_frames=0)
    stage = stage.__class__(stage.render, (stage.segments[0], stage.segments[1].__class__(
        prompt="a road by the sea", frames=2, strength=0.8, guidance=3.0, zoom_px=1.0)))
    plans = make_plan(stage)
    assert [p.segment for p in plans] == [0, 0, 0, 1, 1]
    assert [p.seed for p in plans] == [100, 101, 102, 103, 104]
    fixed = make_plan(small_stage(frames=(3, 2), seed=100, noise="fixed"))
    assert [p.seed for p in fixed] == [100] * 5  # one noise pattern for the whole render
    assert plans[0].prompt == "a road in tuscany" and plans[4].prompt == "a road by the sea"
    assert [p.strength for p in plans] == [0.5] * 3 + [0.8] * 2
    assert [p.guidance for p in plans] == [7.5] * 3 + [3.0] * 2
    assert [p.camera.zoom_px for p in plans] == [2.0, 2.0, 2.0, 1.0, 1.0]  # frame 0: its segment's


def test_frame_0_ahead_shrinks_to_one_step_at_the_end():
    plans = make_plan(small_stage(frames=(10,), loop_frames=4))
    sx, sx_before = plans[-1].loop_placement[0], plans[-2].loop_placement[0]  # frame 0's pixels per pixel
    step = 64 / (64 - 4)
    assert sx == pytest.approx(step) and sx_before == pytest.approx(step**2)


def test_prompt_transitions_blend_into_the_next_segment_and_back_to_the_first():
    plans = make_plan(small_stage(frames=(6, 6), loop_frames=3, transition_frames=3))
    mixes = [(p.next_prompt, round(p.prompt_mix, 2)) for p in plans]
    assert mixes[:3] == [("", 0.0)] * 3
    assert mixes[3:6] == [("a road by the sea", 0.25), ("a road by the sea", 0.5), ("a road by the sea", 0.75)]
    assert mixes[9:] == [("a road in tuscany", 0.25), ("a road in tuscany", 0.5), ("a road in tuscany", 0.75)]


@pytest.mark.parametrize("cadence", [1, 2])
def test_colour_references(cadence):
    """frame0: every frame held to frame 0; segment: to its segment's first diffused frame, which
    is itself left as drawn, and let go through a prompt transition."""
    def references(mode, **render):
        plans = make_plan(small_stage(frames=(6, 5), loop_frames=0, colour_coherence=mode, cadence=cadence, **render))
        return [(p.colour_reference, round(p.colour_hold, 2)) for p in plans]

    assert references("off") == [(-1, 0.0)] * 11
    frame0 = references("frame0")
    diffused = range(cadence, 11, cadence)
    assert frame0 == [(0, 1.0) if i in diffused else (-1, 0.0) for i in range(11)]
    segment = references("segment")
    second = 6  # segment 2's first diffused frame, both cadences
    assert segment[second] == (-1, 0.0)
    assert all(segment[i] == (0, 1.0) for i in range(cadence, 6, cadence))
    assert all(segment[i] == (second, 1.0) for i in range(second + cadence, 11, cadence))
    eased = references("segment", transition_frames=3)
    assert [hold for ref, hold in eased[3:6] if ref == 0] == [h for i, h in zip(range(3, 6), (0.75, 0.5, 0.25))
                                                             if i % cadence == 0]


def test_frame_0s_detail_spreads_with_its_share_to_fill_its_box_by_the_last_drawn_frame():
    for cadence in (1, 3, 8):
        plans = make_plan(small_stage(frames=(30,), loop_frames=12, cadence=cadence))
        drawn = [p for p in plans if p.diffused]
        last_share = drawn[-1].frame0_share
        assert [p.detail_area for p in drawn] == pytest.approx([p.frame0_share / last_share for p in drawn])
        assert drawn[-1].detail_area == 1.0
        areas = [p.detail_area for p in plans]
        assert areas == sorted(areas)  # it never recedes
        for p in plans:
            if not p.diffused and p.target >= 0:  # an in-between, between its source's and its target's
                after = 1.0 if p.target == 0 else plans[p.target].detail_area
                assert p.detail_area == pytest.approx((1 - p.fade) * plans[p.source].detail_area + p.fade * after)
    assert not any(p.detail_area for p in make_plan(small_stage(frames=(30,), loop_frames=0, cadence=3)))
