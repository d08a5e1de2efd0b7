"""Model presets: the original's Stable Diffusion v1-4, and a one-step model for speed.

The command line's `--preset`, the page's model choice and `apply_preset` all read `MODEL_PRESETS`.
Models and VAEs are read from the settings when asked, so GIRO_DREAM_MODEL, GIRO_DREAM_FAST_MODEL
and GIRO_DREAM_FAST_VAE point a preset elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from core import settings
from core.dream.stage import Stage, check_stage


def _own_vae() -> str:
    return "auto"


@dataclass(frozen=True)
class Preset:
    model: Callable[[], str]
    vae: Callable[[], str]
    steps: int
    strength: float
    guidance: float
    label: str  # for --help and the page

    def sampling(self) -> dict[str, float | int]:
        """The render settings the preset sets besides the model."""
        return {"steps": self.steps, "strength": self.strength, "guidance": self.guidance}


MODEL_PRESETS = {
    # The original: 50 steps, strength 0.45 -> 22 denoising steps a frame, guidance on.
    "default": Preset(settings.dream_model, _own_vae, 50, 0.45, 7.5,
                      "Stable Diffusion v1-4, 22 denoising steps a frame (50 x 0.45)"),
    # sd-turbo's own img2img recipe: 2 steps at strength 0.5, which is one denoising step, and no
    # guidance (which also halves the UNet batch); the tiny VAE decodes in a tenth of the time.
    "fast": Preset(settings.dream_fast_model, settings.dream_fast_vae, 2, 0.5, 0.0,
                   "sd-turbo, one denoising step a frame (2 x 0.5), no guidance, tiny VAE taesd"),
}


def apply_preset(stage: Stage, name: str) -> Stage:
    """`stage` with the preset's model, VAE and sampling settings; per-segment overrides are kept."""
    preset = MODEL_PRESETS[name]
    render = replace(stage.render, model=preset.model(), vae=preset.vae(), **preset.sampling())
    stage = replace(stage, render=render)
    check_stage(stage)
    return stage


def presets_help() -> str:
    return "; ".join(f"{name}: {preset.label}" for name, preset in MODEL_PRESETS.items())


