"""The camera's motion, on tensors on the pipeline's device: a frame moved by the camera (its
zoom, turn and drift in one resampling), and a frame from further along the ride placed ahead.

The motion itself, as warps worked out before any frame is drawn, is `core.dream.camera`'s.

Frames are (3, H, W) uint8 tensors between steps and (1, 3, H, W) floats in [0, 1] inside one:
every frame is rounded to what its PNG holds, so a resumed render continues from exactly the
pixels an uninterrupted one had.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from core.dream.bands import detail, gaussian_blur
from core.dream.camera import IDENTITY, Warp, in_pixels, invert

# A frame shrunk s times is low-passed by a Gaussian of this times sqrt(s^2 - 1) of its pixels
# first: nearest to a Lanczos reduction of photos and of a zone plate at shrinks 1.2-3 (0.3-0.6 tried).
ANTIALIAS = 0.45
BACK_PROJECTIONS = 2  # the seam's error falls 9 % with the first, under 1 % more with a third
SAMPLING_REACH = 2.0  # pixels a bicubic sample reaches on each side


def to_tensor(image: Image.Image, device: str | torch.device = "cpu") -> torch.Tensor:
    """A PIL image as a (3, H, W) uint8 tensor on `device`."""
    array = np.asarray(image.convert("RGB"))
    return torch.from_numpy(array.copy()).permute(2, 0, 1).to(device)


def to_image(frame: torch.Tensor) -> Image.Image:
    return Image.fromarray(frame.permute(1, 2, 0).cpu().numpy())


def to_float(frame: torch.Tensor) -> torch.Tensor:
    """(3, H, W) uint8 -> (1, 3, H, W) float32 in [0, 1]."""
    return frame.unsqueeze(0).float() / 255


def to_uint8(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) float in [0, 1] -> (3, H, W) uint8, rounded as a PNG would store it."""
    return (image[0].float().clamp(0, 1) * 255 + 0.5).to(torch.uint8)


def move(current: torch.Tensor, warp: Warp) -> torch.Tensor:
    """`current` ((1, 3, H, W) floats in [0, 1]) moved by the camera's `warp` (see
    `core.dream.camera`): the camera's motion alone."""
    return _resample(current, warp, tuple(current.shape[-2:]))


def mix_ahead(
    moved: torch.Tensor,
    placed: torch.Tensor | None,
    placement: Warp = IDENTITY,
    weight: float = 0.0,
    closing: bool = False,
    detail_from: torch.Tensor | None = None,
    detail_elsewhere: float = 0.0,
) -> torch.Tensor:
    """`moved` with a frame further along the ride mixed in at `weight`: `placed`, that frame as
    `place_ahead` placed it by `placement` (where each pixel of `moved` lies in it), the frame the
    camera will show when it has travelled that much further, shrunk about the vanishing point and
    turned as the camera will turn. Mixing it there (not full-frame) keeps the motion going instead
    of stalling; its box's edges are feathered so no frame line shows. Placed once, it mixes into
    several pictures alike.

    `closing`: the frame is frame 0, closing the loop (and was placed with `closing`). Its box's
    feather then ramps outside the box (see `_feather`).

    `detail_from`: None cross-fades the two pictures whole. Else only their broad pictures are
    mixed at `weight`, and the detail (`core.dream.bands`) is the placed frame's where this
    (1, 1, H, W) mask is 1, within its box (`frame0_detail_region`), and `moved`'s where it is 0:
    one picture's detail at each pixel, never two at part of their height (a double exposure).
    Unless `detail_elsewhere`: outside the mask the placed frame's detail has this share of it (an
    in-between cross-fades the ride's detail of the frames around it, as it does outside the loop).
    """
    if placed is None or weight <= 0:
        return moved
    _, _, height, width = moved.shape
    box = _feather((width, height), in_pixels(placement, (width, height)), closing, moved.device)
    mixed = torch.lerp(moved, placed, weight * box)
    if detail_from is None:
        return mixed
    share = detail_from + (1 - detail_from) * detail_elsewhere * box
    return (mixed + (share - weight * box) * (detail(placed) - detail(moved))).clamp_(0, 1)


