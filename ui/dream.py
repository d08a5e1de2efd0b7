"""Dream a Stage UI: stage editor, controls, start frame, vanishing point, render and results.

Each `*_ui` function draws one part of the page and returns what the next part needs. The page
never renders by itself: renders go to the server's queue (`core.cache.render_queue`) and the
page polls it, so moving a slider never reloads a model nor kills a render.
"""

from __future__ import annotations

import json
import math
import re
import time
import uuid
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw

from core import settings
from core.atomic import atomic_path
from core.cache import device_info, render_queue
from core.dream.plan import make_plan
from core.dream.presets import MODEL_PRESETS
from core.dream.preview import preview_stage, test_card
from core.dream.render import render
from core.dream.run import GIF, MP4, RunFolder, list_runs
from core.dream.stage import LOOP_CURVES, Stage, load_stage, parse_uploaded_stage, stage_from_dict, stage_to_toml
from core.errors import GiroError
from core.status import dream_folders
from core.images import load_image
from ui.dream_plots import motion_figure, schedule_figure

EXAMPLES = settings.ROOT / "examples"
STAGE_PRESETS = {"The Giro stage": "giro_stage.toml", "Treelined avenue loop": "avenue_loop.toml"}
MODELS = {
    "Stable Diffusion v1-4 (the original)": "default",
    "sd-turbo (fast: 4 steps, no guidance)": "fast",
    "A folder in models/": "folder",
}
SIZES = ["256x256", "384x384", "512x512", "640x384", "768x512", "512x768"]
SEGMENT_COLUMNS = ["order", "prompt", "frames", "strength", "guidance", "zoom_px"]
CANVAS_WIDTH = 384
START_TYPES = ["jpg", "jpeg", "png", "webp", "heic", "heif"]


# ---------------------------------------------------------------- state

def init_state() -> None:
    if "owner" not in st.session_state:
        # In the address, so a reload (or a phone waking up) finds its render again.
        owner = st.query_params.get("session", "")
        st.session_state.owner = owner if re.fullmatch(r"[0-9a-f]{12}", owner) else uuid.uuid4().hex[:12]
        st.query_params["session"] = st.session_state.owner
    if "dream_rows" not in st.session_state:  # after a reload: the stage of the render in flight
        job = latest_job(st.session_state.owner)
        load_into_state(job.stage if job else load_stage(EXAMPLES / STAGE_PRESETS["The Giro stage"]))
    st.session_state.setdefault("renders_started", 0)
    st.session_state.setdefault("start_image", "")
    st.session_state.setdefault("model_choice", next(iter(MODELS)))


def load_into_state(stage: Stage) -> None:
    """Put a stage into the widgets' state (only from callbacks, before widgets are drawn)."""
    r, state = stage.render, st.session_state
    state.dream_rows = [
        {"order": n + 1, "prompt": s.prompt, "frames": s.frames, "strength": s.strength,
         "guidance": s.guidance, "zoom_px": s.zoom_px}
        for n, s in enumerate(stage.segments)
    ]
    state.editor_version = state.get("editor_version", 0) + 1
    state.update(
        zoom_px=r.zoom_px, strength=r.strength, guidance=r.guidance, steps=r.steps, seed=r.seed,
        fps=r.fps, loop_frames=r.loop_frames, loop_curve=r.loop_curve,
        colour_coherence=r.colour_coherence, transition_frames=r.transition_frames,
        vp_x=r.vanishing_point[0], vp_y=r.vanishing_point[1],
        size=f"{r.width}x{r.height}",
    )
    state.start_image = r.first_image if r.first_image and Path(r.first_image).is_file() else ""


def _on_preset() -> None:
    load_into_state(load_stage(EXAMPLES / STAGE_PRESETS[st.session_state.stage_preset]))


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


