"""Image bytes or files -> RGB numpy arrays, refusing broken or oversized images early.

Every image that reaches face detection goes through :func:`decode_image` (bytes from a client)
or :func:`load_image_file` (an enrollment photo). Both return an array of shape (height, width, 3),
dtype uint8, RGB, already turned upright according to its EXIF orientation.

The pixel limit is checked on the size written in the file header, before any pixel is decoded,
so a small file that claims to be a huge image costs milliseconds, not gigabytes. For a WebP it is
checked before Pillow even opens the file, as libwebp reserves the whole canvas when it does.

HEIF/HEIC photos (iPhones) are read by the pillow-heif plugin, registered on the first decode.
Their rotation is part of the container (``irot``/``imir``) and applied by libheif; pillow-heif then
sets the EXIF orientation to 1, so that the picture is not turned twice.
"""

from __future__ import annotations

import functools
import io
import os
import struct
from typing import BinaryIO

import numpy as np
import PIL
import PIL.Image
import PIL.ImageOps

from protocol.image_end import image_kind

#: Largest image accepted, in pixels (width * height). 40 Mpx is a 7700 x 5200 photo, whose RGB
#: array takes 120 MB; phones and classroom cameras produce far less.
DEFAULT_MAX_PIXELS = 40_000_000

#: Largest number of scans (SOS markers) in a JPEG. A progressive JPEG has about 10; decoding
#: costs a pass over the whole image per scan, so a small file of thousands of tiny scans would
#: cost a worker minutes.
DEFAULT_MAX_JPEG_SCANS = 100
_JPEG_SOS = b"\xff\xda"  # never inside entropy-coded data (an 0xFF there is followed by 0x00)

#: Formats we decode. Pillow knows many more (some, like EPS, run external programs). HEIF comes
#: from pillow-heif (see :func:`_register_heif_opener`).
ALLOWED_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "HEIF")
#: The formats as error messages list them: "JPEG, PNG, ... or HEIF".
_FORMAT_NAMES = ", ".join(ALLOWED_FORMATS[:-1]) + " or " + ALLOWED_FORMATS[-1]

#: Bytes at the start of a WebP that hold its canvas size, whichever its first chunk.
_WEBP_SIZE_HEADER_LENGTH = 30

#: Background put behind transparent pixels (white, like an image viewer shows them).
_BACKGROUND = (255, 255, 255)


class ImageDecodeError(ValueError):
    """The data is not an image we can use: unknown format, truncated, corrupt or too large."""


def decode_image(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_jpeg_scans: int = DEFAULT_MAX_JPEG_SCANS
) -> np.ndarray:
    """Decode image bytes (JPEG, PNG, WebP, HEIC, ...) into an upright RGB array.

    :param data: the whole file content.
    :param max_pixels: refuse images with more pixels (width * height) than this.
    :param max_jpeg_scans: refuse a JPEG with more scans than this (before decoding it).
    :return: array of shape (height, width, 3), dtype uint8, RGB.
    :raises ImageDecodeError: empty, unknown, truncated, corrupt, more than max_pixels, or a
        JPEG of more than max_jpeg_scans scans.
    """
    if not data:
        raise ImageDecodeError("empty image data")
    if image_kind(data) == "jpeg":
        scans = data.count(_JPEG_SOS)
        if scans > max_jpeg_scans:
            raise ImageDecodeError(
                f"image of {len(data)} bytes: a JPEG of {scans} scans, more than the limit of {max_jpeg_scans}"
            )
    return _decode(io.BytesIO(data), max_pixels, f"image of {len(data)} bytes")


def load_image_file(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Like :func:`decode_image`, for a file.

    :raises OSError: the file cannot be read (missing, no permission).
    :raises ImageDecodeError: the file is not a usable image.
    """
    with open(path, "rb") as file:
        return _decode(file, max_pixels, os.fspath(path))


def _decode(file: BinaryIO, max_pixels: int, what: str) -> np.ndarray:
    _register_heif_opener()
    _check_webp_header(file, max_pixels, what)
    # face_recognition sets PIL.ImageFile.LOAD_TRUNCATED_IMAGES = True when imported, which makes
    # Pillow fill a truncated image with grey instead of failing; faces.load_models() resets it.
    try:
        image = PIL.Image.open(file, formats=ALLOWED_FORMATS)  # reads the header only
    except PIL.UnidentifiedImageError as exc:
        raise ImageDecodeError(f"{what}: not a {_FORMAT_NAMES} image") from exc
    except PIL.Image.DecompressionBombError as exc:  # Pillow's own limit, if max_pixels is higher
        raise ImageDecodeError(f"{what}: too many pixels ({exc})") from exc
    except Exception as exc:  # Pillow raises many types for untrusted input
        raise ImageDecodeError(f"{what}: cannot read the image header ({exc})") from exc
    with image:
        _check_pixels(*image.size, max_pixels, what)
        try:
            image.load()
            PIL.ImageOps.exif_transpose(image, in_place=True)
            return np.array(_to_rgb(image), dtype=np.uint8)
        except Exception as exc:  # truncated or corrupt pixel data
            raise ImageDecodeError(f"{what}: cannot decode the {image.format} data ({exc})") from exc


@functools.cache
def _register_heif_opener() -> None:
    """Let Pillow open HEIF/HEIC, once per process (importing pillow-heif loads libheif)."""
    import pillow_heif  # here, so that importing this module stays cheap

    # Only the primary image is used: leave thumbnails, depth maps and auxiliary images unread.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _check_webp_header(file: BinaryIO, max_pixels: int, what: str) -> None:
    """When ``file`` is a WebP, check its canvas size against max_pixels; leave its position as is."""
    start = file.tell()
    size = _webp_canvas_size(file.read(_WEBP_SIZE_HEADER_LENGTH))
    file.seek(start)
    if size is not None:
        _check_pixels(*size, max_pixels, what)


def _webp_canvas_size(header: bytes) -> tuple[int, int] | None:
    """(width, height) of a WebP from its first 30 bytes, or None when they are no WebP header.

    Layouts (WebP container specification): lossy ``VP8 ``: 14-bit width and height after the
    start code ``9D 01 2A``; lossless ``VP8L``: after the byte ``2F``, width - 1 and height - 1 in
    14 bits each; extended ``VP8X``: canvas width - 1 and height - 1 in 24 bits each.
    """
    if len(header) < _WEBP_SIZE_HEADER_LENGTH or image_kind(header) != "webp":
        return None
    chunk = header[12:16]
    if chunk == b"VP8 " and header[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", header, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and header[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", header, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(header[24:27], "little") + 1
        height = int.from_bytes(header[27:30], "little") + 1
        return width, height
    return None


def _check_pixels(width: int, height: int, max_pixels: int, what: str) -> None:
    """Raise ImageDecodeError for an empty image or one of more than max_pixels pixels."""
    if width <= 0 or height <= 0:
        raise ImageDecodeError(f"{what}: the image is empty ({width}x{height} pixels)")
    if width * height > max_pixels:
        raise ImageDecodeError(
            f"{what}: {width}x{height} = {width * height:,} pixels, more than the limit of {max_pixels:,}"
        )


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
