"""The Gallery tab: the newest finished renders on this server."""

from __future__ import annotations

import json

import streamlit as st

from core import settings
from core.dream.run import Manifest, list_runs
from core.dream.stage import model_name, shared_stage, stage_from_dict
from core.errors import GiroError
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
            st.code(json.dumps(shared_settings(manifest), indent=1), language="json")


def shared_settings(manifest: Manifest) -> dict:
    """How a render was made, as every session may see it: models by name, no server path, no
    session's start image."""
    model = {k: v for k, v in manifest.model.items() if k in ("id", "revision", "device", "dtype", "vae")}
    for name in ("id", "vae"):
        if isinstance(model.get(name), str):
            model[name] = model_name(model[name])
    try:
        render = shared_stage(stage_from_dict(manifest.stage, check=False)).to_dict()["render"]
    except GiroError:  # a manifest from before a field's type was checked: its table, paths left out
        render = {k: v for k, v in manifest.stage["render"].items() if k not in ("model", "vae", "first_image")}
    return {"model": model, "render": render}
