"""The plan: everything about every frame that is known before any model runs.

The page plots it; the renderer follows it. Frame 0 is drawn from text (or the user's image);
with cadence k, every k-th frame is diffused: img2img of the previous diffused frame zoomed in by
all the steps between, with the first frame mixed back in over the last `loop_frames` frames so
the video wraps around without a seam. A frame between two diffused frames is the zoom of the
earlier one cross-faded into the later one brought back by the inverse zoom; after the last
diffused frame, the later one is frame 0 itself, so the loop closes with cadence too.

The loop curve is frame 0's share of what the viewer sees (with cadence, over the window up to
its last diffused frame; the in-betweens after it fade into frame 0). Each mix carries the ones
before it forward (a frame keeps 1 - w of what it had), so the weight of each step is derived from
the curve: w = (share - share before) / (1 - share before). Frame 0's detail is not cross-faded but
spreads out from its box's centre (`detail_area`, see `core.dream.zoom.mix_ahead`), as its share
grows, to fill the box by the last diffused frame.
Through the window the strength falls
with the share that is not yet frame 0, and the denoising passes with it (see `_tapered`), so the
last frames are barely redrawn, cost little, and the frame after the last is frame 0.
"""

from __future__ import annotations

import math
from typing import TypeVar
from dataclasses import dataclass, replace

from core.dream.camera import IDENTITY, Camera, Warp, compose, invert, path, step_warp
from core.dream.stage import Segment, Stage

MAX_STEPS = 1000  # the schedulers' training steps: no finer schedule exists
T = TypeVar("T")


@dataclass(frozen=True)
class FramePlan:
    index: int
    segment: int  # 0-based
    prompt: str
    next_prompt: str  # the prompt blended in during a transition; "" for none
    prompt_mix: float  # 0: `prompt` alone; towards 1: `next_prompt`
    loop_weight: float  # how much of the first frame this step mixes in before redrawing
    frame0_share: float  # frame 0's share of this frame after all the steps so far: the loop curve
    loop_placement: Warp  # where frame 0 lies ahead: each pixel of this frame's place in frame 0
    strength: float
    guidance: float
    steps: int
    camera: Camera  # the camera's step into this frame from the one before (frame 0: its segment's)
    move: Warp  # that step as a warp (frame 0: the step into it from the last frame when the video loops, else none)
    travelled: Warp  # the camera's path from frame 0: each pixel of this frame's place in frame 0's view
    seed: int
    diffused: bool = True  # False: drawn from the diffused frames around it (cadence)
    source: int = -1  # the diffused frame this one is moved from (-1 for frame 0)
    source_move: Warp = IDENTITY  # the camera's path from `source` to this frame
    target: int = -1  # an in-between frame's next diffused frame (0 past the last); -1: none
    target_placement: Warp = IDENTITY  # where `target` lies ahead
    fade: float = 0.0  # how much of `target` an in-between frame shows
    colour_reference: int = -1  # the frame whose colours this one's input is held to; -1: none
    colour_hold: float = 0.0  # how firmly: 1 matched, 0 left as drawn (let go in a transition)
    negative_prompt: str = ""  # what the frame is steered away from (the segment's, else the stage's)
    next_negative_prompt: str = ""  # the next segment's, blended in with `next_prompt`
    detail_area: float = 0.0  # the share of frame 0's box where the detail is frame 0's (in-between: cross-faded)
    sharpen: float = 0.0  # the unsharp mask's amount on the input before the redraw
    add_noise: float = 0.0  # fresh noise on the input before the redraw (spread on the -1..1 scale)

    @property
    def passes(self) -> int:
        """img2img's denoising passes, int(steps * strength), for a diffused frame after frame 0
        (frame 0 is text-to-image, or the start image); 0 for an in-between frame."""
        return int(self.steps * self.strength) if self.diffused else 0


def loop_curve(t: float, curve: str) -> float:
    """Frame 0's share at progress t in [0, 1] through the loop window: rises from 0 to 1, never falls."""
    if curve == "linear":
        return t
    return (1 - math.cos(math.pi * t)) / 2  # ease-in-out


