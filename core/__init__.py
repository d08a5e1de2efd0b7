"""Giro Dreams logic: pipelines, learners, images. No Streamlit here except `core.cache`."""
