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
    Gaussian is cut there, and a blur as wide as the image leaves about its mean anyway."""
    across, down = sigma if isinstance(sigma, tuple) else (sigma, sigma)
    for spread, shape, length in ((across, (1, -1), image.shape[-1]), (down, (-1, 1), image.shape[-2])):
        if spread <= 0:
            continue
        reach = min(math.ceil(3 * spread) if radius is None else radius, length - 1)
        x = torch.arange(2 * reach + 1, dtype=image.dtype, device=image.device) - reach
        kernel = torch.exp(-x * x / (2 * spread * spread))
        kernel = (kernel / kernel.sum()).repeat(image.shape[1], 1, 1, 1).view(image.shape[1], 1, *shape)
        padding = (reach, reach, 0, 0) if shape == (1, -1) else (0, 0, reach, reach)
        image = F.conv2d(F.pad(image, padding, mode="reflect"), kernel, groups=image.shape[1])
    return image


def detail(image: torch.Tensor) -> torch.Tensor:
    """What the frame holds finer than a Gaussian of its width / DETAIL_WIDTHS pixels (4 px at 256)."""
    return image - gaussian_blur(image, image.shape[-1] / DETAIL_WIDTHS)
