"""The page's state and the Stage it describes, mapped in one place from the dataclass fields.

Every render setting with a widget of its own is kept under its field's name in
`st.session_state`; the few that are drawn differently (the size box, the two sliders each of the
vanishing point and the pan, the model choice, the start frame) are mapped by hand below. A
segment's [x, y] pairs are two columns of the table each. A new field of
`RenderSettings` or `Segment` reaches the state, the table and the stage through here alone.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, get_type_hints

import streamlit as st

from core import settings
from core.dream.presets import MODEL_PRESETS
from core.dream.stage import RenderSettings, Segment, Stage, load_stage, model_name
from core.status import dream_folders, dream_status
from ui.cache import render_queue
from ui.common import as_text
from ui.dream.point_picker import set_point

EXAMPLES = settings.ROOT / "examples"
STAGE_PRESETS = {"The Giro stage": "giro_stage.toml", "Treelined avenue loop": "avenue_loop.toml"}
MODELS = {
    "Stable Diffusion v1-4 (the original)": "default",
    "sd-turbo (fast: one step a frame, tiny VAE)": "fast",
    "A folder in models/": "folder",
}
# Render fields drawn by a widget other than their own (see load_into_state and render_table).
# The VAE is a toggle: the server's tiny VAE or the model's own, never a path typed in a browser.
_MAPPED_BY_HAND = {"model", "width", "height", "vanishing_point", "pan", "first_image", "vae"}
WIDGET_FIELDS = tuple(f.name for f in fields(RenderSettings) if f.name not in _MAPPED_BY_HAND)
_RENDER_TYPES = get_type_hints(RenderSettings)
# A segment's [x, y] fields as two columns each, named as the stage's sliders' keys are.
PAIRS = {"vanishing_point": ("vp_x", "vp_y"), "pan": ("pan_x", "pan_y")}
SEGMENT_COLUMNS = ["order", *(c for f in fields(Segment) for c in PAIRS.get(f.name, (f.name,)))]
_SEGMENT_OVERRIDES = [f.name for f in fields(Segment) if f.default is None and f.name not in PAIRS]
OWNER = re.compile(r"[0-9a-f]{12}")


def init_state() -> None:
    state = st.session_state
    if "owner" not in state:
        # In the address, so a reload (or a phone waking up) finds its render again.
        owner = st.query_params.get("session", "")
        state.owner = owner if OWNER.fullmatch(owner) else uuid.uuid4().hex[:12]
        st.query_params["session"] = state.owner
    if "dream_rows" not in state:  # after a reload: the stage of the render in flight
        job = render_queue().latest(state.owner)
        load_into_state(job.stage if job else preset_stage("The Giro stage"))
    state.setdefault("start_image", "")
    state.setdefault("model_choice", next(iter(MODELS)))


def preset_stage(name: str) -> Stage:
    """A preset as written, even where it is over this server's caps (GIRO_DREAM_MAX_FRAMES): the
    Stage tab then says what to change, in one line, instead of the page failing."""
    return load_stage(EXAMPLES / STAGE_PRESETS[name], check=False)


def load_into_state(stage: Stage) -> None:
    """Put a stage into the widgets' state (only from callbacks, before widgets are drawn)."""
    r, state = stage.render, st.session_state
    state.dream_rows = [{"order": n + 1, **_row(s)} for n, s in enumerate(stage.segments)]
    state.editor_version = state.get("editor_version", 0) + 1
    state.update({name: getattr(r, name) for name in WIDGET_FIELDS})
    state.size = f"{r.width}x{r.height}"
    set_point("vp", r.vanishing_point)
    state.pan_x, state.pan_y = r.pan
    state.tiny_vae = r.vae != "auto"
    state.start_image = r.first_image if r.first_image and Path(r.first_image).is_file() else ""


def render_table() -> dict[str, Any]:
    """The [render] table the widgets describe."""
    state = st.session_state
    table = {name: _RENDER_TYPES[name](state[name]) for name in WIDGET_FIELDS}
    width, height = (int(v) for v in state.size.split("x"))
    table.update(
        model=model_id(), width=width, height=height, vae=vae_id(),
        vanishing_point=[float(state.vp_x), float(state.vp_y)], pan=[float(state.pan_x), float(state.pan_y)],
        first_image=state.start_image,
    )
    return table


def _row(segment: Segment) -> dict[str, Any]:
    """A segment as a table row: its [x, y] pairs in two columns each."""
    row = asdict(segment)
    for name, (x, y) in PAIRS.items():
        pair = row.pop(name)
        row[x], row[y] = pair if pair is not None else (None, None)
    return row


def segment_from_row(row: dict[str, Any], render: dict[str, Any]) -> dict[str, Any]:
    """A table row as a [[segment]] table: empty override cells fall back to the render's value
    (`render`: the [render] table); a pair with one cell set takes the other from it."""
    segment = {"prompt": row["prompt"], "frames": _int(row.get("frames"))}
    for name in _SEGMENT_OVERRIDES:
        value = row.get(name)
        if isinstance(value, str):  # a text override (the negative prompt); an empty cell is the stage's
            if value.strip():
                segment[name] = value
        elif filled(value):
            segment[name] = float(value)
    for name, columns in PAIRS.items():
        cells = [row.get(column) for column in columns]
        if any(filled(cell) for cell in cells):
            segment[name] = [float(cell) if filled(cell) else float(own) for cell, own in zip(cells, render[name])]
    return segment


def filled(value: Any) -> bool:
    """Whether a table cell holds a value (an empty number cell reads as None or NaN)."""
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def on_model_choice() -> None:
    choice = MODELS[st.session_state.model_choice]
    if choice == "folder":
        folders = dream_folders()
        if st.session_state.get("model_folder") not in folders:
            st.session_state.model_folder = next(iter(folders), None)
    if choice in MODEL_PRESETS:
        preset = MODEL_PRESETS[choice]
        st.session_state.update(preset.sampling(), tiny_vae=preset.vae() != "auto")


def model_id() -> str:
    """The model the page's choice names: the server's default, a preset's, or a folder in models/."""
    choice = MODELS[st.session_state.model_choice]
    if choice == "folder":
        name = st.session_state.get("model_folder")
        return str(settings.models_dir() / name) if name in dream_folders() else ""
    return MODEL_PRESETS[choice].model()


def vae_id() -> str:
    """The VAE the page's toggle names: the server's tiny VAE, or the model's own."""
    return settings.dream_fast_vae() if st.session_state.get("tiny_vae") else "auto"


def model_label(choice: str) -> str:
    """The default choice names the server's own model when GIRO_DREAM_MODEL has replaced v1-4."""
    model = settings.dream_model()
    if MODELS[choice] != "default" or model == settings.DREAM_DEFAULT_MODEL:
        return choice
    return f"{model_name(model)} (this server's GIRO_DREAM_MODEL)"


def model_here_ui(what: str, model: str, vae: str) -> bool:
    """Whether `model` (and `vae`) are on this machine; if not, a line saying that `what` needs
    them, so a button that cannot work is shown disabled with its reason, not failing after."""
    ready = dream_status(model, vae)
    if not ready.available:
        st.caption(f"{what} needs `{as_text(model_name(ready.where))}`, which is not on this machine yet "
                   "(see the top of the page).")
    return ready.available
