"""core.dream.pipelines: loading real model folders, and clear messages when there is none."""

from __future__ import annotations

import time

import pytest
import torch

from core.dream.pipelines import Variant, load_pipelines, resolve_model
from core.errors import ModelError


def test_text2img_and_img2img_share_one_copy_of_the_weights(tiny_pipelines):
    t2i, i2i = tiny_pipelines.text2img, tiny_pipelines.img2img
    assert i2i.unet is t2i.unet and i2i.vae is t2i.vae and i2i.text_encoder is t2i.text_encoder
    assert tiny_pipelines.revision is None  # a local folder has no Hub revision


def test_frames_are_reproducible_from_the_seed(tiny_pipelines):
    embeds = tiny_pipelines.encode("a road in tuscany")
    a = tiny_pipelines.first_frame(embeds, 64, 64, 4, 7.5, seed=3, stop=lambda: False)
    b = tiny_pipelines.first_frame(embeds, 64, 64, 4, 7.5, seed=3, stop=lambda: False)
    c = tiny_pipelines.first_frame(embeds, 64, 64, 4, 7.5, seed=4, stop=lambda: False)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == (1, 3, 64, 64) and 0 <= a.min() and a.max() <= 1  # a tensor in [0, 1], no PIL
    assert tiny_pipelines.redraw(a, embeds, [Variant(0.5, 4, 7.5)], 5, lambda: False).shape == (1, 3, 64, 64)


def test_stop_between_denoising_steps_returns_nothing(tiny_pipelines):
    embeds = tiny_pipelines.encode("a road")
    steps = []

    def stop():
        steps.append(1)
        return len(steps) >= 2

    assert tiny_pipelines.first_frame(embeds, 64, 64, 20, 7.5, 1, stop) is None
    assert len(steps) < 20  # it stopped early, not after all steps


def test_missing_hub_model_offline_fails_at_once():
    began = time.monotonic()
    with pytest.raises(ModelError, match="not on this machine and HF_HUB_OFFLINE is set: fetch it once with `hf download"):
        resolve_model("CompVis/stable-diffusion-v1-4")
    assert time.monotonic() - began < 10


def test_a_missing_model_names_the_setting_that_points_it_elsewhere():
    from core.settings import DREAM_FAST_MODEL

    with pytest.raises(ModelError, match="or set GIRO_DREAM_FAST_MODEL to a local diffusers folder"):
        resolve_model(DREAM_FAST_MODEL)  # the fast preset's model: its own setting, not the default's
    with pytest.raises(ModelError, match="or set GIRO_DREAM_MODEL to a local diffusers folder"):
        resolve_model("CompVis/stable-diffusion-v1-4")


