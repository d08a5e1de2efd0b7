"""Colour coherence: hold every frame to the palette of frame 0, in torch on the frame's device.

Long img2img loops drift: each pass nudges saturation and hue, and after a hundred frames the
picture burns out into red blobs. Matching each frame's LAB histograms to frame 0 stops the drift
without touching the shapes. Same method as scikit-image's `match_histograms` (each channel's
cumulative distribution mapped onto the reference's), without the round trip through the CPU.
"""

from __future__ import annotations

import torch

# sRGB (D65) <-> XYZ, and the D65 white point, as scikit-image uses them.
_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                            [0.212671, 0.715160, 0.072169],
                            [0.019334, 0.119193, 0.950227]])
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])


Palette = list[tuple[torch.Tensor, torch.Tensor]]  # per LAB channel: distinct values, their quantiles


def palette(reference: torch.Tensor) -> Palette:
    """The colour distribution of `reference` ((1, 3, H, W) in [0, 1]), worked out once per render."""
    return [_distribution(channel) for channel in to_lab(reference)]


def match_colours(image: torch.Tensor, reference: Palette) -> torch.Tensor:
    """`image` ((1, 3, H, W) in [0, 1]) with the reference's colour distribution, channel by channel:
    each value moves to the reference value at the same quantile, and equal values stay equal."""
    matched = []
    for channel, (ref_values, ref_quantiles) in zip(to_lab(image), reference):
        values, inverse, counts = torch.unique(channel.flatten(), return_inverse=True, return_counts=True)
        quantiles = torch.cumsum(counts, 0).float() / channel.numel()
        matched.append(_interp(quantiles, ref_quantiles, ref_values)[inverse].reshape(channel.shape))
    return _lab_to_rgb(torch.stack(matched)).unsqueeze(0)


def _distribution(channel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    values, counts = torch.unique(channel.flatten(), return_counts=True)
    return values, torch.cumsum(counts, 0).float() / channel.numel()


def to_lab(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) RGB in [0, 1] -> (3, H, W) CIE LAB, in float32."""
    rgb = image[0].float()
    linear = torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = torch.einsum("ij,jhw->ihw", _RGB_TO_XYZ.to(rgb.device), linear) / _WHITE.to(rgb.device)[:, None, None]
    f = torch.where(xyz > 0.008856, xyz.clamp_min(1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    return torch.stack([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    fy = (lab[0] + 16) / 116
    f = torch.stack([fy + lab[1] / 500, fy, (fy - lab[2] / 200).clamp_min(0)])
    xyz = torch.where(f > 0.2068966, f**3, (f - 16 / 116) / 7.787) * _WHITE.to(lab.device)[:, None, None]
    linear = torch.einsum("ij,jhw->ihw", torch.linalg.inv(_RGB_TO_XYZ).to(lab.device), xyz)
    rgb = torch.where(linear > 0.0031308, 1.055 * linear.clamp_min(0) ** (1 / 2.4) - 0.055, 12.92 * linear)
    return rgb.clamp(0, 1)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """numpy.interp: piecewise linear through (xp, fp), held flat beyond the ends."""
    right = torch.searchsorted(xp, x).clamp(1, len(xp) - 1)
    left = right - 1
    t = ((x - xp[left]) / (xp[right] - xp[left]).clamp_min(1e-12)).clamp(0, 1)
    return torch.lerp(fp[left], fp[right], t)
