"""core.dream.bands: a Gaussian blur that keeps flat colour and a ramp, and a frame's detail as
what the blur takes away."""

from __future__ import annotations

import torch

from core.dream.bands import detail, gaussian_blur


def test_the_blur_keeps_flat_colour_and_spreads_a_point_as_a_gaussian():
    flat = torch.full((1, 3, 32, 48), 0.3)
    assert torch.allclose(gaussian_blur(flat, 2.0), flat)
    point = torch.zeros(1, 1, 33, 33)
    point[..., 16, 16] = 1.0
    spread = gaussian_blur(point, 2.0)[0, 0]
    assert abs(float(spread.sum()) - 1.0) < 1e-4
    ys = torch.arange(33, dtype=torch.float32)[:, None] - 16
    assert abs(float((spread * ys * ys).sum()) - 4.0) < 0.05  # its variance: sigma squared
    assert torch.equal(gaussian_blur(point, 0.0), point)


def test_detail_is_what_the_blur_takes_away():
    ramp = torch.linspace(0, 1, 128).expand(1, 3, 64, 128).contiguous()
    assert detail(ramp)[..., 8:-8, 8:-8].abs().max() < 1e-5  # a smooth picture has none
    bars = (torch.arange(128) // 2 % 2).float().expand(1, 3, 64, 128).contiguous()  # stripes 2 px wide
    assert detail(bars).abs().mean() > 0.4  # all detail: the blur (2 px at 128) greys them out


def test_a_blur_wider_than_the_image_leaves_about_its_mean():
    """A frame placed far ahead is shrunk to a few pixels and low-passed by a Gaussian wider than
    the frame itself (a long loop window): the blur is cut at the image's far edge, not refused."""
    image = torch.rand(1, 3, 8, 40, generator=torch.Generator().manual_seed(0))
    blurred = gaussian_blur(image, (90.0, 30.0))
    assert blurred.shape == image.shape
    assert float(blurred.std()) < 0.2 * float(image.std())
    assert abs(float(blurred.mean() - image.mean())) < 0.02
