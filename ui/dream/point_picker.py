"""A click on a picture sets a point: the vanishing point, on the start frame or on a live frame."""

from __future__ import annotations

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
