"""core.images: every kind of file a phone, a desktop or a prankster can send."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from core.errors import ImageError
from core.images import load_image

RED, BLUE = (220, 20, 30), (20, 40, 220)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def halves(width=60, height=40) -> Image.Image:
    """Left half red, right half blue: orientation is visible in the pixels."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, : width // 2] = RED
    pixels[:, width // 2 :] = BLUE
    return Image.fromarray(pixels)


def close(pixel, colour, tolerance=40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, colour))


def test_exif_rotated_jpeg_comes_out_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display after rotating 90 degrees clockwise
    image = load_image(encode(halves(), "JPEG", exif=exif, quality=95), name="phone.jpg")
    assert image.size == (40, 60)
    assert close(image.getpixel((20, 5)), RED) and close(image.getpixel((20, 55)), BLUE)


def test_cmyk_jpeg_becomes_rgb():
    image = load_image(encode(halves().convert("CMYK"), "JPEG", quality=95))
    assert image.mode == "RGB"
    assert close(image.getpixel((5, 5)), RED, 60)


def test_png_with_alpha_is_put_on_white():
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    rgba.putpixel((0, 0), (*RED, 255))
    image = load_image(encode(rgba, "PNG"))
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == RED and image.getpixel((5, 5)) == (255, 255, 255)


def test_sixteen_bit_png_keeps_its_brightness():
    ramp = (np.linspace(0, 65535, 64 * 8).reshape(8, 64)).astype(np.uint16)
    image = load_image(encode(Image.fromarray(ramp), "PNG"))
    pixels = np.asarray(image)
    assert image.mode == "RGB"
    assert pixels[0, 0, 0] == 0 and pixels[-1, -1, 0] == 255
    assert 100 < pixels[4, 32, 0] < 160  # mid-grey stays mid-grey, not clipped white


def test_palette_gif_first_frame():
    frames = [Image.new("RGB", (10, 10), c).convert("P") for c in (RED, BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    image = load_image(data, name="anim.gif")
    assert image.mode == "RGB" and close(image.getpixel((5, 5)), RED)


def test_heic_from_an_iphone():
    buffer = io.BytesIO()
    pillow_heif.from_pillow(halves(64, 48)).save(buffer, quality=90)
    image = load_image(buffer.getvalue(), name="IMG_0001.HEIC")
    assert image.size == (64, 48) and close(image.getpixel((5, 5)), RED, 60)


@pytest.mark.parametrize("fmt", ["WEBP", "BMP", "TIFF", "PNG"])
def test_other_formats(fmt):
    assert load_image(encode(halves(), fmt)).size == (60, 40)


def test_greyscale_becomes_rgb():
    assert load_image(encode(Image.new("L", (4, 4), 128), "PNG")).getpixel((0, 0)) == (128,) * 3


def test_truncated_jpeg():
    data = encode(halves(200, 200), "JPEG")
    with pytest.raises(ImageError, match="cut.jpg is damaged or cut short"):
        load_image(data[: len(data) // 2], name="cut.jpg")


def test_empty_file():
    with pytest.raises(ImageError, match="^empty.png is empty$"):
        load_image(b"", name="empty.png")


def test_text_file_named_jpg():
    with pytest.raises(ImageError, match="notes.jpg is not an image this app can read"):
        load_image(b"Dear diary, today I rode the Stelvio.\n", name="notes.jpg")


def png_header_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(ImageError, match="bomb.png is too large"):
        load_image(png_header_claiming(60000, 60000), name="bomb.png")


def test_moderate_pixel_limit_names_the_size():
    with pytest.raises(ImageError, match="9000x9000 pixels"):
        load_image(png_header_claiming(9000, 9000), name="big.png")


def test_file_over_the_size_limit():
    with pytest.raises(ImageError, match="over the 1 MB limit"):
        load_image(b"\xff\xd8" + b"0" * (2 * 1024 * 1024), name="huge.jpg", max_mb=1)


def test_eps_is_not_handed_to_ghostscript():
    with pytest.raises(ImageError, match="not an image"):
        load_image(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", name="x.eps")


def test_path_and_file_object_sources(tmp_path):
    path = tmp_path / "bike.png"
    path.write_bytes(encode(halves(), "PNG"))
    assert load_image(path).size == (60, 40)
    with path.open("rb") as handle:
        assert load_image(handle, name="bike.png").size == (60, 40)
    with pytest.raises(ImageError, match="does not exist"):
        load_image(tmp_path / "missing.png")
