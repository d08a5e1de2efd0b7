"""The Live tab: frames stream while the sliders move; one stream per server, other sessions watch.

The stream itself runs in `core.dream.live`; this tab steers it (every rerun hands it the
sliders' values) and shows its frames in a fragment that polls twice a second, or ten times a
second while the stream makes frames faster than that (a GPU), so the viewer sees the road move.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import streamlit as st
from PIL import Image

from core.dream.live import COMPARABLE, LiveFrame, LiveSettings, LiveStream, scaled_zoom
from core.dream.preview import test_card
from core.dream.presets import MODEL_PRESETS
from core.dream.stage import RANGES, Stage, stage_from_dict, stage_to_toml
from core.errors import GiroError
from core.status import dream_status
from ui.cache import live_hall
from ui.common import as_text
from ui.dream.point_picker import CANVAS_WIDTH, point_picker_ui
from ui.dream.state import MODELS, load_into_state, model_id, model_name, vae_id

LIVE_MODELS = {"fast": "sd-turbo (one step a frame)", "stage": "the Stage tab's model"}
SIZES = [128, 256, 384, 512]  # 128: for a CPU
TYPED = "Type a prompt..."
STRIP = 6  # frames in the history strip
THUMB, GAP = 96, 4  # its thumbnails' side and the gap between pictures side by side, in pixels
SLOW_POLL, FAST_POLL = 0.5, 0.1  # seconds between looks at the stream
# Frames a second at which the fragment polls fast, and under which it slows again: apart, so a
# stream near one rate does not switch back and forth (each switch reruns the whole page).
FAST_FROM, SLOW_UNDER = 4.0, 2.0
# Where a comparison starts: values a first look at each setting would try.
COMPARE_FROM = {"strength": "0.3, 0.5, 0.7, 0.9", "guidance": "0, 1.5, 3, 7.5", "steps": "2, 4",
                "zoom_px": "0.5, 1.5, 3, 6"}
# The live sliders' ranges: the stage's, but fewer steps and a smaller zoom at the live size.
LIVE_HIGH = {"steps": 20, "zoom_px": 8.0}


def init_live_state(stage: Stage) -> None:
    """The live sliders start at the fast preset's sampling and the stage's motion."""
    state = st.session_state
    if "live_strength" in state:
        return
    fast = MODEL_PRESETS["fast"]
    state.update(
        live_model="fast", live_strength=fast.strength, live_guidance=fast.guidance, live_steps=fast.steps,
        live_zoom_px=min(8.0, round(stage.render.zoom_px * 256 / stage.render.width * 4) / 4),
        live_cadence=1, live_colour=True, live_size=256, live_prompt_choice=stage.segments[0].prompt,
        live_prompt="", live_vp_x=stage.render.vanishing_point[0], live_vp_y=stage.render.vanishing_point[1],
        live_compare="off", live_values="",
    )


def _on_live_model() -> None:
    """The fast model gets sd-turbo's recipe; the stage's model gets the stage's sampling."""
    state = st.session_state
    if state.live_model == "fast":
        fast = MODEL_PRESETS["fast"]
        state.update(live_strength=fast.strength, live_guidance=fast.guidance, live_steps=fast.steps)
    else:
        state.update(live_strength=state.strength, live_guidance=state.guidance, live_steps=state.steps)


def live_model() -> tuple[str, str]:
    """(model, vae) of the live choice."""
    if st.session_state.live_model == "fast":
        fast = MODEL_PRESETS["fast"]
        return fast.model(), fast.vae()
    return model_id(), vae_id()


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
        _live_view_fragment(state.owner)
        return
    settings = controls_ui(stage)
    model, vae = live_model()
    ready = dream_status(model, vae)
    if stream is not None and settings is not None:
        stream.update(settings)
    buttons_ui(stage, settings, ready.available, stream)
    if not ready.available:
        st.caption(f"Live needs `{as_text(model_name(ready.where))}`, which is not on this machine yet "
                   "(see the top of the page).")
    _live_view_fragment(state.owner)


def _live_view_fragment(owner: str) -> None:
    """The frames, polled while a stream runs (see `poll_seconds`); without one, nothing polls."""
    stream = live_hall().current()
    if stream is None:
        _live_view_ui(owner)
    else:
        state = st.session_state
        state.live_poll = poll_seconds(stream.state, stream.fps, state.get("live_poll", SLOW_POLL))
        st.fragment(run_every=state.live_poll)(_live_view_ui)(owner)


