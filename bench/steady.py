"""A stand-in for img2img on a GPU, for the benches of what Live's watchers get."""

from __future__ import annotations

import time

import torch


class SteadyModel:
    """Stands in for img2img on a GPU: the frames come back unchanged, one every `frame_seconds`
    (the stream's own work, zoom and colour hold, counted in), as long as the host keeps up. The
    page's side of Live Dream cannot be measured on a CPU otherwise. `made[k]`: when the k-th
    frame came back (the stream's frame k: frame 0 is its start)."""

    device = "cpu"

    def __init__(self, frame_seconds: float):
        self.frame_seconds = frame_seconds
        self.made = [time.monotonic()]
        self._due = time.monotonic()

    def encode(self, prompt: str, negative_prompt: str = "") -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(1), torch.zeros(1)

    def redraw(self, images, embeds, variants, seed, stop):
        now = time.monotonic()
        self._due = max(self._due + self.frame_seconds, now)  # a late frame does not make the next one early
        time.sleep(self._due - now)
        self.made.append(time.monotonic())
        return None if stop() else images
