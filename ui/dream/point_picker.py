"""A click on a picture sets a point: the vanishing point, on the start frame or on a live frame;
and the point's two sliders."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from PIL import Image, ImageDraw

CANVAS_WIDTH = 320  # fits a 390 px phone with the page's margins; a canvas has a fixed width


def point_picker_ui(picture: Image.Image, point: tuple[float, float], key: str) -> tuple[float, float] | None:
    """`picture` at the canvas width with a marker at `point` (fractions of width and height); the
    point clicked, as fractions, or None before a click."""
    from streamlit_drawable_canvas import st_canvas

    height = round(CANVAS_WIDTH * picture.height / picture.width)
    marked = picture.convert("RGB").resize((CANVAS_WIDTH, height))
    x, y = point[0] * CANVAS_WIDTH, point[1] * height
    draw = ImageDraw.Draw(marked)
    for colour, width in (("#000000", 5), ("#ffd400", 2)):  # yellow on black shows on any picture
        draw.ellipse((x - 10, y - 10, x + 10, y + 10), outline=colour, width=width)
        draw.line((x - 18, y, x + 18, y), fill=colour, width=width)
        draw.line((x, y - 18, x, y + 18), fill=colour, width=width)
    # The canvas's toolbar floats above it on hover (2.65rem up): room for it, so it covers no
    # label of the widget drawn before.
    st.space("small")
    # Keyed by the point: after a click the canvas starts afresh with the marker moved.
    result = st_canvas(background_image=marked, drawing_mode="point", point_display_radius=4,
                       stroke_width=2, stroke_color="#e4007c", fill_color="#e4007c",
                       height=height, width=CANVAS_WIDTH, key=f"{key}_{point[0]:.4f}_{point[1]:.4f}")
    points = [o for o in (result.json_data or {}).get("objects", []) if str(o.get("type")).lower() == "circle"]
    if not points:
        return None
    clicked = points[-1]
    px = clicked["left"] + clicked["radius"] + clicked.get("strokeWidth", 0) / 2
    py = clicked["top"]
    return round(min(max(px / CANVAS_WIDTH, 0.0), 1.0), 4), round(min(max(py / height, 0.0), 1.0), 4)


def set_point(name: str, point: Sequence[float]) -> None:
    """Put `point` into the session state as `name`_x and `name`_y, its sliders drawn afresh.

    The sliders are keyed by a count that this bumps. A rerun the browser asks for before it has
    drawn the new values carries the old sliders' values (the picker's canvas asks for one as it
    mounts, which on a busy server comes before the sliders' update), and Streamlit would take
    those over the point set here: a click that moved the stream's point was undone seconds later.
    A slider of an old key is not drawn any more, so its value counts for nothing."""
    state = st.session_state
    state[f"{name}_x"], state[f"{name}_y"] = (float(v) for v in point)
    state[f"{name}_sliders"] = state.get(f"{name}_sliders", 0) + 1


def point_sliders_ui(name: str, columns: Sequence) -> None:
    """The sliders of the point `name` (see `set_point`), in two `columns`."""
    state = st.session_state
    version = state.get(f"{name}_sliders", 0)
    for axis, column in zip("xy", columns):
        slider = f"{name}_{axis}_slider{version}"
        column.slider(f"Vanishing point {axis}", 0.0, 1.0, value=float(state[f"{name}_{axis}"]), step=0.01,
                      key=slider, on_change=_moved, args=(name, axis, version, slider))


def _moved(name: str, axis: str, version: int, slider: str) -> None:
    # A callback runs before the script: the whole run sees the point the slider moved to. A slider
    # of an older count, whose value a browser that has not caught up still sends, moves nothing.
    state = st.session_state
    if version == state.get(f"{name}_sliders", 0):
        state[f"{name}_{axis}"] = state[slider]
