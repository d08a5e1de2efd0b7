"""A start frame for previews: a test card whose lines all run into the vanishing point.

A preview renders the whole plan with zoom and loop-mixing only, no model, so the speed of
travel, the vanishing point and the loop timing can be judged in seconds before GPU minutes
are spent. The card makes motion visible: rays from the vanishing point and nested frames
around it, like road markings and trees rushing past.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

SKY, GROUND = (142, 196, 235), (96, 140, 72)
RAYS = [(228, 0, 124), (255, 255, 255)]  # maglia rosa and white


def test_card(width: int, height: int, vanishing_point: tuple[float, float]) -> Image.Image:
    vx, vy = vanishing_point[0] * width, vanishing_point[1] * height
    card = Image.new("RGB", (width, height), SKY)
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, vy, width, height), fill=GROUND)
    reach = 2 * max(width, height)
    for n in range(24):  # rays, alternating colours
        a0, a1 = 2 * math.pi * n / 24, 2 * math.pi * (n + 0.35) / 24
        draw.polygon(
            [(vx, vy), (vx + reach * math.cos(a0), vy + reach * math.sin(a0)),
             (vx + reach * math.cos(a1), vy + reach * math.sin(a1))],
            fill=RAYS[n % 2],
        )
    scale = 1.0
    while scale > 0.02:  # nested frames at geometric spacing: evenly paced as we zoom
        draw.rectangle(
            (vx - vx * scale, vy - vy * scale, vx + (width - vx) * scale, vy + (height - vy) * scale),
            outline=(40, 40, 40), width=max(1, round(3 * scale)),
        )
        scale *= 0.7
    return card


def preview_stage(stage: "Stage", max_side: int = 256) -> "Stage":  # noqa: F821
    """The stage at a small size for a quick motion preview; zoom scaled so the motion is the same."""
    from dataclasses import replace

    r = stage.render
    scale = min(1.0, max_side / max(r.width, r.height))
    if scale == 1.0:
        return stage
    width, height = (max(64, round(v * scale / 8) * 8) for v in (r.width, r.height))
    factor = width / r.width
    segments = tuple(
        replace(s, zoom_px=None if s.zoom_px is None else s.zoom_px * factor) for s in stage.segments
    )
    render = replace(r, width=width, height=height, zoom_px=r.zoom_px * factor, first_image=r.first_image)
    return replace(stage, render=render, segments=segments)
