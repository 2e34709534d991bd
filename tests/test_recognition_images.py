"""server.recognition.images: every sample format, EXIF, modes, pixel limit, broken input."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import PIL.Image
import pytest

from server.recognition import faces
from server.recognition.images import DEFAULT_MAX_PIXELS, ImageDecodeError, decode_image, load_image_file


def _encode(image: PIL.Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_claiming(width: int, height: int) -> bytes:
    """A valid-looking PNG of under 100 bytes whose header claims width x height RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + _png_chunk(b"IEND", b"")
    )


def test_every_sample_photo_decodes_to_rgb(faces_dir):
    paths = sorted(p for p in faces_dir.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    assert len(paths) >= 35
    for path in paths:
        with PIL.Image.open(path) as original:
            width, height = original.size
        from_file = load_image_file(path)
        assert from_file.dtype == np.uint8 and from_file.shape == (height, width, 3), path
        assert np.array_equal(decode_image(path.read_bytes()), from_file), path


def test_rgba_png_is_put_on_white(faces_dir):
    image = load_image_file(faces_dir / "probes" / "obama_32bit_rgba.png")
    assert image.shape == (1200, 626, 3)
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)  # opaque
    rgba[0, 1] = (10, 20, 30, 0)  # fully transparent: white
    decoded = decode_image(_encode(PIL.Image.fromarray(rgba, "RGBA"), "PNG"))
    assert decoded[0, 0].tolist() == [10, 20, 30]
    assert decoded[0, 1].tolist() == [255, 255, 255]


def test_exif_orientation_is_applied(faces_dir):
    with PIL.Image.open(faces_dir / "probes" / "obama_small.jpg") as original:  # 320 x 240
        exif = original.getexif()
        exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
        data = _encode(original, "JPEG", exif=exif, quality=95)
        upright = np.asarray(original.transpose(PIL.Image.Transpose.ROTATE_270))
    decoded = decode_image(data)
    assert decoded.shape == (320, 240, 3)
    assert np.abs(decoded.astype(int) - upright.astype(int)).mean() < 3  # only JPEG noise


@pytest.mark.parametrize("mode", ["L", "LA", "P", "PA", "1", "CMYK", "I;16", "I", "RGBX"])
def test_other_modes_become_rgb(mode):
    gradient = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (48, 1))  # 48 x 64
    image = PIL.Image.fromarray(np.stack([gradient] * 3, axis=-1), "RGB").convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "TIFF" if mode in ("PA", "RGBX", "I") else "PNG"
    decoded = decode_image(_encode(image, fmt))
    assert decoded.dtype == np.uint8 and decoded.shape == (48, 64, 3)


def test_sixteen_bit_grey_keeps_its_contrast():
    grey16 = np.array([[0, 32896, 65535]], dtype=np.uint16)
    decoded = decode_image(_encode(PIL.Image.fromarray(grey16), "PNG"))
    assert decoded[0, :, 0].tolist() == [0, 128, 255]  # Pillow's own convert() would give 0, 255, 255


def test_decompression_bomb_is_refused_from_the_header():
    bomb = _png_claiming(50_000, 50_000)  # 2.5 Gpx, 7.5 GB as RGB
    assert len(bomb) < 1024
    started = time.perf_counter()
    with pytest.raises(ImageDecodeError, match="pixels"):
        decode_image(bomb)
    with pytest.raises(ImageDecodeError, match="pixels"):  # Pillow's own limit still applies
        decode_image(bomb, max_pixels=10**12)
    assert time.perf_counter() - started < 1.0


def test_max_pixels_is_checked_before_decoding():
    medium = _png_claiming(8_000, 6_000)  # 48 Mpx: under Pillow's limit, over ours
    with pytest.raises(ImageDecodeError, match=f"{DEFAULT_MAX_PIXELS:,}"):
        decode_image(medium)
    small = _encode(PIL.Image.new("RGB", (100, 100)), "PNG")
    assert decode_image(small, max_pixels=10_000).shape == (100, 100, 3)
    with pytest.raises(ImageDecodeError, match="100x100"):
        decode_image(small, max_pixels=9_999)


@pytest.mark.parametrize("data", [b"", b"garbage, not an image", b"\xff\xd8\xff" + b"\0" * 50, b"%!PS-Adobe-3.0 EPSF-3.0\n"])
def test_garbage_is_a_decode_error(data):
    with pytest.raises(ImageDecodeError):
        decode_image(data)


@pytest.mark.parametrize("name", ["probes/obama_small.jpg", "probes/alex_lacamoire_2.png"])
def test_truncated_image_is_a_decode_error_even_after_face_recognition_is_imported(faces_dir, name):
    faces.load_models()  # face_recognition turns on Pillow's LOAD_TRUNCATED_IMAGES; load_models undoes it
    data = (faces_dir / name).read_bytes()
    with pytest.raises(ImageDecodeError):
        decode_image(data[: len(data) // 2])


def test_load_image_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image_file(tmp_path / "missing.jpg")
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    with pytest.raises(ImageDecodeError, match="notes.jpg"):
        load_image_file(text)
