"""The Stage tab: presets and import, the segment table, the sliders and the schedule plot."""

from __future__ import annotations


import pandas as pd
import streamlit as st

from core import settings
from core.dream.plan import make_plan
from core.dream.stage import (COLOUR_MODES, LOOP_CURVES, MAX_PROMPT_CHARS, NOISE_MODES, RANGES, Stage, shared_stage,
                              parse_uploaded_stage, stage_from_dict, stage_to_toml)
from core.errors import GiroError
from core.status import dream_folders
from ui.cache import device_info
from ui.common import as_text
from ui.dream.plots import camera_figure, camera_moves, schedule_figure
from ui.dream.point_picker import point_picker_ui
from ui.dream.start_tab import start_picture
from ui.dream.state import (MODELS, SEGMENT_COLUMNS, STAGE_PRESETS, filled, load_into_state, model_label, model_name,
                            on_model_choice, preset_stage, render_table, segment_from_row)

COLOUR_LABELS = {"off": "off", "frame0": "frame 0's", "segment": "each segment's"}
SIZES = ["256x256", "384x384", "512x512", "640x384", "768x512", "512x768"]


def stage_tab_ui() -> Stage | None:
    """The whole tab; the stage it describes, or None after saying why it is not valid."""
    segments = stage_editor_ui()
    controls_ui()
    total, window = sum(s["frames"] for s in segments), st.session_state.loop_frames
    if segments and window >= total:
        st.error(f"The loop window ({window} frames) does not fit a stage of {total} frames: set \"Loop back "
                 f"over the last frames\" under {total}, or add frames.", icon="⚠️")
        return None
    stage = build_stage(render_table(), segments)
    if stage is not None:
        schedule_ui(stage)
    return stage


def _on_preset() -> None:
    load_into_state(preset_stage(st.session_state.stage_preset))


def _on_import() -> None:
    upload = st.session_state.get("stage_file")
    if upload is None:
        return
    try:
        stage, note = parse_uploaded_stage(upload.getvalue(), name=upload.name)
    except GiroError as error:
        st.session_state.import_error, st.session_state.import_note = str(error), ""
        return
    load_into_state(stage)
    st.session_state.import_error, st.session_state.import_note = "", note


def stage_editor_ui() -> list[dict]:
    """The segments as an editable table: add, remove, and reorder by the `order` column."""
    left, right = st.columns([2, 1])
    left.selectbox("Preset", list(STAGE_PRESETS), key="stage_preset", on_change=_on_preset,
                   help="Loads the stage into the table and the controls")
    right.file_uploader("Import a stage (.toml)", type=["toml"], key="stage_file", on_change=_on_import)
    if st.session_state.get("import_error"):
        st.error(as_text(st.session_state.import_error))
    if st.session_state.get("import_note"):
        st.warning(as_text(st.session_state.import_note))
    table = st.data_editor(
        pd.DataFrame(st.session_state.dream_rows, columns=SEGMENT_COLUMNS),
        key=f"segments_{st.session_state.editor_version}",
        num_rows="dynamic", width="stretch", hide_index=True, placeholder="default",
        column_config={
            "order": st.column_config.NumberColumn("#", help="change to reorder", min_value=1, step=1, width="small"),
            # Medium: at 1280 px a large prompt column pushed "zoom px" out of sight.
            "prompt": st.column_config.TextColumn("prompt", width="medium", required=True),
            "frames": st.column_config.NumberColumn("frames", min_value=1, step=1, required=True),
            "strength": _column("strength", "strength"),
            "guidance": _column("guidance", "guidance"),
            "zoom_px": _column("zoom px", "zoom_px"),
            "negative_prompt": st.column_config.TextColumn("negative prompt", width="small",
                                                           help="overrides the stage's negative prompt"),
            "sharpen": _column("sharpen", "sharpen"),
            "add_noise": _column("add noise", "add_noise"),
            "rotate": _column("turn °", "rotate", "degrees a frame, above 0 anticlockwise"),
            "pan_x": _column("pan x", "pan", "pixels a frame, above 0 looks right"),
            "pan_y": _column("pan y", "pan", "pixels a frame, above 0 looks down"),
            "vp_x": _point_column("point x", "where the camera zooms and turns, across the frame (0-1)"),
            "vp_y": _point_column("point y", "where the camera zooms and turns, down the frame (0-1)"),
        },
    )
    state = st.session_state
    st.caption(f"A segment's empty cell takes the stage's value below: "
               f"strength {state.strength:g}, guidance {state.guidance:g}, zoom {state.zoom_px:g} px. "
               "The camera eases from one segment's to the next over the prompt transition.")
    rows = table.sort_values("order", kind="stable", na_position="last").to_dict("records")
    rows = [row for row in rows if isinstance(row.get("prompt"), str) and row["prompt"].strip()]
    aim_segment_ui(rows)
    render = render_table()
    return [segment_from_row(row, render) for row in rows]


