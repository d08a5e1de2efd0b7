import streamlit as st

from core.status import dream_status
from ui import dream
from ui.common import model_missing_ui, page_header_ui

page_header_ui(
    "Dream a Stage", "🌄", "A dream-like, seamlessly looping ride through a stage of the Giro d'Italia."
)
dream.init_state()
status = dream_status(dream.model_id() or None)
if not status.available:
    model_missing_ui(
        status, f"Rendering needs Stable Diffusion weights ({status.where}); fetch them once with:"
    )

stage_tab, start_tab, render_tab, gallery_tab = st.tabs(["Stage", "Start frame", "Render", "Gallery"])
with stage_tab:
    segments = dream.stage_editor_ui()
    render_table = dream.controls_ui(sum(s["frames"] for s in segments))
    stage = dream.build_stage(render_table, segments)
    if stage is not None:
        dream.schedule_ui(stage)
with start_tab:
    dream.start_frame_ui(stage)
    dream.vanishing_point_ui()
with render_tab:
    if stage is None:
        st.warning("Fix the stage first (see the Stage tab).")
    else:
        dream.preview_ui(stage)
        dream.render_ui(stage)
with gallery_tab:
    dream.gallery_ui()
