"""The Gallery tab: the newest finished renders on this server."""

from __future__ import annotations

import json

import streamlit as st

from core import settings
from core.dream.run import list_runs
from ui.common import as_text
from ui.dream.results import results_ui

SHOWN = 12


def gallery_tab_ui() -> None:
    runs = [(path, m) for path, m in list_runs(settings.runs_dir()) if m.complete]
    if not runs:
        st.caption("No finished renders yet.")
    for path, manifest in runs[:SHOWN]:
        with st.expander(f"{manifest.created[:16]} · {as_text(manifest.title)} · {manifest.frames_total} frames"):
            results_ui(path, "gallery")
            st.code(json.dumps({"model": manifest.model, "render": manifest.stage["render"]}, indent=1),
                    language="json")
