"""core.dream.zoom: the vanishing point stays put, everything else rushes outwards."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.dream.zoom import mix_ahead, zoom_in, zoom_scale


def dot(size, centre, radius=3.0) -> Image.Image:
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    blob = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * radius**2))
    return Image.fromarray((np.stack([blob] * 3, -1) * 255).astype(np.uint8))


def centroid(image: Image.Image) -> tuple[float, float]:
    a = np.asarray(image, np.float64)[..., 0]
    ys, xs = np.mgrid[0 : a.shape[0], 0 : a.shape[1]] + 0.5
    return float((xs * a).sum() / a.sum()), float((ys * a).sum() / a.sum())


SIZE = (160, 120)
VP = (0.25, 0.7)  # off centre, below the middle, like the end of a road
VP_PX = (VP[0] * SIZE[0], VP[1] * SIZE[1])


def test_vanishing_point_stays_fixed():
    moved = centroid(zoom_in(dot(SIZE, VP_PX), 4.0, VP))
    assert moved == pytest.approx(VP_PX, abs=0.3)


def test_other_points_move_away_by_the_zoom_scale():
    start = (VP_PX[0] + 40, VP_PX[1] - 30)
    sx, sy = zoom_scale(SIZE, 2.5)  # fractional zoom works
    x, y = centroid(zoom_in(dot(SIZE, start), 2.5, VP))
    assert x == pytest.approx(VP_PX[0] + 40 * sx, abs=0.4)
    assert y == pytest.approx(VP_PX[1] - 30 * sy, abs=0.4)


def test_zoom_scale_trims_each_edge():
    assert zoom_scale((512, 256), 2) == (512 / 508, 256 / 252)


def test_zero_zoom_is_identity():
    image = dot(SIZE, (30, 40))
    assert np.array_equal(np.asarray(zoom_in(image, 0, VP)), np.asarray(image))


def test_mix_ahead_places_the_first_frame_shrunk_about_the_vanishing_point():
    first = dot(SIZE, (VP_PX[0] + 40, VP_PX[1]))
    black = Image.new("RGB", SIZE)
    mixed = mix_ahead(black, first, (2.0, 2.0), VP, 1.0)
    x, y = centroid(mixed)
    assert x == pytest.approx(VP_PX[0] + 20, abs=0.5) and y == pytest.approx(VP_PX[1], abs=0.5)


def test_mix_ahead_weight():
    grey, white = Image.new("RGB", SIZE, (100,) * 3), Image.new("RGB", SIZE, (200,) * 3)
    assert np.array_equal(np.asarray(mix_ahead(grey, white, (1.0, 1.0), VP, 0.0)), np.asarray(grey))
    half = np.asarray(mix_ahead(grey, white, (1.0, 1.0), VP, 0.5))
    assert np.all(half == 150)  # a full-frame box has no feathered edge
    outside = np.asarray(mix_ahead(grey, white, (4.0, 4.0), VP, 1.0))
    assert outside[0, -1, 0] == 100 and outside[round(VP_PX[1]), round(VP_PX[0]), 0] == 200
