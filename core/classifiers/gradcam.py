"""Grad-CAM: where a convolutional learner looked to decide (Selvaraju et al., 2017).

The class score's gradient with respect to the last convolutional feature map, averaged per
channel, weights that map; the positive part, upsampled, is the heat map.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image


def grad_cam(model: torch.nn.Module, body: torch.nn.Module, batch: torch.Tensor, class_index: int) -> np.ndarray:
    """A heat map in [0, 1] at the input's resolution for one image (`batch` of size 1)."""
    saved: dict[str, torch.Tensor] = {}

    def keep(module, inputs, output):
        output.retain_grad()
        saved["features"] = output

    handle = body.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            scores = model(batch.clone().requires_grad_(True))
            scores[0, class_index].backward()
    finally:
        handle.remove()
    features = saved["features"]
    weights = features.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * features).sum(dim=1, keepdim=True)).detach()
    cam = torch.nn.functional.interpolate(cam, size=batch.shape[-2:], mode="bilinear", align_corners=False)
    cam = cam[0, 0].cpu().numpy()
    return cam / cam.max() if cam.max() > 0 else cam


def overlay(image: Image.Image, heat: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """The heat map in colour over the image as the model saw it."""
    coloured = (colormaps["jet"](heat)[..., :3] * 255).astype(np.uint8)
    heat_image = Image.fromarray(coloured).resize(image.size, Image.Resampling.BILINEAR)
    return Image.blend(image.convert("RGB"), heat_image, alpha)
