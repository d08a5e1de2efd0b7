"""core.dream.colour: drifted colours are pulled back to frame 0's palette."""

from __future__ import annotations

import numpy as np
from PIL import Image

from core.dream.colour import match_colours, to_lab


def test_red_drift_is_pulled_back():
    rng = np.random.default_rng(0)
    reference = rng.integers(40, 200, (48, 48, 3)).astype(np.uint8)
    drifted = reference.astype(np.int16)
    drifted[..., 0] += 50  # burnt towards red
    drifted = np.clip(drifted, 0, 255).astype(np.uint8)
    matched = np.asarray(match_colours(Image.fromarray(drifted), to_lab(Image.fromarray(reference))))
    assert abs(matched[..., 0].mean() - reference[..., 0].mean()) < 6  # from about 50
    assert abs(drifted[..., 0].mean() - reference[..., 0].mean()) > 40
