"""The camera's motion, on tensors on the pipeline's device: zoom in about a vanishing point, and
place a frame from further along the ride ahead of us.

A zoom of `zoom_px` trims that many pixels from every edge and scales the rest back to full size.
The vanishing point `[x, y]` (fractions of the frame) is the one point that stays put on screen,
as the end of the road does when you ride towards it.

Frames are (3, H, W) uint8 tensors between steps and (1, 3, H, W) floats in [0, 1] inside one:
every frame is rounded to what its PNG holds, so a resumed render continues from exactly the
pixels an uninterrupted one had.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

Scale = tuple[float, float]
# Bicubic sampling alone barely aliases below this shrink, and a low-pass first would only blur.
ANTIALIAS_BEYOND = 1.5


def zoom_scale(size: tuple[int, int], zoom_px: float) -> Scale:
    """How much one zoom step magnifies each axis."""
    width, height = size
    return width / (width - 2 * zoom_px), height / (height - 2 * zoom_px)


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


def move(current: torch.Tensor, zoom: Scale, vanishing_point: tuple[float, float]) -> torch.Tensor:
    """`current` ((1, 3, H, W) floats in [0, 1]) magnified by `zoom` about the vanishing point: the
    camera's motion alone."""
    return _resample(current, zoom, vanishing_point, tuple(current.shape[-2:]))


def mix_ahead(
    moved: torch.Tensor,
    vanishing_point: tuple[float, float],
    ahead: torch.Tensor | None,
    ahead_scale: Scale = (1.0, 1.0),
    weight: float = 0.0,
    ramp_outside: bool = False,
) -> torch.Tensor:
    """`moved` with `ahead` mixed in at `weight`, shrunk by `ahead_scale` about the vanishing point:
    the frame the camera will show when it has travelled that much further. Mixing it there (not
    full-frame) keeps the motion going instead of stalling; its box's edges are feathered so no
    frame line shows (`ramp_outside`: see `_feather`).
    """
    if ahead is None or weight <= 0:
        return moved
    _, _, height, width = moved.shape
    sx, sy = ahead_scale
    if max(sx, sy) > ANTIALIAS_BEYOND:  # shrinking far: low-pass first, or detail aliases into moire
        small = (max(1, round(height / sy)), max(1, round(width / sx)))
        ahead = F.interpolate(ahead, size=small, mode="bilinear", antialias=True, align_corners=False)
    # Mirrored beyond its edges: the feather's ramp outside the box continues frame 0's picture
    # instead of smearing its edge pixels into streaks.
    placed = _resample(ahead, (1 / sx, 1 / sy), vanishing_point, (height, width), padding="reflection")
    box_w, box_h = width / sx, height / sy
    left = vanishing_point[0] * (width - box_w)
    top = vanishing_point[1] * (height - box_h)
    mask = weight * _feather(width, height, (left, top, left + box_w, top + box_h), ramp_outside, moved.device)
    return torch.lerp(moved, placed, mask)


def _resample(image: torch.Tensor, scale: Scale, vanishing_point: tuple[float, float],
              size: tuple[int, int], padding: str = "border") -> torch.Tensor:
    """`image` magnified by `scale` (below 1: shrunk) about the vanishing point, at `size` (H, W).

    In grid_sample's [-1, 1] coordinates a zoom by m about c reads u / m + c (1 - 1 / m); those
    coordinates do not depend on the input's resolution, so a pre-shrunk input maps the same.
    """
    if scale == (1.0, 1.0) and tuple(image.shape[-2:]) == size:
        return image
    grid = _grid(scale, vanishing_point, size, str(image.device))
    out = F.grid_sample(image.float(), grid, mode="bicubic", padding_mode=padding, align_corners=False)
    return out.clamp_(0, 1)  # bicubic overshoots at sharp edges


@functools.lru_cache(maxsize=8)
def _grid(scale: Scale, vanishing_point: tuple[float, float], size: tuple[int, int], device: str) -> torch.Tensor:
    """The sampling grid of one zoom; a segment zooms by the same amount every frame, so most
    frames reuse one (making it cost as much as the resampling itself)."""
    cx, cy = 2 * vanishing_point[0] - 1, 2 * vanishing_point[1] - 1
    mx, my = scale
    theta = torch.tensor(
        [[[1 / mx, 0.0, cx * (1 - 1 / mx)], [0.0, 1 / my, cy * (1 - 1 / my)]]],
        dtype=torch.float32, device=device,
    )
    return F.affine_grid(theta, [1, 3, *size], align_corners=False)


def _feather(width: int, height: int, box: tuple[float, float, float, float], outside: bool,
             device) -> torch.Tensor:
    """1 inside `box`, falling to 0 over a ramp at its edges; shaped (1, 1, H, W).

    The box is exactly what stays in the picture until the frame placed in it is reached, so
    each edge's ramp is at most its gap to the frame's edge: it shrinks as the box grows. Inside
    the box (`outside` False), the ramp shows only the two frames' own pictures. Outside it, every
    pixel of the box gets the full weight, so frame 0's share follows the loop curve right up to
    the box's edges, and the ramp (frame 0's edge mirrored) leaves the picture before the seam.
    """
    left, top, right, bottom = box
    ramp = max(1.0, 0.06 * min(right - left, bottom - top))
    fx = _ramp(width, left, right, ramp, outside, device)
    fy = _ramp(height, top, bottom, ramp, outside, device)
    return (fy[:, None] * fx[None, :])[None, None]


def _ramp(size: int, low: float, high: float, ramp: float, outside: bool, device) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32, device=device) + 0.5
    near_low = coords < (low + high) / 2
    gap = torch.where(near_low, torch.tensor(low, device=device), torch.tensor(size - high, device=device))
    # An edge at the frame's edge (a gap under half a pixel) needs no ramp: nothing lies beyond it.
    width = torch.clamp(gap, max=ramp).clamp_min(1e-6)
    inward = torch.where(near_low, coords - low, high - coords)  # distance into the box, < 0 beyond it
    fall = (1 + inward / width) if outside else inward / width
    return torch.where(gap < 0.5, 1.0, fall.clamp(0, 1))
