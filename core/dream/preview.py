"""A start frame for previews: a test card whose lines all run into the vanishing point.

A preview renders the whole plan with zoom and loop-mixing only, no model, so the speed of
travel, the vanishing point and the loop timing can be judged in seconds before GPU minutes
are spent. The card makes motion visible: rays from the vanishing point and nested frames
around it, like road markings and trees rushing past.

The card is self-similar (each frame 0.7 times the one outside it, lines as thick as their
frame is big), so it can be drawn sharp at any distance travelled. A preview's stand-in for the
model (`redraw_card`) redraws its detail there at the frame's strength, as img2img brings back the
detail a zoom blurs: without it, a hundred zooms of a raster smear it, and the loop would close
from a blur onto a sharp frame 0. A stage that starts from an image has that image for its card,
nested in itself about the vanishing point (`ImageCard`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from PIL import Image

from core.dream.camera import IDENTITY, Warp, in_pixels
from core.dream.bands import gaussian_blur
from core.dream.zoom import to_image, to_uint8

PINK, WHITE, LINE = (228, 0, 124), (255, 255, 255), (40, 40, 40)  # maglia rosa, road paint, frames
# Sky and land of the nested frames in turn: meadow, fields at dusk, town.
SKIES = [(142, 196, 235), (236, 190, 150), (196, 200, 222)]
LANDS = [(96, 140, 72), (176, 138, 78), (128, 124, 120)]
RAYS = 24
SPACING = 0.7  # each nested frame's size over the one outside it
KINDS_CYCLE = 64  # nested frames before their kinds of land repeat (a power of two)
FINEST_REDRAWN = 1.0  # pixels: the detail under a Gaussian this wide is redrawn at any strength
SOFTENED = 0.5  # pixels: the Gaussian a preview's pictures are softened by (see `soften`)


def test_card(width: int, height: int, vanishing_point: tuple[float, float]) -> Image.Image:
    """The card about `vanishing_point`, as frame 0 of a preview shows it."""
    return to_image(to_uint8(soften(card_tensor(width, height, vanishing_point))))


def soften(picture: torch.Tensor) -> torch.Tensor:
    """A preview's picture of the card ((1, 3, H, W), the test card or a start image's) softened by
    a Gaussian of SOFTENED pixels, as a model's decoder draws no edge sharper than its pixels (a
    preview is half a 512 px stage's size: a pixel's softness there is half a pixel here).

    Drawn with one point a pixel, the card's edges step a whole pixel and its detail about the
    vanishing point shimmers: the frames drawn came out crisper than any move of them could keep,
    so the frames moved between them dipped (a 160x64 test card at cadence 2 and strength 0.1:
    their edges 21 % below the drawn ones'), and the loop closed onto a frame 0 sharper than its
    last frame moved.
    """
    return gaussian_blur(picture, SOFTENED)


def card_tensor(width: int, height: int, vanishing_point: tuple[float, float],
                travelled: Warp = IDENTITY, device: str | torch.device = "cpu") -> torch.Tensor:
    """The card as a (1, 3, H, W) float tensor in [0, 1] on `device`, as frames are drawn; with
    `travelled` (the camera's path from frame 0: see `core.dream.camera`), as the camera sees it there.

    Each pixel is worked out from where it lies on the card before travelling: its direction
    from the vanishing point (which ray, above or below it: its kind) and its depth, its distance
    as a share of the way to the frame's edge counted in nested frames (which frame, which road
    dash, which outline). Zooming about the vanishing point changes only the depth, so the card
    looks alike at every depth, and the dashes move everywhere. Along the depth, each kind of
    pixel shows one pattern that repeats every KINDS_CYCLE frames: it is tabulated once (`_looks`),
    and a frame is a look-up in it (a preview draws the card every frame: 0.4 ms a frame at 256 px,
    against 1.3-2.1 ms when each pixel's colour was worked out there). A camera that turns, drifts
    or zooms about another point moves every pixel's place on the card: worked out per frame.
    """
    a, b, c, d, e, f = travelled
    cx, cy = 2 * vanishing_point[0] - 1, 2 * vanishing_point[1] - 1
    places = _places(width, height, vanishing_point, str(device))
    zoom_alone = b == 0 and d == 0 and abs(c - cx * (1 - a)) < 1e-9 and abs(f - cy * (1 - e)) < 1e-9
    if zoom_alone and a == e:  # the camera's zoom: the depth moves by one number
        steps = places.steps + math.log(a) * STEPS_PER_LOG
        kind = places.kind
    else:
        moved = _places_at(*_on_card(travelled, width, height, vanishing_point, str(device)), width, height,
                           vanishing_point)
        steps, kind = moved.steps, moved.kind
    step = torch.floor(steps).to(torch.int32)
    # & on int32 is the pattern's modulo, negative depths included (a power of two, at a quarter
    # of % on int64's cost); beyond FAR frames in, the outlines would be specks: a pattern without them.
    look = torch.where(step < -FAR * STEPS, (step & (CYCLE - 1)) + CYCLE, step & (CYCLE - 1))
    return _looks(str(device)).index_select(1, (look + kind).view(-1)).view(1, 3, height, width)


def redraw_card(images: torch.Tensor, card: torch.Tensor, strength: float, frame0_share: float = 0.0) -> torch.Tensor:
    """A preview's stand-in for img2img at `strength`: `images` ((B, 3, H, W) in [0, 1]) keep their
    broad picture and take their detail from `card` (the card where the camera is), sharp.

    img2img keeps a picture's composition and redraws its detail, the finer the weaker (its noise
    drowns the fine detail first); so here the detail below a Gaussian of strength x width / 64
    pixels (1.8 px at 256 px and 0.45) is the card's, the rest the input's. A frame is never part
    blurred input and part card over each other, which shows as two pictures at once.

    Above strength 0, never less than FINEST_REDRAWN: a model's decoder draws each pixel's detail
    afresh from its latent (a latent cell is 8 pixels of the render, 4 of a 256 px preview of a
    512 px stage), so no strength lets a zoom's resampling blur the ride step by step. Without the
    floor a weak stand-in did (strength 0.25 at 96 px: 0.375 px), and the loop closed from that blur
    onto a sharp frame 0 (bench/RESULTS.md, dream-loop, the random stages). The floor falls with
    `frame0_share` as the strength's taper does (`core.dream.plan`): frame 0's share of the picture
    needs no redrawing, and a full floor there drew the ride's detail at frame 0's edge (a photo's
    border seam 1.15 -> 1.33).
    """
    sigma = max(strength * images.shape[-1] / 64, FINEST_REDRAWN * (1 - frame0_share)) if strength > 0 else 0.0
    return (card + gaussian_blur(images - card, sigma)).clamp(0, 1)


class ImageCard:
    """A start image as a preview's card: nested in itself about the vanishing point, each copy
    SPACING times the one outside it, so it can be drawn sharp at any distance travelled, as the
    test card is. A zoom of the plain image would only magnify it into a blur, which no model
    redraws in a preview: the loop would close from a blur onto a sharp frame 0."""

    def __init__(self, image: torch.Tensor, vanishing_point: tuple[float, float]):
        """`image`: (1, 3, H, W) floats in [0, 1], the start image fitted to the frame."""
        self.image, self.vanishing_point = image, vanishing_point
        # The image halved and halved again (averaging each 2x2 pixels), down to a few pixels.
        self.halved = [image]
        while min(self.halved[-1].shape[-2:]) >= 16:
            self.halved.append(F.avg_pool2d(self.halved[-1], 2, ceil_mode=True))

    def __call__(self, travelled: Warp = IDENTITY) -> torch.Tensor:
        """The nested image as the camera sees it having `travelled`, (1, 3, H, W)."""
        height, width = self.image.shape[-2:]
        vx, vy = self.vanishing_point[0] * width, self.vanishing_point[1] * height
        x, y = _on_card(travelled, width, height, self.vanishing_point, str(self.image.device))
        share = torch.maximum(*_shares(x, y, width, height, self.vanishing_point)).clamp_min(1e-9)
        a, b, _, d, e, _ = in_pixels(travelled, (width, height))
        magnified = math.sqrt(abs(a * e - b * d))  # the card's pixels per pixel here, at the image's own size
        # Which copy each pixel lies in: 0 the image itself, n its copy SPACING ** n times its size;
        # the copies under two pixels here are the one of two pixels (the vanishing point is in all).
        deepest = math.ceil(math.log(2 * magnified / min(height, width)) / math.log(SPACING))
        level = torch.floor(torch.log(share) / math.log(SPACING)).clamp(max=deepest)
        scale = SPACING ** -level  # from the copy's place to the image's
        grid = torch.stack([(vx + x * scale) / width * 2 - 1, (vy + y * scale) / height * 2 - 1], -1)[None]
        out = torch.empty_like(self.image)
        for n in range(int(level.min()), deepest + 1):
            inside = level == n
            if not inside.any():
                continue
            # Each copy low-passed for how much it is shrunk here: sampled from the two halved images
            # about its shrink, mixed by where the shrink lies between them (as a GPU's trilinear
            # mipmapping), so its filter changes smoothly with the distance travelled.
            place = math.log2(max(SPACING ** -n * magnified, 1.0))
            finer = min(int(place), len(self.halved) - 1)
            coarser = min(finer + 1, len(self.halved) - 1)
            where = grid[:, inside][:, None]
            sampled = _sample(self.halved[finer], where)
            if coarser != finer and place > finer:
                sampled = torch.lerp(sampled, _sample(self.halved[coarser], where), place - finer)
            out[:, :, inside] = sampled[:, :, 0]
        return out.clamp_(0, 1)


def _sample(image: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """`image` at the places `where` ((1, 1, N, 2), grid_sample's coordinates), (1, 3, 1, N)."""
    return F.grid_sample(image, where, mode="bicubic", padding_mode="border", align_corners=False)


# Colour indices: land kind k is 2k (sky) and 2k + 1 (land); then the rays' two paints, the outline.
PALETTE = [colour for pair in zip(SKIES, LANDS) for colour in pair] + [PINK, WHITE, LINE]
RAY_PAINT, OUTLINE = 2 * len(LANDS), 2 * len(LANDS) + 2
STEPS = 256  # steps a nested frame's depth is tabulated in: its eight road dashes fall on them
CYCLE = KINDS_CYCLE * STEPS
STEPS_PER_LOG = STEPS / -math.log(SPACING)
FAR = 11
OUTLINE_STEPS = range(STEPS // 2 - 5, STEPS // 2 + 5)  # the outline: the middle 4 % of a frame's depth
# Each nested frame has its own kind of land, in an irregular order, so no stretch of the ride
# looks like another: a loop that does not close jumps visibly instead of landing on a look-alike.
LAND_ORDER = torch.randint(0, len(LANDS), (KINDS_CYCLE,), generator=torch.Generator().manual_seed(7))
# A pixel's kind: off the rays or on a pink or a white one, times above or below the vanishing point.
KINDS = [(ray, below) for ray in (-1, RAY_PAINT, RAY_PAINT + 1) for below in (0, 1)]


@dataclass(frozen=True)
class _Places:
    steps: torch.Tensor  # its depth before travelling, in STEPS: 0 on the edge, -STEPS on the next frame in
    kind: torch.Tensor  # its kind before travelling, as where its pattern starts in `_looks`


@functools.lru_cache(maxsize=4)
def _places(width: int, height: int, vanishing_point: tuple[float, float], device: str) -> _Places:
    """What every frame of a preview whose camera only zooms shares: worked out once, not per frame."""
    vx, vy = vanishing_point[0] * width, vanishing_point[1] * height
    ys = torch.arange(height, dtype=torch.float32, device=device) + 0.5 - vy
    xs = torch.arange(width, dtype=torch.float32, device=device) + 0.5 - vx
    y, x = torch.meshgrid(ys, xs, indexing="ij")
    return _places_at(x, y, width, height, vanishing_point)


def _on_card(travelled: Warp, width: int, height: int, vanishing_point: tuple[float, float],
             device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Each pixel's place on the card (frame 0's view), as offsets from its vanishing point in pixels."""
    a, b, c, d, e, f = in_pixels(travelled, (width, height))
    ys = torch.arange(height, dtype=torch.float32, device=device)[:, None] + 0.5
    xs = torch.arange(width, dtype=torch.float32, device=device)[None, :] + 0.5
    x = a * xs + b * ys + (c - vanishing_point[0] * width)
    y = d * xs + e * ys + (f - vanishing_point[1] * height)
    return x, y


def _places_at(x: torch.Tensor, y: torch.Tensor, width: int, height: int,
               vanishing_point: tuple[float, float]) -> _Places:
    """The card's places of pixels at offsets (x, y) from its vanishing point, in frame 0's pixels."""
    log_x, log_y = (torch.log(share.clamp_min(1e-6)) for share in _shares(x, y, width, height, vanishing_point))
    return _Places(torch.maximum(log_x, log_y) * STEPS_PER_LOG, _kind(x, y))


def _shares(x: torch.Tensor, y: torch.Tensor, width: int, height: int,
            vanishing_point: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """How far pixels at offsets (x, y) from the vanishing point lie towards the frame's edge on
    their side, along each axis: 1 on the edge."""
    vx, vy = vanishing_point[0] * width, vanishing_point[1] * height
    reach_x = torch.where(x < 0, max(vx, 1.0), max(width - vx, 1.0))
    reach_y = torch.where(y < 0, max(vy, 1.0), max(height - vy, 1.0))
    return x.abs() / reach_x, y.abs() / reach_y


def _kind(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each pixel's kind (alternating pink and white rays from the vanishing point, and whether it
    lies below it, on land) as the start of its pattern in `_looks`."""
    turn = (torch.atan2(y, x) / (2 * math.pi) * RAYS) % RAYS
    ray = torch.where((turn % 1) < 0.35, 1 + (turn.floor() % 2).to(torch.int32), 0)
    return (2 * ray + (y >= 0)) * 2 * CYCLE


@functools.lru_cache(maxsize=4)
def _looks(device: str) -> torch.Tensor:
    """The card's colours along the depth, (3, kinds x 2 x CYCLE) floats in [0, 1]: for each kind of
    pixel, the pattern within FAR frames, then the one beyond."""
    step = torch.arange(CYCLE)
    level = step // STEPS  # which nested frame, counted inwards from the edge, modulo the cycle
    sky = 2 * LAND_ORDER[(-level) % KINDS_CYCLE]
    # Road markings: four dashes per frame's depth, so some pass every part of the picture at every
    # moment and a step's size does not depend on where the camera is in the card's cycle.
    dash = (step // (STEPS // 8)) % 2 == 0
    line = torch.isin(step % STEPS, torch.tensor(OUTLINE_STEPS))
    patterns = []
    for ray, below in KINDS:
        far = torch.where(dash & (ray >= 0), ray, sky + below)
        patterns += [torch.where(line, OUTLINE, far), far]
    palette = torch.tensor(PALETTE, dtype=torch.float32).t() / 255
    return palette[:, torch.cat(patterns)].contiguous().to(device)


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
        replace(s, zoom_px=None if s.zoom_px is None else s.zoom_px * factor,
                pan=None if s.pan is None else (s.pan[0] * factor, s.pan[1] * factor)) for s in stage.segments
    )
    render = replace(r, width=width, height=height, zoom_px=r.zoom_px * factor,
                     pan=(r.pan[0] * factor, r.pan[1] * factor), first_image=r.first_image)
    return replace(stage, render=render, segments=segments)
