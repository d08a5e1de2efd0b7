"""Small Streamlit helpers used by more than one page."""

from __future__ import annotations

import streamlit as st

from core.status import ModelStatus


def model_missing_ui(status: ModelStatus, needs: str) -> None:
    """One sentence on what the page needs, and the exact command that gets it."""
    st.info(needs, icon="📦")
    st.code(status.get_command, language="bash")


def page_header_ui(title: str, icon: str, what: str) -> None:
    st.set_page_config(page_title=f"{title} · Giro Dreams", page_icon=icon, layout="wide")
    st.title(f"{icon} {title}")
    st.write(what)
