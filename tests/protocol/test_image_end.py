"""protocol.image_end: where a JPEG or PNG ends, on real photos and hand-made streams."""

from __future__ import annotations

import io
import random
import struct
import time
from pathlib import Path

import pytest
from PIL import Image

from protocol.image_end import (
    BROKEN,
    COMPLETE,
    INCOMPLETE,
    MAX_JPEG_SEGMENTS,
    ImageEndFinder,
    could_be_image,
    find_image_end,
    image_kind,
)

# -- helpers ------------------------------------------------------------------------------


def sample_images(faces_dir: Path) -> list[Path]:
    paths = sorted(p for p in faces_dir.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    assert paths, f"no JPEG/PNG under {faces_dir}"
    return paths


def noisy_image(width: int = 48, height: int = 32, mode: str = "RGB", seed: int = 1) -> Image.Image:
    """Random pixels: the entropy-coded data then holds many FF bytes (stuffed as FF 00)."""
    rng = random.Random(seed)
    channels = len(mode)
    return Image.frombytes(mode, (width, height), rng.randbytes(width * height * channels))


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def markers(data: bytes) -> list[int]:
    """Marker codes present in a JPEG (a rough count: FF followed by a non-zero, non-FF byte)."""
    pairs = zip(data, data[1:])
    return [code for first, code in pairs if first == 0xFF and code not in (0x00, 0xFF)]


def prefix_lengths(size: int, count: int = 200) -> list[int]:
    """``count`` evenly spaced prefix lengths in 0..size-1, plus the last 10."""
    spaced = {size * k // count for k in range(count)}
    return sorted(spaced | set(range(max(0, size - 10), size)))


def segment(code: int, body: bytes) -> bytes:
    return bytes([0xFF, code]) + struct.pack(">H", len(body) + 2) + body


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + b"\0\0\0\0"  # CRC is not checked


PNG_SIG = b"\x89PNG\r\n\x1a\n"
IHDR = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))


# -- real photos --------------------------------------------------------------------------


def test_every_sample_photo_is_complete_at_its_size(faces_dir: Path) -> None:
    for path in sample_images(faces_dir):
        data = path.read_bytes()
        result = find_image_end(data)
        assert result.state is COMPLETE, (path, result)
        assert result.length == len(data), path


def test_every_sample_photo_with_trailing_garbage_ends_at_its_size(faces_dir: Path) -> None:
    for path in sample_images(faces_dir):
        data = path.read_bytes()
        for trailing in (b"\x00", b"garbage\r\n", b"\xff\xd9", data[:100]):
            result = find_image_end(data + trailing)
            assert result.state is COMPLETE, (path, trailing)
            assert result.length == len(data), (path, trailing)


def test_every_sample_photo_minus_its_last_byte_is_incomplete(faces_dir: Path) -> None:
    for path in sample_images(faces_dir):
        data = path.read_bytes()
        assert find_image_end(data[:-1]).state is INCOMPLETE, path


@pytest.mark.parametrize("name", ["probes/obama_small.jpg", "knowns/201911006_lin_manuel_miranda.png"])
def test_sampled_prefixes_of_a_photo_are_incomplete(faces_dir: Path, name: str) -> None:
    data = (faces_dir / name).read_bytes()
    for length in prefix_lengths(len(data)):
        result = find_image_end(data[:length])
        assert result.state is INCOMPLETE, (length, result)


def test_sample_photos_fed_in_chunks_are_complete_and_fast(faces_dir: Path) -> None:
    """Every photo (the largest is ~900 KB) fed in 4 KB chunks: well under 1 s in total."""
    started = time.perf_counter()
    for path in sample_images(faces_dir):
        data = path.read_bytes()
        finder = ImageEndFinder()
        for start in range(0, len(data), 4096):
            result = finder.feed(data[start : start + 4096])
            if start + 4096 < len(data):
                assert result.state is INCOMPLETE, (path, start)
        assert result.state is COMPLETE and result.length == len(data), path
    assert time.perf_counter() - started < 1.0


