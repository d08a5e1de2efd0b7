"""A frame's broad picture and its detail: a Gaussian blur, and the split of a frame into what the
blur keeps and what it takes away.

img2img keeps a picture's broad picture and redraws its detail; mixing two pictures by those bands
(the broad picture cross-faded, the detail taken from one of them) shows one picture at a time
where a plain cross-fade shows two at once.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

DETAIL_WIDTHS = 64  # the detail: what a Gaussian of the frame's width / this many pixels takes away


def gaussian_blur(image: torch.Tensor, sigma: float | tuple[float, float], radius: int | None = None) -> torch.Tensor:
    """`image` ((B, C, H, W)) blurred by a Gaussian of `sigma` pixels (or (across, down): one per
    axis), as two 1-D passes over `radius` pixels each side (3 sigma by default), the edges mirrored.
    A pass never reaches past the image's far edge (a mirror cannot pad further): wider, the
    Gaussian is cut there, and a blur as wide as the image leaves about its mean anyway.

    Each pass is a weighted sum of the padded image's shifted slices, not a grouped convolution:
    on a CPU that was several times slower at the few taps a preview's softening takes, and built a
    kernel for each new width the first time it met it, seconds of a preview's first run."""
    across, down = sigma if isinstance(sigma, tuple) else (sigma, sigma)
    for spread, axis in ((across, -1), (down, -2)):
        if spread <= 0:
            continue
        length = image.shape[axis]
        reach = min(math.ceil(3 * spread) if radius is None else radius, length - 1)
        weights = [math.exp(-x * x / (2 * spread * spread)) for x in range(-reach, reach + 1)]
        total = sum(weights)
        weights = [weight / total for weight in weights]
        padding = (reach, reach, 0, 0) if axis == -1 else (0, 0, reach, reach)
        padded = F.pad(image, padding, mode="reflect")
        blurred = padded.narrow(axis, 0, length) * weights[0]
        for shift, weight in enumerate(weights[1:], start=1):
            blurred.add_(padded.narrow(axis, shift, length), alpha=weight)
        image = blurred
    return image


def detail(image: torch.Tensor) -> torch.Tensor:
    """What the frame holds finer than a Gaussian of its width / DETAIL_WIDTHS pixels (4 px at 256)."""
    return image - gaussian_blur(image, image.shape[-1] / DETAIL_WIDTHS)