def poll_seconds(stream_state: str, fps: float, now: float) -> float:
    """How often to look for a new frame, from the stream's state and frames a second and the pace
    `now`: fast while frames come faster than a slow look shows them, slow when they come slowly
    or not at all (paused, waiting for a render)."""
    if stream_state in ("paused", "waiting"):
        return SLOW_POLL
    if fps >= FAST_FROM:
        return FAST_POLL
    return SLOW_POLL if fps < SLOW_UNDER else now


def controls_ui(stage: Stage) -> LiveSettings | None:
    """The live sliders; the settings they describe, or None after saying why they are not valid."""
    state = st.session_state
    st.radio("Live model", list(LIVE_MODELS), key="live_model", format_func=LIVE_MODELS.get, horizontal=True,
             on_change=_on_live_model)
    prompts = list(dict.fromkeys(s.prompt for s in stage.segments))
    choices = prompts + [TYPED]
    if state.live_prompt_choice not in choices:  # the stage changed under it
        state.live_prompt_choice = prompts[0]
    st.selectbox("Prompt: a segment's, or your own", choices, key="live_prompt_choice")
    if state.live_prompt_choice == TYPED:
        st.text_input("Your prompt", key="live_prompt", placeholder="a mountain pass in the rain")
    a, b, c = st.columns(3)
    _slider(a, "Strength", "strength")
    _slider(b, "Guidance", "guidance")
    _slider(c, "Steps", "steps")
    a, b, c = st.columns(3)
    _slider(a, "Zoom pixels per frame", "zoom_px", help="at the live size; Promote scales it to the stage's width")
    _slider(b, "Cadence", "cadence")
    c.select_slider("Size (pixels)", SIZES, key="live_size")
    if st.toggle("Aim: click on the frame to set the vanishing point", key="live_aim"):
        aim_ui()
    a, b, c = st.columns(3)
    a.slider("Vanishing point x", 0.0, 1.0, step=0.01, key="live_vp_x")
    b.slider("Vanishing point y", 0.0, 1.0, step=0.01, key="live_vp_y")
    c.toggle("Colour coherence", key="live_colour", help="hold the colours to the first frame's")
    a, b = st.columns([1, 2])
    a.selectbox("A/B: compare", ["off", *COMPARABLE], key="live_compare", on_change=_on_compare,
                format_func=lambda name: COMPARABLE.get(name, "off"),
                help="two or four values of one setting side by side, drawn in one model call")
    if state.live_compare != "off":
        b.text_input(f"{COMPARABLE[state.live_compare].capitalize()}: two or four values", key="live_values")
    prompt = state.live_prompt if state.live_prompt_choice == TYPED else state.live_prompt_choice
    try:
        compare = "" if state.live_compare == "off" else state.live_compare
        return LiveSettings(
            prompt=prompt or "", strength=float(state.live_strength), guidance=float(state.live_guidance),
            steps=int(state.live_steps), zoom_px=float(state.live_zoom_px),
            vanishing_point=(float(state.live_vp_x), float(state.live_vp_y)), cadence=int(state.live_cadence),
            colour_coherence=bool(state.live_colour), size=int(state.live_size), seed=int(state.seed),
            compare=compare, values=compared_values(compare, state.live_values) if compare else (),
        )
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
    # Under the canvas: its floating toolbar would cover a line above it.
    st.caption("The frame as it was when this opened; the stream goes on below.")
    if clicked is not None:
        state.live_vp_x, state.live_vp_y = clicked
        st.rerun()


def _slider(column, label: str, name: str, help: str | None = None) -> None:
    low, high, step = live_range(name)
    column.slider(label, low, high, step=step, key=f"live_{name}", help=help)


def live_range(name: str) -> tuple[float, float, float]:
    """(low, high, step) of a live slider."""
    low, high, step = RANGES[name]
    return low, LIVE_HIGH.get(name, high), step


def _on_compare() -> None:
    state = st.session_state
    state.live_values = COMPARE_FROM.get(state.live_compare, "")


