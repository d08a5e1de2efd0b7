"""Stable Diffusion text-to-image and img2img pipelines sharing one copy of the weights.

Loaded from a local diffusers folder or a Hub model id, optionally with a tiny autoencoder
(diffusers' `AutoencoderTiny`, e.g. madebyollin/taesd) in place of the model's own VAE. Offline
and not cached: a clear message within seconds, never a hang. Frames go in and come out as
(1, 3, H, W) tensors in [0, 1] on the pipeline's device: no trip through PIL. A pipeline object
is not thread-safe (its scheduler keeps state), so every call goes through `DreamPipelines.lock`.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from core.errors import ModelError, first_line
from core.hub import local_or_download


@dataclass(frozen=True)
class Variant:
    """One img2img setting of a side-by-side comparison."""
    strength: float
    steps: int
    guidance: float


@dataclass
class DreamPipelines:
    text2img: "StableDiffusionPipeline"  # noqa: F821 (diffusers is imported lazily)
    img2img: "StableDiffusionImg2ImgPipeline"  # noqa: F821
    model: str
    revision: str | None
    device: str
    dtype: torch.dtype
    vae: str = "auto"
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
    ) -> torch.Tensor | None:
        """Text-to-image; None if `stop()` turned true while denoising."""
        return self._run(
            self.text2img, stop, embeds, seed,
            width=width, height=height, num_inference_steps=steps, guidance_scale=guidance,
        )

    def redraw(
        self, image: torch.Tensor, embeds: tuple[torch.Tensor, torch.Tensor], strength: float,
        steps: int, guidance: float, seed: int, stop: Callable[[], bool],
    ) -> torch.Tensor | None:
        """img2img: `strength` of the noise schedule is redone; None if stopped."""
        return self._run(
            self.img2img, stop, embeds, seed,
            image=image, strength=strength, num_inference_steps=steps, guidance_scale=guidance,
        )

    def redraw_variants(
        self, images: torch.Tensor, embeds: tuple[torch.Tensor, torch.Tensor], variants: list[Variant],
        seed: int, stop: Callable[[], bool],
    ) -> torch.Tensor | None:
        """img2img of `images[i]` with `variants[i]`'s strength, steps and guidance, all in one UNet
        call per step (a batch), not one call per variant.

        diffusers' pipeline takes one strength, step count and guidance per call, hence this loop;
        it follows the pipeline's own (its timesteps, noise and guidance), so one variant draws
        what `redraw` draws. Each variant has its own scheduler (they keep state between steps)
        and its own generator seeded alike, so variants differ by their settings alone; one with
        fewer steps leaves the batch when it is done. None if `stop()` turned true.
        """
        from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img import retrieve_latents
        from diffusers.utils.torch_utils import randn_tensor

        pipe = self.img2img
        if len(variants) != images.shape[0]:
            raise ValueError(f"{images.shape[0]} images for {len(variants)} variants")
        generators = [torch.Generator("cpu").manual_seed(seed) for _ in variants]
        with self.lock, torch.inference_mode():
            schedulers, timesteps = [], []
            for variant in variants:
                scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config)
                scheduler.set_timesteps(variant.steps, device=self.device)
                start = variant.steps - min(int(variant.steps * variant.strength), variant.steps)
                timesteps.append(scheduler.timesteps[start * scheduler.order:])
                if hasattr(scheduler, "set_begin_index"):
                    scheduler.set_begin_index(start * scheduler.order)
                schedulers.append(scheduler)
            pixels = images.to(self.device, self.dtype) * 2 - 1
            latents = retrieve_latents(pipe.vae.encode(pixels), generator=generators) * pipe.vae.config.scaling_factor
            noise = randn_tensor(latents.shape, generator=generators, device=self.device, dtype=latents.dtype)
            # One tensor per variant, never written in place: a scheduler may keep the sample it was given.
            latents = [scheduler.add_noise(latents[i:i + 1], noise[i:i + 1], steps[:1])
                       for i, (scheduler, steps) in enumerate(zip(schedulers, timesteps))]
            cond, uncond = embeds
            takes_generator = "generator" in inspect.signature(pipe.scheduler.step).parameters
            for k in range(max(len(steps) for steps in timesteps)):
                if stop():
                    return None
                active = [i for i, steps in enumerate(timesteps) if k < len(steps)]
                now = [timesteps[i][k] for i in active]
                inputs = torch.cat([schedulers[i].scale_model_input(latents[i], t) for i, t in zip(active, now)])
                t = torch.stack(now)
                # Every variant with the prompt; those guided (above 1, as diffusers has it) once more without.
                guided = [j for j, i in enumerate(active) if variants[i].guidance > 1]
                text = torch.cat([cond.expand(len(active), -1, -1), uncond.expand(len(guided), -1, -1)])
                predicted_all = pipe.unet(torch.cat([inputs, inputs[guided]]), torch.cat([t, t[guided]]),
                                          encoder_hidden_states=text).sample
                without = dict(zip(guided, predicted_all[len(active):].split(1)))
                for j, (i, step_t) in enumerate(zip(active, now)):
                    predicted = predicted_all[j:j + 1]
                    if j in without:
                        predicted = without[j] + variants[i].guidance * (predicted - without[j])
                    extra = {"generator": generators[i]} if takes_generator else {}
                    latents[i] = schedulers[i].step(predicted, step_t, latents[i], **extra).prev_sample
            if stop():  # before the decode too: a frame about to be dropped is not worth decoding
                return None
            decoded = pipe.vae.decode(torch.cat(latents) / pipe.vae.config.scaling_factor, return_dict=False)[0]
        return None if stop() else (decoded / 2 + 0.5).clamp(0, 1)

    def _run(self, pipe, stop, embeds, seed, **kwargs) -> torch.Tensor | None:
        def check_stop(pipe, step, timestep, tensors):
            if stop():
                pipe._interrupt = True  # diffusers skips the remaining steps
            return tensors

        # A CPU generator gives the same noise on every device, so seeds reproduce across machines.
        generator = torch.Generator("cpu").manual_seed(seed)
        with self.lock, torch.inference_mode():
            image = pipe(
                prompt_embeds=embeds[0], negative_prompt_embeds=embeds[1], generator=generator,
                callback_on_step_end=check_stop, output_type="pt", **kwargs,
            ).images
        return None if stop() else image


def load_pipelines(
    model: str, device: str, dtype: torch.dtype, vae: str = "auto", compile: bool = False,
) -> DreamPipelines:
    """Load `model` (a local folder or Hub id) onto `device`, with `vae` ("auto": the model's own,
    or an AutoencoderTiny's folder or Hub id); raise ModelError with a clear line."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()  # progress is ours to report
    transformers_logging.disable_progress_bar()
    folder = resolve_model(model)
    # Given at construction: the pipeline sizes its latents by the VAE it is built with.
    tiny = {} if vae == "auto" else {"vae": load_tiny_vae(vae, dtype)}
    try:
        text2img = StableDiffusionPipeline.from_pretrained(
            folder, dtype=dtype, safety_checker=None, requires_safety_checker=False,
            local_files_only=True, **tiny,
        )
    except Exception as error:  # diffusers raises many types for a broken folder
        raise ModelError(f"{model} is not a usable Stable Diffusion model: {first_line(error)}") from error
    revision = Path(folder).name if Path(folder).parent.name == "snapshots" else None
    return assemble_pipelines(text2img, model, revision, device, dtype, vae, compile)


def load_tiny_vae(vae: str, dtype: torch.dtype) -> "AutoencoderTiny":  # noqa: F821
    """An AutoencoderTiny from a local folder or the Hub, fetched and cached like the model."""
    from diffusers import AutoencoderTiny

    folder = local_or_download(
        vae, _vae_fetch(vae), what="AutoencoderTiny",
        setting="GIRO_DREAM_FAST_VAE or the stage's render.vae",
    )
    try:
        return AutoencoderTiny.from_pretrained(folder, torch_dtype=dtype)
    except Exception as error:  # a folder of something else, or broken weights
        raise ModelError(f"{vae} is not a usable AutoencoderTiny: {first_line(error)}") from error


def assemble_pipelines(
    text2img: "StableDiffusionPipeline", model: str, revision: str | None,  # noqa: F821
    device: str, dtype: torch.dtype, vae: str = "auto", compile: bool = False,
) -> DreamPipelines:
    """Move a loaded text-to-image pipeline to `device` and build img2img on the same weights.

    On CUDA: channels-last convolutions, and with `compile` the UNet and the VAE compiled by
    torch.compile (the first frame pays for it; the ETA leaves that frame out). Attention is
    PyTorch's scaled_dot_product_attention, diffusers' default.
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    text2img = text2img.to(device)  # already in `dtype`: loaded or built that way
    if device.startswith("cuda"):
        text2img.unet.to(memory_format=torch.channels_last)
        text2img.vae.to(memory_format=torch.channels_last)
        if compile:
            text2img.unet = torch.compile(text2img.unet)
            text2img.vae.encoder = torch.compile(text2img.vae.encoder)
            text2img.vae.decoder = torch.compile(text2img.vae.decoder)
    text2img.set_progress_bar_config(disable=True)
    img2img = StableDiffusionImg2ImgPipeline(**text2img.components, requires_safety_checker=False)
    img2img.set_progress_bar_config(disable=True)
    return DreamPipelines(text2img, img2img, model, revision, device, dtype, vae)


def resolve_model(model: str) -> str:
    """The local diffusers folder holding `model`, downloading a Hub model only when the Hub answers."""
    folder = local_or_download(model, _model_fetch(model), what="diffusers", setting="GIRO_DREAM_MODEL")
    if not (Path(folder) / "model_index.json").is_file():
        raise ModelError(f"{model} is not a diffusers model folder: it has no model_index.json")
    return folder


def weights_on_this_machine(model: str, vae: str = "auto") -> bool:
    """Whether `model` (and the tiny `vae`) are local folders or complete in the Hub cache; no network."""
    wanted = [(model, _model_fetch(model))] + ([] if vae == "auto" else [(vae, _vae_fetch(vae))])
    for name, fetch in wanted:
        if Path(name).expanduser().is_dir():
            continue
        try:
            fetch(True)  # huggingface_hub refuses a snapshot with a file missing
        except Exception:
            return False
    return True


def _model_fetch(model: str) -> Callable[[bool], str]:
    from diffusers import DiffusionPipeline

    return lambda local_only: DiffusionPipeline.download(model, local_files_only=local_only)


def _vae_fetch(vae: str) -> Callable[[bool], str]:
    from huggingface_hub import snapshot_download

    return lambda local_only: snapshot_download(vae, local_files_only=local_only)


_loaded: dict[tuple[str, str, str, str, bool], DreamPipelines] = {}
_loading = threading.Lock()


def cached_pipelines(
    model: str, device: str, dtype: torch.dtype, vae: str = "auto", compile: bool = False,
) -> DreamPipelines:
    """One copy of each (model, device, dtype, vae) per process, whichever thread asks first."""
    key = (model, device, str(dtype), vae, compile)
    with _loading:  # two sessions asking at once must not load the weights twice
        if key not in _loaded:
            _loaded[key] = load_pipelines(model, device, dtype, vae, compile)
        return _loaded[key]
