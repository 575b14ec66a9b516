"""Images made for the tests with Pillow: solid colours, EXIF, animations, lying headers."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image

RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)
EXIF_ORIENTATION, EXIF_MAKE, EXIF_DESCRIPTION = 0x0112, 0x010F, 0x010E


def encode(image: Image.Image, image_format: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **params)
    return out.getvalue()


def solid(size: tuple[int, int] = (300, 200), color: tuple[int, ...] = RED) -> Image.Image:
    return Image.new("RGB", size, color)


def png(size: tuple[int, int] = (300, 200), color: tuple[int, ...] = RED) -> bytes:
    return encode(solid(size, color), "PNG")


def jpeg_with_exif(image: Image.Image, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    exif[EXIF_MAKE] = "SecretCam 3000"
    exif[EXIF_DESCRIPTION] = "at home, 48.8566 N 2.3522 E"
    return encode(image, "JPEG", exif=exif.tobytes(), quality=95)


def animated_gif() -> bytes:
    frames = [solid((120, 120), color) for color in (GREEN, RED, BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height but carries almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def decoded(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def near(pixel: Any, color: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(int(a) - b) <= tolerance for a, b in zip(pixel[:3], color, strict=True))