def test_a_photo_fed_byte_by_byte_gives_the_same_answer(faces_dir: Path) -> None:
    data = (faces_dir / "probes/obama_small.jpg").read_bytes()
    finder = ImageEndFinder()
    results = [finder.feed(data[i : i + 1]) for i in range(len(data))]
    assert all(r.state is INCOMPLETE for r in results[:-1])
    assert results[-1].state is COMPLETE and results[-1].length == len(data)
    assert finder.kind == "jpeg"


# -- synthetic images (Pillow) --------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, options",
    [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("JPEG", {"restart_marker_blocks": 1}),
        ("JPEG", {"restart_marker_rows": 1, "progressive": True}),
        ("PNG", {}),
    ],
)
def test_every_prefix_of_a_small_image(fmt: str, options: dict) -> None:
    data = encoded(noisy_image(), fmt, **options)
    for length in range(len(data)):
        assert find_image_end(data[:length]).state is INCOMPLETE, length
    result = find_image_end(data + b"tail")
    assert result.state is COMPLETE and result.length == len(data)


def test_synthetic_jpegs_exercise_the_structures_they_claim() -> None:
    baseline = encoded(noisy_image(), "JPEG")
    assert b"\xff\x00" in baseline  # stuffed bytes in the entropy-coded data
    progressive = encoded(noisy_image(), "JPEG", progressive=True)
    assert markers(progressive).count(0xDA) > 1  # several scans
    restarts = encoded(noisy_image(), "JPEG", restart_marker_blocks=1)
    assert 0xDD in markers(restarts)  # DRI segment
    assert sum(1 for code in markers(restarts) if 0xD0 <= code <= 0xD7) >= 5


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_png_modes(mode: str) -> None:
    data = encoded(noisy_image(mode=mode), "PNG")
    assert find_image_end(data).length == len(data)


def test_grayscale_and_cmyk_jpegs() -> None:
    for mode in ("L", "CMYK"):
        data = encoded(noisy_image(mode=mode), "JPEG")
        result = find_image_end(data)
        assert result.state is COMPLETE and result.length == len(data), mode


def test_jpeg_with_exif_thumbnail_is_not_cut_at_the_thumbnail_end() -> None:
    """An APP1 segment may hold a whole JPEG (with its own EOI); it is skipped by length."""
    thumbnail = encoded(noisy_image(8, 8), "JPEG")
    main = encoded(noisy_image(), "JPEG")
    data = main[:2] + segment(0xE1, b"Exif\0\0" + thumbnail) + main[2:]
    result = find_image_end(data)
    assert result.state is COMPLETE and result.length == len(data)


# -- hand-built JPEG streams ----------------------------------------------------------------

SOI = b"\xff\xd8"
EOI = b"\xff\xd9"
SOS = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")


def test_hand_built_stream_with_restarts_fill_bytes_and_standalone_markers() -> None:
    data = (
        SOI
        + b"\xff\xff\xff"  # fill bytes before a marker
        + segment(0xE0, b"JFIF\0")
        + b"\xff\x01"  # TEM: standalone
        + segment(0xDD, b"\x00\x01")  # DRI
        + SOS
        + b"\x12\xff\x00\x34"  # stuffed FF
        + b"\xff\xd0\x56"  # RST0
        + b"\xff\xff\xd1\x78"  # fill byte, then RST1
        + b"\xff\xd7\x9a"  # RST7
        + segment(0xC4, b"\x00" * 17)  # DHT ends the scan (progressive style)
        + SOS
        + b"\xab\xff\x00"
        + b"\xff\xff"  # fill bytes before EOI
        + EOI
    )
    for length in range(len(data)):
        assert find_image_end(data[:length]).state is INCOMPLETE, length
    result = find_image_end(data + b"\xff\xd8trailing")
    assert result.state is COMPLETE and result.length == len(data)


