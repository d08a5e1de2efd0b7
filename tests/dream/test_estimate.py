"""core.dream.estimate: the time of a render, from this server's own finished renders."""

from __future__ import annotations

from core.dream.estimate import estimate, unet_passes
from core.dream.render import render
from tests.dream.conftest import small_stage


def test_unet_passes_count_steps_guidance_and_cadence():
    assert unet_passes(small_stage(frames=(5,), loop_frames=0, steps=10, strength=0.5, guidance=7.5)) == 4 * 5 * 2
    assert unet_passes(small_stage(frames=(5,), loop_frames=0, steps=10, strength=0.5, guidance=0.0)) == 4 * 5
    assert unet_passes(small_stage(frames=(7,), loop_frames=0, steps=2, strength=0.5, guidance=0.0, cadence=3)) == 2


def test_no_estimate_until_a_comparable_render_finished(tiny_pipelines, tmp_path):
    same = dict(loop_frames=2, steps=4, model=tiny_pipelines.model)  # renders of this model only
    stage = small_stage(frames=(3, 3), **same)
    assert estimate(stage, "cpu", tmp_path) is None
    list(render(stage, tmp_path / "first", tiny_pipelines))
    measured = estimate(stage, "cpu", tmp_path)
    assert measured is not None and measured.renders == 1 and measured.seconds > 0
    twice = small_stage(frames=(6, 6), **same)
    longer = estimate(twice, "cpu", tmp_path)
    # The same rate a pass; the loop window's frames run fewer passes, so not twice the frames' time.
    assert abs(longer.seconds - measured.seconds * unet_passes(twice) / unet_passes(stage)) < 1e-9
    assert estimate(stage, "cuda", tmp_path) is None  # another device is another machine
    assert estimate(small_stage(frames=(3, 3), width=128, height=128, **same), "cpu", tmp_path) is None
    assert estimate(small_stage(frames=(3, 3), loop_frames=2, steps=4), "cpu", tmp_path) is None  # other model
