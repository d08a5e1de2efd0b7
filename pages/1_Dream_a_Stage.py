import streamlit as st

from core.status import dream_status
from ui.common import model_missing_ui, page_header_ui

page_header_ui(
    "Dream a Stage", "🌄", "A dream-like, seamlessly looping ride through a stage of the Giro d'Italia."
)
status = dream_status()
if status.available:
    st.success(f"Stable Diffusion weights found: `{status.where}`", icon="✅")
else:
    model_missing_ui(
        status, f"This page needs Stable Diffusion weights ({status.where}); fetch them once with:"
    )
