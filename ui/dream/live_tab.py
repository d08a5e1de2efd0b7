"""The Live tab: frames stream while the sliders move; one stream per server, other sessions watch.

The stream itself runs in `core.dream.live`; this tab steers it (every rerun hands it the
sliders' values, mapped by `ui.dream.live_state`) and shows its frames (`ui.dream.live_view`).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import streamlit as st
from PIL import Image

from core.dream.live import COMPARABLE, LIVE_RANGES, SIZES, LiveSettings, LiveStream, scaled_zoom
from core.dream.preview import test_card
from core.dream.presets import MODEL_PRESETS
from core.dream.stage import MAX_PROMPT_CHARS, RANGES, Stage, shared_stage, stage_from_dict, stage_to_toml
from core.errors import GiroError
from ui.cache import live_hall
from ui.common import as_text
from ui.dream.live_state import (COMPARE_FROM, TYPED, init_live_state, key, live_model, prompt_choices, put,
                                 settings_from_state)
from ui.dream.live_view import live_view_ui
from ui.dream.point_picker import CANVAS_WIDTH, point_picker_ui, point_sliders_ui, set_point
from ui.dream.state import MODELS, load_into_state, model_here_ui

LIVE_MODELS = {"fast": "sd-turbo (one step a frame)", "stage": "the Stage tab's model"}


def _on_live_model() -> None:
    """The fast model gets sd-turbo's recipe; the stage's model gets the stage's sampling."""
    state = st.session_state
    if state.live_model == "fast":
        put(**MODEL_PRESETS["fast"].sampling())
    else:
        put(strength=state.strength, guidance=state.guidance, steps=state.steps)


def live_tab_ui(stage: Stage | None) -> None:
    if stage is None:
        st.warning("Fix the stage first (see the Stage tab).")
        return
    state, hall = st.session_state, live_hall()
    init_live_state(stage)
    stream = hall.current()
    if stream is not None and stream.owner != state.owner:
        since = time.strftime("%H:%M", time.localtime(stream.started))
        st.info(f"Another session is steering Live Dream (since {since}): you are watching. It is "
                "yours to start when it stops.", icon="👀")
        live_view_ui(state.owner)
        return
    settings = controls_ui(stage)
    if stream is not None and settings is not None:
        stream.update(settings)
    here = model_here_ui("Live", *live_model())
    buttons_ui(stage, settings, here, stream)
    live_view_ui(state.owner, can_start=here and settings is not None)


def controls_ui(stage: Stage) -> LiveSettings | None:
    """The live sliders; the settings they describe, or None after saying why they are not valid."""
    state = st.session_state
    st.radio("Live model", list(LIVE_MODELS), key="live_model", format_func=LIVE_MODELS.get, horizontal=True,
             on_change=_on_live_model)
    choices = prompt_choices(stage)
    if state.live_prompt_choice not in choices:  # the stage changed under it
        state.live_prompt_choice = choices[0]
    st.selectbox("Prompt: a segment's, or your own", choices, key="live_prompt_choice")
    if state.live_prompt_choice == TYPED:
        st.text_input("Your prompt", key="live_prompt", placeholder="a mountain pass in the rain")
    st.text_input("Negative prompt: what no frame should show", key=key("negative_prompt"),
                  max_chars=MAX_PROMPT_CHARS, placeholder="red blobs, text, watermark",
                  help="steered away from with guidance above 1 (sd-turbo runs without guidance)")
    a, b, c = st.columns(3)
    _slider(a, "Strength", "strength")
    _slider(b, "Guidance", "guidance")
    _slider(c, "Steps", "steps")
    a, b, c = st.columns(3)
    _slider(a, "Zoom pixels per frame", "zoom_px", help="at the live size; Promote scales it to the stage's width")
    _slider(b, "Cadence", "cadence")
    c.select_slider("Size (pixels)", SIZES, key=key("size"))
    if st.toggle("Aim: click on the frame to set the vanishing point", key="live_aim"):
        aim_ui()
    a, b, c = st.columns(3)
    point_sliders_ui("live_vp", (a, b))
    c.toggle("Colour coherence", key=key("colour_coherence"), help="hold the colours to the first frame's")
    a, b = st.columns([1, 2])
    a.selectbox("A/B: compare", ["off", *COMPARABLE], key="live_compare", on_change=_on_compare,
                format_func=lambda name: COMPARABLE.get(name, "off"),
                help="two or four values of one setting side by side, drawn in one model call")
    if state.live_compare != "off":
        b.text_input(f"{COMPARABLE[state.live_compare].capitalize()}: two or four values", key="live_values")
    try:
        return settings_from_state()
    except GiroError as error:
        st.error(as_text(str(error)), icon="⚠️")
        return None


