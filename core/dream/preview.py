"""A start frame for previews: a test card whose lines all run into the vanishing point.

A preview renders the whole plan with zoom and loop-mixing only, no model, so the speed of
travel, the vanishing point and the loop timing can be judged in seconds before GPU minutes
are spent. The card makes motion visible: rays from the vanishing point and nested frames
around it, like road markings and trees rushing past.

The card is self-similar (each frame 0.7 times the one outside it, lines as thick as their
frame is big), so it can be drawn sharp at any distance travelled. A preview's stand-in for the
model redraws it there at the frame's strength, as img2img brings back the detail a zoom blurs:
without it, a hundred zooms of a raster smear it, and the loop would close from a blur onto a
sharp frame 0.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from PIL import Image

from core.dream.zoom import to_image, to_uint8

PINK, WHITE, LINE = (228, 0, 124), (255, 255, 255), (40, 40, 40)  # maglia rosa, road paint, frames
# Sky and land of the nested frames in turn: meadow, fields at dusk, town.
SKIES = [(142, 196, 235), (236, 190, 150), (196, 200, 222)]
LANDS = [(96, 140, 72), (176, 138, 78), (128, 124, 120)]
RAYS = 24
SPACING = 0.7  # each nested frame's size over the one outside it
KINDS_CYCLE = 64  # nested frames before their kinds of land repeat (a power of two)


def test_card(width: int, height: int, vanishing_point: tuple[float, float],
              travelled: tuple[float, float] = (1.0, 1.0)) -> Image.Image:
    """The card, or with `travelled` (x, y) the card magnified that much about the vanishing point."""
    return to_image(to_uint8(card_tensor(width, height, vanishing_point, travelled)))


def card_tensor(width: int, height: int, vanishing_point: tuple[float, float],
                travelled: tuple[float, float] = (1.0, 1.0), device: str | torch.device = "cpu") -> torch.Tensor:
    """The card as a (1, 3, H, W) float tensor in [0, 1] on `device`, as frames are drawn.

    Each pixel is worked out from where it lies on the card before travelling: its direction
    from the vanishing point (which ray) and its distance as a share of the way to the frame's
    edge (which nested frame, which road dash). Zooming about the vanishing point changes only
    the distance, so the card looks alike at every depth, and the dashes move everywhere. Each
    pixel gets an index into PALETTE, looked up once at the end (a preview draws the card every
    frame: per-channel arithmetic cost more than the zoom).
    """
    tx, ty = travelled
    places = _places(width, height, vanishing_point, str(device))
    # Distance as the nested frames measure it, in frames: 0 on the edge, -1 on the next one in...
    if tx == ty:  # the usual zoom, the same on both axes: one subtraction
        depth = (places.log_reach - math.log(tx)) / -math.log(SPACING)
        ray = places.ray
    else:
        depth = torch.maximum(places.log_x - math.log(tx), places.log_y - math.log(ty)) / -math.log(SPACING)
        ray = _ray(places.x / tx, places.y / ty)
    level = torch.floor(depth)
    # Each nested frame has its own kind of land, in an irregular order, so no stretch of the ride
    # looks like another: a loop that does not close jumps visibly instead of landing on a look-alike.
    # (& on int32 is the cycle's modulo, negative levels included, at a quarter of % on int64's cost.)
    cycle = (-level).to(torch.int32) & (KINDS_CYCLE - 1)
    index = places.skies.index_select(0, cycle.view(-1)).view(height, width) + places.below
    # Road markings: four dashes per frame's depth, so some pass every part of the picture at every
    # moment and a step's size does not depend on where the camera is in the card's cycle.
    dash = (torch.floor(8 * depth).to(torch.int32) & 1) == 0
    index = torch.where((ray >= 0) & dash, ray, index)
    line = ((depth - level - 0.5).abs() < 0.02) & (depth > -11)  # a frame's outline; specks beyond 11 left out
    index = torch.where(line, OUTLINE, index)
    return places.palette.index_select(1, index.view(-1)).view(1, 3, height, width)


# Colour indices: land kind k is 2k (sky) and 2k + 1 (land); then the rays' two paints, the outline.
PALETTE = [colour for pair in zip(SKIES, LANDS) for colour in pair] + [PINK, WHITE, LINE]
RAY_PAINT, OUTLINE = 2 * len(LANDS), 2 * len(LANDS) + 2


@dataclass(frozen=True)
class _Places:
    x: torch.Tensor  # each pixel's offset from the vanishing point, (H, W)
    y: torch.Tensor
    log_x: torch.Tensor  # log of its share of the way to the frame's edge, along each axis
    log_y: torch.Tensor
    log_reach: torch.Tensor  # the larger of the two: how far out the pixel's nested frame is
    below: torch.Tensor  # 1 below the vanishing point (land), 0 above (sky)
    ray: torch.Tensor  # the ray's colour index where a ray lies, before travelling; -1 elsewhere
    skies: torch.Tensor  # the sky's colour index of each nested frame (its land's is one more), outside in
    palette: torch.Tensor  # PALETTE as (3, colours) floats in [0, 1]


@functools.lru_cache(maxsize=4)
def _places(width: int, height: int, vanishing_point: tuple[float, float], device: str) -> _Places:
    """What every frame of a preview shares: worked out once, not per frame."""
    vx, vy = vanishing_point[0] * width, vanishing_point[1] * height
    ys = torch.arange(height, dtype=torch.float32, device=device) + 0.5 - vy
    xs = torch.arange(width, dtype=torch.float32, device=device) + 0.5 - vx
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    reach_x = torch.where(x < 0, max(vx, 1.0), max(width - vx, 1.0))
    reach_y = torch.where(y < 0, max(vy, 1.0), max(height - vy, 1.0))
    log_x, log_y = (torch.log((v.abs() / reach).clamp_min(1e-6)) for v, reach in ((x, reach_x), (y, reach_y)))
    kinds = torch.randint(0, len(LANDS), (KINDS_CYCLE,), generator=torch.Generator().manual_seed(7)).to(device)
    palette = torch.tensor(PALETTE, dtype=torch.float32, device=device).t().contiguous() / 255
    return _Places(x, y, log_x, log_y, torch.maximum(log_x, log_y), (y >= 0).long(), _ray(x, y), 2 * kinds,
                   palette)


def _ray(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Alternating pink and white rays from the vanishing point: their colour index, -1 between them."""
    turn = (torch.atan2(y, x) / (2 * math.pi) * RAYS) % RAYS
    paint = RAY_PAINT + (turn.floor() % 2).long()
    return torch.where((turn % 1) < 0.35, paint, -1)


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
