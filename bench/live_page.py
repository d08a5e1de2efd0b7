"""The Live tab's frames as watchers see them, fed by a stream at a GPU's pace: served by
`bench/live_page_app.py` (the page and the app's routes) for `python -m bench.live --page`, not
on its own.

The stream is a real `LiveStream` (zoom, colour matching, the broadcast's one JPEG a frame) whose
model is a stand-in that hands back a frame every `GIRO_BENCH_FRAME_SECONDS`, as a GPU would: the page's side
of Live Dream cannot be measured on a CPU otherwise. Every tab is a watcher's session; the view is
the Live tab's own (`ui.dream.live_view.live_view_ui`).
"""

from __future__ import annotations

import os
import time

import numpy as np
import streamlit as st
import torch
from PIL import Image

from core.dream.live import LiveHall, LiveSettings
from ui.dream import live_view

FRAME_SECONDS = float(os.environ["GIRO_BENCH_FRAME_SECONDS"])  # set by bench.live


class SteadyModel:
    """Stands in for img2img on a GPU: the frames come back unchanged, one every `FRAME_SECONDS`
    (the stream's own work, zoom and colour hold, counted in), as long as the host keeps up."""

    device = "cpu"

    def __init__(self):
        self._due = time.monotonic()

    def encode(self, prompt: str, negative_prompt: str = "") -> tuple[torch.Tensor, torch.Tensor]:
        return torch.zeros(1), torch.zeros(1)

    def redraw(self, images, embeds, variants, seed, stop):
        now = time.monotonic()
        self._due = max(self._due + FRAME_SECONDS, now)  # a late frame does not make the next one early
        time.sleep(self._due - now)
        return None if stop() else images


@st.cache_resource
def steady_hall() -> LiveHall:
    hall = LiveHall(lambda model, vae: SteadyModel(), lost_seconds=3600, idle_seconds=3600)
    start = np.asarray(Image.effect_mandelbrot((256, 256), (-2, -1.5, 1, 1.5), 64).convert("RGB"))
    hall.start("bench", "stand-in", "auto", LiveSettings("a treelined avenue", size=256), start)
    return hall


live_view.live_hall = steady_hall
# `bench.live --page --before` serves this page from older trees too, whose view was a fragment.
view = live_view.live_view_fragment if hasattr(live_view, "live_view_fragment") else live_view.live_view_ui
view(owner="watcher")