def compared_values(name: str, text: str) -> tuple[float, ...]:
    """The typed values of a comparison, each put on its slider's grid; GiroError in one line."""
    low, high, step = live_range(name)
    try:
        values = tuple(float(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise GiroError(f"{text!r} is not a list of numbers: type two or four, like {COMPARE_FROM[name]}") from None
    outside = [v for v in values if not low <= v <= high]
    if outside:
        raise GiroError(f"{COMPARABLE[name]} {outside[0]:g} is outside {low:g}-{high:g}")
    return tuple(round(round(v / step) * step, 4) for v in values)


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
        d.download_button("Stage (.toml)", stage_to_toml(stage), "stage.toml", "application/toml",
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


def _live_view_ui(owner: str) -> None:
    """The latest frame, what it was made with, and the last few frames."""
    if st.session_state.pop("live_rerun", False):
        st.rerun()  # a variant was kept: the sliders outside this fragment, and the stream, take it
    stream = live_hall().current()
    if stream is None:
        st.caption(as_text(live_hall().last_message) or "Not streaming: press Start.")
        return
    if stream.owner == owner:
        stream.heartbeat()
    frames = stream.frames()
    if not frames:
        st.caption("Starting: drawing the first frame...")
        return
    fps, pace = stream.fps, st.session_state.get("live_poll", SLOW_POLL)  # fps read once: each read copies the frames
    if poll_seconds(stream.state, fps, pace) != pace:
        st.rerun()  # the fragment's pace is set when the whole page runs
    frame, s = frames[-1], frames[-1].settings
    state = {"paused": "paused", "waiting": "waiting: a render has the GPU"}.get(stream.state, "")
    made = {"strength": f"strength {s.strength:g}", "guidance": f"guidance {s.guidance:g}",
            "steps": f"steps {s.steps}", "zoom_px": f"zoom {s.zoom_px:g} px"}
    if frame.variants:
        compared = COMPARABLE[s.compare]
        made[s.compare] = f"the compared {compared}"
        st.image(_side_by_side(frame.variants), width="stretch", output_format="JPEG")
        st.caption(f"Left to right, {compared} " + " · ".join(f"{v:g}" for v in s.values))
        if stream.owner == owner:
            keep_ui(frame)
    else:
        st.image(frame.image, width="stretch", output_format="JPEG")
    # A compiled GPU stream outruns the page's looks: say so rather than let the rate promise more.
    shown = f" (the page shows {1 / FAST_POLL:.0f})" if fps > 1 / FAST_POLL else ""
    st.caption(
        f"Frame {frame.index} · {fps:.1f} frames a second{shown}{' · ' + state if state else ''} · "
        f"made with {', '.join(made.values())} "
        f"about ({s.vanishing_point[0]:.2f}, {s.vanishing_point[1]:.2f}), "
        f"cadence {s.cadence}: {as_text(s.prompt)}"
    )
    strip = frames[-STRIP * 2::2][-STRIP:]  # the last seconds, every other frame
    # One image, not columns: columns stack on a phone and each thumbnail would fill the screen.
    st.image(_strip(strip), width="stretch", caption="The last seconds: " + ", ".join(
        f"frame {past.index} (strength {past.settings.strength:g})" for past in strip))


def keep_ui(frame: LiveFrame) -> None:
    """One button per variant: its value goes to the slider and the comparison ends; the stream
    goes on from that variant's picture."""
    s = frame.settings
    for column, variant in zip(st.columns(len(s.values)), s.variants()):
        value = getattr(variant, s.compare)  # typed as the setting is (steps: int)
        column.button(f"Keep {value:g}", key=f"live_keep_{value:g}", on_click=_keep, args=(s.compare, value),
                      width="stretch")


def _keep(name: str, value: float) -> None:
    state = st.session_state
    state[f"live_{name}"] = value
    state.live_compare = "off"
    state.live_rerun = True  # the sliders live outside this fragment: the whole page must see it


def _strip(frames) -> np.ndarray:
    """Thumbnails side by side, oldest first, with a small gap between them, in room for STRIP of
    them (the rest transparent), so the strip keeps its size while the first frames come in."""
    row = _side_by_side([f.image for f in frames], side=THUMB)
    strip = np.zeros((THUMB, STRIP * (THUMB + GAP) - GAP, 4), np.uint8)
    strip[:, :row.shape[1], :3], strip[:, :row.shape[1], 3] = row, 255
    return strip


def _side_by_side(pictures, side: int | None = None) -> np.ndarray:
    """Pictures in a row (shrunk to `side` px), with a small white gap between them: one image,
    which scales to a phone's width where columns would stack."""
    if side is not None:
        pictures = [np.asarray(Image.fromarray(p).resize((side, side))) for p in pictures]
    gap = np.full((pictures[0].shape[0], GAP, 3), 255, np.uint8)
    return np.hstack([part for picture in pictures for part in (picture, gap)][:-1])
