"""One safe loader for every image the app receives: uploads, camera shots, stage files, galleries.

It returns an RGB PIL image the right way up, or raises `ImageError` with a message a person
understands. Only raster formats are opened (no EPS, which Pillow would hand to Ghostscript).
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ImageError
from core.settings import MAX_IMAGE_PIXELS, MAX_UPLOAD_MB

pillow_heif.register_heif_opener()

# JPEG includes MPO (multi-picture JPEGs from some phone cameras).
FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF", "GIF", "BMP", "TIFF")
SUPPORTED = "JPEG, PNG, WebP, HEIC, AVIF, GIF, BMP or TIFF"
# Their file extensions: what every upload box accepts and what galleries and data sets read.
EXTENSIONS = ("jpg", "jpeg", "png", "webp", "heic", "heif", "avif", "gif", "bmp", "tif", "tiff")
IMAGE_SUFFIXES = frozenset(f".{extension}" for extension in EXTENSIONS)

_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
LARGE_PIXELS = 16_000_000  # above this, decodes take turns (see _turn_for)
_large_decodes = threading.Lock()
# Modes that Pillow resizes smoothly; palette and 1-bit images are converted to RGB first.
_RESIZABLE = {"RGB", "RGBA", "RGBX", "L", "LA", "CMYK", "YCbCr"}


def load_image(
    source: bytes | BinaryIO | str | Path,
    name: str | None = None,
    max_mb: float = MAX_UPLOAD_MB,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_side: int | None = None,
    formats: tuple[str, ...] = FORMATS,
) -> Image.Image:
    """Decode `source` (bytes, a file object or a path) into an upright RGB image.

    `max_side`: shrink the image to fit that many pixels a side right after decoding, so what is
    kept costs what the model needs, not what the camera took (a JPEG is even decoded at the
    reduced scale). `formats`: fewer than every raster format, where the sender can only make
    some (a canvas sends PNG). `name` is only used in messages; it is never opened as a path.
    """
    label = name or (Path(source).name if isinstance(source, (str, Path)) else "the image")
    data = _read_bounded(source, label, max_mb)
    if not data:
        raise ImageError(f"{label} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=formats)
            width, height = image.size
            if width * height > max_pixels:
                limit = f"{max_pixels / 1e6:.0f} megapixels" if max_pixels >= 1e6 else f"{max_pixels:,} pixels"
                raise ImageError(f"{label} is too large: {width}x{height} pixels (the limit is {limit})")
            with _turn_for(width * height):
                image.seek(0)  # animated GIF/WebP: the first frame
                if max_side:
                    image.draft("RGB", (max_side, max_side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
                image.load()
                return _finish(image, max_side)
    except ImageError:
        raise
    except (UnidentifiedImageError, ValueError, TypeError) as error:
        raise ImageError(f"{label} is not an image this app can read ({SUPPORTED})") from error
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageError(f"{label} is too large to decode safely") from error
    except (OSError, SyntaxError, EOFError) as error:
        raise ImageError(f"{label} is damaged or cut short and cannot be decoded") from error


def _finish(image: Image.Image, max_side: int | None) -> Image.Image:
    if max_side and image.mode in _RESIZABLE:  # before any full-size copy; a square bound
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)  # commutes with rotation
    image = to_rgb(upright(image))
    if max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


@contextmanager
def _turn_for(pixels: int) -> Iterator[None]:
    """Very large images decode one at a time in the whole server: each briefly costs up to
    about 460 MB (a 50 MP 16-bit PNG), and three guests' tabs must not add that up."""
    if pixels < LARGE_PIXELS:
        yield
        return
    with _large_decodes:
        yield


def header_pixels(data: bytes) -> int:
    """Width x height from an image's header, without decoding it; 0 if it cannot be read."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            return image.width * image.height
    except Exception:  # whatever it is, load_image will say so
        return 0


def upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation: phones store photos sideways and set a flag."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a malformed EXIF block must not cost the picture itself
        return image


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: CMYK, palette, alpha (over white), 16-bit, float, greyscale."""
    if image.mode in _SIXTEEN_BIT:  # integer arithmetic: float64 made a 50 MP image cost 1.3 GB
        pixels = np.asarray(image)
        if pixels.dtype != np.uint16:  # mode I: 32-bit integers
            pixels = np.clip(pixels, 0, 65535).astype(np.uint16)
        if pixels.max(initial=0) > 255:
            pixels = pixels >> 8
        image = Image.fromarray(pixels.astype(np.uint8))
    elif image.mode == "F":
        pixels = np.nan_to_num(np.asarray(image, dtype=np.float32))
        top = 65535.0 if pixels.max(initial=0) > 255 else 255.0
        image = Image.fromarray(np.clip(pixels * (255.0 / top) + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("RGB") if image.mode != "RGB" else image


def _read_bounded(source: bytes | BinaryIO | str | Path, label: str, max_mb: float) -> bytes:
    limit = int(max_mb * 1024 * 1024)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ImageError(f"{label} does not exist or is not a file")
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as error:  # no permission, a device that refuses reads (/proc/self/mem)
            raise ImageError(f"{label} cannot be read: {error.strerror or error}") from error
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise ImageError(f"{label} is over the {max_mb:g} MB limit")
    return data