def _on_model() -> None:
    choice = MODELS[st.session_state.model_choice]
    if choice == "folder":
        folders = dream_folders()
        if st.session_state.get("model_folder") not in folders:
            st.session_state.model_folder = next(iter(folders), None)
    if choice in MODEL_PRESETS:
        preset = MODEL_PRESETS[choice]
        st.session_state.update(steps=preset["steps"], strength=preset["strength"], guidance=preset["guidance"])


# ---------------------------------------------------------------- stage and controls

def stage_editor_ui() -> list[dict]:
    """The segments as an editable table: add, remove, and reorder by the `order` column."""
    left, right = st.columns([2, 1])
    left.selectbox("Preset", list(STAGE_PRESETS), key="stage_preset", on_change=_on_preset,
                   help="Loads the stage into the table and the controls")
    right.file_uploader("Import a stage (.toml)", type=["toml"], key="stage_file", on_change=_on_import)
    if st.session_state.get("import_error"):
        st.error(st.session_state.import_error)
    if st.session_state.get("import_note"):
        st.warning(st.session_state.import_note)
    table = st.data_editor(
        pd.DataFrame(st.session_state.dream_rows, columns=SEGMENT_COLUMNS),
        key=f"segments_{st.session_state.editor_version}",
        num_rows="dynamic", width="stretch", hide_index=True,
        column_config={
            "order": st.column_config.NumberColumn("#", help="change to reorder", min_value=1, step=1, width="small"),
            "prompt": st.column_config.TextColumn("prompt", width="large", required=True),
            "frames": st.column_config.NumberColumn("frames", min_value=1, step=1, required=True),
            "strength": st.column_config.NumberColumn("strength", min_value=0.01, max_value=1.0, step=0.05),
            "guidance": st.column_config.NumberColumn("guidance", min_value=0.0, max_value=30.0, step=0.5),
            "zoom_px": st.column_config.NumberColumn("zoom px", min_value=0.0, step=0.25),
        },
    )
    rows = table.sort_values("order", kind="stable", na_position="last").to_dict("records")
    return [_segment(row) for row in rows if isinstance(row.get("prompt"), str) and row["prompt"].strip()]


def _segment(row: dict) -> dict:
    segment = {"prompt": row["prompt"], "frames": _int(row.get("frames"))}
    for key in ("strength", "guidance", "zoom_px"):
        value = row.get(key)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            segment[key] = float(value)
    return segment


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def controls_ui(total_frames: int) -> dict:
    """Sliders for the render settings; returns the [render] table."""
    state = st.session_state
    st.radio("Model", list(MODELS), key="model_choice", on_change=_on_model, horizontal=True,
             format_func=model_label)
    if MODELS[state.model_choice] == "folder":
        folders = dream_folders()
        if folders:
            st.selectbox("Diffusers folder", folders, key="model_folder",
                         help=f"folders with a model_index.json in {settings.models_dir()}")
        else:
            st.caption(f"No diffusers folder (one with a model_index.json) in {settings.models_dir()} yet: "
                       f"the default model `{settings.dream_model()}` is used.")
    info = device_info()
    st.caption(f"Runs on `{info.device}` ({info.name}), {info.dtype}.")
    a, b, c, d = st.columns(4)
    a.slider("Zoom pixels per frame", 0.0, 8.0, step=0.25, key="zoom_px",
             help="trimmed from every edge before each redraw: the speed of travel")
    b.slider("Strength", 0.05, 1.0, step=0.05, key="strength", help="how much of each frame is redrawn")
    c.slider("Guidance", 0.0, 15.0, step=0.5, key="guidance", help="how closely frames follow the prompt")
    d.slider("Steps", 1, 100, key="steps", help="img2img runs int(steps x strength) of them")
    a, b, c, d = st.columns(4)
    a.number_input("Seed", 0, 2**32 - 1, key="seed")
    sizes = SIZES if state.size in SIZES else [state.size, *SIZES]  # an imported stage's own size
    b.selectbox("Size (width x height)", sizes, key="size")
    c.slider("Frames per second", 1, 30, key="fps")
    d.slider("Prompt transition (frames)", 0, 24, key="transition_frames",
             help="blend one segment's prompt into the next instead of cutting")
    a, b, c = st.columns([2, 1, 1])
    a.slider("Loop back over the last frames", 0, max(1, total_frames - 1), key="loop_frames")
    b.radio("Loop curve", LOOP_CURVES, key="loop_curve")
    c.toggle("Colour coherence", key="colour_coherence", help="hold every frame to frame 0's colours")
    width, height = (int(v) for v in state.size.split("x"))
    return {
        "model": model_id(), "width": width, "height": height, "seed": int(state.seed),
        "zoom_px": float(state.zoom_px), "strength": float(state.strength),
        "guidance": float(state.guidance), "steps": int(state.steps), "fps": int(state.fps),
        "loop_frames": min(int(state.loop_frames), max(0, total_frames - 1)),
        "loop_curve": state.loop_curve, "colour_coherence": bool(state.colour_coherence),
        "transition_frames": int(state.transition_frames),
        "vanishing_point": [float(state.vp_x), float(state.vp_y)],
        "first_image": state.start_image,
    }


