"""Avatar images: check that the bytes are the declared format, then re-encode a clean square.

Pillow decodes (only the declared format's decoder is tried, so a PNG sent as image/jpeg is
refused); the pixel count is checked against the configured limit from the header, before
any pixel is decoded; EXIF orientation is applied; the centre square is scaled to 192 and 96
pixels and encoded as WebP. Nothing of the upload but its pixels survives: no EXIF, GPS,
ICC profile, comments or extra frames. CPU-bound: call it off the event loop.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

from PIL import Image, ImageOps

from taskwell.errors import DomainError

# Declared media type -> the one Pillow format tried for it.
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}
_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
SIZE_1X, SIZE_2X = 96, 192
_WEBP_QUALITY = 82
# At most this many images are decoded at once per process: each can hold tens of MB.
_DECODE_SLOTS = threading.BoundedSemaphore(2)


class UnsupportedImageType(DomainError):
    slug, title, status = "unsupported-media-type", "Unsupported media type", 415


class InvalidImage(DomainError):
    slug, title, status = "invalid-image", "The image cannot be used", 422


class ImageTooLarge(DomainError):
    slug, title, status = "image-too-large", "The image has too many pixels", 422


@dataclass(frozen=True, slots=True)
class AvatarImages:
    image_1x: bytes  # SIZE_1X square WebP
    image_2x: bytes  # SIZE_2X square WebP
    width: int  # of the upload, as its header declares
    height: int


def image_format(content_type: str | None) -> str:
    """The Pillow format for a Content-Type header, or UnsupportedImageType."""
    media_type = (content_type or "").partition(";")[0].strip().lower()
    found = FORMATS.get(media_type)
    if found is None:
        raise UnsupportedImageType(
            "Send the image's bytes with Content-Type " + ", ".join(sorted(FORMATS)) + "."
        )
    return found


def make_avatar(data: bytes, image_format: str, max_pixels: int) -> AvatarImages:
    """The two WebP sizes of `data`, which must be an image_format image of at most
    max_pixels pixels; InvalidImage or ImageTooLarge otherwise."""
    if not data:
        raise InvalidImage("The body is empty; send the image's bytes.")
    with _DECODE_SLOTS:
        pixels, (width, height) = _decode(data, image_format, max_pixels)
        side = min(pixels.size)
        left, top = (pixels.width - side) // 2, (pixels.height - side) // 2
        image_2x = pixels.resize(
            (SIZE_2X, SIZE_2X),
            Image.Resampling.LANCZOS,
            box=(left, top, left + side, top + side),  # the centre square
            reducing_gap=3.0,  # shrink by whole factors first: fast on big photos
        )
    image_1x = image_2x.resize((SIZE_1X, SIZE_1X), Image.Resampling.LANCZOS)
    return AvatarImages(_webp(image_1x), _webp(image_2x), width, height)


def _decode(data: bytes, image_format: str, max_pixels: int) -> tuple[Image.Image, tuple[int, int]]:
    """The first frame in RGB or RGBA, turned as its EXIF orientation says (for a JPEG, at a
    reduced scale), and the size the header declares."""
    name = _NAMES[image_format]
    try:
        image = Image.open(io.BytesIO(data), formats=[image_format])
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"The image has more than {max_pixels} pixels.") from exc
    except Exception as exc:  # any failure to identify it means "not this format"
        raise InvalidImage(f"The body is not a valid {name} image.") from exc
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise ImageTooLarge(
                f"The image is {width}x{height} pixels; at most {max_pixels} pixels are accepted."
            )
        try:
            if image_format == "JPEG":
                # Decode at the smallest scale still at least 2x wide: less work and memory.
                image.draft("RGB", (SIZE_2X, SIZE_2X))
            image.load()  # the first frame of an animation
            oriented = ImageOps.exif_transpose(image)
            has_alpha = oriented.mode in ("RGBA", "LA", "PA") or (
                oriented.mode == "P" and "transparency" in oriented.info
            )
            return oriented.convert("RGBA" if has_alpha else "RGB"), (width, height)
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(f"The image has more than {max_pixels} pixels.") from exc
        except Exception as exc:
            # Pillow's decoders raise many kinds on hostile or damaged input (OSError for a
            # truncated file, SyntaxError, ValueError, struct.error...): all mean undecodable.
            raise InvalidImage(f"The body is not a complete, valid {name} image.") from exc


def _webp(image: Image.Image) -> bytes:
    image.info.clear()  # nothing carried over from the upload (Pillow copies `info` on resize)
    out = io.BytesIO()
    image.save(out, "WEBP", quality=_WEBP_QUALITY)
    return out.getvalue()
