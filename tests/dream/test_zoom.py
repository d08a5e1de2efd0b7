"""core.dream.zoom: the vanishing point stays put, everything else rushes outwards; the tensor
path draws what the PIL path drew; a turning, drifting camera moves every pixel where a reference
written pixel by pixel puts it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from core.dream.bands import detail, gaussian_blur
from core.dream.camera import Camera, step_warp, zoom_about
from core.dream.zoom import frame0_detail_region, mix_ahead, move, place_ahead, to_float, to_image, to_tensor, to_uint8
from tests.dream import pil_reference


def dot(size, centre, radius=3.0) -> Image.Image:
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    blob = np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * radius**2))
    return Image.fromarray((np.stack([blob] * 3, -1) * 255).astype(np.uint8))


def centroid(image: Image.Image) -> tuple[float, float]:
    a = np.asarray(image, np.float64)[..., 0]
    ys, xs = np.mgrid[0 : a.shape[0], 0 : a.shape[1]] + 0.5
    return float((xs * a).sum() / a.sum()), float((ys * a).sum() / a.sum())


def drawn(image: Image.Image, zoom=(1.0, 1.0), ahead: Image.Image | None = None, scale=(1.0, 1.0),
          weight=0.0) -> Image.Image:
    """The camera's move and the mix ahead on PIL images in and out."""
    placement = zoom_about((1 / scale[0], 1 / scale[1]), VP)  # shrunk by `scale`
    moved = move(to_float(to_tensor(image)), zoom_about(zoom, VP))
    placed = None if ahead is None else place_ahead(to_float(to_tensor(ahead)), placement, tuple(moved.shape[-2:]))
    return to_image(to_uint8(mix_ahead(moved, placed, placement, weight)))


def zoom_scale(size, zoom_px):
    """How much one zoom step of `zoom_px` magnifies each axis: alike, by the width's trim."""
    return (size[0] / (size[0] - 2 * zoom_px),) * 2


SIZE = (160, 120)
VP = (0.25, 0.7)  # off centre, below the middle, like the end of a road
VP_PX = (VP[0] * SIZE[0], VP[1] * SIZE[1])


def test_vanishing_point_stays_fixed():
    moved = centroid(drawn(dot(SIZE, VP_PX), zoom_scale(SIZE, 4.0)))
    assert moved == pytest.approx(VP_PX, abs=0.3)


def test_other_points_move_away_by_the_zoom_scale():
    start = (VP_PX[0] + 40, VP_PX[1] - 30)
    sx, sy = zoom_scale(SIZE, 2.5)  # fractional zoom works
    x, y = centroid(drawn(dot(SIZE, start), (sx, sy)))
    assert x == pytest.approx(VP_PX[0] + 40 * sx, abs=0.4)
    assert y == pytest.approx(VP_PX[1] - 30 * sy, abs=0.4)


def test_a_zoom_step_trims_the_sides_and_keeps_the_pictures_shape():
    """The top and bottom lose as much in proportion as the sides: trimming the same pixels from
    every edge stretched a wide frame's picture down (a 160x64 ride turned to streaks)."""
    a, b, _, d, e, _ = step_warp((512, 256), Camera(zoom_px=2.0))
    assert (a, b, d, e) == (508 / 512, 0.0, 0.0, 508 / 512)
    assert step_warp((512, 256), Camera(zoom_px=-2.0))[0] == 516 / 512  # below 0: zooms out


def test_zero_zoom_is_identity():
    image = dot(SIZE, (30, 40))
    assert np.array_equal(np.asarray(drawn(image)), np.asarray(image))


def test_the_frame_ahead_is_placed_shrunk_about_the_vanishing_point():
    first = dot(SIZE, (VP_PX[0] + 40, VP_PX[1]))
    mixed = drawn(Image.new("RGB", SIZE), ahead=first, scale=(2.0, 2.0), weight=1.0)
    x, y = centroid(mixed)
    assert x == pytest.approx(VP_PX[0] + 20, abs=0.5) and y == pytest.approx(VP_PX[1], abs=0.5)


def test_mix_weight():
    grey, white = Image.new("RGB", SIZE, (100,) * 3), Image.new("RGB", SIZE, (200,) * 3)
    assert np.array_equal(np.asarray(drawn(grey, ahead=white, weight=0.0)), np.asarray(grey))
    half = np.asarray(drawn(grey, ahead=white, weight=0.5))
    assert np.all(half == 150)  # a full-frame box has no feathered edge
    outside = np.asarray(drawn(grey, ahead=white, scale=(4.0, 4.0), weight=1.0))
    assert outside[0, -1, 0] == 100 and outside[round(VP_PX[1]), round(VP_PX[0]), 0] == 200


