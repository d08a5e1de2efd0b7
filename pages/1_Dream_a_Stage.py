import streamlit as st

from core.pages import DREAM
from core.status import dream_status
from ui.common import page_header_ui
from ui.dream.gallery_tab import gallery_tab_ui
from ui.dream.live_tab import live_tab_ui
from ui.dream.render_tab import render_tab_ui
from ui.dream.stage_tab import stage_tab_ui
from ui.dream.start_tab import start_tab_ui
from ui.dream.state import init_state, model_id, vae_id
from ui.setup import model_missing_ui

page_header_ui(DREAM.title, DREAM.icon, DREAM.summary)
init_state()
status = dream_status(model_id() or None, vae_id())
if not status.available:
    model_missing_ui(
        status, "Rendering needs model weights that this machine does not have yet. "
        "The motion preview works without them."
    )

stage_tab, start_tab, render_tab, live_tab, gallery_tab = st.tabs(["Stage", "Start frame", "Render", "Live", "Gallery"])
with stage_tab:
    stage = stage_tab_ui()
with start_tab:
    start_tab_ui(stage)
with render_tab:
    render_tab_ui(stage)
with live_tab:
    live_tab_ui(stage)
with gallery_tab:
    gallery_tab_ui()
