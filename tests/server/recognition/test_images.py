"""server.recognition.images: every sample format (and WebP, HEIC made from them), EXIF, modes,
pixel limit, broken input."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
import warnings
import zlib

import numpy as np
import PIL.Image
import pytest

from server.recognition import faces
from server.recognition.images import DEFAULT_MAX_PIXELS, ImageDecodeError, decode_image, load_image_file
from testkit import photos
from testkit.paths import REPO


def _encode(image: PIL.Image.Image, fmt: str, **options) -> bytes:
    return photos.encoded(image, fmt, **options)


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


@pytest.mark.parametrize(
    "data", [b"", b"garbage, not an image", b"\xff\xd8\xff" + b"\0" * 50, b"%!PS-Adobe-3.0 EPSF-3.0\n"]
)
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


# -- WebP and HEIC/HEIF (phones, web pages) ---------------------------------------------------


def _heic(image: PIL.Image.Image, **options) -> bytes:
    """HEIC bytes, written by Pillow with pillow-heif's plugin (which turns an EXIF orientation
    into the container's rotation)."""
    return photos.encoded(image, "HEIF", **options)


def _photo(path) -> PIL.Image.Image:
    with PIL.Image.open(path) as image:
        image.load()
        return image


@pytest.fixture(scope="module")
def obama_photos(faces_dir) -> dict[str, bytes]:
    """The enrollment photo of 201911001 (910 x 1137) as JPEG (the file), WebP and HEIC."""
    path = faces_dir / "knowns" / "201911001_obama.jpg"
    image = _photo(path)
    return {"JPEG": path.read_bytes(), "WEBP": _encode(image, "WEBP"), "HEIF": _heic(image, quality=50)}


def _webp_claiming(width: int, height: int, chunk: bytes) -> bytes:
    """A real 100 x 100 WebP whose first chunk (VP8, VP8L or VP8X) claims width x height pixels."""
    image = PIL.Image.new("RGB", (100, 100), (200, 100, 50))
    options = {"VP8 ": {}, "VP8L": {"lossless": True}, "VP8X": {"exif": image.getexif().tobytes()}}
    data = bytearray(_encode(image, "WEBP", **options[chunk.decode("ascii")]))
    assert data[12:16] == chunk
    if chunk == b"VP8 ":
        data[26:30] = struct.pack("<HH", width, height)
    elif chunk == b"VP8L":
        (bits,) = struct.unpack_from("<I", data, 21)
        bits = (bits & ~0x0FFFFFFF) | (width - 1) | (height - 1) << 14  # keep the alpha and version bits
        data[21:25] = struct.pack("<I", bits)
    else:
        data[24:30] = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return bytes(data)


def _heic_claiming(width: int, height: int) -> bytes:
    """A real 64 x 64 HEIC whose image size property (ispe) claims width x height pixels."""
    data = _heic(PIL.Image.new("RGB", (64, 64), (200, 100, 50)))
    assert data.count(b"ispe") == 1  # one image, no thumbnail
    size_at = data.index(b"ispe") + 8  # after the box type and its version/flags
    return data[:size_at] + struct.pack(">II", width, height) + data[size_at + 8 :]


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
def test_webp_and_heic_decode_like_the_jpeg(obama_photos, fmt):
    jpeg = decode_image(obama_photos["JPEG"])
    assert jpeg.shape == (1137, 910, 3)
    decoded = decode_image(obama_photos[fmt])
    assert decoded.dtype == np.uint8 and decoded.shape == jpeg.shape
    assert np.abs(decoded.astype(int) - jpeg.astype(int)).mean() < 4  # only compression noise


def test_webp_named_jpg_and_heic_files_load_like_their_bytes(obama_photos, tmp_path):
    for fmt, name in [("WEBP", "201911001_obama.jpg"), ("HEIF", "201911001_obama.HEIC")]:
        path = tmp_path / name
        path.write_bytes(obama_photos[fmt])
        assert np.array_equal(load_image_file(path), decode_image(obama_photos[fmt])), name