def test_minimal_jpeg_structure_and_empty_segment() -> None:
    assert find_image_end(SOI + EOI).state is COMPLETE
    data = SOI + segment(0xFE, b"") + EOI  # a comment segment with length 2 (no body)
    assert find_image_end(data).length == len(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(SOI + b"\xff\xe0\x00\x00", id="segment length 0"),
        pytest.param(SOI + b"\xff\xe0\x00\x01", id="segment length 1"),
        pytest.param(SOI + b"garbage", id="garbage after SOI"),
        pytest.param(SOI + b"\xff\x00", id="FF 00 outside a scan"),
        pytest.param(SOI + segment(0xE0, b"JFIF\0") + b"\x00\xff\xd9", id="not FF after segment"),
        pytest.param(b"\xff\xd9", id="no SOI"),
        pytest.param(b"\xff\x00", id="FF then 00"),
        pytest.param(b"GIF89a", id="GIF"),
        pytest.param(b"\x00ATT\x01", id="framed preamble"),
    ],
)
def test_broken_jpeg_structures(data: bytes) -> None:
    result = find_image_end(data + b"\xff\xd9" * 3)
    assert result.state is BROKEN
    assert result.reason
    # The verdict is the same when the bytes arrive one by one, and it sticks.
    finder = ImageEndFinder()
    for i in range(len(data)):
        finder.feed(data[i : i + 1])
    assert finder.verdict.state is BROKEN
    assert finder.feed(EOI).state is BROKEN


def test_real_photo_corrupted_right_after_its_first_segment(faces_dir: Path) -> None:
    data = bytearray((faces_dir / "probes/obama_small.jpg").read_bytes())
    (app_length,) = struct.unpack(">H", data[4:6])
    corrupt_at = 4 + app_length  # where the next marker's FF should be
    data[corrupt_at] = 0x42
    result = find_image_end(bytes(data))
    assert result.state is BROKEN and result.length == corrupt_at


# -- hand-built PNG streams -----------------------------------------------------------------


def test_minimal_png_structure() -> None:
    data = PNG_SIG + IHDR + png_chunk(b"IDAT", b"x" * 10) + png_chunk(b"IEND", b"")
    for length in range(len(data)):
        assert find_image_end(data[:length]).state is INCOMPLETE, length
    assert find_image_end(data + b"junk").length == len(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x89PNG\r\n\x1a\x00", id="bad signature"),
        pytest.param(PNG_SIG + IHDR + png_chunk(b"ID4T", b""), id="digit in chunk type"),
        pytest.param(PNG_SIG + IHDR + struct.pack(">I", 2**31) + b"IDAT", id="length > 2**31-1"),
        pytest.param(PNG_SIG + png_chunk(b"IDAT", b"") + png_chunk(b"IEND", b""), id="IDAT first"),
        pytest.param(PNG_SIG + b"\0\0\0\0\0\0\0\0", id="zero chunk type"),
    ],
)
def test_broken_png_structures(data: bytes) -> None:
    result = find_image_end(data + png_chunk(b"IEND", b""))
    assert result.state is BROKEN, result
    assert result.reason


# -- signatures and edge cases ----------------------------------------------------------------


def test_image_kind_and_could_be_image() -> None:
    assert image_kind(b"\xff\xd8\xff\xe0") == "jpeg"
    assert image_kind(PNG_SIG + b"rest") == "png"
    assert image_kind(b"\xff\xd8") is None  # too short to tell
    assert image_kind(b"GIF89a") is None
    for prefix in (b"", b"\xff", b"\xff\xd8", b"\x89", b"\x89PN", PNG_SIG, b"\xff\xd8\xff\xdb"):
        assert could_be_image(prefix), prefix
    for other in (b"\xff\x00", b"\xff\xd8\x00", b"\x89PNX", b"G", b"\x00ATT", b"ea0017_1"):
        assert not could_be_image(other), other


def test_empty_input_is_incomplete() -> None:
    assert find_image_end(b"").state is INCOMPLETE
    finder = ImageEndFinder()
    assert finder.feed(b"").state is INCOMPLETE
    assert finder.kind is None


def test_complete_verdict_sticks() -> None:
    finder = ImageEndFinder()
    assert finder.feed(SOI + EOI).state is COMPLETE
    assert finder.feed(b"anything").length == 4
    assert finder.kind == "jpeg"


# -- WebP (RIFF) ------------------------------------------------------------------------------


def webp_chunk(code: bytes, data: bytes) -> bytes:
    """A RIFF chunk: code, little-endian data size, data, and a 0 pad byte when the size is odd."""
    return code + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)


