"""Model presets: the original's Stable Diffusion v1-4, and a few-step model for speed."""

from __future__ import annotations

from dataclasses import replace

from core import settings
from core.dream.stage import Stage, check_stage

MODEL_PRESETS = {
    # The original: 50 steps, strength 0.45 -> 22 denoising steps a frame, guidance on.
    "default": dict(model=settings.DREAM_DEFAULT_MODEL, steps=50, strength=0.45, guidance=7.5),
    # sd-turbo is distilled for 1-4 steps without guidance (which also halves the UNet batch).
    "fast": dict(model=settings.DREAM_FAST_MODEL, steps=4, strength=0.5, guidance=0.0),
}


def apply_preset(stage: Stage, name: str) -> Stage:
    """`stage` with the preset's model and sampling settings; per-segment overrides are kept."""
    stage = replace(stage, render=replace(stage.render, **MODEL_PRESETS[name]))
    check_stage(stage)
    return stage
