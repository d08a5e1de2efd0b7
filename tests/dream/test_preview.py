"""core.dream.preview: the test card, drawn by looking its pattern up in a table, is the card its
definition draws pixel by pixel, at any distance travelled and however the camera turned; a start
image's card is the image nested in itself; the preview's stage size; its stand-in redraw keeps the
broad picture and takes the card's detail."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.dream import preview
from core.dream.camera import Camera, in_pixels, path, step_warp, zoom_about
from core.dream.preview import ImageCard, card_tensor, preview_stage, redraw_card
from core.dream.bands import gaussian_blur
from tests.dream.conftest import small_stage


def defined_card(width: int, height: int, vanishing_point: tuple[float, float], travelled) -> np.ndarray:
    """The card from its definition, one formula per feature, in float64: (3, H, W) in [0, 1].
    Each pixel shows the card where the camera's path (`travelled`) finds it in frame 0's view."""
    vx, vy = vanishing_point[0] * width, vanishing_point[1] * height
    rows, columns = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    a, b, c, d, e, f = in_pixels(travelled, (width, height))
    x, y = a * columns + b * rows + c - vx, d * columns + e * rows + f - vy
    reach_x = np.where(x < 0, vx, width - vx)
    reach_y = np.where(y < 0, vy, height - vy)
    log_x = np.log(np.maximum(np.abs(x) / reach_x, 1e-6))
    log_y = np.log(np.maximum(np.abs(y) / reach_y, 1e-6))
    depth = np.maximum(log_x, log_y) / -math.log(preview.SPACING)  # in nested frames, 0 on the edge
    step = np.floor(depth * preview.STEPS).astype(np.int64)
    level = np.floor(depth).astype(np.int64)
    sky = 2 * preview.LAND_ORDER.numpy()[(-level) % preview.KINDS_CYCLE] + (y >= 0)
    turn = (np.arctan2(y, x) / (2 * math.pi) * preview.RAYS) % preview.RAYS
    on_ray = (turn % 1) < 0.35
    dash = np.floor(8 * depth).astype(np.int64) % 2 == 0
    index = np.where(on_ray & dash, preview.RAY_PAINT + np.floor(turn).astype(np.int64) % 2, sky)
    outline = np.isin(step % preview.STEPS, list(preview.OUTLINE_STEPS)) & (depth >= -preview.FAR)
    index = np.where(outline, preview.OUTLINE, index)
    return np.asarray(preview.PALETTE, dtype=np.float64)[index].transpose(2, 0, 1) / 255


TURNING = [step_warp((200, 120), Camera(zoom_px=1.0, rotate=3.0, pan=(1.0, -0.5), vanishing_point=(0.6, 0.4)))] * 40


@pytest.mark.parametrize("travelled", [
    zoom_about((1.0, 1.0), (0.3, 0.6)), zoom_about((1.3, 1.3), (0.3, 0.6)), zoom_about((4.7, 4.7), (0.3, 0.6)),
    zoom_about((1e4, 1e4), (0.3, 0.6)), zoom_about((1.2, 1.5), (0.3, 0.6)),
    zoom_about((2.0, 2.0), (0.7, 0.2)), path(TURNING),
], ids=["still", "1.3", "4.7", "1e4", "stretched", "about another point", "turning"])
def test_the_card_is_its_definition_at_any_distance(travelled):
    """Far along (1e4: beyond the land kinds' cycle and deep in the picture), stretched, zoomed
    about another point than the card's, and along a turning, drifting camera's path."""
    drawn = card_tensor(200, 120, (0.3, 0.6), travelled)[0].numpy()
    same = np.all(np.abs(drawn - defined_card(200, 120, (0.3, 0.6), travelled)) < 1e-6, axis=0)
    # float32 against float64: a pixel right on a boundary may fall either side of it.
    assert same.mean() > 0.995


def test_the_card_uses_its_palette_only_and_every_feature_shows():
    colours = {tuple(round(v * 255) for v in pixel) for pixel in card_tensor(256, 256, (0.5, 0.55))[0]
               .permute(1, 2, 0).reshape(-1, 3).tolist()}
    assert colours <= set(preview.PALETTE)
    assert {preview.PINK, preview.WHITE, preview.LINE} <= colours and len(colours) >= 6


def test_a_preview_is_at_most_256_px_with_the_same_motion():
    stage = preview_stage(small_stage(frames=(4,), width=768, height=512, zoom_px=3.0))
    assert (stage.render.width, stage.render.height) == (256, 168)
    assert stage.render.zoom_px == pytest.approx(1.0)


def test_the_stand_in_redraw_keeps_the_broad_picture_and_takes_the_cards_detail():
    """As img2img keeps a picture's composition and redraws its detail: over a smooth input, the
    redrawn frame's broad picture is the input's and its fine detail the card's (a cross-fade at
    the same strength would halve it: two pictures at once), down to the weakest strength; strength 0
    leaves the input."""
    card = card_tensor(128, 96, (0.5, 0.5))
    smooth = torch.linspace(0.2, 0.8, 128).expand(1, 3, 96, 128).contiguous()
    redrawn = redraw_card(smooth, card, 0.45)
    assert torch.allclose(redraw_card(smooth, card, 0.0), smooth, atol=1e-6)

    def broad(image):
        return gaussian_blur(image, 8.0)

    assert (broad(redrawn) - broad(smooth)).abs().mean() < (broad(card) - broad(smooth)).abs().mean() / 4

    def detail(image):  # what is finer than the redraw's scale at this strength (0.9 px here)
        return image - gaussian_blur(image, 0.45 * 128 / 64)

    def unlike_the_cards(image):
        return float((detail(image) - detail(card)).abs().mean() / detail(card).abs().mean())

    assert unlike_the_cards(redrawn) < 0.3
    assert unlike_the_cards(torch.lerp(smooth, card, 0.45)) > 0.5
    # The finest detail is the card's at any strength above 0, as a model's decoder draws it afresh.
    assert unlike_the_cards(redraw_card(smooth, card, 0.01)) < 0.3


def photo(width: int, height: int) -> torch.Tensor:
    """A photograph at (width, height), (1, 3, H, W) in [0, 1]."""
    from PIL import Image, ImageOps
    from skimage import data

    fitted = ImageOps.fit(Image.fromarray(data.astronaut()), (width, height), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.asarray(fitted).copy()).permute(2, 0, 1)[None].float() / 255


def test_a_start_images_card_is_the_image_nested_in_itself():
    """Outside the box SPACING times the frame's size about the vanishing point, the image itself;
    zoomed in by 1 / SPACING about that point, the same card again, as sharp: each copy is the
    image drawn at its own size, not a magnified one (a zoom of the plain image only blurs)."""
    image, point = photo(200, 120), (0.3, 0.6)
    card = ImageCard(image, point)
    still = card()
    rows, columns = torch.meshgrid(torch.arange(120) + 0.5, torch.arange(200) + 0.5, indexing="ij")
    x, y = columns - 0.3 * 200, rows - 0.6 * 120
    share = torch.maximum(x.abs() / torch.where(x < 0, 60.0, 140.0), y.abs() / torch.where(y < 0, 72.0, 48.0))
    outside = share > preview.SPACING + 0.03  # a pixel clear of the copy's edge
    assert (still - image)[:, :, outside].abs().max() < 1e-5
    again = card(zoom_about((1 / preview.SPACING,) * 2, point))
    assert (again - still).abs().mean() * 255 < 0.05
    magnified = torch.nn.functional.grid_sample(
        still, torch.nn.functional.affine_grid(torch.tensor([zoom_about((1 / preview.SPACING,) * 2, point)]).view(
            1, 2, 3).float(), [1, 3, 120, 200], align_corners=False), mode="bicubic", align_corners=False)
    assert (magnified - still).abs().mean() * 255 > 5  # what a zoom of the card would show instead


def test_a_start_images_copies_are_low_passed_for_their_shrink():
    """A one-pixel checkerboard's copies show its mean grey (a copy sampled without a low-pass
    would alias into moire of the full contrast); the image itself keeps every pixel."""
    checks = ((torch.arange(128)[:, None] + torch.arange(128)[None, :]) % 2).float().expand(1, 3, 128, 128)
    still = ImageCard(checks.contiguous(), (0.5, 0.5))()
    copies = still[:, :, 32:96, 32:96]  # inside the first copy (share 0.5 < 0.7)
    assert (copies - 0.5).abs().max() < 0.2
    assert torch.equal(still[:, :, :8], checks[:, :, :8])