def riff(*chunks: bytes, size: int | None = None) -> bytes:
    """``RIFF`` <size> ``WEBP`` and the chunks; ``size`` defaults to the right one."""
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def webp_layouts(faces_dir: Path) -> dict[str, bytes]:
    """A real photo as lossy (VP8), lossless (VP8L) and extended WebP (VP8X + VP8 + EXIF + XMP)."""
    with Image.open(faces_dir / "probes/obama_small.jpg") as photo:
        exif = photo.getexif().tobytes()
        translucent = photo.convert("RGBA")
        translucent.putalpha(Image.linear_gradient("L").resize(photo.size))
        layouts = {
            "lossy": encoded(photo, "WEBP"),
            "lossless": encoded(photo, "WEBP", lossless=True),
            "extended": encoded(photo, "WEBP", exif=exif, xmp=b"<x:xmpmeta />"),  # 13 bytes: padded
            "alpha": encoded(translucent, "WEBP"),
        }
    assert [data[12:16] for data in layouts.values()] == [b"VP8 ", b"VP8L", b"VP8X", b"VP8X"]
    assert [code for code, _ in riff_chunks(layouts["alpha"])] == [b"VP8X", b"ALPH", b"VP8 "]
    return layouts


def riff_chunks(data: bytes) -> list[tuple[bytes, int]]:
    """(code, data size) of each chunk of a WebP."""
    chunks, offset = [], 12
    while offset < len(data):
        code, size = struct.unpack_from("<4sI", data, offset)
        chunks.append((code, size))
        offset += 8 + size + size % 2
    return chunks


def test_webp_photos_are_complete_at_their_size_and_exclude_trailing_bytes(faces_dir: Path) -> None:
    for name, data in webp_layouts(faces_dir).items():
        for trailing in (b"", b"\x00", b"RIFF", data[:100]):
            result = find_image_end(data + trailing)
            assert result.state is COMPLETE and result.length == len(data), (name, trailing)
        assert find_image_end(data[:-1]).state is INCOMPLETE, name
        assert image_kind(data) == "webp", name


def test_extended_webp_has_several_chunks_and_a_padded_one(faces_dir: Path) -> None:
    data = webp_layouts(faces_dir)["extended"]
    codes = [code for code, _ in riff_chunks(data)]
    assert codes[0] == b"VP8X" and b"EXIF" in codes and b"XMP " in codes
    odd = [code for code, size in riff_chunks(data) if size % 2]
    assert odd, riff_chunks(data)  # so the pad byte is followed too


def test_a_webp_fed_byte_by_byte_is_incomplete_until_its_last_byte(faces_dir: Path) -> None:
    data = webp_layouts(faces_dir)["extended"] + b"trailing"
    finder = ImageEndFinder()
    results = [finder.feed(data[i : i + 1]) for i in range(len(data))]
    end = len(data) - len(b"trailing")
    assert all(r.state is INCOMPLETE for r in results[: end - 1])
    assert all(r.state is COMPLETE and r.length == end for r in results[end - 1 :])
    assert finder.kind == "webp"


@pytest.mark.parametrize("name", ["lossy", "alpha"])
def test_sampled_prefixes_of_a_webp_are_incomplete(faces_dir: Path, name: str) -> None:
    data = webp_layouts(faces_dir)[name]
    for length in prefix_lengths(len(data)):
        assert find_image_end(data[:length]).state is INCOMPLETE, length


def test_every_prefix_of_a_hand_built_webp() -> None:
    data = riff(
        webp_chunk(b"VP8X", b"\0" * 10),
        webp_chunk(b"ICCP", b"abc"),
        webp_chunk(b"VP8 ", b""),
        webp_chunk(b"VP8L", b"x" * 7),
    )
    for length in range(len(data)):
        assert find_image_end(data[:length]).state is INCOMPLETE, length
    result = find_image_end(data + b"\x00tail")
    assert result.state is COMPLETE and result.length == len(data)


