"""One frame step, the same for the render loop and Live: the start frame, the advance from one
frame to the next, and the frame's way to the host.

The advance is the camera's move (zoom, turn and drift in one resampling), a frame placed ahead and mixed in
(frame 0 over the loop window, or an in-between frame's target), the colours held to a reference,
and the redraw: img2img of one picture, or of several side by side in one batch (Live's A/B).
`core.dream.render` and `core.dream.live` keep only their bookkeeping: which frame is the source,
which the reference, and the settings of each step.

Frames are (3, H, W) uint8 tensors between steps, rounded as a PNG stores them, so a resumed
render continues from exactly the pixels an uninterrupted one had.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps

from core.dream.bands import gaussian_blur
from core.dream.colour import Palette, match_colours
from core.dream.camera import Warp
from core.dream.zoom import mix_ahead, move, place_ahead, to_float, to_tensor, to_uint8

# (B, 3, H, W) floats in [0, 1] -> the same redrawn, or None if it was stopped.
Redraw = Callable[[torch.Tensor], "torch.Tensor | None"]


@dataclass(frozen=True)
class Ahead:
    """A frame further along the ride, placed where the camera will reach it (`placement`: where
    each pixel of the step's frame lies in it) and mixed in at `weight` (see
    `core.dream.zoom.mix_ahead`)."""
    frame: torch.Tensor  # (3, H, W) uint8
    placement: Warp
    weight: float
    closing: bool = False  # frame 0, closing the loop (see `core.dream.zoom.mix_ahead`)
    detail_from: torch.Tensor | None = None  # None: mixed whole; else where the detail is its (see mix_ahead)
    detail_elsewhere: float = 0.0  # its detail's share outside `detail_from`
    placed: torch.Tensor | None = None  # `frame` placed already (`place_ahead`), where the caller needs it too


@dataclass(frozen=True)
class Hold:
    """The colours of the step's input held to `palette`'s: `weight` 1 matched, 0 left as drawn."""
    palette: Palette
    weight: float = 1.0


@dataclass(frozen=True)
class Detail:
    """Against the blur a long zoom gathers, on the redraw's input (Deforum's anti-blur): an
    unsharp mask of `sharpen`'s amount, then fresh noise of `noise`'s spread on the model's -1..1
    scale, drawn from `seed` so a resumed render draws the same."""
    sharpen: float
    noise: float
    seed: int


@dataclass(frozen=True)
class Advanced:
    frames: list[torch.Tensor]  # each picture's next frame, (3, H, W) uint8
    moved: list[torch.Tensor]  # each source moved by the camera alone, (1, 3, H, W) floats (for the loop figures)


def start_frame(size: tuple[int, int], device: str, image: Image.Image | np.ndarray | None,
                draw: Callable[[], torch.Tensor | None]) -> torch.Tensor | None:
    """Frame 0, (3, H, W) uint8 on `device`: `image` cropped to the frame's shape and resized
    (Lanczos), or what `draw` makes ((1, 3, H, W) floats: text-to-image, the preview's test card);
    None if drawing was stopped. `size` is (width, height)."""
    if image is not None:
        picture = Image.fromarray(image) if isinstance(image, np.ndarray) else image
        return to_tensor(ImageOps.fit(picture.convert("RGB"), size, Image.Resampling.LANCZOS), device)
    drawn = draw()
    return None if drawn is None else to_uint8(drawn)


def advance(sources: Sequence[torch.Tensor], moves: Sequence[Warp],
            ahead: Ahead | None = None, hold: Hold | None = None, redraw: Redraw | None = None,
            detail: Detail | None = None) -> Advanced | None:
    """Each source frame moved by the camera (its warp in `moves`), `ahead` mixed in, its colours
    held, its `detail` sharpened and noised, then all redrawn in one `redraw` call; without `redraw`,
    the move and the mix alone (sharpening or grain that nothing redraws would only show).
    None if the redraw was stopped."""
    moved = [move(to_float(source), warp) for source, warp in zip(sources, moves)]
    images = moved
    if ahead is not None and ahead.weight > 0:
        placed = ahead.placed
        if placed is None:
            placed = place_ahead(to_float(ahead.frame), ahead.placement, tuple(moved[0].shape[-2:]), ahead.closing)
        images = [mix_ahead(image, placed, ahead.placement, ahead.weight, ahead.closing, ahead.detail_from,
                            ahead.detail_elsewhere) for image in images]
    # Held on the input, as Deforum does: the redraw then starts from the reference's colours
    # instead of having its own redrawn colours forced afterwards.
    if hold is not None and hold.weight > 0:
        images = [torch.lerp(image, match_colours(image, hold.palette), hold.weight) for image in images]
    if redraw is not None:
        if detail is not None:
            images = [with_detail(image, detail) for image in images]
        drawn = redraw(torch.cat(images))
        if drawn is None:
            return None
        images = list(drawn.split(1))
    return Advanced([to_uint8(image) for image in images], moved)


def with_detail(image: torch.Tensor, detail: Detail) -> torch.Tensor:
    """`image` ((1, 3, H, W) in [0, 1]) sharpened by an unsharp mask (a 5x5 Gaussian of sigma 1,
    as Deforum's), then with fresh noise added; each left out at amount 0."""
    if detail.sharpen > 0:
        blurred = gaussian_blur(image, 1.0, radius=2)
        image = (image + detail.sharpen * (image - blurred)).clamp(0, 1)
    if detail.noise > 0:
        # A CPU generator: the same grain on every device. Seeds past 2**32 are no frame's own, so
        # the grain is not the redraw's starting noise (drawn from the frame's seed) over again.
        generator = torch.Generator("cpu").manual_seed(detail.seed + 2**32)
        grain = torch.randn(image.shape, generator=generator).to(image.device, image.dtype)
        image = (image + grain * detail.noise / 2).clamp(0, 1)  # / 2: from the -1..1 scale to 0..1
    return image


class HostFrame:
    """A frame on its way to the host, for the writer and the page. On CUDA it is copied into
    pinned memory without waiting for the GPU, and `array` waits for that copy alone, in the
    thread that asks: the loop goes on drawing meanwhile."""

    def __init__(self, frame: torch.Tensor):
        """`frame`: (3, H, W) uint8 on any device."""
        picture = frame.permute(1, 2, 0)
        self._ready = None
        if frame.device.type == "cuda":
            self._host = torch.empty(picture.shape, dtype=torch.uint8, pin_memory=True)
            self._host.copy_(picture, non_blocking=True)
            self._ready = torch.cuda.Event()
            self._ready.record()
        else:
            self._host = picture.to("cpu").contiguous()  # a copy of its own: the loop may reuse its tensor
        self._array: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray:
        """The frame, (H, W, 3) uint8."""
        if self._array is None:
            if self._ready is not None:
                self._ready.synchronize()
            self._array = self._host.numpy()
        return self._array