def aim_ui() -> None:
    """The latest frame (or the start frame) to click on; the stream takes the point from its
    next frame. Drawn before the sliders, which then show the point clicked."""
    state = st.session_state
    stream = live_hall().current()
    latest = stream.latest() if stream is not None else None
    start = _start_image()
    if latest is not None:
        picture = Image.fromarray(latest.image)
    elif start is not None:
        picture = Image.fromarray(start)
    else:
        picture = test_card(CANVAS_WIDTH, CANVAS_WIDTH, (state.live_vp_x, state.live_vp_y))
    clicked = point_picker_ui(picture, (float(state.live_vp_x), float(state.live_vp_y)), "live_vp")
    st.caption("The frame as it was when this opened; the stream goes on below.")
    if clicked is not None:
        set_point("live_vp", clicked)
        st.rerun()


def _slider(column, label: str, name: str, help: str | None = None) -> None:
    low, high, step = LIVE_RANGES[name]
    column.slider(label, low, high, step=step, key=key(name), help=help)


def _on_compare() -> None:
    state = st.session_state
    state.live_values = COMPARE_FROM.get(state.live_compare, "")


def buttons_ui(stage: Stage, settings: LiveSettings | None, available: bool, stream: LiveStream | None) -> None:
    """Start, or Pause/Resume and Stop of this session's `stream`; Promote."""
    state, hall = st.session_state, live_hall()
    a, b, c, d = st.columns(4)
    if stream is None:
        if a.button("Start", type="primary", disabled=settings is None or not available, key="live_start"):
            model, vae = live_model()
            try:
                with st.spinner("Loading the model..."):
                    hall.start(state.owner, model, vae, settings, _start_image())
            except GiroError as error:
                state.live_error = str(error)
            else:
                state.live_error = ""
            st.rerun()
    else:
        paused = stream.state == "paused"
        if a.button("Resume" if paused else "Pause", key="live_pause"):
            stream.resume() if paused else stream.pause()
            st.rerun()
        if b.button("Stop", key="live_stop"):
            hall.stop(state.owner)
            st.rerun()
    comparing = settings is not None and bool(settings.compare)
    c.button("Promote to the stage", key="live_promote", disabled=settings is None or comparing, on_click=_promote,
             args=(stage, settings), help="keep one of the compared values first" if comparing
             else "these settings become the stage's, for a full render")
    if state.get("live_error"):
        st.error(as_text(state.live_error))
    if state.get("live_promoted"):
        st.success(state.live_promoted)
        d.download_button("Stage (.toml)", stage_to_toml(shared_stage(stage)), "stage.toml", "application/toml",
                          key="live_toml")


def _promote(stage: Stage, settings: LiveSettings | None) -> None:
    """The live settings into the stage (a callback: before the widgets are drawn again)."""
    state = st.session_state
    if settings is None:
        return
    r = stage.render
    low, high, _ = RANGES["zoom_px"]
    render = replace(
        r, strength=settings.strength, guidance=settings.guidance, steps=settings.steps,
        zoom_px=round(min(high, max(low, scaled_zoom(settings, r.width))), 2),
        vanishing_point=settings.vanishing_point, cadence=settings.cadence,
        colour_coherence="segment" if settings.colour_coherence else "off",
        negative_prompt=settings.negative_prompt,
    )
    segments = stage.segments
    if settings.prompt not in {s.prompt for s in segments}:  # a typed prompt starts the ride
        segments = (replace(segments[0], prompt=settings.prompt), *segments[1:])
    model, vae = live_model()
    render = replace(render, model=model, vae=vae)
    try:
        promoted = stage_from_dict(replace(stage, render=render, segments=segments).to_dict())
    except GiroError as error:
        state.live_promoted, state.live_error = "", str(error)
        return
    load_into_state(promoted)
    if state.live_model == "fast":
        state.model_choice = next(label for label, choice in MODELS.items() if choice == "fast")
    state.live_promoted = (f"The stage now has these settings (strength {settings.strength:g}, guidance "
                           f"{settings.guidance:g}, steps {settings.steps}, zoom {render.zoom_px:g} px at "
                           f"{r.width} px): render it on the Render tab.")
    state.live_error = ""


def _start_image() -> np.ndarray | None:
    path = st.session_state.get("start_image")
    if not path:
        return None
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
