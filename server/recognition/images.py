"""Image bytes or files -> RGB numpy arrays, refusing broken or oversized images early.

Every image that reaches face detection goes through :func:`decode_image` (bytes from a client)
or :func:`load_image_file` (an enrollment photo). Both return an array of shape (height, width, 3),
dtype uint8, RGB, already turned upright according to its EXIF orientation.

The pixel limit is checked on the size written in the file header, before any pixel is decoded,
so a small file that claims to be a huge image costs milliseconds, not gigabytes.
"""

from __future__ import annotations

import io
import os
from typing import BinaryIO

import numpy as np
import PIL
import PIL.Image
import PIL.ImageOps

#: Largest image accepted, in pixels (width * height). 40 Mpx is a 7700 x 5200 photo, whose RGB
#: array takes 120 MB; phones and classroom cameras produce far less.
DEFAULT_MAX_PIXELS = 40_000_000

#: Formats we decode. Pillow knows many more (some, like EPS, run external programs).
ALLOWED_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP")

#: Background put behind transparent pixels (white, like an image viewer shows them).
_BACKGROUND = (255, 255, 255)


class ImageDecodeError(ValueError):
    """The data is not an image we can use: unknown format, truncated, corrupt or too large."""


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode image bytes (JPEG, PNG, ...) into an upright RGB array.

    :param data: the whole file content.
    :param max_pixels: refuse images with more pixels (width * height) than this.
    :return: array of shape (height, width, 3), dtype uint8, RGB.
    :raises ImageDecodeError: empty, unknown, truncated, corrupt, or more than max_pixels.
    """
    if not data:
        raise ImageDecodeError("empty image data")
    return _decode(io.BytesIO(data), max_pixels, f"image of {len(data)} bytes")


def load_image_file(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Like :func:`decode_image`, for a file.

    :raises OSError: the file cannot be read (missing, no permission).
    :raises ImageDecodeError: the file is not a usable image.
    """
    with open(path, "rb") as file:
        return _decode(file, max_pixels, os.fspath(path))


def _decode(file: BinaryIO, max_pixels: int, what: str) -> np.ndarray:
    # face_recognition sets PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True when imported, which makes
    # Pillow fill a truncated image with grey instead of failing; faces.load_models() resets it.
    try:
        image = PIL.Image.open(file, formats=ALLOWED_FORMATS)  # reads the header only
    except PIL.UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{what}: not a JPEG, PNG, BMP, GIF, TIFF or WebP image") from exc
    except PIL.Image.DecompressionBombError as exc:  # Pillow's own limit, if max_pixels is higher
        raise ImageDecodeError(f"{what}: too many pixels ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - Pillow raises many types for untrusted input
        raise ImageDecodeError(f"{what}: cannot read the image header ({exc})") from exc
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise ImageDecodeError(f"{what}: the image is empty ({width}x{height} pixels)")
        if width * height > max_pixels:
            raise ImageDecodeError(
                f"{what}: {width}x{height} = {width * height:,} pixels, more than the limit of "
                f"{max_pixels:,}"
            )
        try:
            image.load()
            PIL.ImageOps.exif_transpose(image, in_place=True)
            return np.array(_to_rgb(image), dtype=np.uint8)
        except Exception as exc:  # noqa: BLE001 - truncated or corrupt pixel data
            raise ImageDecodeError(f"{what}: cannot decode the {image.format} data ({exc})") from exc


def _to_rgb(image: PIL.Image.Image) -> PIL.Image.Image:
    """Any Pillow mode -> RGB. Transparency is put on white; 16-bit grey is scaled to 8 bits."""
    if image.mode == "RGB":
        return image
    if image.mode.startswith("I;16"):
        # Pillow's convert() clips 16-bit grey to 0..255, which turns most of the image white.
        grey = np.round(np.asarray(image, dtype=np.float64) / 257.0)  # 0..65535 -> 0..255
        image = PIL.Image.fromarray(grey.astype(np.uint8), "L")
    if (image.mode == "P" and "transparency" in image.info) or image.mode in ("PA", "LA", "La", "RGBa"):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = PIL.Image.new("RGBA", image.size, _BACKGROUND + (255,))
        return PIL.Image.alpha_composite(background, image).convert("RGB")
    return image.convert("RGB")
