"""Stable Diffusion text-to-image and img2img pipelines sharing one copy of the weights.

Loaded from a local diffusers folder or a Hub model id, optionally with a tiny autoencoder
(diffusers' `AutoencoderTiny`, e.g. madebyollin/taesd) in place of the model's own VAE. Offline
and not cached: a clear message within seconds, never a hang. Frames go in and come out as
(1, 3, H, W) tensors in [0, 1] on the pipeline's device: no trip through PIL. A pipeline object
is not thread-safe (its scheduler keeps state), so every call goes through `DreamPipelines.lock`.
"""

from __future__ import annotations

import collections
import copy
import inspect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from core import settings
from core.errors import ModelError, first_line
from core.hub import local_or_download


@dataclass(frozen=True)
class Variant:
    """One img2img setting: the frame's own, or one of a side-by-side comparison."""
    strength: float
    steps: int
    guidance: float


@dataclass
class _Schedule:
    """One variant's timesteps (diffusers' step 5) and noising (step 6), worked out once per
    (steps, strength) and reused every frame: a fresh scheduler is a copy of `scheduler`."""
    source: object  # the pipeline's scheduler it was made from: a new one makes a new schedule
    scheduler: object  # set to its timesteps and begin index, never stepped
    timesteps: list[torch.Tensor]
    # Every diffusers scheduler noises a latent x as a * x + b * noise at the first timestep; a and b
    # are read off it once, so a frame adds its noise without the scheduler's per-call table copies.
    noise_scale: tuple[float, float]
    takes_generator: bool

    def fresh(self) -> object:
        """A scheduler at the first timestep, to step through one frame. Its tensors and config are
        shared (diffusers' schedulers replace those, never write into them); its lists and
        counters are its own. A plain deep copy took 0.3 ms a frame, this 0.04."""
        shared = {id(value): value for value in vars(self.scheduler).values() if isinstance(value, torch.Tensor)}
        shared[id(self.scheduler.config)] = self.scheduler.config
        return copy.deepcopy(self.scheduler, shared)


@dataclass
class _Noise:
    """A seed's noise for one latent shape, drawn on the CPU in the order diffusers draws it."""
    vae: torch.Tensor | None  # the VAE posterior's sample (AutoencoderKL), None for a tiny VAE
    start: torch.Tensor  # the noise img2img starts from
    after: torch.Tensor  # the CPU generator's state after both: what a scheduler's own noise continues from


