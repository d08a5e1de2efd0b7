"""Cadence and the tiny VAE (core.dream.render, core.dream.plan, core.dream.pipelines): every k-th
frame diffused, the frames between drawn from the zoom, the loop closed, resume still identical."""

from __future__ import annotations

import math
import shutil
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from core.dream.pipelines import load_pipelines
from core.dream.plan import make_plan
from core.dream.preview import SPACING
from core.dream.render import Progress, Rendered, render
from core.dream.zoom import move, to_float, to_uint8
from tests.dream.conftest import small_stage


class UNetCalls:
    def __init__(self, unet, monkeypatch):
        self.count = 0
        forward = unet.forward

        def counted(*args, **kwargs):
            self.count += 1
            return forward(*args, **kwargs)

        monkeypatch.setattr(unet, "forward", counted)


def frames(run) -> list[np.ndarray]:
    return [np.asarray(Image.open(p), np.float32) for p in sorted((run / "frames").glob("*.png"))]


@pytest.mark.parametrize("cadence", [1, 3, 4])
def test_cadence_k_calls_the_unet_ceil_n_over_k_times(tiny_pipelines, tmp_path, monkeypatch, cadence):
    # One UNet call a diffused frame: text-to-image in 1 step, img2img 1 step x strength 1. (The
    # strength taper samples a finer schedule, where PNDM repeats a timestep: one call more.)
    stage = small_stage(frames=(5, 5), loop_frames=3, steps=1, strength=1.0, guidance=0.0, cadence=cadence,
                        strength_taper=False)
    calls = UNetCalls(tiny_pipelines.text2img.unet, monkeypatch)
    events = [e for e in render(stage, tmp_path / "run", tiny_pipelines) if isinstance(e, Progress)]
    assert [e.frame for e in events] == list(range(10))  # in order, none skipped
    assert calls.count == math.ceil(10 / cadence)
    plans = make_plan(stage)
    assert [p.index for p in plans if p.diffused] == list(range(0, 10, cadence))


def log_periodic(width: int, height: int, spacing: float) -> np.ndarray:
    """A smooth picture about the centre, the same shrunk by `spacing`: colours that turn with the
    direction and cycle with the log of the distance, (H, W, 3) uint8."""
    y, x = np.mgrid[:height, :width] + 0.5
    x, y = x / width - 0.5, y / height - 0.5
    depth = np.log(np.maximum(np.abs(x), np.abs(y)) * 2 + 1e-9) / math.log(spacing)
    turn = np.arctan2(y, x)
    channels = [np.sin(2 * math.pi * depth + phase) * np.cos(3 * turn + phase) for phase in (0.0, 2.1, 4.2)]
    return (127.5 + 100 * np.stack(channels, -1)).astype(np.uint8)


@pytest.mark.parametrize("cadence", [3, 4])
def test_in_between_frames_are_the_zoom_chain_in_preview(tmp_path, cadence):
    """In a preview at the least strength (its stand-in redraws nothing coarser than a fiftieth of a
    pixel) a diffused frame is the zoom of the one before, so every frame between them, the zoom of
    one faded into the other drawn back, is the zoom of the earlier one in one resampling. (A smooth
    start image that repeats itself at the preview's nesting about the vanishing point, so its
    nested copies meet without an edge: hard edges lose up to 2 grey levels to the round trip.)"""
    Image.fromarray(log_periodic(128, 128, SPACING)).save(tmp_path / "start.png")
    stage = small_stage(frames=(12,), loop_frames=0, cadence=cadence, zoom_px=2.0, width=128, height=128,
                        strength=0.01, steps=100, first_image=str(tmp_path / "start.png"))
    drawn = {p.frame: p.image for p in render(stage, tmp_path / "run") if isinstance(p, Progress)}
    between = [p for p in make_plan(stage) if not p.diffused]
    assert between and all(p.source >= 0 for p in between)
    for plan in between:
        source = torch.from_numpy(drawn[plan.source]).permute(2, 0, 1)
        chain = to_uint8(move(to_float(source), plan.source_move))
        difference = np.abs(drawn[plan.index].astype(np.float32) - chain.permute(1, 2, 0).numpy())
        assert difference.mean() <= 1.0, plan.index