def aim_segment_ui(rows: list[dict]) -> None:
    """A click on the start frame sets one segment's vanishing point: where the road's end lies
    once the road has turned."""
    if not rows:
        return
    state = st.session_state
    with st.expander("Aim a segment's camera: click its vanishing point"):
        names = [f"{n + 1}: {as_text(row['prompt'])[:40]}" for n, row in enumerate(rows)]
        number = st.selectbox("Segment", range(len(rows)), format_func=names.__getitem__, key="aim_segment")
        row = rows[number]
        own = [row.get(c) for c in ("vp_x", "vp_y")]
        point = tuple(float(v) if filled(v) else float(s) for v, s in zip(own, (state.vp_x, state.vp_y)))
        clicked = point_picker_ui(start_picture(point), point, f"aim_{number}")
        if clicked is not None:
            row["vp_x"], row["vp_y"] = clicked
            state.dream_rows = [{**r, "order": n + 1} for n, r in enumerate(rows)]
            state.editor_version += 1
            st.rerun()
        whose = "its own" if all(filled(v) for v in own) else "the stage's, set on the Start frame tab"
        st.caption(f"Segment {number + 1} zooms and turns about ({point[0]:.2f}, {point[1]:.2f}): {whose}. "
                   "Click on the start frame (or the test card) where its road ends.")


def controls_ui() -> None:
    """The four settings a first stage is about, then the rest one click away, grouped by what
    they are for; their values stay in the session state (see ui.dream.state)."""
    state = st.session_state
    a, b, c, d = st.columns(4)
    _slider(a, "Zoom pixels per frame", "zoom_px",
            "trimmed from the left and right edges before each redraw (the top and bottom in proportion): "
            "the speed of travel")
    _slider(b, "Strength", "strength", "how much of each frame is redrawn")
    _slider(c, "Guidance", "guidance", "how closely frames follow the prompt")
    _slider(d, "Steps", "steps", "img2img runs int(steps x strength) of them")
    with st.expander("Model, size and speed"):
        st.radio("Model", list(MODELS), key="model_choice", on_change=on_model_choice, horizontal=True,
                 format_func=model_label)
        if MODELS[state.model_choice] == "folder":
            folders = dream_folders()
            if folders:
                st.selectbox("Diffusers folder", folders, key="model_folder",
                             help="diffusers folders (with a model_index.json) in the server's models folder")
            else:
                st.caption("No diffusers folder (one with a model_index.json) in the server's models folder yet: "
                           f"the default model `{as_text(model_name(settings.dream_model()))}` is used.")
        info = device_info()
        st.caption(f"Runs on `{info.device}` ({info.name}), {info.dtype}.")
        a, b = st.columns(2)
        sizes = SIZES if state.size in SIZES else [state.size, *SIZES]  # an imported stage's own size
        a.selectbox("Size (width x height)", sizes, key="size")
        _slider(b, "Frames per second", "fps")
        a, b = st.columns(2)
        _slider(a, "Cadence: diffuse every k-th frame", "cadence",
                "the frames between are the zoom of the last diffused frame faded into the next: "
                "k times fewer model calls, smoother and less detailed")
        b.toggle("Tiny VAE (faster, slightly softer)", key="tiny_vae",
                 help=f"decode with {settings.dream_fast_vae()} instead of the model's own VAE: "
                      "about ten times less time in the decoder")
    with st.expander("The loop back to frame 0, transitions and the look"):
        a, b, c = st.columns([2, 1, 1])
        # A fixed range: a slider whose range followed the stage's length was a new widget after
        # every edit of the table's frames, and came back at 0, switching the loop off.
        a.number_input("Loop back over the last frames", 0, settings.dream_max_frames() - 1, step=1,
                       key="loop_frames", help="over these last frames frame 0 is mixed back in, so the "
                                               "video returns to its start; 0: no loop. Fewer than the stage's frames. "
                                               "Preview motion says when it is too short for how far the "
                                               "ride travels, and how many would do.")
        b.radio("Loop curve", LOOP_CURVES, key="loop_curve", help="how frame 0's share of the picture rises")
        c.toggle("Taper strength", key="strength_taper",
                 help="lower the strength through the loop window as frame 0's share rises, and the denoising "
                      "passes with it: the last frames are barely redrawn, cost less and land on frame 0")
        a, b = st.columns(2)
        _slider(a, "Prompt transition (frames)", "transition_frames",
                "blend one segment's prompt into the next instead of cutting")
        low, high, step = RANGES["seed"]
        b.number_input("Seed", low, high, step=step, key="seed")
        a, b = st.columns([2, 1])
        a.radio("Colour coherence", COLOUR_MODES, key="colour_coherence", horizontal=True,
                format_func=COLOUR_LABELS.get,
                help="each frame's colours, before it is redrawn, held to a reference's against colour drift: "
                     "frame 0's for the whole ride, or each segment's first frame's (let go through prompt "
                     "transitions, so the sea and the Dolomites keep their own palettes)")
        b.radio("Noise", NOISE_MODES, key="noise", horizontal=True,
                help="fresh noise for every frame, or one pattern for the whole render: less flicker")
        a, b = st.columns(2)
        _slider(a, "Sharpen (unsharp mask)", "sharpen",
                "each frame's input sharpened before it is redrawn, against the blur a long zoom gathers "
                "(Deforum's default: 0.1)")
        _slider(b, "Add noise", "add_noise",
                "fresh noise on each frame's input before it is redrawn: new detail to draw from "
                "(Deforum's default: 0.065)")
        st.text_input("Negative prompt: what no frame should show", key="negative_prompt", max_chars=MAX_PROMPT_CHARS,
                      placeholder="red blobs, text, watermark",
                      help="steered away from as the prompt is steered towards (with guidance above 1); "
                           "a segment's own, in the table, overrides it")
    with st.expander("The camera: turn and drift"):
        a, b, c = st.columns(3)
        _slider(a, "Turn (degrees a frame)", "rotate", "about the vanishing point; above 0 the picture turns anticlockwise")
        _slider(b, "Pan x (pixels a frame)", "pan_x", "the camera drifts sideways: above 0 it looks right")
        _slider(c, "Pan y (pixels a frame)", "pan_y", "the camera drifts up or down: above 0 it looks down")
        st.caption("Zoom pixels below 0 zoom out. A segment's own turn, pan and point (table columns) override "
                   "these; over the loop window the camera eases back to the first segment's.")