def test_max_length_refuses_a_webp_that_declares_more(faces_dir: Path) -> None:
    data = webp_layouts(faces_dir)["lossy"]
    assert find_image_end(data, max_length=len(data)).length == len(data)
    result = find_image_end(data[:12], max_length=len(data) - 1)  # known from the header alone
    assert result.state is BROKEN and result.length == 4
    assert f"declares {len(data)} bytes" in result.reason
    jpeg = encoded(noisy_image(), "JPEG")
    assert find_image_end(jpeg, max_length=10).state is COMPLETE  # JPEG and PNG declare no length


VP8 = webp_chunk(b"VP8 ", b"\0" * 10)


@pytest.mark.parametrize(
    "data, offset",
    [
        pytest.param(b"RIFX" + riff(VP8)[4:], 3, id="RIFX"),
        pytest.param(b"RIFF\x0c\x00\x00\x00WAVE", 9, id="RIFF but WAVE"),
        pytest.param(riff(VP8, size=len(riff(VP8)) - 8 + 1), 4, id="odd RIFF size"),
        pytest.param(riff(size=4), 4, id="RIFF size 4: no chunk"),
        pytest.param(riff(size=0), 4, id="RIFF size 0"),
        pytest.param(riff(VP8, size=2**32 - 2), 4, id="RIFF size above 2**32-10"),
        pytest.param(riff(webp_chunk(b"ICCP", b"\0" * 10)), 12, id="first chunk not VP8"),
        pytest.param(riff(VP8, webp_chunk(b"EX\x00F", b"")), 30, id="chunk code not ASCII"),
        pytest.param(riff(VP8, size=len(VP8) + 4 - 8), 12, id="chunk past the RIFF end"),
        pytest.param(riff(VP8, b"\0" * 6), 30, id="6 bytes left: no room for a chunk header"),
    ],
)
def test_broken_webp_structures(data: bytes, offset: int) -> None:
    result = find_image_end(data + b"\0" * 40)
    assert result.state is BROKEN, result
    assert result.reason and result.length == offset, result
    finder = ImageEndFinder()  # the same verdict byte by byte, and it sticks
    for i in range(len(data) + 40):
        finder.feed((data + b"\0" * 40)[i : i + 1])
    assert finder.verdict == result
    assert finder.feed(b"\0" * 100).state is BROKEN


def test_webp_signature() -> None:
    webp = riff(VP8)
    assert image_kind(webp) == "webp"
    assert image_kind(webp[:11]) is None  # too short to tell
    for prefix in (b"R", b"RIFF", b"RIFF\xff\xff\xff\xff", webp[:10], webp[:12], webp):
        assert could_be_image(prefix), prefix
    for other in (b"RX", b"RIFX", b"RIFF\0\0\0\0WAVE", b"RIFF\0\0\0\0WEBQ", b"riff"):
        assert not could_be_image(other), other


from hypothesis import given, settings  # noqa: E402 - kept next to the one test that uses it
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 2**32 - 1), rest=st.binary(max_size=200), chunk=st.integers(1, 50))
def test_any_bytes_after_a_webp_header_give_a_verdict_that_chunking_does_not_change(size, rest, chunk):
    data = b"RIFF" + struct.pack("<I", size) + b"WEBP" + rest
    whole = find_image_end(data)
    if whole.state is COMPLETE:
        assert whole.length == 8 + size <= len(data)
    finder = ImageEndFinder()
    for start in range(0, len(data), chunk):
        finder.feed(data[start : start + chunk])
    assert finder.verdict == whole


def _jpeg_with_scans(extra: int) -> bytes:
    """A valid progressive JPEG with ``extra`` more copies of one tiny scan (issue 13)."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "grey").save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    last = data.rindex(b"\xff\xda")
    scan_end = data.index(b"\xff\xd9")
    return data[:last] + data[last:scan_end] * extra + data[last:]


def test_a_jpeg_of_too_many_segments_is_not_walked_to_its_end() -> None:
    assert find_image_end(_jpeg_with_scans(100)).state is COMPLETE
    attack = _jpeg_with_scans(MAX_JPEG_SEGMENTS + 10)
    started = time.monotonic()
    result = find_image_end(attack)
    assert result.state is BROKEN and f"more than {MAX_JPEG_SEGMENTS} JPEG segments" in result.reason
    assert time.monotonic() - started < 0.5
