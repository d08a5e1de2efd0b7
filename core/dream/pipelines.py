"""Stable Diffusion text-to-image and img2img pipelines sharing one copy of the weights.

Loaded from a local diffusers folder or a Hub model id. Offline and not cached: a clear message
within seconds, never a hang. A pipeline object is not thread-safe (its scheduler keeps state),
so every call goes through `DreamPipelines.lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from core.errors import ModelError, first_line
from core.hub import local_or_download


@dataclass
class DreamPipelines:
    text2img: "StableDiffusionPipeline"  # noqa: F821 (diffusers is imported lazily)
    img2img: "StableDiffusionImg2ImgPipeline"  # noqa: F821
    model: str
    revision: str | None
    device: str
    dtype: torch.dtype
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def encode(self, prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Text embeddings (prompt, empty negative prompt); computed once per distinct prompt."""
        with self.lock, torch.inference_mode():
            cond, uncond = self.text2img.encode_prompt(
                prompt, self.device, 1, True, negative_prompt=""
            )
        return cond, uncond

    def first_frame(
        self, embeds: tuple[torch.Tensor, torch.Tensor], width: int, height: int,
        steps: int, guidance: float, seed: int, stop: Callable[[], bool],
    ) -> Image.Image | None:
        """Text-to-image; None if `stop()` turned true while denoising."""
        return self._run(
            self.text2img, stop, embeds, seed,
            width=width, height=height, num_inference_steps=steps, guidance_scale=guidance,
        )

    def redraw(
        self, image: Image.Image, embeds: tuple[torch.Tensor, torch.Tensor], strength: float,
        steps: int, guidance: float, seed: int, stop: Callable[[], bool],
    ) -> Image.Image | None:
        """img2img: `strength` of the noise schedule is redone; None if stopped."""
        return self._run(
            self.img2img, stop, embeds, seed,
            image=image, strength=strength, num_inference_steps=steps, guidance_scale=guidance,
        )

    def _run(self, pipe, stop, embeds, seed, **kwargs) -> Image.Image | None:
        def check_stop(pipe, step, timestep, tensors):
            if stop():
                pipe._interrupt = True  # diffusers skips the remaining steps
            return tensors

        # A CPU generator gives the same noise on every device, so seeds reproduce across machines.
        generator = torch.Generator("cpu").manual_seed(seed)
        with self.lock, torch.inference_mode():
            image = pipe(
                prompt_embeds=embeds[0], negative_prompt_embeds=embeds[1], generator=generator,
                callback_on_step_end=check_stop, output_type="pil", **kwargs,
            ).images[0]
        return None if stop() else image


def load_pipelines(model: str, device: str, dtype: torch.dtype) -> DreamPipelines:
    """Load `model` (a local folder or Hub id) onto `device`; raise ModelError with a clear line."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()  # progress is ours to report
    transformers_logging.disable_progress_bar()
    folder = resolve_model(model)
    try:
        text2img = StableDiffusionPipeline.from_pretrained(
            folder, dtype=dtype, safety_checker=None, requires_safety_checker=False,
            local_files_only=True,
        )
    except Exception as error:  # diffusers raises many types for a broken folder
        raise ModelError(f"{model} is not a usable Stable Diffusion model: {first_line(error)}") from error
    revision = Path(folder).name if Path(folder).parent.name == "snapshots" else None
    return assemble_pipelines(text2img, model, revision, device, dtype)


def assemble_pipelines(
    text2img: "StableDiffusionPipeline", model: str, revision: str | None,  # noqa: F821
    device: str, dtype: torch.dtype,
) -> DreamPipelines:
    """Move a loaded text-to-image pipeline to `device` and build img2img on the same weights."""
    from diffusers import StableDiffusionImg2ImgPipeline

    text2img = text2img.to(device)  # already in `dtype`: loaded or built that way
    if device.startswith("cuda"):
        text2img.unet.to(memory_format=torch.channels_last)
    text2img.set_progress_bar_config(disable=True)
    img2img = StableDiffusionImg2ImgPipeline(**text2img.components, requires_safety_checker=False)
    img2img.set_progress_bar_config(disable=True)
    return DreamPipelines(text2img, img2img, model, revision, device, dtype)


def resolve_model(model: str) -> str:
    """The local diffusers folder holding `model`, downloading a Hub model only when the Hub answers."""
    from diffusers import DiffusionPipeline

    folder = local_or_download(
        model,
        lambda local_only: DiffusionPipeline.download(model, local_files_only=local_only),
        what="diffusers", setting="GIRO_DREAM_MODEL",
    )
    if not (Path(folder) / "model_index.json").is_file():
        raise ModelError(f"{model} is not a diffusers model folder: it has no model_index.json")
    return folder


_loaded: dict[tuple[str, str, str], DreamPipelines] = {}
_loading = threading.Lock()


def cached_pipelines(model: str, device: str, dtype: torch.dtype) -> DreamPipelines:
    """One copy of each (model, device, dtype) per process, whichever thread asks first."""
    key = (model, device, str(dtype))
    with _loading:  # two sessions asking at once must not load the weights twice
        if key not in _loaded:
            _loaded[key] = load_pipelines(model, device, dtype)
        return _loaded[key]