# Shrinking far (see the next test) the PIL path aliased and the tensor path does not, by design.
@pytest.mark.parametrize("zoom_px, scale, weight", [(1.5, (1.0, 1.0), 0.0), (3.0, (1.3, 1.3), 0.6),
                                                    (0.75, (1.15, 1.15), 1.0)])
def test_the_tensor_path_draws_what_the_pil_path_drew(zoom_px, scale, weight):
    photo = Image.fromarray(data.astronaut()).resize((192, 144))
    first = Image.fromarray(data.coffee()).resize((192, 144))
    size = photo.size
    expected = pil_reference.mix_ahead(pil_reference.zoom_in(photo, zoom_px, VP), first, scale, VP, weight)
    got = drawn(photo, zoom_scale(size, zoom_px), first, scale, weight)
    difference = np.abs(np.asarray(got, np.float32) - np.asarray(expected, np.float32))
    assert difference.mean() < 1.5  # grey levels: LANCZOS and bicubic differ only at fine detail
    assert np.percentile(difference, 99) < 25


def test_a_far_frame_ahead_is_antialiased():
    """Shrunk 6x, a one-pixel checkerboard must average to grey, not alias into stripes."""
    checker = Image.fromarray(((np.indices((120, 160)).sum(0) % 2) * 255).astype(np.uint8)).convert("RGB")
    placed = np.asarray(drawn(Image.new("RGB", SIZE), ahead=checker, scale=(6.0, 6.0), weight=1.0), np.float32)
    middle = placed[round(VP_PX[1]) - 3 : round(VP_PX[1]) + 3, round(VP_PX[0]) - 3 : round(VP_PX[0]) + 3]
    assert abs(middle.mean() - 127.5) < 10 and middle.std() < 10


def test_a_frame_round_trips_through_uint8_exactly():
    frame = to_tensor(Image.fromarray(data.astronaut()))
    assert torch.equal(to_uint8(to_float(frame)), frame)


