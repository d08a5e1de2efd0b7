"""Giro Dreams logic: pipelines, learners, images. No Streamlit here: the UI lives in `ui/`."""