NOISE_CACHE = 4  # seeds whose noise stays on the device: Live's one, a fixed-noise render's one


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
    _schedules: dict[tuple[int, float], _Schedule] = field(default_factory=dict, repr=False)
    _noises: collections.OrderedDict = field(default_factory=collections.OrderedDict, repr=False)

    def encode(self, prompt: str, negative_prompt: str = "") -> tuple[torch.Tensor, torch.Tensor]:
        """Text embeddings (prompt, negative prompt: the unconditional half of guidance);
        computed once per distinct pair."""
        with self.lock, torch.inference_mode():
            cond, uncond = self.text2img.encode_prompt(
                prompt, self.device, 1, True, negative_prompt=negative_prompt
            )
        return cond, uncond

    def first_frame(
        self, embeds: tuple[torch.Tensor, torch.Tensor], width: int, height: int,
        steps: int, guidance: float, seed: int, stop: Callable[[], bool],
    ) -> torch.Tensor | None:
        """Text-to-image through diffusers' own pipeline (once per render or stream); None if
        `stop()` turned true while denoising."""
        def check_stop(pipe, step, timestep, tensors):
            if stop():
                pipe._interrupt = True  # diffusers skips the remaining steps
            return tensors

        # A CPU generator gives the same noise on every device, so seeds reproduce across machines.
        generator = torch.Generator("cpu").manual_seed(seed)
        with self.lock, torch.inference_mode():
            image = self.text2img(
                prompt_embeds=embeds[0], negative_prompt_embeds=embeds[1], generator=generator,
                callback_on_step_end=check_stop, output_type="pt",
                width=width, height=height, num_inference_steps=steps, guidance_scale=guidance,
            ).images
        return None if stop() else image

    def redraw(
        self, images: torch.Tensor, embeds: tuple[torch.Tensor, torch.Tensor], variants: Sequence[Variant],
        seed: int, stop: Callable[[], bool],
    ) -> torch.Tensor | None:
        """img2img of `images[i]` ((B, 3, H, W) in [0, 1]) with `variants[i]`'s strength, steps and
        guidance, all in one UNet call a step; (B, 3, H, W) in [0, 1], or None if `stop()` turned true.

        This is diffusers 0.42's `StableDiffusionImg2ImgPipeline.__call__`, its steps numbered as
        there, for a batch whose items each have their own setting, and without the host work a
        frame does not need: the scheduler's timesteps and noise table are made once per setting
        (`_schedule`), and so is the noise of a seed drawn before (`_noise`). One variant draws
        exactly what the pipeline draws (tests/dream/test_pipelines.py holds them together).

        Seeds: the starting noise (and the VAE posterior's sample) is drawn from a CPU generator,
        as diffusers draws it, into pinned memory and copied without waiting for the GPU, so a seed
        starts every device from the same noise. A scheduler that draws noise at each step
        (ancestral ones; not the presets' Euler or PNDM, which draw none that they use) continues
        the CPU generator on the CPU, as diffusers does, and draws from a generator of the seed on
        the GPU: there its frames are not those of a CPU.
        """
        # 1. Check inputs
        if len(variants) != images.shape[0]:
            raise ValueError(f"{images.shape[0]} images for {len(variants)} variants")
        pipe = self.img2img
        with self.lock, torch.inference_mode():
            # 3. Encode input prompt: done once per prompt (`encode`); guided as diffusers guides,
            # above 1. Every variant runs with the prompt, those guided once more without it.
            cond, uncond = embeds
            # 4. Preprocess image: frames are already tensors in [0, 1]
            pixels = images.to(self.device, self.dtype) * 2 - 1
            # 5. set timesteps: once per setting
            schedules = [self._schedule(v.steps, v.strength) for v in variants]
            # 6. Prepare latent variables
            encoded = pipe.vae.encode(pixels)
            sampled = hasattr(encoded, "latent_dist")  # AutoencoderKL: a sample of its posterior
            mean = encoded.latent_dist.mean if sampled else encoded.latents
            noise = self._noise(seed, (1, *mean.shape[1:]), mean.dtype, sampled)
            latents = mean + encoded.latent_dist.std * noise.vae if sampled else mean
            latents = pipe.vae.config.scaling_factor * latents
            # One tensor per variant, never written in place: a scheduler may keep the sample it was given.
            latents = [latents[i:i + 1] * s.noise_scale[0] + noise.start * s.noise_scale[1]
                       for i, s in enumerate(schedules)]
            schedulers = [s.fresh() for s in schedules]
            # 7. Prepare extra step kwargs: a generator for schedulers that take one
            generators = [self._step_generator(seed, noise) if s.takes_generator else None for s in schedules]
            # 8. Denoising loop
            for k in range(max(len(s.timesteps) for s in schedules)):
                if stop():
                    return None
                active = [i for i, s in enumerate(schedules) if k < len(s.timesteps)]
                now = [schedules[i].timesteps[k] for i in active]
                inputs = torch.cat([schedulers[i].scale_model_input(latents[i], t) for i, t in zip(active, now)])
                again = [j for j, i in enumerate(active) if variants[i].guidance > 1]
                if all(schedules[i] is schedules[active[0]] for i in active):
                    # One timestep for the batch, shaped as text-to-image gives it: a UNet captured
                    # as a CUDA graph for frame 0 is not compiled again for the redraw.
                    t = now[0]
                else:
                    t = torch.stack(now)
                    t = torch.cat([t, _rows(t, again)])
                text = torch.cat([cond.expand(len(active), -1, -1), uncond.expand(len(again), -1, -1)])
                batch = torch.cat([inputs, _rows(inputs, again)]) if again else inputs
                predicted_all = pipe.unet(batch, t, encoder_hidden_states=text, return_dict=False)[0]
                without = dict(zip(again, predicted_all[len(active):].split(1)))
                for j, (i, step_t) in enumerate(zip(active, now)):
                    predicted = predicted_all[j:j + 1]
                    if j in without:
                        predicted = without[j] + variants[i].guidance * (predicted - without[j])
                    extra = {} if generators[i] is None else {"generator": generators[i]}
                    latents[i] = schedulers[i].step(predicted, step_t, latents[i], **extra, return_dict=False)[0]
            if stop():  # before the decode too: a frame about to be dropped is not worth decoding
                return None
            decoded = pipe.vae.decode(torch.cat(latents) / pipe.vae.config.scaling_factor, return_dict=False)[0]
        return None if stop() else (decoded / 2 + 0.5).clamp(0, 1)

    def _schedule(self, steps: int, strength: float) -> _Schedule:
        """diffusers' steps 5 (`retrieve_timesteps`, `get_timesteps`) for one setting, kept."""
        source = self.img2img.scheduler
        schedule = self._schedules.get((steps, strength))
        if schedule is None or schedule.source is not source:
            scheduler = copy.deepcopy(source)
            scheduler.set_timesteps(steps, device=self.device)
            start = steps - min(int(steps * strength), steps)
            if hasattr(scheduler, "set_begin_index"):
                scheduler.set_begin_index(start * scheduler.order)
            timesteps = scheduler.timesteps[start * scheduler.order:]
            probe = copy.deepcopy(scheduler)
            one = torch.ones(1, device=self.device, dtype=self.dtype)
            noise_scale = (float(probe.add_noise(one, torch.zeros_like(one), timesteps[:1])),
                           float(probe.add_noise(torch.zeros_like(one), one, timesteps[:1])))
            schedule = _Schedule(source, scheduler, list(timesteps.unbind()), noise_scale,
                                 "generator" in inspect.signature(scheduler.step).parameters)
            self._schedules[(steps, strength)] = schedule
        return schedule

    def _noise(self, seed: int, shape: tuple[int, ...], dtype: torch.dtype, sampled: bool) -> _Noise:
        """The noise of `seed`, drawn as diffusers draws it (the VAE's sample first, then the start
        noise, from one CPU generator), on the device; kept for the last few seeds."""
        key = (seed, shape, dtype, sampled)
        if key in self._noises:
            self._noises.move_to_end(key)
            return self._noises[key]
        generator = torch.Generator("cpu").manual_seed(seed)
        pinned = self.device.startswith("cuda")  # a copy from pinned memory does not wait for the GPU
        draws = [torch.randn(shape, generator=generator, dtype=dtype, pin_memory=pinned)
                 for _ in range(2 if sampled else 1)]
        on_device = [d.to(self.device, non_blocking=pinned) for d in draws]
        noise = _Noise(on_device[0] if sampled else None, on_device[-1], generator.get_state())
        self._noises[key] = noise
        if len(self._noises) > NOISE_CACHE:
            self._noises.popitem(last=False)
        return noise

    def _step_generator(self, seed: int, noise: _Noise) -> torch.Generator:
        if self.device == "cpu":
            generator = torch.Generator("cpu")
            generator.set_state(noise.after)
            return generator
        return torch.Generator(self.device).manual_seed(seed)