def frame0_detail_region(placement: Warp, area: float, size: tuple[int, int], device) -> torch.Tensor:
    """Where a frame over the loop window has frame 0's detail, (1, 1, H, W) of `size` (H, W):
    `area`'s share of frame 0's box (`placement`: where each pixel lies in frame 0), a box of the
    same shape about frame 0's centre, feathered as the box is. Grown a little each frame, frame 0's
    detail comes in as a front moving out from its centre, each step about as big as a normal one,
    where taking over the whole box at once flashes (2.5 to 6 times a normal step in the previews)."""
    height, width = size
    if area <= 0:
        return torch.zeros((1, 1, height, width), device=device)
    # Each pixel's place in frame 0 stretched from its centre: the box shrunk about it.
    stretched = tuple(v / math.sqrt(min(area, 1.0)) for v in placement)
    return _feather((width, height), in_pixels(stretched, (width, height)), True, device)


def place_ahead(ahead: torch.Tensor, placement: Warp, size: tuple[int, int], closing: bool = False) -> torch.Tensor:
    """`ahead` ((1, 3, h, w) floats) at `size` (H, W), where `placement` says each pixel lies in
    it, for `mix_ahead`. `closing`: it is frame 0, closing the loop, and is placed sharp (see
    `_placed_sharp`): the seam lands on frame 0 itself, where a step into any other drawn frame
    lands on a picture the same resamplings blurred."""
    height, width = size
    pixels = in_pixels(placement, (width, height))
    # ahead's pixels per pixel here, along each of ahead's axes: how much it is shrunk.
    sx, sy = math.hypot(pixels[0], pixels[1]), math.hypot(pixels[3], pixels[4])
    # Shrunk, its detail finer than the pixels here would alias into moire: low-passed first, by
    # as much as each axis is shrunk, so a frame shrunk a little more looks a little softer (a
    # switch to another filter past some shrink made the frames either side of it differ).
    across, down = (ANTIALIAS * math.sqrt(max(s * s - 1, 0)) for s in (sx, sy))
    ahead = gaussian_blur(ahead, (across, down))
    # Placed mirrored beyond its edges: the feather's ramp outside the box continues frame 0's
    # picture instead of smearing its edge pixels into streaks.
    if closing:
        return _placed_sharp(ahead, placement, size)
    return _resample(ahead, placement, size, padding="reflection")


def _placed_sharp(ahead: torch.Tensor, placement: Warp, size: tuple[int, int]) -> torch.Tensor:
    """`ahead` placed at `size` (H, W) by `placement`, sharpened so that the camera's moves bring it
    back to `ahead`'s own pixels: a shrink and the magnification that follows are two resamplings,
    each a slight blur, and the frame they reach (frame 0 at the seam) has had none. Each of
    BACK_PROJECTIONS rounds moves the placed frame back, and places what it misses of `ahead` on top
    (iterative back-projection; what bicubic sampling cannot carry is left, never amplified)."""
    placed = _resample(ahead, placement, size, padding="reflection")
    back = invert(placement)
    for _ in range(BACK_PROJECTIONS):
        missed = ahead - _resample(placed, back, tuple(ahead.shape[-2:]), padding="reflection")
        placed = (placed + _resample(missed, placement, size, padding="reflection")).clamp_(0, 1)
    return placed


def _resample(image: torch.Tensor, warp: Warp, size: tuple[int, int], padding: str = "border") -> torch.Tensor:
    """`image` resampled at `size` (H, W) where `warp` says each pixel lies in it.

    grid_sample's [-1, 1] coordinates do not depend on the input's resolution, so a pre-shrunk
    input maps the same."""
    if warp == IDENTITY and tuple(image.shape[-2:]) == size:
        return image
    grid = _grid(warp, size, str(image.device))
    out = F.grid_sample(image.float(), grid, mode="bicubic", padding_mode=padding, align_corners=False)
    return out.clamp_(0, 1)  # bicubic overshoots at sharp edges


@functools.lru_cache(maxsize=8)
def _grid(warp: Warp, size: tuple[int, int], device: str) -> torch.Tensor:
    """The sampling grid of one warp; a segment's camera moves by the same step every frame, so
    most frames reuse one (making it cost as much as the resampling itself)."""
    theta = torch.tensor([[warp[:3], warp[3:]]], dtype=torch.float32, device=device)
    return F.affine_grid(theta, [1, 3, *size], align_corners=False)


