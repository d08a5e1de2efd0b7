"""core.dream.pipelines: loading real model folders, and clear messages when there is none."""

from __future__ import annotations

import time

import pytest
import torch

from core.dream.pipelines import load_pipelines, resolve_model
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
    assert tiny_pipelines.redraw(a, embeds, 0.5, 4, 7.5, 5, lambda: False).shape == (1, 3, 64, 64)


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


@pytest.mark.parametrize("scheduler", ["PNDMScheduler", "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler"])
def test_variants_in_one_unet_call_a_step_draw_what_redraw_draws(tiny_dream_model, tiny_vae_folder, scheduler):
    """sd-turbo's Euler, the tiny model's PNDM (which keeps the last sample) and an ancestral one
    (which draws noise each step); the tiny VAE, as the fast preset has it."""
    import diffusers

    from core.dream.pipelines import Variant

    pipelines = load_pipelines(str(tiny_dream_model), "cpu", torch.float32, vae=str(tiny_vae_folder))
    pipe = pipelines.img2img
    pipe.scheduler = getattr(diffusers, scheduler).from_config(pipe.scheduler.config)
    embeds = pipelines.encode("a road in tuscany")
    start = pipelines.first_frame(embeds, 64, 64, 2, 0.0, 3, lambda: False)
    variants = [Variant(0.5, 4, 7.5), Variant(0.75, 4, 1.0), Variant(0.3, 10, 3.0), Variant(1.0, 2, 0.0)]
    calls = []
    hook = pipe.unet.register_forward_hook(lambda module, args, out: calls.append(args[0].shape[0]))
    try:
        batch = pipelines.redraw_variants(start.expand(4, -1, -1, -1), embeds, variants, 5, lambda: False)
        together, calls[:] = list(calls), []
        alone, steps_alone = [], []
        for variant in variants:
            alone.append(pipelines.redraw(start, embeds, variant.strength, variant.steps, variant.guidance, 5,
                                          lambda: False))
            steps_alone.append(len(calls))
            calls[:] = []
            assert torch.equal(pipelines.redraw_variants(start, embeds, [variant], 5, lambda: False), alone[-1])
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
