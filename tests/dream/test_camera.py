"""core.dream.camera: a turning, drifting, zooming camera moves every pixel where a reference
written pixel by pixel puts it; steps compose and invert; a camera eases into the next."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.dream.camera import IDENTITY, Camera, compose, in_pixels, invert, path, step_warp
from core.dream.zoom import move

SIZE = (160, 120)
VP = (0.4, 0.55)


def pattern(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A smooth known picture, defined everywhere: bicubic sampling reproduces it closely."""
    return 0.5 + 0.2 * np.sin(x / 9.0) * np.cos(y / 7.0) + 0.15 * np.sin((x + 2 * y) / 13.0)


def reference(camera: Camera) -> np.ndarray:
    """The next frame, pixel by pixel: the picture turned anticlockwise on screen by `rotate`
    degrees and magnified by the zoom about the vanishing point, after the camera drifted by `pan`."""
    width, height = SIZE
    m = (width / (width - 2 * camera.zoom_px),) * 2  # the same on both axes: the picture keeps its shape
    vx, vy = camera.vanishing_point[0] * width, camera.vanishing_point[1] * height
    t = math.radians(camera.rotate)
    out = np.zeros((height, width))
    for row in range(height):
        for column in range(width):
            # The point shown here came from where turning it back (clockwise on screen, with y
            # pointing down) and shrinking it lands, seen from the drifted camera.
            dx, dy = (column + 0.5 - vx) / m[0], (row + 0.5 - vy) / m[1]
            sx = vx + camera.pan[0] + math.cos(t) * dx - math.sin(t) * dy
            sy = vy + camera.pan[1] + math.sin(t) * dx + math.cos(t) * dy
            out[row, column] = pattern(sx, sy)
    return out


def picture() -> torch.Tensor:
    ys, xs = np.mgrid[0:SIZE[1], 0:SIZE[0]] + 0.5
    return torch.from_numpy(np.stack([pattern(xs, ys)] * 3)[None]).float()


@pytest.mark.parametrize("camera", [
    Camera(rotate=6.0, vanishing_point=VP),
    Camera(pan=(5.0, -3.5), vanishing_point=VP),
    Camera(zoom_px=2.0, rotate=-4.0, pan=(-2.0, 1.5), vanishing_point=VP),
    Camera(zoom_px=-3.0, rotate=9.5, vanishing_point=(0.5, 0.5)),
])
def test_the_camera_moves_each_pixel_where_the_reference_puts_it(camera):
    got = move(picture(), step_warp(SIZE, camera))[0, 0].numpy()
    expected = reference(camera)
    inner = (slice(24, -24), slice(24, -24))  # what the turn and drift do not take from beyond the edges
    assert np.abs(got - expected)[inner].max() < 0.01  # of a 0-1 range: a grey level or two


def test_a_positive_turn_is_anticlockwise_on_screen():
    # A point right of the vanishing point rises (y points down on screen).
    a, b, c, d, e, f = in_pixels(invert(step_warp(SIZE, Camera(rotate=10.0, vanishing_point=VP))), SIZE)
    vx, vy = VP[0] * SIZE[0], VP[1] * SIZE[1]
    x, y = a * (vx + 40) + b * vy + c, d * (vx + 40) + e * vy + f
    assert (x, y) == pytest.approx((vx + 40 * math.cos(math.radians(10)), vy - 40 * math.sin(math.radians(10))))


def _at(warp, x, y):
    a, b, c, d, e, f = warp
    return a * x + b * y + c, d * x + e * y + f


def test_steps_compose_and_invert():
    one = step_warp(SIZE, Camera(zoom_px=1.5, rotate=3.0, pan=(2.0, 0.5), vanishing_point=VP))
    two = step_warp(SIZE, Camera(zoom_px=-1.0, rotate=-7.0, pan=(0.0, -1.0)))
    point = (0.3, -0.6)
    assert _at(compose(one, two), *point) == pytest.approx(_at(one, *_at(two, *point)))
    assert _at(path([one, two, one]), *point) == pytest.approx(_at(one, *_at(two, *_at(one, *point))))
    assert compose(one, invert(one)) == pytest.approx(IDENTITY)
    assert path([]) == IDENTITY


def test_a_camera_eases_into_the_next():
    a = Camera(zoom_px=1.0, rotate=0.0, pan=(0.0, 0.0), vanishing_point=(0.5, 0.5))
    b = Camera(zoom_px=3.0, rotate=4.0, pan=(2.0, -2.0), vanishing_point=(0.3, 0.7))
    assert a.eased(b, 0.0) is a and a.eased(b, 1.0) is b
    assert a.eased(b, 0.25) == Camera(1.5, 1.0, (0.5, -0.5), (0.45, 0.55))