def test_unreachable_hub_fails_within_seconds(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    began = time.monotonic()
    with pytest.raises(ModelError, match="the Hub cannot be reached: .*GIRO_DREAM_MODEL"):
        resolve_model("someone/not-cached-model")
    assert time.monotonic() - began < 20


def test_folder_without_model_index(tmp_path):
    with pytest.raises(ModelError, match="has no model_index.json"):
        resolve_model(str(tmp_path))


def test_path_that_does_not_exist():
    with pytest.raises(ModelError, match="neither a folder on this machine nor a Hub id"):
        resolve_model("/no/such/model")


def test_corrupt_model_folder(tiny_dream_model, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_dream_model, broken)
    for weights in (broken / "unet").glob("*.safetensors"):
        weights.write_bytes(b"not weights")
    with pytest.raises(ModelError, match="is not a usable Stable Diffusion model"):
        load_pipelines(str(broken), "cpu", torch.float32)


def diffusers_img2img(pipelines, image, embeds, variant: Variant, seed: int) -> torch.Tensor:
    """What diffusers' own img2img pipeline draws: the reference `redraw` follows."""
    return pipelines.img2img(
        prompt_embeds=embeds[0], negative_prompt_embeds=embeds[1], image=image, strength=variant.strength,
        num_inference_steps=variant.steps, guidance_scale=variant.guidance,
        generator=torch.Generator("cpu").manual_seed(seed), output_type="pt",
    ).images


@pytest.mark.parametrize("scheduler", ["PNDMScheduler", "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler"])
@pytest.mark.parametrize("vae", ["own", "tiny"])
def test_variants_in_one_unet_call_a_step_draw_what_diffusers_draws(tiny_dream_model, tiny_vae_folder, scheduler, vae):
    """sd-turbo's Euler, the tiny model's PNDM (which keeps the last sample) and an ancestral one
    (which draws noise each step); the model's own VAE (which samples its posterior) and the tiny
    VAE, as the fast preset has it."""
    import diffusers

    pipelines = load_pipelines(str(tiny_dream_model), "cpu", torch.float32,
                               vae=str(tiny_vae_folder) if vae == "tiny" else "auto")
    pipe = pipelines.img2img
    pipe.scheduler = getattr(diffusers, scheduler).from_config(pipe.scheduler.config)
    embeds = pipelines.encode("a road in tuscany")
    start = pipelines.first_frame(embeds, 64, 64, 2, 0.0, 3, lambda: False)
    variants = [Variant(0.5, 4, 7.5), Variant(0.75, 4, 1.0), Variant(0.3, 10, 3.0), Variant(1.0, 2, 0.0)]
    calls = []
    hook = pipe.unet.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    try:
        batch = pipelines.redraw(start.expand(4, -1, -1, -1), embeds, variants, 5, lambda: False)
        together, calls[:] = list(calls), []
        alone, steps_alone = [], []
        for variant in variants:
            alone.append(diffusers_img2img(pipelines, start, embeds, variant, 5))
            steps_alone.append(len(calls))
            calls[:] = []
            for _ in range(2):  # the second time from the setting's kept schedule and noise
                assert torch.equal(pipelines.redraw(start, embeds, [variant], 5, lambda: False), alone[-1])
                assert len(calls) == steps_alone[-1]  # one UNet call a step, as diffusers makes
                calls[:] = []
    finally:
        hook.remove()
    # One UNet call a step, as many as the longest variant needs; in the first, all four with the
    # prompt and the two guided ones (7.5 and 3.0) again without it.
    assert len(together) == max(steps_alone)
    assert together[0] == 4 + 2
    for i in range(len(variants)):
        assert (batch[i:i + 1] - alone[i]).abs().max() < 1e-4  # the batch's own rounding, nothing more


def test_a_setting_and_a_seed_are_prepared_once(tiny_pipelines, monkeypatch):
    """Frames of one setting and seed (Live, a fixed-noise render) set no timesteps and draw no
    noise after the first; a new seed draws its noise, a new setting makes its schedule."""
    import diffusers

    embeds = tiny_pipelines.encode("a road")
    image = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    set_timesteps, draws = [], []
    scheduler_class = type(tiny_pipelines.img2img.scheduler)
    original_set, original_randn = scheduler_class.set_timesteps, torch.randn
    monkeypatch.setattr(scheduler_class, "set_timesteps",
                        lambda self, *a, **k: set_timesteps.append(a) or original_set(self, *a, **k))
    monkeypatch.setattr(torch, "randn", lambda *a, **k: draws.append(a) or original_randn(*a, **k))
    tiny_pipelines._schedules.clear()
    tiny_pipelines._noises.clear()
    for _ in range(3):
        tiny_pipelines.redraw(image, embeds, [Variant(0.5, 4, 0.0)], 11, lambda: False)
    assert len(set_timesteps) == 1 and len(draws) == 2  # the VAE's sample and the start noise, once
    tiny_pipelines.redraw(image, embeds, [Variant(0.5, 4, 0.0)], 12, lambda: False)
    tiny_pipelines.redraw(image, embeds, [Variant(0.75, 4, 0.0)], 12, lambda: False)
    assert len(set_timesteps) == 2 and len(draws) == 4
    assert isinstance(tiny_pipelines.img2img.scheduler, diffusers.PNDMScheduler)  # the tiny model's


def test_a_captured_graphs_outputs_are_its_callers_own(tiny_pipelines, monkeypatch):
    """With --compile on CUDA the UNet and the VAE's halves run as CUDA graphs, whose outputs the
    next replay overwrites: each call starts a graph step and hands out copies, and the wrapped
    module's attributes stay reachable for diffusers. (torch.compile stands in here: no GPU.)"""
    from core.dream.pipelines import CapturedGraph

    steps, kept = [], {}

    def compiled(module, **options):
        kept["options"] = options

        def replay(*args, **kwargs):
            kept["output"] = module(*args, **kwargs)
            return kept["output"]
        return replay

    monkeypatch.setattr(torch, "compile", compiled)
    monkeypatch.setattr(torch.compiler, "cudagraph_mark_step_begin", lambda: steps.append(1))
    unet = tiny_pipelines.text2img.unet
    graph = CapturedGraph(unet)
    assert kept["options"] == {"mode": "reduce-overhead", "dynamic": False}
    assert graph.config is unet.config and graph.dtype == unet.dtype
    assert list(graph.parameters()) == list(unet.parameters())  # listed once, not twice
    sample = torch.randn(1, 4, 32, 32)
    embeds = tiny_pipelines.encode("a road")[0]
    with torch.inference_mode():
        out = graph(sample, torch.tensor([10]), encoder_hidden_states=embeds, return_dict=False)
        assert isinstance(out, tuple) and torch.equal(out[0], kept["output"][0])
        assert out[0].data_ptr() != kept["output"][0].data_ptr()
        wrapped = graph(sample, torch.tensor([10]), encoder_hidden_states=embeds)
    assert type(wrapped).__name__ == "UNet2DConditionOutput" and wrapped.sample.data_ptr() != kept["output"].sample.data_ptr()
    assert len(steps) == 2
