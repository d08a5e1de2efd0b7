"""Hostile and odd image files, made here: what a prankster, a broken phone or a bad network sends.

Each entry is (file name, bytes, expected): "ok" when the file is a real image that must load, or a
fragment of the one-line message it must get.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pillow_heif
from PIL import Image


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def corpus() -> list[tuple[str, bytes, str]]:
    rng = np.random.default_rng(0)
    photo = Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    jpeg = _save(photo, "JPEG", quality=90)
    png = _save(photo, "PNG")
    webp = _save(photo, "WEBP")
    heic = io.BytesIO()
    pillow_heif.from_pillow(photo).save(heic, quality=80)
    big_exif = Image.Exif()
    big_exif[0x010E] = "x" * 60_000  # ImageDescription: a 60 kB EXIF block
    rotated = Image.Exif()
    rotated[0x0112] = 8
    animated = [Image.new("RGB", (32, 32), c).convert("P") for c in ("red", "blue", "green")]
    palette = Image.new("P", (16, 16), 3)
    palette.info["transparency"] = 3
    return [
        ("empty.jpg", b"", "is empty"),
        ("truncated.jpg", jpeg[: len(jpeg) // 3], "damaged or cut short"),
        ("truncated.png", png[: len(png) // 2], "damaged or cut short"),
        ("truncated.webp", webp[: len(webp) // 2], "damaged or cut short"),
        ("truncated.heic", heic.getvalue()[:400], "not an image"),
        ("notes.jpg", b"Dear diary, I rode the Stelvio.\n" * 10, "not an image"),
        ("bomb.png", _png_claiming(60000, 60000), "too large"),
        ("tall.png", _png_claiming(1, 80_000_000), "too large"),
        ("gif-bomb.gif", b"GIF89a\xff\xff\xff\xff\x00\x00\x00" + b"\x00" * 40, "not an image"),
        ("bmp-bomb.bmp", b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 60000, 60000, 1, 24, 0, 0, 0, 0, 0, 0), "too large"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not an image"),
        ("page.html", b"<html><body><img src=x onerror=alert(1)></body></html>", "not an image"),
        ("polyglot.gif", b"GIF89a/*" + b"\x00" * 10 + b"*/=alert(1);", "not an image"),
        ("archive.png", b"PK\x03\x04" + bytes(rng.integers(0, 255, 200, dtype=np.uint8)), "not an image"),
        ("document.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "not an image"),
        ("poster.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n", "not an image"),
        ("icon.png", _save(Image.new("RGB", (32, 32)), "ICO"), "not an image"),
        ("layers.psd", b"8BPS\x00\x01" + b"\x00" * 60, "not an image"),
        ("old.tga", _save(Image.new("RGB", (8, 8)), "TGA"), "not an image"),
        ("scan.jp2", _save(Image.new("RGB", (8, 8)), "JPEG2000"), "not an image"),
        ("noise.bin", bytes(rng.integers(0, 255, 4096, dtype=np.uint8)), "not an image"),
        ("huge.jpg", b"\xff\xd8\xff" + b"\x00" * (26 * 1024 * 1024), "over the 25 MB limit"),
        ("wrong-extension.png", jpeg, "ok"),
        ("big-exif.jpg", _save(photo, "JPEG", exif=big_exif), "ok"),
        ("rotated.jpg", _save(photo, "JPEG", exif=rotated), "ok"),
        ("animated.gif", _save(animated[0], "GIF", save_all=True, append_images=animated[1:]), "ok"),
        ("pixel.png", _save(Image.new("RGB", (1, 1), "white"), "PNG"), "ok"),
        ("deep.png", _save(Image.fromarray(np.full((8, 8), 40000, np.uint16)), "PNG"), "ok"),
        ("print.jpg", _save(photo.convert("CMYK"), "JPEG"), "ok"),
        ("iphone.heic", heic.getvalue(), "ok"),
        ("clear.png", _save(palette, "PNG"), "ok"),
        ("grey-alpha.png", _save(Image.new("LA", (8, 8), (100, 50)), "PNG"), "ok"),
        ("scan.tiff", _save(photo, "TIFF"), "ok"),
    ]
