"""core.dream.plan: per-frame parameters, computable without a model."""

from __future__ import annotations

import pytest

from core.dream.plan import loop_curve, make_plan
from tests.dream.conftest import small_stage


@pytest.mark.parametrize("curve", ["linear", "ease-in-out"])
def test_loop_weights_start_at_zero_end_near_one_never_decrease(curve):
    plans = make_plan(small_stage(frames=(20, 20), loop_frames=12, loop_curve=curve))
    weights = [p.loop_weight for p in plans]
    assert weights[: 40 - 12] == [0.0] * 28
    assert weights[28:] == pytest.approx([loop_curve(n / 13, curve) for n in range(1, 13)])
    assert 0.9 < weights[-1] < 1.0  # 1 only at frame 0 itself, the frame after the last
    assert all(b >= a for a, b in zip(weights, weights[1:]))


@pytest.mark.parametrize("curve", ["linear", "ease-in-out"])
@pytest.mark.parametrize("cadence", [1, 3])
def test_frame_zeros_share_compounds_the_weights(curve, cadence):
    """Each step carries the mixes before it forward: frame 0's share, what the viewer sees and
    the page plots, is 1 - prod(1 - w) over the diffused frames, not w."""
    plans = make_plan(small_stage(frames=(20, 20), loop_frames=12, loop_curve=curve, cadence=cadence))
    kept = 1.0
    for p in plans:
        if p.diffused:
            kept *= 1 - p.loop_weight
            assert p.frame0_share == pytest.approx(1 - kept)
        else:  # in-between frames mix nothing of their own: they fade between their neighbours
            assert p.loop_weight == 0
            target = 1.0 if p.target == 0 else plans[p.target].frame0_share
            assert p.frame0_share == pytest.approx((1 - p.fade) * plans[p.source].frame0_share + p.fade * target)
    if cadence == 1:
        middle = plans[28 + 6]
        assert middle.loop_weight < 0.6 and middle.frame0_share > 0.85  # half-way, mostly frame 0 already


def test_curves():
    assert loop_curve(0.5, "linear") == 0.5 and loop_curve(0.5, "ease-in-out") == pytest.approx(0.5)
    assert loop_curve(0.1, "ease-in-out") < 0.1 and loop_curve(1.0, "ease-in-out") == pytest.approx(1)


def test_no_loop():
    assert all(p.loop_weight == p.frame0_share == 0 for p in make_plan(small_stage(loop_frames=0)))


def test_segments_prompts_seeds_and_overrides():
    stage = small_stage(frames=(3, 2), seed=100)
    stage = stage.__class__(stage.render, (stage.segments[0], stage.segments[1].__class__(
        prompt="a road by the sea", frames=2, strength=0.8, guidance=3.0, zoom_px=1.0)))
    plans = make_plan(stage)
    assert [p.segment for p in plans] == [0, 0, 0, 1, 1]
    assert [p.seed for p in plans] == [100, 101, 102, 103, 104]
    assert plans[0].prompt == "a road in tuscany" and plans[4].prompt == "a road by the sea"
    assert [p.strength for p in plans] == [0.5] * 3 + [0.8] * 2
    assert [p.guidance for p in plans] == [7.5] * 3 + [3.0] * 2
    assert [p.zoom_px for p in plans] == [0.0, 2.0, 2.0, 1.0, 1.0]


def test_loop_scale_shrinks_to_one_step_at_the_end():
    plans = make_plan(small_stage(frames=(10,), loop_frames=4))
    (sx, _), (sx_before, _) = plans[-1].loop_scale, plans[-2].loop_scale
    step = 64 / (64 - 4)
    assert sx == pytest.approx(step) and sx_before == pytest.approx(step**2)


def test_prompt_transitions_blend_into_the_next_segment_and_back_to_the_first():
    plans = make_plan(small_stage(frames=(6, 6), loop_frames=3, transition_frames=3))
    mixes = [(p.next_prompt, round(p.prompt_mix, 2)) for p in plans]
    assert mixes[:3] == [("", 0.0)] * 3
    assert mixes[3:6] == [("a road by the sea", 0.25), ("a road by the sea", 0.5), ("a road by the sea", 0.75)]
    assert mixes[9:] == [("a road in tuscany", 0.25), ("a road in tuscany", 0.5), ("a road in tuscany", 0.75)]
