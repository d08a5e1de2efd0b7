"""Colour coherence: hold every frame to the palette of frame 0, in torch on the frame's device.

Long img2img loops drift: each pass nudges saturation and hue, and after a hundred frames the
picture burns out into red blobs. Matching each frame's LAB histograms to frame 0 stops the drift
without touching the shapes. Same method as scikit-image's `match_histograms` (each channel's
cumulative distribution mapped onto the reference's), without the round trip through the CPU.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

# sRGB (D65) <-> XYZ, and the D65 white point, as scikit-image uses them.
_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                            [0.212671, 0.715160, 0.072169],
                            [0.019334, 0.119193, 0.950227]])
_WHITE = torch.tensor([0.95047, 1.0, 1.08883])
# L, a and b are linear in f(X), f(Y), f(Z): L = 116 f(Y) - 16, a = 500 (f(X) - f(Y)), b = 200 (f(Y) - f(Z)).
_F_TO_LAB = torch.tensor([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
_LAB_OFFSET = torch.tensor([[-16.0], [0.0], [0.0]])


@functools.lru_cache(maxsize=4)
def _constants(device: torch.device) -> tuple[torch.Tensor, ...]:
    """RGB -> XYZ relative to the white point, f(XYZ) -> LAB, and both back, on `device`: copied
    there once, not per frame. Each linear step is one matrix product over the frame."""
    to_xyz = _RGB_TO_XYZ / _WHITE[:, None]
    from_lab = torch.linalg.inv(_F_TO_LAB)
    return tuple(m.to(device) for m in (to_xyz, torch.linalg.inv(to_xyz), _F_TO_LAB, _LAB_OFFSET,
                                        from_lab, -from_lab @ _LAB_OFFSET))


class Palette:
    """The colour distribution of a reference frame, worked out once per render: per LAB channel,
    its values sorted and each one's quantile (the share of values at or below it)."""

    def __init__(self, reference: torch.Tensor):
        channels = to_lab(reference).flatten(1)
        order, counts = _order_with_counts(channels)
        self._values = channels.gather(1, order)
        self._quantiles = counts.float() / channels.shape[1]
        self._tables: dict[int, torch.Tensor] = {}

    def table(self, pixels: int) -> torch.Tensor:
        """(3, pixels + 1): for an image of `pixels` pixels, the reference value at the quantile of
        a value with k values at or below it, k = 0..pixels. Made once per image size."""
        if pixels not in self._tables:
            quantiles = torch.arange(pixels + 1, device=self._values.device).float() / pixels
            self._tables[pixels] = torch.stack([_interp(quantiles, q, v) for q, v in zip(self._quantiles, self._values)])
        return self._tables[pixels]


def palette(reference: torch.Tensor) -> Palette:
    """The colour distribution of `reference` ((1, 3, H, W) in [0, 1])."""
    return Palette(reference)


def match_colours(image: torch.Tensor, reference: Palette) -> torch.Tensor:
    """`image` ((1, 3, H, W) in [0, 1]) with the reference's colour distribution, channel by channel:
    each value moves to the reference value at the same quantile, and equal values stay equal.

    Every shape is fixed by the image's size (no `torch.unique`, whose size depends on the data
    and makes a GPU wait): a value's quantile is found from its place in the sorted channel."""
    channels = to_lab(image).flatten(1)
    order, counts = _order_with_counts(channels)
    matched = torch.empty_like(channels).scatter_(1, order, reference.table(channels.shape[1]).gather(1, counts))
    return _lab_to_rgb(matched.view(3, *image.shape[-2:])).unsqueeze(0)


