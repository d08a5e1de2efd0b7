"""core.dream.step: the redraw's input sharpened and noised (`with_detail`)."""

from __future__ import annotations

import numpy as np
import torch

from core.dream.step import Detail, with_detail


def _edge(size: int = 16) -> torch.Tensor:
    """A soft vertical edge, dark to light, (1, 3, size, size) in [0, 1]."""
    ramp = torch.clamp((torch.arange(size, dtype=torch.float32) - size / 2) / 4 + 0.5, 0.2, 0.8)
    return ramp.expand(1, 3, size, size).clone()


def _unsharp_by_hand(image: np.ndarray, amount: float) -> np.ndarray:
    """The unsharp mask pixel by pixel: a 5x5 Gaussian of sigma 1, the edges mirrored (numpy's
    "reflect", as torch's), then image + amount * (image - blurred), clipped."""
    weights = np.exp(-np.arange(-2, 3) ** 2 / 2)
    weights /= weights.sum()
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    channels, height, width = image.shape
    blurred = np.zeros_like(image)
    for c in range(channels):
        for y in range(height):
            for x in range(width):
                blurred[c, y, x] = sum(weights[i] * weights[j] * padded[c, y + i, x + j]
                                       for i in range(5) for j in range(5))
    return np.clip(image + amount * (image - blurred), 0, 1)


def test_amount_zero_leaves_the_input_as_it_is():
    image = _edge()
    assert torch.equal(with_detail(image, Detail(0.0, 0.0, 7)), image)


def test_the_unsharp_mask_against_one_written_pixel_by_pixel():
    image = _edge()
    image[0, 1, 3:6, 4:9] = 0.9  # a patch, so both directions of the blur count
    sharpened = with_detail(image, Detail(0.6, 0.0, 7))
    assert np.allclose(sharpened[0].numpy(), _unsharp_by_hand(image[0].numpy().astype(np.float64), 0.6), atol=1e-5)
    steepest = lambda picture: (picture[0, 0, 8, 1:] - picture[0, 0, 8, :-1]).abs().max()  # noqa: E731
    assert steepest(sharpened) > steepest(image)  # the edge is steeper


def test_noise_is_the_seeds_own_with_the_spread_asked_for():
    grey = torch.full((1, 3, 64, 64), 0.5)
    a, b = with_detail(grey, Detail(0.0, 0.1, 7)), with_detail(grey, Detail(0.0, 0.1, 7))
    assert torch.equal(a, b) and not torch.equal(a, with_detail(grey, Detail(0.0, 0.1, 8)))
    assert abs(float((a - grey).std()) - 0.05) < 0.005  # 0.1 on the model's -1..1 scale