def _rows(batch: torch.Tensor, rows: list[int]) -> torch.Tensor:
    """`batch`'s rows `rows`; all of them without an index (a list index is a copy to the device)."""
    return batch if len(rows) == batch.shape[0] else batch[rows]


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

    On CUDA: channels-last convolutions, and with `compile` the UNet and the VAE's encoder and
    decoder run as CUDA graphs (`CapturedGraph`; the first frames at each shape pay for the
    capture, and the ETA leaves the first frame out). Attention is PyTorch's
    scaled_dot_product_attention, diffusers' default.
    """
    from diffusers import StableDiffusionImg2ImgPipeline

    text2img = text2img.to(device)  # already in `dtype`: loaded or built that way
    if device.startswith("cuda"):
        text2img.unet.to(memory_format=torch.channels_last)
        text2img.vae.to(memory_format=torch.channels_last)
        if compile:
            text2img.unet = CapturedGraph(text2img.unet)
            text2img.vae.encoder = CapturedGraph(text2img.vae.encoder)
            text2img.vae.decoder = CapturedGraph(text2img.vae.decoder)
    text2img.set_progress_bar_config(disable=True)
    img2img = StableDiffusionImg2ImgPipeline(**text2img.components, requires_safety_checker=False)
    img2img.set_progress_bar_config(disable=True)
    return DreamPipelines(text2img, img2img, model, revision, device, dtype, vae)


class CapturedGraph(torch.nn.Module):
    """`module` compiled by torch.compile's "reduce-overhead" mode: each input shape is compiled
    and captured as a CUDA graph once (the stage's sizes are fixed, so after the first frames
    nothing is compiled again), then replayed with one launch instead of hundreds of kernels.

    Safe to call in a loop, as the pipelines do: each call starts a new graph step, and its
    outputs are copied out of the graph's memory, which the next replay writes over (diffusers'
    PNDM keeps earlier model outputs). Everything else (`config`, `dtype`...) is the module's.
    """

    def __init__(self, module: torch.nn.Module):
        super().__init__()
        self.module = module
        # Kept off the module tree: the parameters are `module`'s, listed once.
        object.__setattr__(self, "_compiled", torch.compile(module, mode="reduce-overhead", dynamic=False))

    def forward(self, *args, **kwargs):
        torch.compiler.cudagraph_mark_step_begin()
        return _copied(self._compiled(*args, **kwargs))

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


def _copied(output):
    """`output` (a tensor, a tuple of them or a diffusers output) with tensors of its own."""
    if isinstance(output, torch.Tensor):
        return output.clone()
    if isinstance(output, tuple):
        return type(output)(_copied(item) for item in output)
    if isinstance(output, dict):  # diffusers' BaseOutput is an ordered dict of its fields
        return type(output)(**{key: _copied(value) for key, value in output.items()})
    return output


def resolve_model(model: str) -> str:
    """The local diffusers folder holding `model`, downloading a Hub model only when the Hub answers."""
    folder = local_or_download(model, _model_fetch(model), what="diffusers",
                               setting=settings.dream_model_setting(model))
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