def back_from_one_step_ahead(closing: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """A photograph as frame 0, placed one step ahead over a black ride at full weight (`closing`:
    as the loop places frame 0), then moved by that step: frame 0, and what came back of it."""
    first = to_float(to_tensor(Image.fromarray(data.astronaut()).resize((192, 144))))
    size = (192, 144)
    step = step_warp(size, Camera(1.5, vanishing_point=VP))
    placement = zoom_about((1 / zoom_scale(size, 1.5)[0], 1 / zoom_scale(size, 1.5)[1]), VP)
    placed = place_ahead(first, placement, tuple(first.shape[-2:]), closing)
    return first, move(mix_ahead(torch.zeros_like(first), placed, placement, 1.0, closing), step)


def test_frame_0_closing_the_loop_is_placed_so_the_next_move_brings_it_back_sharp():
    """Placed one step ahead and moved by that step, frame 0 meets itself at the seam: placed
    sharp (`closing`), the two resamplings leave less of a blur than a plain placement does."""

    def error(closing: bool) -> float:
        first, back = back_from_one_step_ahead(closing)
        return float((back - first)[..., 8:-8, 8:-8].abs().mean() * 255)

    plain, sharp = error(False), error(True)
    assert sharp < 0.85 * plain, (plain, sharp)


def test_frame_0_closing_the_loop_meets_itself_at_its_edges_too():
    """Placed one step ahead over a black ride at full weight and moved by that step, frame 0's
    outermost pixels come back from its box's edge: a move samples two pixels each way, so the
    closing mix gives frame 0 its full weight two pixels past its box. With the weight falling from
    the box's edge, the ride's black leaked into frame 0's edge at the seam (3 to 9 grey levels)."""
    first, back = back_from_one_step_ahead(closing=True)
    error = (back - first).abs().mean(1)[0] * 255
    inner = float(error[8:-8, 8:-8].mean())
    for name, edge in (("top", error[0]), ("bottom", error[-1]), ("left", error[:, 0]), ("right", error[:, -1])):
        assert float(edge.mean()) < 1.5 * inner, (name, float(edge.mean()), inner)


def test_mixed_by_bands_the_broad_picture_fades_and_the_detail_is_one_pictures():
    """With a detail region, the broad pictures mix at the weight and the detail is the placed
    frame's (where it is 1) or the moved frame's (0): never both at part of their height."""
    size = (192, 144)
    ride = to_float(to_tensor(Image.fromarray(data.astronaut()).resize(size)))
    first = to_float(to_tensor(Image.fromarray(data.coffee()).resize(size)))
    whole = mix_ahead(ride, first, weight=0.3)  # placed where it is (the placement's identity)
    none, whole_box = (frame0_detail_region((1, 0, 0, 0, 1, 0), area, size[::-1], "cpu") for area in (0.0, 1.0))
    own, theirs = mix_ahead(ride, first, weight=0.3, detail_from=none), mix_ahead(ride, first, weight=0.3, detail_from=whole_box)
    for mixed in (own, theirs):  # the broad picture is the cross-fade's
        assert (gaussian_blur(mixed, 8.0) - gaussian_blur(whole, 8.0)).abs().mean() < 0.01
    inner = (..., slice(12, -12), slice(12, -12))  # clear of the clamp at the frame's edge

    def unlike(a, b):  # how far a's detail is from b's
        return float((detail(a) - detail(b))[inner].abs().mean())

    # A Gaussian split leaks a little (the detail of a blurred picture is not quite none): a third
    # of the cross-fade's mixing of details at most.
    assert unlike(own, ride) < 0.4 * unlike(whole, ride) and unlike(theirs, first) < 0.4 * unlike(whole, first)


@pytest.mark.parametrize("vanishing_point", [(0.5, 0.5), (0.2, 0.75)])
def test_frame_0s_detail_region_is_its_share_of_frame_0s_box_about_frame_0s_centre(vanishing_point):
    """Over the loop window frame 0's detail covers the given share of its box (the box shrunk
    about frame 0's centre), grows with it and fills the box at 1; outside it the ride keeps its own."""
    width, height = 160, 120
    placement = step_warp((width, height), Camera(zoom_px=-30.0, vanishing_point=vanishing_point))  # frame 0 shrunk
    box = frame0_detail_region(placement, 1.0, (height, width), "cpu")[0, 0]
    regions = [frame0_detail_region(placement, a, (height, width), "cpu")[0, 0] for a in (0.25, 0.5, 0.75)]
    for area, region in zip((0.25, 0.5, 0.75), regions):
        assert float(region.sum() / box.sum()) == pytest.approx(area, rel=0.1)
        assert bool((region <= box + 1e-6).all())
        ys, xs = torch.nonzero(region > 0.5, as_tuple=True)  # centred where frame 0's centre lies here
        centre = [float(v.float().mean()) + 0.5 for v in (xs, ys)]
        bys, bxs = torch.nonzero(box > 0.5, as_tuple=True)
        assert centre == pytest.approx([float(v.float().mean()) + 0.5 for v in (bxs, bys)], abs=1.0)
    assert bool((regions[0] <= regions[1] + 1e-6).all() and (regions[1] <= regions[2] + 1e-6).all())
    ride = to_float(to_tensor(Image.fromarray(data.astronaut()).resize((width, height))))
    first = to_float(to_tensor(Image.fromarray(data.coffee()).resize((width, height))))
    placed = place_ahead(first, placement, (height, width), closing=True)
    mixed = mix_ahead(ride, placed, placement, 0.4, closing=True, detail_from=regions[1][None, None])
    inside, outside = regions[1] > 0.99, box == 0
    assert float((detail(mixed) - detail(placed))[0][:, inside].abs().mean()) < 0.3 * float(
        (detail(ride) - detail(placed))[0][:, inside].abs().mean())
    assert bool(outside.any()) and torch.allclose(mixed[0][:, outside], ride[0][:, outside], atol=1e-6)


def test_a_frame_placed_shrunk_is_near_a_lanczos_reduction_at_every_shrink():
    """Placed ahead shrunk by 1.16 to 3 about its centre, a photo lies within a few grey levels of
    PIL's Lanczos reduction of it, and a zone plate (detail up to the pixel) does not alias into
    moire: no shrink is left unfiltered, and none gets a coarser filter than the one below it."""
    width = 256
    ys, xs = np.mgrid[0:width, 0:width] - width // 2
    plate = (127.5 + 127.5 * np.cos(np.pi * (xs**2 + ys**2) / width)).astype(np.uint8)
    pictures = {"photo": (Image.fromarray(data.astronaut()).resize((width, width), Image.LANCZOS), 4.2),
                "zone plate": (Image.fromarray(np.stack([plate] * 3, -1)), 15.0)}
    for name, (picture, most) in pictures.items():
        errors = []
        for side in (220, 200, 180, 172, 168, 150, 128, 86):  # whole pixels, placed on whole pixels
            shrink, edge = width / side, (width - side) // 2
            placed = place_ahead(to_float(to_tensor(picture)), (shrink, 0, 0, 0, shrink, 0), (width, width))
            reduced = np.asarray(picture.resize((side, side), Image.LANCZOS), np.float32)
            got = placed[0].permute(1, 2, 0).numpy()[edge:edge + side, edge:edge + side] * 255
            errors.append(float(np.abs(got - reduced)[4:-4, 4:-4].mean()))
        assert max(errors) < most, (name, errors)
