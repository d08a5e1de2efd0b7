"""Model presets: the original's Stable Diffusion v1-4, and a few-step model for speed.

The command line's `--preset`, the page's model choice and `apply_preset` all read `MODEL_PRESETS`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core import settings
from core.dream.stage import Stage, check_stage


@dataclass(frozen=True)
class Preset:
    model: str
    steps: int
    strength: float
    guidance: float
    label: str  # for --help and the page

    def sampling(self) -> dict[str, float | int]:
        """The render settings the preset sets besides the model."""
        return {"steps": self.steps, "strength": self.strength, "guidance": self.guidance}


MODEL_PRESETS = {
    # The original: 50 steps, strength 0.45 -> 22 denoising steps a frame, guidance on.
    "default": Preset(settings.DREAM_DEFAULT_MODEL, 50, 0.45, 7.5,
                      "Stable Diffusion v1-4, 50 steps"),
    # sd-turbo is distilled for 1-4 steps without guidance (which also halves the UNet batch).
    "fast": Preset(settings.DREAM_FAST_MODEL, 4, 0.5, 0.0, "sd-turbo, 4 steps, no guidance"),
}


def apply_preset(stage: Stage, name: str) -> Stage:
    """`stage` with the preset's model and sampling settings; per-segment overrides are kept."""
    preset = MODEL_PRESETS[name]
    stage = replace(stage, render=replace(stage.render, model=preset.model, **preset.sampling()))
    check_stage(stage)
    return stage


def presets_help() -> str:
    return "; ".join(f"{name}: {preset.label}" for name, preset in MODEL_PRESETS.items())


