"""The camera's path: where each pixel of the next frame lies in this one, as an affine map.

A frame's camera is its zoom (`zoom_px` trimmed from the left and right edges, and from the top and
bottom in proportion, so the picture keeps its shape; negative zooms out), its turn
(`rotate`, degrees a frame, positive turns the picture anticlockwise on screen), its drift (`pan`,
[x, y] pixels a frame, positive looks right and down) and the point it zooms and turns about
(`vanishing_point`, fractions of the frame). One step of it is a `Warp`: the 2x3 matrix that
`grid_sample` reads, in its [-1, 1] coordinates, taking a pixel of the next frame to where it is
found in this one. Steps compose into one warp, so however many frames lie between two pictures
(cadence, the loop's frame 0 ahead), the picture is resampled once.

Worked in float64 numbers on the host: a plan's warps are known before any model runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Warp = tuple[float, float, float, float, float, float]  # (a, b, c, d, e, f): x' = a x + b y + c, y' = d x + e y + f
IDENTITY: Warp = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True)
class Camera:
    zoom_px: float = 0.0
    rotate: float = 0.0
    pan: tuple[float, float] = (0.0, 0.0)
    vanishing_point: tuple[float, float] = (0.5, 0.5)

    def eased(self, other: Camera, t: float) -> Camera:
        """`t` of the way from this camera to `other` (0: this one, 1: the other)."""
        if t <= 0:
            return self
        if t >= 1:
            return other
        return Camera(_lerp(self.zoom_px, other.zoom_px, t), _lerp(self.rotate, other.rotate, t),
                      _lerp2(self.pan, other.pan, t), _lerp2(self.vanishing_point, other.vanishing_point, t))


def step_warp(size: tuple[int, int], camera: Camera) -> Warp:
    """Where each pixel of the next frame lies in this one, for a frame of `size` (width, height).

    The picture is magnified by m about the vanishing point c and turned, the camera drifted by
    `pan`: a point p of this frame shows at c + m R (p - c - pan) in the next (R turning it
    anticlockwise on screen), so the next frame's pixel u is found at c + pan + R^-1 (u - c) / m.
    The turn is worked in pixels: on a frame that is not square, [-1, 1] stretches one axis more.

    m is the same on both axes, as a camera flying forward magnifies, so a frame that is not square
    keeps its shape: trimming `zoom_px` from every edge magnified its shorter side more each frame
    and stretched the picture along it (a 160x64 ride turned to streaks within a hundred frames,
    from which its loop window could not bring frame 0 back without a jump).
    """
    width, height = size
    m = width / (width - 2 * camera.zoom_px)
    pan = (2 * camera.pan[0] / width, 2 * camera.pan[1] / height)
    if camera.rotate == 0:  # as the zoom alone always wrote it, so square stages draw the same frames
        a, _, c, _, e, f = zoom_about((m, m), camera.vanishing_point)
        return (a, 0.0, c + pan[0], 0.0, e, f + pan[1])
    cx, cy = 2 * camera.vanishing_point[0] - 1, 2 * camera.vanishing_point[1] - 1
    angle = math.radians(camera.rotate)
    cos, sin = math.cos(angle), math.sin(angle)
    # R^-1 (anticlockwise on screen, where y points down, is [[cos, sin], [-sin, cos]]) after
    # 1 / m, in pixels, then in [-1, 1] units.
    a, b = cos / m, -sin / m * height / width
    d, e = sin / m * width / height, cos / m
    return (a, b, cx + pan[0] - (a * cx + b * cy), d, e, cy + pan[1] - (d * cx + e * cy))


def zoom_about(scale: tuple[float, float], vanishing_point: tuple[float, float]) -> Warp:
    """A zoom alone: the picture magnified by `scale` (x, y; below 1 shrunk) about the point."""
    (mx, my), cx, cy = scale, 2 * vanishing_point[0] - 1, 2 * vanishing_point[1] - 1
    return (1 / mx, 0.0, cx * (1 - 1 / mx), 0.0, 1 / my, cy * (1 - 1 / my))


def compose(outer: Warp, inner: Warp) -> Warp:
    """The warp that applies `inner`, then `outer`, to a pixel: outer(inner(u))."""
    a1, b1, c1, d1, e1, f1 = outer
    a2, b2, c2, d2, e2, f2 = inner
    return (a1 * a2 + b1 * d2, a1 * b2 + b1 * e2, a1 * c2 + b1 * f2 + c1,
            d1 * a2 + e1 * d2, d1 * b2 + e1 * e2, d1 * c2 + e1 * f2 + f1)


def invert(warp: Warp) -> Warp:
    a, b, c, d, e, f = warp
    det = a * e - b * d
    ia, ib, id_, ie = e / det, -b / det, -d / det, a / det
    return (ia, ib, -(ia * c + ib * f), id_, ie, -(id_ * c + ie * f))


def path(warps: list[Warp]) -> Warp:
    """The steps' warps one after the other (`warps[0]` first): where a pixel of the frame after
    the last step lies in the frame before the first."""
    total = IDENTITY
    for warp in warps:
        total = compose(total, warp)
    return total


def in_pixels(warp: Warp, size: tuple[int, int]) -> Warp:
    """The same warp between pixel coordinates (x from 0 to width, y from 0 to height)."""
    width, height = size
    a, b, c, d, e, f = warp
    # x = 2 X / width - 1 and y = 2 Y / height - 1 on both sides of x' = a x + b y + c (and y').
    return (a, b * width / height, (c + 1 - a - b) * width / 2,
            d * height / width, e, (f + 1 - d - e) * height / 2)


def _lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def _lerp2(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return (_lerp(a[0], b[0], t), _lerp(a[1], b[1], t))