def model_label(choice: str) -> str:
    """The default choice names the server's own model when GIRO_DREAM_MODEL has replaced v1-4."""
    model = settings.dream_model()
    if MODELS[choice] != "default" or model == settings.DREAM_DEFAULT_MODEL:
        return choice
    return f"{Path(model).name if Path(model).is_dir() else model} (this server's GIRO_DREAM_MODEL)"


def model_id() -> str:
    choice = MODELS[st.session_state.model_choice]
    if choice == "folder":
        name = st.session_state.get("model_folder")
        return str(settings.models_dir() / name) if name in dream_folders() else ""
    return settings.dream_model() if choice == "default" else MODEL_PRESETS[choice]["model"]


def build_stage(render_table: dict, segments: list[dict]) -> Stage | None:
    """The stage the controls describe, or None after showing the one-line reason."""
    try:
        return stage_from_dict({"render": render_table, "segment": segments})
    except GiroError as error:
        st.error(str(error), icon="⚠️")
        return None


def schedule_ui(stage: Stage) -> None:
    plans = make_plan(stage)
    st.plotly_chart(schedule_figure(plans), width="stretch", key="schedule")
    r = stage.render
    st.caption(
        f"{stage.total_frames} frames, {stage.total_frames / r.fps:.1f} s at {r.fps} fps; "
        f"loop-back over the last {r.loop_frames} frames ({r.loop_curve}); "
        f"{int(r.steps * r.strength)} denoising steps per frame."
    )
    st.download_button("Export stage (.toml)", stage_to_toml(stage), "stage.toml", "application/toml")


# ---------------------------------------------------------------- start frame and vanishing point

def start_frame_ui(stage: Stage | None) -> None:
    source = st.radio("Start frame", ["From text", "Upload a photo", "Sketch"], horizontal=True,
                      key="start_source")
    if source == "Upload a photo":
        upload = st.file_uploader("Photo", type=START_TYPES, key="start_upload")
        if upload is not None and st.session_state.get("start_upload_id") != upload.file_id:
            try:
                image = load_image(upload.getvalue(), name=upload.name)
            except GiroError as error:
                st.error(str(error))
            else:
                use_start_image(image)
                st.session_state.start_upload_id = upload.file_id
    elif source == "Sketch":
        sketch_ui()
    elif stage is not None:
        candidates_ui(stage)
    if st.session_state.start_image:
        cols = st.columns([1, 3])
        cols[0].image(st.session_state.start_image, caption="start frame")
        if cols[1].button("Start from text instead"):
            st.session_state.start_image = ""
            st.rerun()


