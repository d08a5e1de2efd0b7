"""core.dream.colour: drifted colours are pulled back to frame 0's palette, as scikit-image would."""

from __future__ import annotations

import numpy as np
import torch
from skimage import data
from skimage.color import lab2rgb, rgb2lab
from skimage.exposure import match_histograms

from core.dream.colour import _sort, match_colours, palette, to_lab


def tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1)[None].float() / 255


def test_red_drift_is_pulled_back():
    rng = np.random.default_rng(0)
    reference = rng.integers(40, 200, (48, 48, 3)).astype(np.uint8)
    drifted = reference.astype(np.int16)
    drifted[..., 0] += 50  # burnt towards red
    drifted = np.clip(drifted, 0, 255).astype(np.uint8)
    matched = match_colours(tensor(drifted), palette(tensor(reference)))[0] * 255
    assert abs(matched[0].mean().item() - reference[..., 0].mean()) < 6  # from about 50
    assert abs(drifted[..., 0].mean() - reference[..., 0].mean()) > 40


def test_lab_is_scikit_images():
    image = data.astronaut()[::4, ::4]
    assert np.abs(to_lab(tensor(image)).permute(1, 2, 0).numpy() - rgb2lab(image / 255.0)).max() < 1e-3


def test_matching_equals_scikit_images():
    image, reference = data.astronaut()[::2, ::2], data.coffee()[:256, :256]
    expected = lab2rgb(match_histograms(rgb2lab(image / 255.0), rgb2lab(reference / 255.0), channel_axis=-1))
    got = match_colours(tensor(image), palette(tensor(reference)))[0].permute(1, 2, 0).numpy()
    assert np.abs(got - np.clip(expected, 0, 1)).max() * 255 < 0.5


def test_the_cpu_sort_orders_as_torch_sorts():
    rng = np.random.default_rng(1)
    rows = rng.normal(0, 50, (3, 5000)).astype(np.float32)
    rows[:, :400] = rows[:, 400:800]  # ties
    rows[0, 900:950], rows[1, 900:950] = 0.0, -0.0  # both zeros
    rows[2, 1000:1010] = [-np.inf, np.inf, np.finfo(np.float32).max, -np.finfo(np.float32).max,
                          np.finfo(np.float32).tiny, -np.finfo(np.float32).tiny, 1e-45, -1e-45, 0.0, -0.0]
    values = torch.from_numpy(rows)
    ordered, order = _sort(values)
    assert torch.equal(ordered, torch.sort(values, dim=1).values)
    assert torch.equal(values.gather(1, order), ordered)
    assert sorted(order[0].tolist()) == list(range(5000))  # each place once
