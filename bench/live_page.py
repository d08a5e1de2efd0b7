"""The Live tab's frames as watchers see them, fed by a stream at a GPU's pace: served by
`bench/live_page_app.py` (the page and the app's routes) for `python -m bench.live --page`, not
on its own.

The stream is a real `LiveStream` (zoom, colour matching, the broadcast's one JPEG a frame) whose
model is a stand-in that hands back a frame every `GIRO_BENCH_FRAME_SECONDS`, as a GPU would
(`bench.steady`). Every tab is a watcher's session; the view is
the Live tab's own (`ui.dream.live_view.live_view_ui`).
"""

from __future__ import annotations

import os

import numpy as np
import streamlit as st
from PIL import Image

from bench.steady import SteadyModel
from core.dream.live import LiveHall, LiveSettings
from ui.dream import live_view

FRAME_SECONDS = float(os.environ["GIRO_BENCH_FRAME_SECONDS"])  # set by bench.live


@st.cache_resource
def steady_hall() -> LiveHall:
    hall = LiveHall(lambda model, vae: SteadyModel(FRAME_SECONDS), lost_seconds=3600, idle_seconds=3600)
    start = np.asarray(Image.effect_mandelbrot((256, 256), (-2, -1.5, 1, 1.5), 64).convert("RGB"))
    hall.start("bench", "stand-in", "auto", LiveSettings("a treelined avenue", size=256), start)
    return hall


live_view.live_hall = steady_hall
# `bench.live --page --before` serves this page from older trees too, whose view was a fragment.
view = live_view.live_view_fragment if hasattr(live_view, "live_view_fragment") else live_view.live_view_ui
view(owner="watcher")