def use_start_image(image: Image.Image) -> None:
    """Save as a PNG under the runs folder with a name of our own: uploads are data, never paths."""
    folder = settings.runs_dir() / "_starts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.png"
    with atomic_path(path) as temporary:
        image.save(temporary, format="PNG")
    st.session_state.start_image = str(path)


def sketch_ui() -> None:
    from streamlit_drawable_canvas import st_canvas

    st.caption("Draw the first frame: the road, the horizon, a few trees.")
    colour = st.color_picker("Colour", "#2e8b57", key="sketch_colour")
    result = st_canvas(stroke_width=12, stroke_color=colour, background_color="#ffffff",
                       height=CANVAS_WIDTH, width=CANVAS_WIDTH, drawing_mode="freedraw",
                       return_image_data=True, key="sketch")
    if st.button("Use this sketch") and result.image_data is not None:
        rgba = Image.fromarray(result.image_data.astype("uint8"), "RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        use_start_image(Image.alpha_composite(white, rgba).convert("RGB"))
        st.rerun()


def candidates_ui(stage: Stage) -> None:
    queue = render_queue()
    folder = settings.runs_dir() / "_starts" / st.session_state.owner
    if st.button("Generate 4 candidates", help="text-to-image from the first prompt, four seeds"):
        for old in (folder / "candidates").glob("*.png"):
            old.unlink()
        st.session_state.candidates_job = queue.submit("candidates", stage, folder, st.session_state.owner).id
    job = queue.get(st.session_state.get("candidates_job", ""))
    if job is not None and not job.finished:
        st.fragment(run_every=1.0)(_candidates_progress)(job.id)
    elif job is not None and job.status == "failed":
        st.error(job.message)
    images = sorted((folder / "candidates").glob("*.png"))
    if images:
        for column, path in zip(st.columns(len(images)), images):
            column.image(str(path))
            if column.button("Use this", key=f"use_{path.stem}"):
                use_start_image(Image.open(path).convert("RGB"))
                st.rerun()


def _candidates_progress(job_id: str) -> None:
    job = render_queue().get(job_id)
    if job is None or job.finished:
        st.rerun()
    place = render_queue().position(job)
    st.info("Drawing four candidates..." if place == 0 else f"Waiting: {place} ahead in the queue.")


def vanishing_point_ui() -> None:
    """Click on the start frame to set the zoom centre; the marker shows where it is."""
    from streamlit_drawable_canvas import st_canvas

    state = st.session_state
    width, height = (int(v) for v in state.size.split("x"))
    canvas_h = round(CANVAS_WIDTH * height / width)
    if state.start_image and Path(state.start_image).is_file():
        background = Image.open(state.start_image).convert("RGB").resize((CANVAS_WIDTH, canvas_h))
    else:
        background = test_card(CANVAS_WIDTH, canvas_h, (state.vp_x, state.vp_y))
    marked = background.copy()
    x, y = state.vp_x * CANVAS_WIDTH, state.vp_y * canvas_h
    draw = ImageDraw.Draw(marked)
    for colour, width in (("#000000", 5), ("#ffd400", 2)):  # yellow on black shows on any picture
        draw.ellipse((x - 10, y - 10, x + 10, y + 10), outline=colour, width=width)
        draw.line((x - 18, y, x + 18, y), fill=colour, width=width)
        draw.line((x, y - 18, x, y + 18), fill=colour, width=width)
    st.caption("Click where the road meets the horizon: that point stays put as you ride in.")
    result = st_canvas(background_image=marked, drawing_mode="point", point_display_radius=4,
                       stroke_width=2, stroke_color="#e4007c", fill_color="#e4007c",
                       height=canvas_h, width=CANVAS_WIDTH, key=f"vp_{state.vp_x:.4f}_{state.vp_y:.4f}")
    points = [o for o in (result.json_data or {}).get("objects", []) if str(o.get("type")).lower() == "circle"]
    if points:
        point = points[-1]
        px = point["left"] + point["radius"] + point.get("strokeWidth", 0) / 2
        py = point["top"]
        state.vp_x = round(min(max(px / CANVAS_WIDTH, 0.0), 1.0), 4)
        state.vp_y = round(min(max(py / canvas_h, 0.0), 1.0), 4)
        st.rerun()
    a, b = st.columns(2)
    a.slider("Vanishing point x", 0.0, 1.0, step=0.01, key="vp_x")
    b.slider("Vanishing point y", 0.0, 1.0, step=0.01, key="vp_y")


# ---------------------------------------------------------------- preview, render, results

def preview_ui(stage: Stage) -> None:
    if st.button("Preview motion", help="zoom and loop-mixing only, no model: a second or two"):
        folder = settings.runs_dir() / "_previews" / uuid.uuid4().hex[:12]
        with st.spinner("Previewing the motion..."):
            try:
                for _ in render(preview_stage(stage), folder):
                    pass
            except GiroError as error:
                st.error(str(error))
                return
        st.session_state.preview_dir = str(folder)
    folder = st.session_state.get("preview_dir")
    if folder and (Path(folder) / MP4).is_file():
        st.video(str(Path(folder) / MP4), loop=True, autoplay=True, muted=True)
        manifest = RunFolder(Path(folder)).manifest() or {}
        if manifest.get("seam") is not None:
            st.caption(f"Preview seam figure {manifest['seam']:.2f} (about 1: the loop has no visible jump)")


def render_ui(stage: Stage) -> None:
    state, queue = st.session_state, render_queue()
    r = stage.render
    start = "the start frame you chose" if r.first_image else "text-to-image of the first prompt"
    st.write(
        f"**{stage.total_frames} frames** at {r.width}x{r.height} with `{stage.model()}`, "
        f"from {start}; {int(r.steps * r.strength)} denoising steps per frame."
    )
    cap = settings.dream_renders_per_session()
    left = cap - state.renders_started
    if st.button("Render", type="primary", disabled=left <= 0,
                 help=f"{left} of {cap} renders left in this session"):
        slug = re.sub(r"[^a-z0-9]+", "-", stage.segments[0].prompt.lower()).strip("-")[:32]
        run_dir = settings.runs_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug}-{uuid.uuid4().hex[:4]}"
        state.job_id = queue.submit("render", stage, run_dir, state.owner).id
        state.renders_started += 1
    if left <= 0:
        st.caption(f"This session has used its {cap} renders (GIRO_DREAM_RENDERS_PER_SESSION).")
    job = queue.get(state.get("job_id", "")) or latest_job(state.owner)
    if job is not None and not job.finished:
        st.fragment(run_every=1.0)(job_progress_ui)(job.id)
    elif job is not None:
        job_result_ui(job.id)
    resume_ui()


