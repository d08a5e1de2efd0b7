"""Colour coherence: hold every frame to the palette of frame 0.

Long img2img loops drift: each pass nudges saturation and hue, and after a hundred frames the
picture burns out into red blobs. Matching each frame's LAB histograms to frame 0 stops the drift
without touching the shapes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from skimage.color import lab2rgb, rgb2lab
from skimage.exposure import match_histograms


def match_colours(image: Image.Image, reference_lab: np.ndarray) -> Image.Image:
    """`image` with the colour distribution of the reference (given in LAB, see `to_lab`)."""
    matched = match_histograms(to_lab(image), reference_lab, channel_axis=-1)
    rgb = lab2rgb(matched)
    return Image.fromarray(np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8))


def to_lab(image: Image.Image) -> np.ndarray:
    return rgb2lab(np.asarray(image, np.float32) / 255.0)