def test_heic_is_decoded_without_anything_else_registering_pillow_heif(obama_photos, tmp_path):
    """Importing images does not load pillow-heif; the first decode registers it (new process)."""
    path = tmp_path / "photo.heic"
    path.write_bytes(obama_photos["HEIF"])
    script = (
        "import sys\n"
        "from server.recognition import images\n"
        "assert 'pillow_heif' not in sys.modules\n"
        f"print(images.load_image_file({str(path)!r}).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1137, 910, 3)"


def test_the_heic_inputs_of_these_tests_are_written_once_then_read_from_the_test_cache(faces_dir, tmp_path):
    """testkit.photos.heif keeps what it writes: the kept file holds what writing gives, is read
    (not written) the next time, and an image with other EXIF data is another file."""
    image = _photo(faces_dir / "probes" / "obama_small.jpg")
    written = photos.heif(image, {"quality": 50}, cache=tmp_path)
    [kept] = tmp_path.glob("heif-*/*.heic")
    assert kept.read_bytes() == written and decode_image(written).shape == (240, 320, 3)
    kept.write_bytes(written + b"kept")  # what is read the next time: the file
    assert photos.heif(image, {"quality": 50}, cache=tmp_path) == written + b"kept"
    assert photos.heif(image, {"quality": 40}, cache=tmp_path) != written  # other options: written
    other = image.copy()
    exif = other.getexif()
    exif[0x0112] = 6
    other.info["exif"] = exif.tobytes()
    assert b"irot" in photos.heif(other, {"quality": 50}, cache=tmp_path)
    assert len(list(tmp_path.glob("heif-*/*.heic"))) == 3 and not list(tmp_path.glob("heif-*/.heif-*"))


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
def test_webp_and_heic_orientation_is_applied(faces_dir, fmt):
    """WebP keeps the EXIF orientation (applied by decode_image); pillow-heif writes it as the
    container's rotation (irot), which libheif applies, and the EXIF tag is then reset to 1."""
    original = _photo(faces_dir / "probes" / "obama_small.jpg")  # 320 x 240
    exif = original.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    if fmt == "WEBP":
        data = _encode(original, "WEBP", exif=exif.tobytes(), quality=95)
    else:
        rotated = original.copy()
        rotated.info["exif"] = exif.tobytes()
        data = _heic(rotated, quality=90)
        assert b"irot" in data
    upright = np.asarray(original.transpose(PIL.Image.Transpose.ROTATE_270))
    decoded = decode_image(data)
    assert decoded.shape == (320, 240, 3)
    assert np.abs(decoded.astype(int) - upright.astype(int)).mean() < 4  # only compression noise


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
def test_transparent_webp_and_heic_are_put_on_white(fmt):
    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[:, :32] = (10, 120, 30, 255)  # left half opaque green
    rgba[:, 32:] = (10, 120, 30, 0)  # right half fully transparent: white
    image = PIL.Image.fromarray(rgba, "RGBA")
    data = _encode(image, "WEBP", lossless=True) if fmt == "WEBP" else _heic(image, quality=90)
    decoded = decode_image(data).astype(int)
    assert np.abs(decoded[8:56, 4:28] - (10, 120, 30)).max() < 12
    assert np.abs(decoded[8:56, 36:60] - 255).max() < 12


@pytest.mark.parametrize("chunk", [b"VP8 ", b"VP8L", b"VP8X"])
def test_webp_pixel_limit_is_checked_before_pillow_opens_it(chunk):
    """16383 x 10000 is under Pillow's own error limit but over its warning limit: the warning
    would show that Pillow opened the file (and libwebp reserved the canvas) before our check."""
    claiming = _webp_claiming(16383, 10000, chunk)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PIL.Image.DecompressionBombWarning)
        with pytest.raises(ImageDecodeError, match=f"16383x10000 = .* the limit of {DEFAULT_MAX_PIXELS:,}"):
            decode_image(claiming)
    assert time.perf_counter() - started < 0.5
    with pytest.raises(ImageDecodeError, match="100x100"):  # the header is read right
        decode_image(_webp_claiming(100, 100, chunk), max_pixels=9_999)


def test_heic_pixel_limit_is_checked_from_the_header():
    started = time.perf_counter()
    with pytest.raises(ImageDecodeError, match=f"8000x6000 = .* the limit of {DEFAULT_MAX_PIXELS:,}"):
        decode_image(_heic_claiming(8_000, 6_000))  # 48 Mpx claimed: refused before decoding
    with pytest.raises(ImageDecodeError, match="pixels"):  # 2.5 Gpx: Pillow's own limit
        decode_image(_heic_claiming(50_000, 50_000), max_pixels=10**12)
    assert time.perf_counter() - started < 1.0
    assert decode_image(_heic_claiming(64, 64), max_pixels=4_096).shape == (64, 64, 3)
    with pytest.raises(ImageDecodeError, match="64x64"):
        decode_image(_heic_claiming(64, 64), max_pixels=4_095)


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
def test_truncated_webp_and_heic_are_decode_errors(faces_dir, fmt):
    faces.load_models()  # as in the JPEG/PNG test: face_recognition's LOAD_TRUNCATED_IMAGES undone
    image = _photo(faces_dir / "probes" / "obama_small.jpg")
    data = _encode(image, "WEBP") if fmt == "WEBP" else _heic(image)
    assert decode_image(data).shape == (240, 320, 3)
    for length in (len(data) // 2, len(data) - 1, 40):
        with pytest.raises(ImageDecodeError):
            decode_image(data[:length])


@pytest.mark.parametrize(
    "data",
    [
        b"RIFF\x0c\x00\x00\x00WEBPVP8 \x00\x00\x00\x00",
        b"RIFF\x00\x01\x00\x00WEBP" + b"\x00" * 300,
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 300,
    ],
)
def test_webp_and_heic_garbage_is_a_decode_error(data):
    with pytest.raises(ImageDecodeError):
        decode_image(data)


def test_unknown_format_error_names_every_allowed_format():
    with pytest.raises(ImageDecodeError, match="not a JPEG, PNG, BMP, GIF, TIFF, WEBP or HEIF image"):
        decode_image(b"GIF89 is not quite a GIF")