def latest_job(owner: str):
    """This session's newest render, found again after a reload through the address."""
    mine = [job for job in render_queue().jobs() if job.owner == owner and job.kind == "render"]
    return mine[-1] if mine else None


def job_progress_ui(job_id: str) -> None:
    queue = render_queue()
    job = queue.get(job_id)
    if job is None or job.finished:
        st.rerun()  # the whole page: results replace the progress
    place = queue.position(job)
    if place:
        st.info(f"Queued: {place} render{'s' if place > 1 else ''} ahead of yours on this server.")
    progress = job.progress
    if progress is None:
        st.progress(0.0, text="Loading the model..." if place == 0 else "Waiting for the GPU...")
    else:
        done = progress.frame + 1
        st.progress(done / progress.total, text=(
            f"frame {done} of {progress.total} · {progress.seconds_per_frame:.1f} s per frame · "
            f"ETA {progress.eta_seconds / 60:.1f} min"))
        st.image(str(progress.path), width=320, caption=f"frame {progress.frame}")
    if st.button("Cancel", key=f"cancel_{job_id}"):
        queue.cancel(job_id)


def job_result_ui(job_id: str) -> None:
    job = render_queue().get(job_id)
    if job.status == "failed":
        st.error(job.message)
    elif job.status == "cancelled":
        st.warning("Cancelled. The frames so far are kept: resume below.")
    else:
        results_ui(job.run_dir, "render")


