"""How well a loop closes and how much it flickers, measured on its frames as they pass.

- `seam`: the jump from the last frame to frame 0 over the median jump between consecutive
  frames. About 1: the seam looks like any other step. With cadence, the seam (which lands on
  frame 0, a drawn frame) is compared with the steps that land on drawn frames: each brings its
  redraw at once, where the in-betweens cross-fade, so a video with cadence pulses every k frames
  and the seam is one of those pulses. Every seam figure below does the same.
- `seam_border`, `seam_centre`: the same ratio over the frame's outer band and over its centre,
  so a seam left at the edges (where a loop is hardest to close) cannot hide in the whole.
- `flicker`: the mean change that the camera's motion does not explain, |f(i+1) - move(f(i))|
  in grey levels (0-255): what the model redrew on top of the ride.
- `seam_moved` (and `_border`, `_centre`, `_ring1` to `_ring4`): the seam with the camera's motion
  taken out: the last frame moved by the step into frame 0 against frame 0, over the median of the
  same between consecutive frames. The raw figures above compare jumps that the zoom itself
  dominates; these compare what the camera does not explain. The rings lie around the vanishing
  point, each a quarter of the way to the frame's edge, ring 4 the outermost.
- `ghosting` (and `ghosting_frame`): the most a frame's strongest edges fall below the median
  frame's, as a share of theirs: a frame showing two pictures at once shows each one's edges at a
  part of their height (a 50/50 double exposure: about 0.5). About 0: every frame is as crisp as
  the ride.
- `window_jolt` (and `window_jolt_frame`, the frame it lands on): the largest step over the loop
  window (the seam's included) of what the camera's motion does not explain, over the ride's
  largest of its kind (onto drawn frames, or onto in-betweens) before the window: up to about 1 when
  the window's steps are like the ride's; a flash in the window (one frame taking over a picture
  at once) reads 2 or more.
- `window_load`: the change the loop window has to make, spread evenly over its steps, over the
  median step of the seam's kind (the most of any region): the last frame before the window moved
  along the camera's path to the seam, against frame 0, over the window's steps. However the loop
  curve shares it out, some step of the window carries at least about this much (the seam, where a
  linear curve's last step is as large as the rest): above SEAMLESS the window is too short for
  how far the ride has travelled from frame 0. `window_wanted`: the loop window over which the same
  change would average a ride's step (the way back hardly depends on where the window starts:
  bench/RESULTS.md, dream-loop); None where the stage is too short to hold it.
- `unrelated`: the median change between consecutive drawn frames that the camera's motion does
  not explain (with cadence, each drawn frame against the one before it moved along the camera's
  path: the in-betweens cross-fade, so they always follow), over the median difference between a
  frame and itself shifted by half its size
  (pictures as unlike as two of its own can be): about 0 when each frame follows from the last,
  about 1 when consecutive frames are unrelated. Above UNRELATED there is no ride to close: the
  seam figures are None rather than "about 1", which a loop of unrelated frames would read. (The
  raw step would call a fast zoom about a point near a corner a jumble.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from core.dream.camera import IDENTITY, Warp, compose, path
from core.dream.plan import FramePlan
from core.dream.zoom import move

BAND = 1 / 16  # the outer band's width, as a share of the shorter side (32 px at 512)
UNRELATED = 0.5  # steps this large against unlike pictures: the frames do not follow one another
REGIONS = ("whole", "border", "centre")
RINGS = tuple(f"ring{n}" for n in range(1, 5))


class LoopFigures:
    """Fed the frames in order (`add`), then `close`d: the distances of every step and the figures.

    Worked on the frames' own device, the regions as slices, each distance kept there as a tensor
    until the figures are asked for: measuring a frame never makes the loop wait for the GPU.
    """

    def __init__(self, moves: Sequence[Warp], wrap: Warp | None = None,
                 vanishing_point: tuple[float, float] = (0.5, 0.5), drawn: Sequence[bool] | None = None,
                 window: int = 0):
        """`moves[i]`: the camera's step into frame i (the plan's); `wrap`: the step from the last
        frame into frame 0 when the video loops; the rings lie around `vanishing_point`; `drawn[i]`:
        whether frame i is drawn by the model rather than cross-faded between drawn ones (cadence;
        all drawn when None); `window`: the loop window's frames, the last ones."""
        self.moves, self.wrap, self.vanishing_point = list(moves), wrap, vanishing_point
        self.drawn = None if drawn is None else list(drawn)
        self.window = window
        # Per step, each region's mean difference, as it is and (flicker, the moved seam) of what
        # the camera's motion does not explain: one (regions,) tensor a step.
        self._distances: list[torch.Tensor] = []
        self._unexplained: list[torch.Tensor] = []
        self._weights: torch.Tensor | None = None
        self._unlike: list[torch.Tensor] = []  # each frame against itself shifted by half its size
        self._edges: list[torch.Tensor] = []  # each frame's strongest edges' height
        self._first: torch.Tensor | None = None
        self._previous: torch.Tensor | None = None
        # The latest drawn frame and the camera's path from it, and each drawn frame's change from
        # the one before it that the camera's motion does not explain: whether the model's frames
        # follow one another (with cadence, the in-betweens between them always do).
        self._drawn_before: tuple[torch.Tensor, Warp] | None = None
        self._redrawn: list[torch.Tensor] = []
        # The last frame before the loop window, and its change from frame 0 (moved along the
        # camera's path to the seam) that the window has to make.
        self._before_window: torch.Tensor | None = None
        self._way_back: torch.Tensor | None = None

    @classmethod
    def of_plan(cls, plans: Sequence[FramePlan], window: int) -> LoopFigures:
        """For the frames of `plans`, whose last `window` frames close the loop (0: no loop)."""
        return cls([p.move for p in plans], plans[0].move if window else None, plans[0].camera.vanishing_point,
                   [p.diffused for p in plans], window)

    def add(self, frame: torch.Tensor | np.ndarray, moved: torch.Tensor | None = None) -> None:
        """The next frame: (3, H, W) uint8 on any device, or (H, W, 3) uint8 as read from a file.
        `moved`: the frame before it moved by the camera into it, (1, 3, H, W) floats in [0, 1] on
        the frame's device, if the caller has it; else worked out here."""
        if isinstance(frame, np.ndarray):
            # An array of its own: a frame read from a PNG is read-only, which torch warns about.
            frame = torch.from_numpy(np.ascontiguousarray(frame.transpose(2, 0, 1)))
        current = frame.float()  # (3, H, W) in grey levels
        height, width = current.shape[-2:]
        self._unlike.append((current - current.roll((height // 2, width // 2), (1, 2))).abs().mean())
        self._edges.append(edge_height(current))
        if self._previous is None:
            self._first = current
            self._drawn_before = (current, IDENTITY)
        else:
            self._step(self._previous, current)
            into = len(self._unexplained) + 1
            moved = self._zoomed(self._previous, into) if moved is None else moved[0].float() * 255
            self._unexplained.append(self._means((moved - current).abs().mean(0)))
            self._follow_drawn(current, into)
        if self.window and len(self._edges) == len(self.moves) - self.window:
            self._before_window = current
        self._previous = current

    def _follow_drawn(self, current: torch.Tensor, index: int) -> None:
        """Frame `index`'s part in the drawn frames' chain: its step joins the path from the
        latest drawn frame, and a drawn frame measures its change from that one, moved along it."""
        before, travelled = self._drawn_before
        travelled = compose(travelled, self.moves[index])
        if self.drawn is not None and not self.drawn[index]:
            self._drawn_before = (before, travelled)
            return
        if before is self._previous:  # the frame before was drawn: the step itself
            self._redrawn.append(self._unexplained[-1][0])
        else:
            self._redrawn.append((move(before.unsqueeze(0) / 255, travelled)[0] * 255 - current).abs().mean())
        self._drawn_before = (current, IDENTITY)

    def close(self) -> None:
        """The seam: the step from the last frame back to frame 0, as it is and moved by the camera."""
        self._step(self._previous, self._first)
        if self.wrap is not None:
            moved = move(self._previous.unsqueeze(0) / 255, self.wrap)[0] * 255
            self._unexplained.append(self._means((moved - self._first).abs().mean(0)))
        if self.wrap is not None and self._before_window is not None:
            travelled = path(self.moves[len(self.moves) - self.window:] + [self.wrap])
            moved = move(self._before_window.unsqueeze(0) / 255, travelled)[0] * 255
            self._way_back = self._means((moved - self._first).abs().mean(0))

    @property
    def distances(self) -> dict[str, list[float]]:
        """Each region's distance of every step, the seam last."""
        return _by_region(self._distances, REGIONS)

    def figures(self) -> dict[str, float | None]:
        distances = self.distances
        unexplained = _by_region(self._unexplained, REGIONS + RINGS)
        closed = self.wrap is not None and len(unexplained["whole"]) == len(distances["whole"])
        steps = unexplained["whole"][:-1] if closed else unexplained["whole"]
        # The seam lands on frame 0, a drawn frame: with cadence it is measured against the steps
        # that land on drawn frames, each bringing a redraw at once (the in-betweens only cross-fade).
        alike = None if self.drawn is None else self.drawn[1:len(distances["whole"])]
        unrelated = unrelated_figure(_floats(self._redrawn), _floats(self._unlike))
        follows = unrelated is not None and unrelated <= UNRELATED
        seams = {region: seam_figure(distances[region], alike) if follows else None for region in REGIONS}
        moved = {region: seam_figure(values, alike) if follows and closed else None
                 for region, values in unexplained.items()}
        return {
            "seam": _rounded(seams["whole"]),
            "seam_border": _rounded(seams["border"]),
            "seam_centre": _rounded(seams["centre"]),
            "flicker": _rounded(float(np.mean(steps)) if steps else None),
            "unrelated": _rounded(unrelated),
            **ghosting_figures(_floats(self._edges)),
            **window_jolt_figures(unexplained["whole"] if follows and closed else [], self.window, self.drawn),
            **self._window_figures(unexplained, alike, follows and closed),
            "seam_moved": _rounded(moved["whole"]),
            **{f"seam_moved_{region}": _rounded(moved[region]) for region in REGIONS[1:] + RINGS},
        }

    def _window_figures(self, unexplained: dict[str, list[float]], alike: Sequence[bool] | None,
                        measured: bool) -> dict[str, float | int | None]:
        """`window_load`: the window's way back to frame 0 over its steps and the median step of the
        seam's kind, the most of any region; `window_wanted`, the window it would take to average a
        ride's step."""
        loads = []
        if measured and self._way_back is not None:
            loads = [seam_figure([*values[:-1], way_back / (self.window + 1)], alike)
                     for values, way_back in zip(unexplained.values(), self._way_back.tolist())]
        loads = [load for load in loads if load is not None]
        if not loads:
            return {"window_load": None, "window_wanted": None}
        wanted = math.ceil((self.window + 1) * max(loads)) - 1
        return {"window_load": _rounded(max(loads)), "window_wanted": wanted if wanted < len(self.moves) else None}

    def _step(self, a: torch.Tensor, b: torch.Tensor) -> None:
        self._distances.append(self._means((a - b).abs().mean(0)))

    def _means(self, difference: torch.Tensor) -> torch.Tensor:
        """Each region's mean of `difference` ((H, W) grey levels), REGIONS then RINGS: one
        product with the regions' weights, not a dozen small reductions a frame."""
        return self._region_weights(*difference.shape, difference.device) @ difference.flatten()

    def _region_weights(self, height: int, width: int, device) -> torch.Tensor:
        """(regions, H x W): each region's pixels, weighted to sum to 1. The border is the outer
        band; the centre the middle half on each axis; a ring the pixels at its share of the way
        from the vanishing point to the frame's edge in their direction (as the test card's depth)."""
        if self._weights is None:
            band = max(2, round(min(height, width) * BAND))
            border = torch.ones(height, width, device=device)
            border[band:-band, band:-band] = 0
            centre = torch.zeros(height, width, device=device)
            centre[height // 4: height - height // 4, width // 4: width - width // 4] = 1
            vx, vy = self.vanishing_point[0] * width, self.vanishing_point[1] * height
            xs = torch.arange(width, dtype=torch.float32, device=device)[None, :] + 0.5 - vx
            ys = torch.arange(height, dtype=torch.float32, device=device)[:, None] + 0.5 - vy
            share = torch.maximum(xs.abs() / torch.where(xs < 0, max(vx, 1.0), max(width - vx, 1.0)),
                                  ys.abs() / torch.where(ys < 0, max(vy, 1.0), max(height - vy, 1.0)))
            ring = (share * len(RINGS)).clamp(max=len(RINGS) - 1).floor()
            masks = [torch.ones(height, width, device=device), border, centre,
                     *((ring == n).float() for n in range(len(RINGS)))]
            weights = torch.stack(masks).flatten(1)
            self._weights = weights / weights.sum(1, keepdim=True).clamp_min(1)
        return self._weights

    def _zoomed(self, frame: torch.Tensor, into: int) -> torch.Tensor:
        """`frame` moved by the camera's step into frame `into`, as the plan moves it."""
        return move(frame.unsqueeze(0) / 255, self.moves[into])[0] * 255


def _by_region(steps: list[torch.Tensor], regions: Sequence[str]) -> dict[str, list[float]]:
    """Each region's value of every step, from the steps' (regions,) tensors."""
    values = torch.stack(steps).t().tolist() if steps else [[] for _ in REGIONS + RINGS]
    return dict(zip(regions, values))


def _floats(values: list[torch.Tensor]) -> list[float]:
    return torch.stack(values).tolist() if values else []


def edge_height(frame: torch.Tensor) -> torch.Tensor:
    """How high a frame's strongest edges rise ((3, H, W) grey levels): the 99th percentile of the
    step between neighbouring pixels (the largest over the channels), across and down."""
    across = (frame[:, :, 1:] - frame[:, :, :-1]).abs().amax(0).flatten()
    down = (frame[:, 1:] - frame[:, :-1]).abs().amax(0).flatten()
    steps = torch.cat([across, down])
    return steps.kthvalue(max(1, round(0.99 * steps.numel()))).values


def ghosting_figures(heights: Sequence[float]) -> dict[str, float | int | None]:
    """`ghosting`: the most any frame's strongest edges fall below the median frame's, as a share
    of theirs, and `ghosting_frame`, where. Two pictures at once (a cross-fade of unlike frames)
    show each one's edges at a part of their height: a 50/50 double exposure reads about 0.5, and a
    blur lowers edges too. About 0 when every frame is as crisp as the ride's."""
    median = float(np.median(heights)) if len(heights) else 0.0
    if median <= 0:
        return {"ghosting": None, "ghosting_frame": None}
    frame = int(np.argmin(heights))
    return {"ghosting": _rounded(max(0.0, 1 - heights[frame] / median)), "ghosting_frame": frame}


def window_jolt_figures(steps: Sequence[float], window: int,
                        drawn: Sequence[bool] | None) -> dict[str, float | int | None]:
    """`window_jolt`: the largest of the loop window's `steps` (step j lands on frame j + 1, the last
    one, the seam, on frame 0) over the largest step of its kind before the window, onto drawn
    frames (`drawn`; all when None) or onto in-betweens; `window_jolt_frame`, the frame it lands on."""
    frames = len(steps)
    start = frames - window - 1  # the first step into the window
    if not window or start <= 0:
        return {"window_jolt": None, "window_jolt_frame": None}
    kinds = [True if drawn is None else drawn[(j + 1) % frames] for j in range(frames)]
    ride: dict[bool, float] = {}
    for step, kind in zip(steps[:start], kinds):
        ride[kind] = max(ride.get(kind, 0.0), step)
    jolts = [(steps[j] / ride[kinds[j]], j) for j in range(start, frames) if ride.get(kinds[j], 0) > 0]
    if not jolts:
        return {"window_jolt": None, "window_jolt_frame": None}
    jolt, j = max(jolts)
    return {"window_jolt": _rounded(jolt), "window_jolt_frame": (j + 1) % frames}


def unrelated_figure(steps: Sequence[float], unlike: Sequence[float]) -> float | None:
    """The median change between drawn frames over the median difference of unlike pictures."""
    scale = float(np.median(unlike)) if len(unlike) else 0.0
    return float(np.median(steps)) / scale if len(steps) and scale > 0 else None


def seam_figure(distances: Sequence[float], alike: Sequence[bool] | None = None) -> float | None:
    """The jump at the seam (the last distance) over the median step: about 1 is seamless.
    `alike[j]`: whether step j is of the seam's kind (only those make the median; all when None)."""
    steps, seam = distances[:-1], distances[-1]
    if alike is not None:
        steps = [step for step, kind in zip(steps, alike) if kind]
    median = float(np.median(steps)) if steps else 0.0
    return seam / median if median > 0 else None


SEAMLESS = 1.2  # a seam figure up to this: the seam looks like any other step
# Where a seam shows, in a guest's words: the motion-compensated figures where a run has them (a
# raw jump is mostly the zoom itself), else the raw ones.
MOVED_WORDS = {
    "seam_moved": "over the whole frame",
    "seam_moved_border": "at the frame's edges",
    "seam_moved_centre": "in the middle of the frame",
    "seam_moved_ring1": "around the point the camera flies towards",
    "seam_moved_ring2": "just out from the point the camera flies towards",
    "seam_moved_ring3": "halfway out to the frame's edges",
    "seam_moved_ring4": "out towards the frame's edges",
}
RAW_WORDS = {"seam": "over the whole frame", "seam_border": "at the frame's edges",
             "seam_centre": "in the middle of the frame"}


def seam_in_words(figures: dict[str, float | None]) -> str:
    """The loop's seam as a guest would say it: no jump, or a jump and where it is most."""
    measured = {}
    for words in (MOVED_WORDS, RAW_WORDS):
        measured = {name: figures[name] for name in words if figures.get(name) is not None}
        if measured:
            break
    if not measured and (figures.get("unrelated") or 0) > UNRELATED:
        return "the frames do not follow one another, so there is no loop to judge"
    if not measured:
        return "the loop's seam was not measured"
    worst = max(measured, key=measured.get)
    if measured[worst] <= SEAMLESS:
        return "the loop's last step looks like any other"
    return f"the loop jumps where it starts again, most {words[worst]}"


GHOSTED = 0.2  # a frame's strongest edges this far below the median frame's show: a double exposure or a blur


def ghosting_in_words(figures: dict[str, float | None]) -> str:
    """Where a frame shows two pictures at once (or a blur), as a clause to follow the seam's words;
    "" where no frame does."""
    ghosting = figures.get("ghosting")
    if ghosting is None or ghosting <= GHOSTED:
        return ""
    return f"; around frame {figures['ghosting_frame']} the picture's edges fade (two pictures at once, or a blur)"


JOLTED = 1.5  # a step in the loop window this much beyond the ride's largest of its kind shows


def jolt_in_words(figures: dict[str, float | None]) -> str:
    """Where the loop window jumps more than the ride ever does, as a clause to follow the seam's
    words; "" where it does not."""
    jolt = figures.get("window_jolt")
    if jolt is None or jolt <= JOLTED:
        return ""
    return f"; at frame {figures['window_jolt_frame']} the picture jumps more than anywhere in the ride"


def window_in_words(figures: dict[str, float | None]) -> str:
    """That the loop window is too short for how far the ride has travelled from frame 0, as a
    clause to follow the seam's words; "" where it is long enough."""
    load = figures.get("window_load")
    if load is None or load <= SEAMLESS:
        return ""
    wanted = figures.get("window_wanted")
    remedy = (f"looping back over about {wanted} frames brings that to about 1" if wanted is not None
              else "the stage is too short for a window that brings that to about 1: give it more frames")
    return (f"; the loop window is short for how far the ride has travelled from frame 0: getting back to "
            f"it takes steps {load:.1f} times the ride's ({remedy})")


def loop_in_words(figures: dict[str, float | None]) -> str:
    """The loop in a guest's words, as a sentence: where the seam shows (or that it does not), a
    frame whose edges fade, a step of the loop window that jumps, and a window too short."""
    return (seam_in_words(figures).capitalize() + ghosting_in_words(figures) + jolt_in_words(figures)
            + window_in_words(figures))


def headline(figures: dict[str, float | None]) -> tuple[str, float] | None:
    """The seam figure to show beside the words, and what it measures: the motion-compensated one
    where a run has it, else the raw jump; None if neither was measured."""
    if figures.get("seam_moved") is not None:
        return "seam with the camera's motion taken out", figures["seam_moved"]
    if figures.get("seam") is not None:
        return "seam", figures["seam"]
    return None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