def _slider(column, label: str, key: str, help: str | None = None) -> None:
    """A slider over exactly the range check_stage accepts (core.dream.stage.RANGES); a pair's two
    sliders (pan_x, pan_y) share their field's."""
    low, high, step = RANGES[key.removesuffix("_x").removesuffix("_y")]
    column.slider(label, low, high, step=step, key=key, help=help)


def _column(label: str, name: str, help: str | None = None) -> st.column_config.NumberColumn:
    low, high, step = RANGES[name]
    return st.column_config.NumberColumn(label, min_value=low, max_value=high, step=step, help=help)


def _point_column(label: str, help: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, min_value=0.0, max_value=1.0, step=0.01, help=help)


def build_stage(render: dict, segments: list[dict]) -> Stage | None:
    """The stage the controls describe, or None after showing the one-line reason."""
    try:
        return stage_from_dict({"render": render, "segment": segments})
    except GiroError as error:
        st.error(as_text(str(error)), icon="⚠️")
        return None


def schedule_ui(stage: Stage) -> None:
    plans = make_plan(stage)
    r = stage.render
    # No toolbar: on a phone it covered the panel's title; hovering still reads every frame.
    st.plotly_chart(schedule_figure(plans, r.loop_frames), width="stretch", key="schedule",
                    config={"displayModeBar": False})
    if camera_moves(plans):
        st.plotly_chart(camera_figure(plans), width="stretch", key="camera", config={"displayModeBar": False})
    st.caption("The pink line is how much of what you see is frame 0, drawn ahead where the ride will "
               "be: it follows the loop curve, and the frame after the last is frame 0 itself. "
               "Segments are numbered as in the table; hover for their prompts.")
    diffused = sum(p.diffused for p in plans)
    passes = sum(p.passes for p in plans[1:])
    st.caption(
        f"{stage.total_frames} frames, {stage.total_frames / r.fps:.1f} s at {r.fps} fps; "
        f"loop-back over the last {r.loop_frames} frames ({r.loop_curve}); "
        f"{int(r.steps * r.strength)} denoising passes per diffused frame ({passes} in all, the loop "
        f"window's fewer); "
        f"{diffused} of {stage.total_frames} frames diffused (cadence {r.cadence})."
    )
    st.download_button("Export stage (.toml)", stage_to_toml(shared_stage(stage)), "stage.toml", "application/toml")