def make_plan(stage: Stage) -> list[FramePlan]:
    r = stage.render
    size = (r.width, r.height)
    per_frame = []  # (segment index, segment) for every frame
    for number, segment in enumerate(stage.segments):
        per_frame += [(number, segment)] * segment.frames
    total = len(per_frame)

    loop_start = total - r.loop_frames

    def share(i: int, frames: int = r.loop_frames) -> float:
        """The loop curve over the window's first `frames` frames: 1 only at the virtual frame after them."""
        if not r.loop_frames or i < loop_start:
            return 0.0
        return loop_curve((i - loop_start + 1) / (frames + 1), r.loop_curve)

    blends = _blends(stage)
    cameras = _cameras(stage, per_frame, blends, share)
    moves = [step_warp(size, c) for c in cameras]  # moves[i]: the step into frame i
    outs = moves[1:] + [moves[0]]  # outs[i]: the step out of frame i; the last wraps to frame 0
    remaining = [IDENTITY] * total  # the path from frame i to frame 0 again, past the last
    rest = IDENTITY
    for i in range(total - 1, -1, -1):
        rest = compose(outs[i], rest)
        remaining[i] = rest
    travelled = [IDENTITY]
    for step in outs[:-1]:
        travelled.append(compose(travelled[-1], step))

    def between(a: int, b: int) -> Warp:  # the camera's path from frame a to frame b > a
        return path(outs[a:b])

    k = r.cadence
    # With cadence, frame 0 is mixed in on the diffused frames, and the in-betweens after the last
    # one fade into frame 0 itself: the curve runs over the window up to that last diffused frame,
    # which then holds as much of frame 0 as a window's last frame does without cadence. (Over the
    # whole window, the last diffused frame of a window ending k - 1 frames after it held far less,
    # and the in-betweens faded the rest in, several times a normal step each: bench/RESULTS.md.)
    last_drawn = (total - 1) // k * k
    drawn_frames = last_drawn - loop_start + 1  # none when the window holds no diffused frame
    last_share = share(last_drawn, drawn_frames)  # frame 0's share of the last diffused frame
    references = _colour_references(stage, per_frame)
    plans = []
    shown = 0.0  # frame 0's share of the latest diffused frame
    for i, (number, segment) in enumerate(per_frame):
        source = i - (i % k or k) if i else -1  # the diffused frame before this one
        if i % k == 0:
            target, fade = -1, 0.0
        else:  # past the last diffused frame, the next one is frame 0, when the video loops
            target = i - i % k + k
            if target >= total:
                target = total if r.loop_frames else -1
            fade = 0.0 if target < 0 else (i % k) / (target - source)
        step = 0.0
        if i % k == 0:
            target_share = share(i, drawn_frames)
            step = (target_share - shown) / (1 - shown)
            shown = target_share
        following, mix = _transition(stage, number, blends[i])
        strength, steps = _tapered(_pick(segment.strength, r.strength), r.steps, shown if r.strength_taper else 0.0)
        reference = references[i] if i % k == 0 else -1
        plans.append(FramePlan(
            index=i,
            segment=number,
            prompt=segment.prompt,
            next_prompt=following.prompt if following else "",
            prompt_mix=mix,
            loop_weight=step,
            frame0_share=shown,
            loop_placement=invert(remaining[i]),
            strength=strength,
            guidance=_pick(segment.guidance, r.guidance),
            steps=steps,
            camera=cameras[i],
            move=moves[i] if i or r.loop_frames else IDENTITY,
            travelled=travelled[i],
            seed=r.seed + (i if r.noise == "per-frame" else 0),
            diffused=i % k == 0,
            source=source,
            source_move=between(source, i) if i else IDENTITY,
            target=target % total if target >= 0 else -1,
            target_placement=invert(between(i, target)) if target >= 0 else IDENTITY,
            fade=fade,
            colour_reference=reference,
            colour_hold=0.0 if reference < 0 else 1.0 if r.colour_coherence == "frame0" else 1 - mix,
            negative_prompt=_pick(segment.negative_prompt, r.negative_prompt),
            next_negative_prompt=_pick(following.negative_prompt, r.negative_prompt) if following else "",
            detail_area=min(1.0, shown / last_share) if shown else 0.0,
            sharpen=_pick(segment.sharpen, r.sharpen),
            add_noise=_pick(segment.add_noise, r.add_noise),
        ))
    return [_in_between_share(p, plans) for p in plans]


def _in_between_share(plan: FramePlan, plans: list[FramePlan]) -> FramePlan:
    """An in-between frame shows its source and its target cross-faded, and their shares with them
    (the target past the last diffused frame is frame 0 itself: all frame 0)."""
    if plan.diffused:
        return plan
    source = plans[plan.source]
    if plan.target < 0:
        return replace(plan, frame0_share=source.frame0_share, detail_area=source.detail_area)
    target = replace(plan, frame0_share=1.0, detail_area=1.0) if plan.target == 0 else plans[plan.target]
    return replace(plan, frame0_share=(1 - plan.fade) * source.frame0_share + plan.fade * target.frame0_share,
                   detail_area=(1 - plan.fade) * source.detail_area + plan.fade * target.detail_area)


