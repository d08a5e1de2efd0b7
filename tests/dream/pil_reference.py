"""The frame motion as the PIL code before the tensor path drew it: the reference the tensor path
must match (LANCZOS zoom, bicubic placement of the frame ahead, feathered box)."""

from __future__ import annotations

import numpy as np
from PIL import Image

RESAMPLE = Image.Resampling.LANCZOS


def zoom_in(image: Image.Image, zoom_px: float, vanishing_point: tuple[float, float]) -> Image.Image:
    """Trim `zoom_px` from the left and right edges and as much in proportion from the top and
    bottom (the picture keeps its shape), and scale back, fixing the vanishing point."""
    if zoom_px == 0:
        return image.copy()
    width, height = image.size
    trim_x, trim_y = 2 * zoom_px, 2 * zoom_px * height / width
    # The point p = v * size stays fixed: left = p - p / scale = v * trim.
    left = vanishing_point[0] * trim_x
    top = vanishing_point[1] * trim_y
    box = (left, top, left + width - trim_x, top + height - trim_y)
    return image.resize((width, height), RESAMPLE, box=box)


def mix_ahead(
    current: Image.Image,
    first: Image.Image,
    scale: tuple[float, float],
    vanishing_point: tuple[float, float],
    weight: float,
) -> Image.Image:
    """Mix the first frame into `current`, drawn as far ahead as the ride still has to go.

    The first frame, shrunk by `scale` about the vanishing point, is where the camera will be
    when the video wraps around; mixing it there (not full-frame) keeps the motion going
    through the seam instead of stalling. Its edges are feathered so no frame line shows.
    """
    if weight <= 0:
        return current.copy()
    width, height = current.size
    sx, sy = scale
    box_w, box_h = width / sx, height / sy
    left = vanishing_point[0] * (width - box_w)
    top = vanishing_point[1] * (height - box_h)
    # Resample the first frame onto the whole canvas: pixel (x, y) shows first-frame point
    # ((x - left) * sx, (y - top) * sy); outside the box there is nothing to show.
    ahead = first.transform(
        (width, height), Image.Transform.AFFINE,
        (sx, 0, -left * sx, 0, sy, -top * sy), resample=Image.Resampling.BICUBIC,
    )
    mask = weight * _feather(width, height, (left, top, left + box_w, top + box_h))
    mixed = np.asarray(current, np.float32) * (1 - mask) + np.asarray(ahead, np.float32) * mask
    return Image.fromarray(np.clip(mixed + 0.5, 0, 255).astype(np.uint8))


def _feather(width: int, height: int, box: tuple[float, float, float, float]) -> np.ndarray:
    """1 inside `box`, falling to 0 over a ramp at its edges; shaped (height, width, 1)."""
    left, top, right, bottom = box
    ramp = max(2.0, 0.06 * min(right - left, bottom - top))
    fx = _ramp(np.arange(width) + 0.5, left, right, width, ramp)
    fy = _ramp(np.arange(height) + 0.5, top, bottom, height, ramp)
    return (fy[:, None] * fx[None, :])[..., None].astype(np.float32)


def _ramp(coords: np.ndarray, low: float, high: float, size: int, ramp: float) -> np.ndarray:
    # An edge of the box that reaches the frame's edge needs no ramp: nothing lies beyond it.
    nothing = np.full_like(coords, np.inf, dtype=np.float64)
    to_low = coords - low if low > 0.5 else nothing
    to_high = high - coords if high < size - 0.5 else nothing
    return np.clip(np.minimum(to_low, to_high) / ramp, 0, 1)