def test_the_loop_closes_into_frame_zero_with_cadence(tmp_path):
    stage = small_stage(frames=(11,), loop_frames=4, cadence=3)
    plans = make_plan(stage)
    assert plans[9].diffused and plans[10].target == 0 and plans[10].fade == 0.5  # the last fades into frame 0
    from core.dream.run import RunFolder

    list(render(stage, tmp_path / "loop"))
    list(render(small_stage(frames=(11,), loop_frames=0, cadence=3), tmp_path / "open"))
    looped, open_ended = (RunFolder(tmp_path / name).manifest().seam for name in ("loop", "open"))
    assert looped < open_ended and looped < 1.25  # the jump at the seam, over the median step


def test_a_kill_mid_block_resumes_to_identical_frames(tiny_pipelines, tmp_path):
    """Killed with frames 0-4 on disk (frame 3 diffused, 4 drawn between 3 and 6): the resume
    draws again from frame 3's PNG and every frame equals the uninterrupted render's."""
    stage = small_stage(frames=(5, 5), loop_frames=3, cadence=3, steps=4)
    list(render(stage, tmp_path / "whole", tiny_pipelines))
    shutil.copytree(tmp_path / "whole", tmp_path / "cut")
    for late in range(5, 10):
        (tmp_path / "cut" / "frames" / f"{late:05d}.png").unlink()
    resumed = [p.frame for p in render(stage, tmp_path / "cut", tiny_pipelines) if isinstance(p, Progress)]
    assert resumed == [4, 5, 6, 7, 8, 9]  # from after the last diffused frame on disk
    whole, cut = frames(tmp_path / "whole"), frames(tmp_path / "cut")
    assert len(cut) == 10 and all(np.array_equal(a, b) for a, b in zip(whole, cut))


def test_cancel_lands_between_diffused_frames(tiny_pipelines, tmp_path):
    stage = small_stage(frames=(5, 5), loop_frames=3, cadence=3, steps=4)
    cancel = threading.Event()
    for progress in render(stage, tmp_path / "run", tiny_pipelines, cancel):
        if progress.frame == 4:
            cancel.set()
    assert len(frames(tmp_path / "run")) == 7  # the block in hand (4, 5 and diffused 6) is finished
    resumed = [p.frame for p in render(stage, tmp_path / "run", tiny_pipelines) if isinstance(p, Progress)]
    assert resumed == [7, 8, 9]


def test_a_tiny_vae_loaded_by_path(tiny_dream_model, tiny_vae_folder, tmp_path):
    pipelines = load_pipelines(str(tiny_dream_model), "cpu", torch.float32, vae=str(tiny_vae_folder))
    assert type(pipelines.text2img.vae).__name__ == "AutoencoderTiny"
    assert pipelines.img2img.vae is pipelines.text2img.vae
    stage = small_stage(frames=(3,), loop_frames=1, vae=str(tiny_vae_folder))
    events = list(render(stage, tmp_path / "run", pipelines))
    assert isinstance(events[-1], Rendered) and events[0].image.shape == (64, 64, 3)
    from core.dream.run import RunFolder

    assert RunFolder(tmp_path / "run").manifest().model["vae"] == str(tiny_vae_folder)


def test_a_missing_tiny_vae_is_one_line_offline(tiny_dream_model, monkeypatch):
    from core.errors import ModelError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match=r"^madebyollin/taesd-missing is not on this machine and HF_HUB_OFFLINE is set"):
        load_pipelines(str(tiny_dream_model), "cpu", torch.float32, vae="madebyollin/taesd-missing")


def test_a_folder_that_is_no_vae_is_one_line(tiny_dream_model, tmp_path):
    from core.errors import ModelError

    (tmp_path / "notavae").mkdir()
    with pytest.raises(ModelError, match=r"is not a usable AutoencoderTiny"):
        load_pipelines(str(tiny_dream_model), "cpu", torch.float32, vae=str(tmp_path / "notavae"))
