"""The render loop: one frame after another, each on disk the moment it is drawn, resumable.

Frame 0 comes from text (or the stage's first image). With cadence k (1 by default) every k-th
frame is diffused: img2img of the previous diffused frame zoomed in, with the first frame mixed
in ahead over the loop window; the frames between are drawn from the two diffused frames around
them (see `core.dream.plan`). Frames stay on the pipeline's device as tensors from one frame to
the next; a background writer puts them on disk.

A run killed at any moment and started again picks up after the last diffused frame on disk and
produces the same frames: every frame depends only on its diffused frames' PNG pixels, frame 0's
and the plan (seed included).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.dream.camera import IDENTITY
from core.dream.colour import Palette, palette
from core.dream.figures import LoopFigures
from core.dream.pipelines import DreamPipelines, Variant
from core.dream.plan import FramePlan, make_plan
from core.dream.preview import ImageCard, card_tensor, redraw_card, soften
from core.dream.run import GIF, MP4, ZIP, Manifest, RunFolder
from core.dream.stage import Stage
from core.dream.step import Ahead, Detail, Hold, HostFrame, advance, start_frame
from core.dream.video import write_gif, write_mp4
from core.dream.writer import FrameWriter
from core.dream.zoom import frame0_detail_region, mix_ahead, place_ahead, to_float, to_tensor
from core.images import load_image


@dataclass(frozen=True)
class Progress:
    """A frame drawn: it reaches its PNG a moment later, through the writer."""
    frame: int
    total: int
    seconds: float  # this frame's wall time
    seconds_per_frame: float  # mean over the frames drawn in this call, the first one left out
    eta_seconds: float
    path: Path  # the frame's PNG
    host: HostFrame | None = field(repr=False)  # None once let go (`without_picture`)

    @property
    def image(self) -> np.ndarray | None:
        """The frame, (H, W, 3) uint8."""
        return None if self.host is None else self.host.array

    def without_picture(self) -> Progress:
        """The same progress, holding no frame (a finished job's: a 2048 px frame is 12.6 MB)."""
        return replace(self, host=None)


@dataclass(frozen=True)
class Rendered:
    """The render is complete: its frames on disk and its videos written."""
    video: Path  # the MP4
    frames: int
    seconds_per_frame: float  # as Progress has it, over this call's frames
    seconds: float  # writing the videos and the zip
    figures: dict[str, float | None] = field(default_factory=dict)  # the loop's (core.dream.figures)


def render(
    stage: Stage,
    run_dir: Path,
    pipelines: DreamPipelines | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Progress | Rendered]:
    """Render `stage` into `run_dir`, resuming what is there; without `pipelines`, a preview.
    Yields each frame as it is drawn, then `Rendered` once the videos are written.

    Stops quietly (manifest status "cancelled") when `cancel` is set, between frames or
    between denoising steps; the frame in progress is dropped, never half-saved.
    """
    cancel = cancel or threading.Event()
    run = RunFolder(Path(run_dir))
    manifest = run.open(stage, _model_info(pipelines))
    plans = make_plan(stage)
    total = len(plans)
    draw = _Drawing(stage, plans, pipelines, cancel)
    start = 0
    if manifest.frames_done and pipelines is not None:  # go on from the last diffused frame on disk
        start = max(p.index for p in plans[: manifest.frames_done] if p.diffused) + 1
        draw.begin(run, start)
    draw.encode({text for plan in plans[start:] for text in _texts(plan)})
    figures = LoopFigures.of_plan(plans, stage.render.loop_frames)
    writer = FrameWriter(run, manifest, stage.render.fps, figures if start == 0 else None,
                         keep_frames=pipelines is not None)
    clock = _Clock(total)

    def hand_over(index: int, frame: torch.Tensor, began: float, moved: torch.Tensor | None = None) -> Progress:
        host = HostFrame(frame)  # on its way to the host while the loop goes on
        seconds = time.perf_counter() - began
        return clock.progress(index, seconds, writer.put(index, frame, host, seconds, moved), host)

    pending: list[FramePlan] = []  # in-between frames waiting for their next diffused frame
    try:
        for plan in plans[start:]:
            if cancel.is_set():
                break
            if not plan.diffused:
                pending.append(plan)
                continue
            began = time.perf_counter()
            if draw.diffuse(plan) is None:  # cancelled while denoising
                break
            for between in pending:
                yield hand_over(between.index, draw.between(between), began)
                began = time.perf_counter()
            pending = []
            yield hand_over(plan.index, draw.latest, began, draw.moved)
        else:  # past the last diffused frame: into frame 0 when the video loops
            for between in pending:
                yield hand_over(between.index, draw.between(between), time.perf_counter())
        writer.close()
    except BaseException:  # an error, or the caller stopped iterating
        writer.abandon()
        raise

    if manifest.frames_done < total:
        writer.abandon()
        manifest.status = "cancelled"
        run.write_manifest(manifest)
        return
    yield _finish(run, manifest, stage, writer, figures, clock)


class _Drawing:
    """The frames the loop keeps: frame 0 and the latest diffused frame, as uint8 on the device."""

    def __init__(self, stage: Stage, plans: list[FramePlan], pipelines: DreamPipelines | None,
                 cancel: threading.Event):
        self.stage, self.pipelines, self.cancel = stage, pipelines, cancel
        self.device = pipelines.device if pipelines is not None else "cpu"
        self.first: torch.Tensor | None = None
        self.latest: torch.Tensor | None = None  # the latest diffused frame
        self.previous: torch.Tensor | None = None  # the diffused frame before it
        self.moved: torch.Tensor | None = None  # the frame before `latest` moved into it, when at hand
        self.embeddings: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        # A preview has no model to drift the colours, so nothing to hold them to.
        self.match_colour = pipelines is not None
        self.palettes: dict[int, Palette] = {}  # by frame index: the colour references drawn so far
        self.references = {p.colour_reference for p in plans if p.colour_reference >= 0}
        # A preview's stand-in for what the model would draw where the camera is (see `_redraw`).
        self.card = None
        if pipelines is None:
            self.card = _preview_card(stage, plans[0].camera.vanishing_point, self.device)

    def begin(self, run: RunFolder, start: int) -> None:
        """Go on from diffused frame `start - 1` on disk, with the colour references before it."""
        self.first, self.latest = (to_tensor(run.load_frame(i), self.device) for i in (0, start - 1))
        for index in sorted(self.references):
            if index < start:
                self._remember(index, to_tensor(run.load_frame(index), self.device))

    def encode(self, texts: set[tuple[str, str]]) -> None:
        """Text embeddings once per (prompt, negative prompt), before the first frame: a frame's
        time is the frame's."""
        if self.pipelines is not None:
            for prompt, negative in sorted(texts):
                self.embeddings[prompt, negative] = self.pipelines.encode(prompt, negative)

    def diffuse(self, plan: FramePlan) -> torch.Tensor | None:
        """Draw diffused frame `plan.index`; it becomes `latest`. None if cancelled."""
        r = self.stage.render
        if plan.index == 0:
            image = load_image(r.first_image) if r.first_image and self.card is None else None
            frame = start_frame((r.width, r.height), self.device, image, lambda: self._text_to_image(plan))
            moved = None
        else:
            hold = None
            if self.match_colour and plan.colour_reference >= 0:
                hold = Hold(self.palettes[plan.colour_reference], plan.colour_hold)
            placed = region = None
            if plan.frame0_share > 0:  # placed once, for the step's mix and a preview's card
                placed = place_ahead(to_float(self.first), plan.loop_placement, (r.height, r.width), closing=True)
                region = frame0_detail_region(plan.loop_placement, plan.detail_area, (r.height, r.width), self.device)
            ahead = Ahead(self.first, plan.loop_placement, plan.loop_weight, closing=True, detail_from=region,
                          placed=placed)
            detail = Detail(plan.sharpen, plan.add_noise, plan.seed) if plan.sharpen or plan.add_noise else None
            step = advance([self.latest], [plan.source_move], ahead, hold, self._redraw(plan, placed, region), detail)
            frame, moved = (None, None) if step is None else (step.frames[0], step.moved[0])
        if frame is None:
            return None
        # The motion figures measure each frame against the last one moved by the camera: this is
        # that, when the source is the last frame (a preview measured it twice over otherwise).
        self.moved = moved if plan.source == plan.index - 1 else None
        self.previous, self.latest = self.latest, frame
        if plan.index == 0:
            self.first = frame
        self._remember(plan.index, frame)
        return frame

    def _redraw(self, plan: FramePlan, frame0_placed: torch.Tensor | None, region: torch.Tensor | None):
        """The model's img2img at the frame's setting; in a preview, the card (the test card, or the
        start image nested in itself) redrawn where the camera is, as img2img brings back the detail
        a zoom blurs.
        `frame0_placed`: frame 0 placed ahead over the loop window, and `region` where its detail is."""
        if self.pipelines is not None:
            embeds = _embeds(plan, self.embeddings)
            variant = Variant(plan.strength, plan.steps, plan.guidance)
            return lambda images: self.pipelines.redraw(images, embeds, [variant], plan.seed, self.cancel.is_set)

        def redraw(images: torch.Tensor) -> torch.Tensor:
            card = self.card(plan.travelled)
            if frame0_placed is not None:  # as a model redraws what its input shows: frame 0's detail where it has come
                card = mix_ahead(card, frame0_placed, plan.loop_placement, 1.0, closing=True, detail_from=region)
            return redraw_card(images, card, plan.strength, plan.frame0_share)

        return redraw

    def _text_to_image(self, plan: FramePlan) -> torch.Tensor | None:
        r = self.stage.render
        if self.pipelines is None:
            return self.card()
        return self.pipelines.first_frame(
            _embeds(plan, self.embeddings), r.width, r.height, plan.steps, plan.guidance,
            plan.seed, self.cancel.is_set,
        )

    def _remember(self, index: int, frame: torch.Tensor) -> None:
        if self.match_colour and index in self.references:
            self.palettes[index] = palette(to_float(frame))

    def between(self, plan: FramePlan) -> torch.Tensor:
        """An in-between frame: the zoom of its source, faded into its target drawn ahead.

        Drawn once its target is: the latest diffused frame, or frame 0 past the last one.
        """
        if plan.target > 0:
            source, target = self.previous, self.latest
        else:
            source, target = self.latest, self.first if plan.target == 0 else None
        # Over the loop window frame 0's detail goes on spreading through the in-betweens: the
        # target's where it has come (cross-faded with the ride's, the two would show at once).
        region = None
        if plan.detail_area > 0:
            region = frame0_detail_region(plan.loop_placement, plan.detail_area, tuple(source.shape[-2:]), self.device)
        ahead = None if target is None else Ahead(target, plan.target_placement, plan.fade, plan.target == 0,
                                                  detail_from=region, detail_elsewhere=plan.fade)
        return advance([source], [plan.source_move], ahead).frames[0]


def _preview_card(stage: Stage, centre: tuple[float, float], device: str) -> Callable[..., torch.Tensor]:
    """A preview's card as the camera sees it having travelled (a warp -> (1, 3, H, W)), converging
    where frame 0 looks: the start image nested in itself, or the test card; softened as a model's
    pictures are (`core.dream.preview.soften`)."""
    r = stage.render
    if r.first_image:
        fitted = start_frame((r.width, r.height), device, load_image(r.first_image), lambda: None)
        card = ImageCard(to_float(fitted), centre)
    else:
        card = functools.partial(card_tensor, r.width, r.height, centre, device=device)
    return lambda travelled=IDENTITY: soften(card(travelled))


def _texts(plan: FramePlan) -> list[tuple[str, str]]:
    """The (prompt, negative prompt) pairs the frame is drawn with."""
    texts = [(plan.prompt, plan.negative_prompt)]
    return texts + [(plan.next_prompt, plan.next_negative_prompt)] if plan.next_prompt else texts


def _embeds(plan: FramePlan, embeddings: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The frame's text embeddings; a transition blends two segments' prompts, and their
    negative prompts."""
    cond, uncond = embeddings[plan.prompt, plan.negative_prompt]
    if plan.next_prompt and plan.prompt_mix > 0:
        next_cond, next_uncond = embeddings[plan.next_prompt, plan.next_negative_prompt]
        cond, uncond = torch.lerp(cond, next_cond, plan.prompt_mix), torch.lerp(uncond, next_uncond, plan.prompt_mix)
    return cond, uncond


class _Clock:
    """Each frame's wall time, and the ETA from the mean after the first frame (a warm-up:
    compilation, cuDNN's algorithm search and the allocator's first requests land there)."""

    def __init__(self, total: int):
        self.total, self.count, self.warm_seconds = total, 0, 0.0

    def progress(self, index: int, seconds: float, path: Path, host: HostFrame) -> Progress:
        if self.count:
            self.warm_seconds += seconds
        self.count += 1
        mean = self.mean if self.count > 1 else seconds
        return Progress(index, self.total, seconds, mean, mean * (self.total - index - 1), path, host)

    @property
    def mean(self) -> float:
        """Seconds per frame after the first one; 0 before there is a second."""
        return self.warm_seconds / (self.count - 1) if self.count > 1 else 0.0


def _finish(run: RunFolder, manifest: Manifest, stage: Stage, writer: FrameWriter, figures: LoopFigures,
            clock: _Clock) -> Rendered:
    began = time.perf_counter()
    total = manifest.frames_total
    frames = run.frame_paths(total)  # none in a preview, which streams its MP4
    fps = stage.render.fps
    mp4 = writer.finish_video()
    if mp4 is None:  # resumed: the frames before this call are only on disk
        for frame in frames:
            figures.add(np.asarray(Image.open(frame).convert("RGB")))
        figures.close()
        with run.writing(MP4):
            mp4 = write_mp4(frames, run.path / MP4, fps)
    manifest.outputs = {"mp4": MP4, "fps": fps}
    if not manifest.model.get("preview"):  # a preview is watched on the page, never downloaded
        with run.writing(GIF):
            write_gif(frames, run.path / GIF, fps)
        run.write_frames_zip(total)
        manifest.outputs.update(gif=GIF, zip=ZIP)
    manifest.status = "complete"
    manifest.step_distances = [round(d, 4) for d in figures.distances["whole"]]
    manifest.figures = figures.figures()
    manifest.seam = manifest.figures["seam"]
    run.write_manifest(manifest)
    return Rendered(mp4, total, clock.mean, time.perf_counter() - began, manifest.figures)


def _model_info(pipelines: DreamPipelines | None) -> dict:
    if pipelines is None:
        return {"id": None, "preview": True}
    return {
        "id": pipelines.model,
        "revision": pipelines.revision,
        "device": pipelines.device,
        "dtype": str(pipelines.dtype).removeprefix("torch."),
        "vae": pipelines.vae,
        "preview": False,
    }