def _feather(size: tuple[int, int], placement: Warp, outside: bool, device) -> torch.Tensor:
    """1 inside the box the placed frame fills, falling to 0 over a ramp at its edges; shaped
    (1, 1, H, W). `placement` is in pixels: where each pixel here lies in the placed frame.

    The box is exactly what stays in the picture until the frame placed in it is reached, so
    each edge's ramp is at most its gap to the frame's edge (outwards from it): it shrinks as
    the box grows. Inside the box (`outside` False), the ramp shows only the two frames' own
    pictures. Outside it, every pixel of the box gets the full weight, so frame 0's share follows
    the loop curve right up to the box's edges, and the ramp (frame 0's edge mirrored) leaves
    the picture before the seam. The full weight reaches SAMPLING_REACH pixels past the box: each
    move samples that far around a pixel, so the seam's move of the last frame draws frame 0's edge
    from there, and a ramp starting at the edge leaked the ride into it (a photograph's border
    seam read up to 1.3: bench/RESULTS.md, dream-loop, the stages from a photograph).
    """
    width, height = size
    a, b, c, d, e, f = placement
    box = invert(placement)
    top_left, top_right, bottom_right, bottom_left = (
        _apply(box, x, y) for x, y in ((0, 0), (width, 0), (width, height), (0, height)))
    per_x, per_y = math.hypot(a, b), math.hypot(d, e)  # the placed frame's pixels per pixel here
    along_x, along_y = (a / per_x, b / per_x), (d / per_y, e / per_y)  # its axes, here
    ramp = max(1.0, 0.06 * min(width / per_x, height / per_y))
    xs = torch.arange(width, dtype=torch.float32, device=device)[None, :] + 0.5
    ys = torch.arange(height, dtype=torch.float32, device=device)[:, None] + 0.5
    fx = _ramp(xs * along_x[0] + ys * along_x[1], -c / per_x, (width - c) / per_x,
               _gap([top_left, bottom_left], along_x, -1, size), _gap([top_right, bottom_right], along_x, 1, size),
               ramp, outside)
    fy = _ramp(xs * along_y[0] + ys * along_y[1], -f / per_y, (height - f) / per_y,
               _gap([top_left, top_right], along_y, -1, size), _gap([bottom_left, bottom_right], along_y, 1, size),
               ramp, outside)
    return (fy * fx)[None, None]


def _ramp(along: torch.Tensor, low: float, high: float, gap_low: float, gap_high: float, ramp: float,
          outside: bool) -> torch.Tensor:
    """Along one of the box's axes (`along`: each pixel's place on it, the box from `low` to
    `high`), 1 inside and a ramp at each end as wide as its gap allows (none under half a pixel:
    nothing lies beyond an edge at the frame's edge)."""
    near_low = along < (low + high) / 2
    gap = torch.where(near_low, gap_low, gap_high)
    width = torch.clamp(gap, max=ramp).clamp_min(1e-6)
    inward = torch.where(near_low, along - low, high - along)  # distance into the box, < 0 beyond it
    fall = (1 + (inward + SAMPLING_REACH) / width) if outside else inward / width
    return torch.where(gap < 0.5, 1.0, fall.clamp(0, 1))


def _gap(corners: list[tuple[float, float]], axis: tuple[float, float], sign: int, size: tuple[int, int]) -> float:
    """How far a side of the box (its two `corners`) lies from the frame's edge, looking out from
    it (along `axis` times `sign`); below 0 if it reaches beyond the frame."""
    direction = (sign * axis[0], sign * axis[1])
    reach = math.inf
    for x, y in corners:
        if not (0 <= x <= size[0] and 0 <= y <= size[1]):
            return -1.0
        for place, step, end in ((x, direction[0], size[0]), (y, direction[1], size[1])):
            if step > 0:
                reach = min(reach, (end - place) / step)
            elif step < 0:
                reach = min(reach, (0 - place) / step)
    return reach


def _apply(warp: Warp, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = warp
    return a * x + b * y + c, d * x + e * y + f