def resume_ui() -> None:
    """Renders that stopped (a reload, a closed tab, a restart) and are not running now."""
    active = render_queue().active_dirs()
    stopped = [(path, m) for path, m in list_runs(settings.runs_dir())
               if m.get("status") != "complete" and path not in active]
    if not stopped:
        return
    st.subheader("Interrupted renders")
    if st.session_state.get("resume_error"):
        st.error(st.session_state.pop("resume_error"))
    for path, manifest in stopped[:5]:
        a, b = st.columns([3, 1])
        a.write(f"`{path.name}`: {manifest['frames_done']} of {manifest['frames_total']} frames")
        b.button("Resume", key=f"resume_{path.name}", on_click=_on_resume, args=(str(path),))


def _on_resume(path: str) -> None:
    """Queue the run again and show its stage, so the page describes what is rendering."""
    try:
        stage = load_stage(Path(path) / "stage.toml")
    except GiroError as error:
        st.session_state.resume_error = str(error)
        return
    st.session_state.job_id = render_queue().submit("render", stage, Path(path), st.session_state.owner).id
    load_into_state(stage)


def results_ui(run_dir: Path, where: str) -> None:
    """The loop playing, its downloads and its motion plot; `where` keeps the widgets' keys apart."""
    manifest = RunFolder(run_dir).manifest()
    if not manifest or manifest.get("status") != "complete":
        return
    key = f"{where}_{run_dir.name}"
    # The gallery shows its loops smaller; that also keeps Streamlit's element ids apart.
    st.video(str(run_dir / MP4), loop=True, autoplay=True, muted=True,
             width="stretch" if where == "render" else 480)
    a, b, c, d = st.columns(4)
    a.download_button("GIF", (run_dir / GIF).read_bytes(), f"{run_dir.name}.gif", "image/gif",
                      key=f"gif_{key}")
    b.download_button("MP4", (run_dir / MP4).read_bytes(), f"{run_dir.name}.mp4", "video/mp4",
                      key=f"mp4_{key}")
    c.download_button("Frames (.zip)", frames_zip(run_dir), f"{run_dir.name}-frames.zip",
                      "application/zip", key=f"zip_{key}")
    d.download_button("Stage (.toml)", (run_dir / "stage.toml").read_bytes(), f"{run_dir.name}.toml",
                      "application/toml", key=f"toml_{key}")
    if manifest.get("step_distances"):
        st.plotly_chart(motion_figure(manifest["step_distances"], manifest.get("seam")),
                        width="stretch", key=f"motion_{key}")


def frames_zip(run_dir: Path) -> bytes:
    """The frames as a zip, made once per run and kept beside them."""
    path = run_dir / "frames.zip"
    if not path.is_file():
        with atomic_path(path) as temporary:
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:  # PNGs don't shrink
                for frame in sorted((run_dir / "frames").glob("0*.png")):
                    archive.write(frame, f"frames/{frame.name}")
    return path.read_bytes()


def gallery_ui() -> None:
    runs = [(p, m) for p, m in list_runs(settings.runs_dir()) if m.get("status") == "complete"]
    if not runs:
        st.caption("No finished renders yet.")
    for path, manifest in runs[:12]:
        stage = manifest["stage"]
        title = stage["segment"][0]["prompt"]
        with st.expander(f"{manifest.get('created', '')[:16]} · {title} · {manifest['frames_total']} frames"):
            results_ui(path, "gallery")
            st.code(json.dumps({"model": manifest["model"], "render": stage["render"]}, indent=1),
                    language="json")