def _order_with_counts(channels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per channel (a row of `channels`), its sorting order, and for each place in it how many
    values are at or below the value there: one past the end of its run of equal values."""
    ordered, order = _sort(channels)
    count = channels.shape[1]
    place = torch.arange(count, device=channels.device).expand_as(channels)
    run_ends = torch.where(ordered[:, 1:] != ordered[:, :-1], place[:, :-1], count - 1)
    run_ends = torch.cat([run_ends, place[:, -1:]], 1)
    # The next run end at or after each place: a running minimum from the right.
    return order, run_ends.flip(1).cummin(1).values.flip(1) + 1


def _sort(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row of `values` (float32) sorted, and the order that sorts it: any order of equal values
    does, since equal values are mapped alike.

    On the CPU, a radix sort in two passes: each value's bits, made to order as the floats do, are
    ordered by their low 16 bits, then, stably, by their high 16 (numpy's stable sort of 16-bit
    integers is a radix sort). Its time grows with the pixels alone and does not hang on the
    machine's comparison sort: numpy's sort of 64-bit keys, used here before, ran 4.5 times slower
    with AVX-512 than without it on one AMD EPYC (1.35 ms for 3 x 16k values against 0.30 ms), so
    the render loop's host time changed from machine to machine."""
    if values.device.type != "cpu":
        return torch.sort(values, dim=1)
    rows = values.numpy()
    keys = _ordered_bits(rows.view(np.int32)).view(np.uint32) ^ np.uint32(1 << 31)  # signed order to unsigned
    low, high = keys.astype(np.uint16), (keys >> 16).astype(np.uint16)
    ordered, order = np.empty_like(rows), np.empty(rows.shape, np.int64)
    # Row by row: `take` on a row is a third of `take_along_axis`'s time on all three.
    for row in range(rows.shape[0]):
        by_low = np.argsort(low[row], kind="stable")
        np.take(by_low, np.argsort(high[row].take(by_low), kind="stable"), out=order[row])
        np.take(rows[row], order[row], out=ordered[row])
    return torch.from_numpy(ordered), torch.from_numpy(order)


def _ordered_bits(bits: np.ndarray) -> np.ndarray:
    """float32 bits (as int32) -> int32s in the floats' order: a negative float's bits count the
    wrong way, so all but the sign are flipped."""
    return bits ^ ((bits >> 31) & 0x7FFFFFFF)


def to_lab(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) RGB in [0, 1] -> (3, H, W) CIE LAB, in float32. Powers are taken as exp(p log x),
    a third of pow's time on the CPU, and the white point is folded into the matrix."""
    rgb = image[0].float()
    to_xyz, _, f_to_lab, lab_offset, _, _ = _constants(rgb.device)
    linear = torch.where(rgb > 0.04045, torch.exp(torch.log((rgb + 0.055) / 1.055) * 2.4), rgb / 12.92)
    xyz = to_xyz.mm(linear.view(3, -1))
    f = torch.where(xyz > 0.008856, torch.exp(torch.log(xyz.clamp_min(1e-12)) / 3), 7.787 * xyz + 16 / 116)
    return torch.addmm(lab_offset, f_to_lab, f).view_as(rgb)


def _lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    _, from_xyz, _, _, from_lab, f_offset = _constants(lab.device)
    f = torch.addmm(f_offset, from_lab, lab.view(3, -1))
    f[2].clamp_min_(0)
    xyz = torch.where(f > 0.2068966, f * f * f, (f - 16 / 116) / 7.787)
    linear = from_xyz.mm(xyz)
    rgb = torch.where(linear > 0.0031308, 1.055 * torch.exp(torch.log(linear.clamp_min(1e-12)) / 2.4) - 0.055,
                      12.92 * linear)
    return rgb.clamp(0, 1).view_as(lab)


def _interp(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """numpy.interp: piecewise linear through (xp, fp), held flat beyond the ends."""
    right = torch.searchsorted(xp, x).clamp(1, len(xp) - 1)
    left = right - 1
    t = ((x - xp[left]) / (xp[right] - xp[left]).clamp_min(1e-12)).clamp(0, 1)
    return torch.lerp(fp[left], fp[right], t)
