"""The render loop: one frame after another, each on disk the moment it exists, resumable.

Frame 0 comes from text (or the stage's first image); frame i is img2img of frame i - 1 zoomed in,
with the first frame mixed in ahead over the loop window. A run killed at any moment and started
again picks up at the first missing frame and produces the same frames: every frame depends only
on the previous frame's PNG, frame 0's PNG and the plan (seed included).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, ImageOps

from core.dream.colour import match_colours, to_lab
from core.dream.pipelines import DreamPipelines
from core.dream.plan import FramePlan, make_plan
from core.dream.preview import test_card
from core.dream.run import GIF, MP4, ZIP, Manifest, RunFolder
from core.dream.stage import Stage
from core.dream.video import seam_figure, step_distances, write_gif, write_mp4
from core.dream.zoom import mix_ahead, zoom_in
from core.images import load_image


@dataclass(frozen=True)
class Progress:
    frame: int  # the frame just finished; equals `total` once the videos are written
    total: int
    seconds: float  # this frame's wall time
    seconds_per_frame: float  # mean over the frames rendered in this call
    eta_seconds: float
    path: Path  # the frame's PNG, or the MP4 once done
    done: bool = False


def render(
    stage: Stage,
    run_dir: Path,
    pipelines: DreamPipelines | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Progress]:
    """Render `stage` into `run_dir`, resuming what is there; without `pipelines`, a preview.

    Stops quietly (manifest status "cancelled") when `cancel` is set, between frames or
    between denoising steps; the frame in progress is dropped, never half-saved.
    """
    cancel = cancel or threading.Event()
    run = RunFolder(Path(run_dir))
    manifest = run.open(stage, _model_info(pipelines))
    plans = make_plan(stage)
    total, start = len(plans), manifest.frames_done
    first = run.load_frame(0) if start else None
    previous = run.load_frame(start - 1) if start else None
    # Colours are held to frame 0's; a preview has no model to drift them.
    match_colour = stage.render.colour_coherence and pipelines is not None
    reference_lab = None
    # Text embeddings once per prompt, before the first frame: a frame's time is the frame's.
    embeddings: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    if pipelines is not None:
        for prompt in dict.fromkeys(p for plan in plans[start:] for p in (plan.prompt, plan.next_prompt) if p):
            embeddings[prompt] = pipelines.encode(prompt)
    spent: list[float] = []

    for plan in plans[start:]:
        if cancel.is_set():
            break
        began = time.perf_counter()
        if plan.index == 0:
            frame = _first_frame(stage, plan, pipelines, embeddings, cancel)
        else:
            frame = _next_frame(stage, plan, previous, first, pipelines, embeddings, cancel)
        if frame is None:  # cancelled while denoising
            break
        if plan.index > 0 and match_colour:
            if reference_lab is None:
                reference_lab = to_lab(first)
            frame = match_colours(frame, reference_lab)
        path = run.save_frame(plan.index, frame)
        if plan.index == 0:
            first = frame
        previous = frame

        seconds = time.perf_counter() - began
        spent.append(seconds)
        manifest.frame_seconds[plan.index] = round(seconds, 4)
        manifest.frames_done = plan.index + 1
        run.write_manifest(manifest)
        mean = sum(spent) / len(spent)
        yield Progress(plan.index, total, seconds, mean, mean * (total - plan.index - 1), path)

    if manifest.frames_done < total:
        manifest.status = "cancelled"
        run.write_manifest(manifest)
        return
    yield _finish(run, manifest, stage, spent)


def _first_frame(stage, plan, pipelines, embeddings, cancel) -> Image.Image | None:
    r = stage.render
    if r.first_image:
        return ImageOps.fit(load_image(r.first_image), (r.width, r.height), Image.Resampling.LANCZOS)
    if pipelines is None:
        return test_card(r.width, r.height, r.vanishing_point)
    return pipelines.first_frame(
        _embeds(plan, embeddings), r.width, r.height, plan.steps, plan.guidance,
        plan.seed, cancel.is_set,
    )


def _next_frame(stage, plan, previous, first, pipelines, embeddings, cancel) -> Image.Image | None:
    vanishing_point = stage.render.vanishing_point
    image = zoom_in(previous, plan.zoom_px, vanishing_point)
    image = mix_ahead(image, first, plan.loop_scale, vanishing_point, plan.loop_weight)
    if pipelines is None:
        return image
    return pipelines.redraw(
        image, _embeds(plan, embeddings), plan.strength, plan.steps, plan.guidance,
        plan.seed, cancel.is_set,
    )


def _embeds(plan: FramePlan, embeddings: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The frame's text embeddings; a transition blends two prompts' embeddings."""
    cond, uncond = embeddings[plan.prompt]
    if plan.next_prompt and plan.prompt_mix > 0:
        cond = torch.lerp(cond, embeddings[plan.next_prompt][0], plan.prompt_mix)
    return cond, uncond


def _finish(run: RunFolder, manifest: Manifest, stage: Stage, spent: list[float]) -> Progress:
    began = time.perf_counter()
    total = manifest.frames_total
    frames = run.frame_paths(total)
    distances = step_distances(frames)
    fps = stage.render.fps
    with run.writing(MP4):
        mp4 = write_mp4(frames, run.path / MP4, fps)
    manifest.outputs = {"mp4": MP4, "fps": fps}
    if not manifest.model.get("preview"):  # a preview is watched on the page, never downloaded
        with run.writing(GIF):
            write_gif(frames, run.path / GIF, fps)
        run.write_frames_zip(total)
        manifest.outputs.update(gif=GIF, zip=ZIP)
    seam = seam_figure(distances)
    manifest.status = "complete"
    manifest.step_distances = [round(d, 4) for d in distances]
    manifest.seam = None if seam is None else round(seam, 4)
    run.write_manifest(manifest)
    mean = sum(spent) / len(spent) if spent else 0.0
    return Progress(total, total, time.perf_counter() - began, mean, 0.0, mp4, done=True)


def _model_info(pipelines: DreamPipelines | None) -> dict:
    if pipelines is None:
        return {"id": None, "preview": True}
    return {
        "id": pipelines.model,
        "revision": pipelines.revision,
        "device": pipelines.device,
        "dtype": str(pipelines.dtype).removeprefix("torch."),
        "preview": False,
    }
