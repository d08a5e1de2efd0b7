"""The Start frame tab: frame 0 from text candidates, an upload or a sketch; the vanishing point."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from PIL import Image

from core.dream.preview import test_card
from core.dream.scratch import candidate_frames, candidates_dir, clear_candidates, save_start_frame
from core.dream.stage import Stage
from core.errors import GiroError
from core.images import EXTENSIONS, load_image
from core.settings import START_FRAME_MAX_SIDE
from ui.cache import render_queue
from ui.common import as_text
from ui.dream.point_picker import CANVAS_WIDTH, point_picker_ui, point_sliders_ui, set_point
from ui.dream.state import model_here_ui



def start_tab_ui(stage: Stage | None) -> None:
    start_frame_ui(stage)
    vanishing_point_ui()


def start_frame_ui(stage: Stage | None) -> None:
    source = st.radio("Start frame", ["From text", "Upload a photo", "Sketch"], horizontal=True,
                      key="start_source")
    if source == "Upload a photo":
        upload = st.file_uploader("Photo", type=list(EXTENSIONS), key="start_upload")
        if upload is not None and st.session_state.get("start_upload_id") != upload.file_id:
            try:
                image = load_image(upload.getvalue(), name=upload.name, max_side=START_FRAME_MAX_SIDE)
            except GiroError as error:
                st.error(as_text(str(error)))
            else:
                use_start_image(image)
                st.session_state.start_upload_id = upload.file_id
                st.rerun()  # the stage, and the Render tab's words, were drawn from the last start frame
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
    waiting = {job.stage.render.first_image for job in render_queue().jobs() if not job.finished}
    st.session_state.start_image = str(save_start_frame(image, st.session_state.owner, waiting))


def sketch_ui() -> None:
    from streamlit_drawable_canvas import st_canvas

    st.caption("Draw the first frame: the road, the horizon, a few trees.")
    colour = st.color_picker("Colour", "#2e8b57", key="sketch_colour")
    result = st_canvas(stroke_width=12, stroke_color=colour, background_color="#ffffff",
                       height=CANVAS_WIDTH, width=CANVAS_WIDTH, drawing_mode="freedraw",
                       return_image_data=True, key="sketch")
    if st.button("Use this sketch") and result.image_bytes is not None:
        # The canvas's picture arrives as bytes from the browser, like an upload: decoded the same
        # way, and never larger than the canvas it was drawn on (alpha goes over white).
        try:
            image = load_image(result.image_bytes, name="the sketch", max_pixels=CANVAS_WIDTH * CANVAS_WIDTH,
                               formats=("PNG",))
        except GiroError as error:
            st.error(as_text(str(error)))
            return
        use_start_image(image)
        st.rerun()


def candidates_ui(stage: Stage) -> None:
    queue, owner = render_queue(), st.session_state.owner
    here = model_here_ui("Generating candidates", stage.model(), stage.render.vae)
    if st.button("Generate 4 candidates", help="text-to-image from the first prompt, four seeds", disabled=not here):
        clear_candidates(owner)
        try:
            st.session_state.candidates_job = queue.submit("candidates", stage, candidates_dir(owner), owner).id
        except GiroError as error:
            st.error(as_text(str(error)))
    job = queue.get(st.session_state.get("candidates_job", ""))
    if job is not None and not job.finished:
        st.fragment(run_every=1.0)(_candidates_progress)(job.id)
    elif job is not None and job.status == "failed":
        st.error(as_text(job.message))
    images = candidate_frames(owner)
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


def start_picture(point: tuple[float, float]) -> Image.Image:
    """The start frame at the picker's size, or without one the test card converging on `point`."""
    state = st.session_state
    width, height = (int(v) for v in state.size.split("x"))
    canvas_h = round(CANVAS_WIDTH * height / width)
    if state.start_image and Path(state.start_image).is_file():
        return Image.open(state.start_image).convert("RGB").resize((CANVAS_WIDTH, canvas_h))
    return test_card(CANVAS_WIDTH, canvas_h, point)


def vanishing_point_ui() -> None:
    """Click on the start frame to set the zoom centre; the marker shows where it is."""
    state = st.session_state
    point = (state.vp_x, state.vp_y)
    clicked = point_picker_ui(start_picture(point), point, "vp")
    st.caption("Click where the road meets the horizon: that point stays put as you ride in.")
    if clicked is not None:
        set_point("vp", clicked)
        st.rerun()
    point_sliders_ui("vp", st.columns(2))
