"""How well a loop closes and how much it flickers, measured on its frames as they pass.

- `seam`: the jump from the last frame to frame 0 over the median jump between consecutive
  frames. About 1: the seam looks like any other step.
- `seam_border`, `seam_centre`: the same ratio over the frame's outer band and over its centre,
  so a seam left at the edges (where a loop is hardest to close) cannot hide in the whole.
- `flicker`: the mean change that the camera's motion does not explain, |f(i+1) - zoom(f(i))|
  in grey levels (0-255): what the model redrew on top of the ride.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from core.dream.zoom import to_float, warp, zoom_scale

BAND = 1 / 16  # the outer band's width, as a share of the shorter side (32 px at 512)
REGIONS = ("whole", "border", "centre")


class LoopFigures:
    """Fed the frames in order (`add`), then `close`d: the distances of every step and the figures."""

    def __init__(self, zoom_px: Sequence[float], vanishing_point: tuple[float, float]):
        self.zoom_px = list(zoom_px)  # zoom_px[i]: the step into frame i (the plan's)
        self.vanishing_point = vanishing_point
        self.distances: dict[str, list[float]] = {region: [] for region in REGIONS}
        self.unexplained: list[float] = []
        self._first: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._masks: dict[str, np.ndarray] = {}

    def add(self, frame: np.ndarray) -> None:
        """The next frame, (H, W, 3) uint8."""
        if self._previous is None:
            self._first = frame
            self._masks = _regions(*frame.shape[:2])
        else:
            self._step(self._previous, frame)
            into = len(self.unexplained) + 1
            self.unexplained.append(float(np.mean(np.abs(self._zoomed(self._previous, into) - frame))))
        self._previous = frame

    def close(self) -> None:
        """The seam: the step from the last frame back to frame 0."""
        self._step(self._previous, self._first)

    def figures(self) -> dict[str, float | None]:
        seams = {region: seam_figure(self.distances[region]) for region in REGIONS}
        return {
            "seam": _rounded(seams["whole"]),
            "seam_border": _rounded(seams["border"]),
            "seam_centre": _rounded(seams["centre"]),
            "flicker": _rounded(float(np.mean(self.unexplained)) if self.unexplained else None),
        }

    def _step(self, a: np.ndarray, b: np.ndarray) -> None:
        difference = np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(axis=2)
        for region in REGIONS:
            self.distances[region].append(float(difference[self._masks[region]].mean()))

    def _zoomed(self, frame: np.ndarray, into: int) -> np.ndarray:
        """`frame` moved by the camera's step into frame `into`, as the plan zooms it."""
        height, width = frame.shape[:2]
        tensor = to_float(torch.from_numpy(frame.copy()).permute(2, 0, 1))
        scale = zoom_scale((width, height), self.zoom_px[into])
        moved = warp(tensor, scale, self.vanishing_point)
        return moved[0].permute(1, 2, 0).numpy() * 255


def seam_figure(distances: Sequence[float]) -> float | None:
    """The jump at the seam (the last distance) over the median step: about 1 is seamless."""
    steps, seam = distances[:-1], distances[-1]
    median = float(np.median(steps)) if steps else 0.0
    return seam / median if median > 0 else None


def _regions(height: int, width: int) -> dict[str, np.ndarray]:
    band = max(2, round(min(height, width) * BAND))
    border = np.ones((height, width), bool)
    border[band:-band, band:-band] = False
    centre = np.zeros((height, width), bool)
    centre[height // 4: height - height // 4, width // 4: width - width // 4] = True
    return {"whole": np.ones((height, width), bool), "border": border, "centre": centre}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