def _tapered(strength: float, steps: int, share: float) -> tuple[float, int]:
    """The strength lowered by frame 0's share, and the steps it runs on.

    Frame 0's share of the picture needs no redrawing, so the passes fall with the strength on the
    stage's own schedule (img2img runs int(steps * strength) of them): the loop's last frames cost
    less than the others. Below one pass of that schedule, one pass at the strength's own noise
    level, on a finer schedule (at most the scheduler's 1000 steps): one pass of a coarse schedule
    (sd-turbo's 2 steps) would redraw half of a frame that should by then be nearly frame 0.
    """
    tapered = max(strength * (1 - share), 1 / MAX_STEPS)
    if tapered >= strength:
        return strength, steps
    if int(steps * tapered) >= 1:
        return tapered, steps
    finer = min(MAX_STEPS, math.ceil(1 / tapered))
    while int(finer * tapered) < 1:  # ceil's float error can fall one pass short
        finer += 1
    return tapered, finer


def _cameras(stage: Stage, per_frame: list, blends: list[tuple[int | None, float]], share) -> list[Camera]:
    """Each frame's camera: its segment's, eased into the next segment's over the prompt
    transition, and back to the first segment's over the loop window (by the loop curve), so the
    step from the last frame into frame 0 moves as the first frames do."""
    r = stage.render
    own = [Camera(_pick(s.zoom_px, r.zoom_px), _pick(s.rotate, r.rotate), _pick(s.pan, r.pan),
                  _pick(s.vanishing_point, r.vanishing_point)) for s in stage.segments]
    cameras = []
    for i, (number, _) in enumerate(per_frame):
        following, mix = blends[i]
        camera = own[number] if following is None else own[number].eased(own[following], mix)
        cameras.append(camera.eased(own[0], share(i)))
    return cameras


def _colour_references(stage: Stage, per_frame: list) -> list[int]:
    """Per frame, the diffused frame whose colours its input is held to; -1 for none.

    frame0: frame 0 for all. segment: the segment's first diffused frame (which is itself left as
    drawn, so each segment keeps the palette its prompt brings); a segment too short to have one
    keeps the reference before it.
    """
    r = stage.render
    if r.colour_coherence == "off":
        return [-1] * len(per_frame)
    if r.colour_coherence == "frame0":
        return [-1] + [0] * (len(per_frame) - 1)
    references, reference, segment_of_reference = [], -1, -1
    for i, (number, _) in enumerate(per_frame):
        if i % r.cadence == 0 and number != segment_of_reference:
            reference, segment_of_reference = i, number
            references.append(-1)  # the new reference itself
        else:
            references.append(reference)
    return references


def _pick(override: T | None, default: T) -> T:
    """A segment's own value, or the stage's where it has none."""
    return default if override is None else override


def _transition(stage: Stage, number: int, blend: tuple[int | None, float]) -> tuple[Segment | None, float]:
    """Over the last `transition_frames` frames of a segment, blend towards the next segment's
    prompt (and negative prompt): that segment and how far, or None (`blend`: the frame's, see
    `_blends`; a segment whose texts are the next one's has nothing to blend).

    The last segment blends towards the first when the video loops, so the story wraps too.
    """
    r = stage.render
    following, mix = blend
    if following is None:
        return None, 0.0
    current, following = stage.segments[number], stage.segments[following]
    texts = [(s.prompt, _pick(s.negative_prompt, r.negative_prompt)) for s in (current, following)]
    if texts[0] == texts[1]:
        return None, 0.0
    return following, mix


def _blends(stage: Stage) -> list[tuple[int | None, float]]:
    """Per frame, over the last `transition_frames` frames of its segment, the segment it blends
    towards (its number) and how far; (None, 0) elsewhere. The next segment, or the first past the
    last when the video loops."""
    r, count = stage.render, len(stage.segments)
    k = r.transition_frames
    blends = []
    for number, segment in enumerate(stage.segments):
        is_last = number == count - 1
        following = None if not k or (is_last and not r.loop_frames) else 0 if is_last else number + 1
        for left in range(segment.frames - 1, -1, -1):  # frames of this segment still to come after this one
            blends.append((None, 0.0) if following is None or left >= k else (following, (k - left) / (k + 1)))
    return blends
