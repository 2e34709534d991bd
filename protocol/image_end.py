"""Where a JPEG, PNG or WebP ends, found by following the file's own structure.

The 2019 clients send an image with no length and no end marker, so the server learns that the
upload is complete only by parsing the image as it arrives. :class:`ImageEndFinder` does that
incrementally: feed it the bytes as they come, in chunks of any size; the total work is
proportional to the image size (a 900 KB photo: about 1 ms in 4 KB chunks, most of it in
``bytes.find``; under 1 s fed one byte at a time).

JPEG (ITU T.81, Annex B): ``FF D8`` (SOI), then markers. A marker is ``FF`` plus a code byte,
optionally preceded by fill bytes (more ``FF``). Standalone markers (TEM ``01``, RST0-7
``D0``-``D7``, SOI ``D8``) have no body; every other marker starts a segment whose 2-byte
big-endian length counts itself. After an SOS segment (``FF DA``) comes entropy-coded data, in
which ``FF 00`` is a stuffed ``FF`` byte and ``FF D0``-``FF D7`` are restart markers; any other
marker ends the scan. Progressive JPEGs simply have more DHT/SOS segments. EOI (``FF D9``) ends
the image.

PNG: the 8-byte signature, then chunks (4-byte big-endian data length, 4-byte ASCII-letter type,
data, 4-byte CRC), the first being IHDR, up to and including IEND. CRCs are not checked.

WebP (RIFF container, "WebP Container Specification"): ``RIFF``, a 4-byte little-endian size,
``WEBP``; the file ends ``8 + size`` bytes from its start. The size counts ``WEBP`` and the chunks
that follow it, each a 4-character code, a 4-byte little-endian data size, the data and one pad
byte when that size is odd; so the size is even and at least 12 (``WEBP`` and one chunk header).
The first chunk is ``VP8 `` (lossy), ``VP8L`` (lossless) or ``VP8X`` (extended). The chunks are
followed up to the end the size gives, and must end exactly there.

HEIC/HEIF is not followed here: an ISO-BMFF file has no length for the whole file, and its first
byte (that of its first box's 4-byte size) is ``00``, which starts the framed protocol on the
server's port. HEIC photos go through the framed protocol, whose frames carry their length
(``docs/protocol.md``).
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RIFF_SIGNATURE = b"RIFF"
WEBP_FORM_TYPE = b"WEBP"

#: Each kind's signature as (offset, bytes) parts; the bytes between the parts may be anything
#: (in a WebP, the 4-byte RIFF size).
SIGNATURES = {
    "jpeg": ((0, JPEG_SIGNATURE),),
    "png": ((0, PNG_SIGNATURE),),
    "webp": ((0, RIFF_SIGNATURE), (8, WEBP_FORM_TYPE)),
}
#: Bytes needed to tell every kind apart: where the longest signature (WebP's, 12) ends.
SIGNATURE_LENGTH = max(offset + len(part) for parts in SIGNATURES.values() for offset, part in parts)

#: A PNG chunk's length is at most 2**31 - 1 (PNG specification, section 5.3).
PNG_MAX_CHUNK_LENGTH = 2**31 - 1

#: Bytes of a RIFF chunk header: a 4-character code and a u32 little-endian data size. The file
#: itself is one chunk, "RIFF" and its size.
RIFF_CHUNK_HEADER_LENGTH = 8
#: A WebP's RIFF size (bytes after the first 8) is at least "WEBP" plus one chunk header (4 + 8),
#: and at most 2**32 - 10 (WebP container specification), so a WebP file is at most 2**32 - 2 bytes.
WEBP_MIN_RIFF_SIZE = len(WEBP_FORM_TYPE) + RIFF_CHUNK_HEADER_LENGTH
WEBP_MAX_LENGTH = RIFF_CHUNK_HEADER_LENGTH + 2**32 - 10
#: The chunk a WebP starts with: lossy, lossless or extended format.
WEBP_FIRST_CHUNKS = (b"VP8 ", b"VP8L", b"VP8X")


class ImageState(str, enum.Enum):
    COMPLETE = "complete"  # the image ends at ImageEnd.length
    INCOMPLETE = "incomplete"  # the structure is fine so far; more bytes are needed
    BROKEN = "broken"  # the bytes cannot be followed as a JPEG, PNG or WebP


COMPLETE = ImageState.COMPLETE
INCOMPLETE = ImageState.INCOMPLETE
BROKEN = ImageState.BROKEN


@dataclass(frozen=True)
class ImageEnd:
    """The verdict on the bytes seen so far.

    ``length`` (bytes): for COMPLETE, the size of the image, so ``buf[:length]`` is the whole
    image and anything after it is trailing data; for INCOMPLETE, the number of bytes examined;
    for BROKEN, the offset of the byte that broke the structure. ``reason`` says why, for BROKEN.
    """

    state: ImageState
    length: int
    reason: str = ""


def image_kind(buf: bytes) -> str | None:
    """Return ``"jpeg"``, ``"png"`` or ``"webp"`` when ``buf`` starts with that signature, else None.

    A buffer too short to hold the whole signature gives None; see :func:`could_be_image`.
    """
    for kind, parts in SIGNATURES.items():
        if all(buf[offset : offset + len(part)] == part for offset, part in parts):
            return kind
    return None


def could_be_image(buf: bytes) -> bool:
    """Return True when ``buf`` could be the start of a JPEG, PNG or WebP file (by signature).

    ``b""``, ``b"\\xff"`` and ``b"RIFF\\x10\\x00"`` could be; ``b"\\xff\\x00"``, ``b"GIF8"`` and
    ``b"RIFF\\x10\\x00\\x00\\x00WAVE"`` could not.
    """
    return any(_could_start_with(buf, parts) for parts in SIGNATURES.values())


def _could_start_with(buf: bytes | bytearray, parts: tuple[tuple[int, bytes], ...]) -> bool:
    """True when the bytes of ``buf`` agree with every signature part they reach."""
    return all(part.startswith(buf[offset : offset + len(part)]) for offset, part in parts)


def find_image_end(buf: bytes, *, max_length: int = WEBP_MAX_LENGTH) -> ImageEnd:
    """Parse ``buf`` from the start and say whether it holds a whole JPEG, PNG or WebP.

    For bytes arriving in pieces, keep an :class:`ImageEndFinder` instead of calling this with a
    growing buffer (each call re-parses from byte 0). ``max_length``: see :class:`ImageEndFinder`.
    """
    return ImageEndFinder(max_length=max_length).feed(buf)


class ImageEndFinder:
    """Incremental :func:`find_image_end`: ``feed()`` each new chunk, get the verdict so far.

    The finder keeps no copy of the bytes, only its position in the structure. Once the verdict
    is COMPLETE or BROKEN it never changes, and further chunks are ignored.

    :param max_length: bytes; a WebP whose RIFF header declares a longer file is BROKEN at once
        (default: the longest file the WebP container allows). JPEG and PNG declare no length.
    """

    def __init__(self, *, max_length: int = WEBP_MAX_LENGTH) -> None:
        self._max_length = max_length
        self._parser: _JpegParser | _PngParser | _WebpParser | None = None
        self._verdict = ImageEnd(INCOMPLETE, 0)

    @property
    def kind(self) -> str | None:
        """``"jpeg"``, ``"png"``, ``"webp"``, or None before the first byte (or when it is none)."""
        if self._parser is None:
            return None
        return self._parser.kind

    @property
    def verdict(self) -> ImageEnd:
        """The verdict after the bytes fed so far."""
        return self._verdict

    def feed(self, data: bytes) -> ImageEnd:
        """Take the next chunk of the image and return the verdict so far."""
        if self._verdict.state is not INCOMPLETE or not data:
            return self._verdict
        data = bytes(data)
        if self._parser is None:
            if data[0] == JPEG_SIGNATURE[0]:
                self._parser = _JpegParser()
            elif data[0] == PNG_SIGNATURE[0]:
                self._parser = _PngParser()
            elif data[0] == RIFF_SIGNATURE[0]:
                self._parser = _WebpParser(self._max_length)
            else:
                reason = f"first byte 0x{data[0]:02x} starts no JPEG, PNG or WebP"
                self._verdict = ImageEnd(BROKEN, 0, reason)
                return self._verdict
        self._verdict = self._parser.feed(data)
        return self._verdict


# JPEG marker codes (the byte after FF).
_TEM = 0x01
_RST0, _RST7 = 0xD0, 0xD7
_SOI = 0xD8
_EOI = 0xD9
_SOS = 0xDA
_FILL = 0xFF
_STUFFED = 0x00
#: Segments (markers with a length: APPn, DQT, DHT, SOF, SOS...) a JPEG may have before its
#: structure is no longer followed (BROKEN: its end is then found by silence). A JPEG has a few
#: dozen; walking one of 100,000 tiny scans would cost this (Python) walker seconds.
MAX_JPEG_SEGMENTS = 1000


class _JpegParser:
    """JPEG structure walker. States (what the next byte must be):

    - ``soi_ff``, ``soi``: the FF and the D8 of SOI;
    - ``marker``: the FF that starts the next marker;
    - ``marker_code``: a marker code, or FF fill bytes;
    - ``length``: one of the two bytes of a segment length;
    - ``skip``: segment body, ``_skip_left`` bytes still to pass;
    - ``scan``: entropy-coded data, up to the next FF;
    - ``scan_ff``: the byte after an FF in entropy-coded data.
    """

    kind = "jpeg"

    def __init__(self) -> None:
        self._state = "soi_ff"
        self._offset = 0  # absolute offset of the current chunk's first byte
        self._length_bytes = bytearray()
        self._skip_left = 0
        self._in_sos = False  # the segment being read is SOS: entropy-coded data follows it
        self._segments = 0

    def feed(self, data: bytes) -> ImageEnd:
        """Walk the next chunk; return COMPLETE/BROKEN as soon as known, else INCOMPLETE."""
        i = 0  # position in data
        n = len(data)
        while i < n:
            state = self._state
            if state == "scan":
                ff = data.find(b"\xff", i)
                if ff < 0:
                    i = n
                else:
                    i = ff + 1
                    self._state = "scan_ff"
                continue
            if state == "skip":
                step = min(self._skip_left, n - i)
                i += step
                self._skip_left -= step
                if self._skip_left == 0:
                    self._state = "scan" if self._in_sos else "marker"
                continue
            byte = data[i]
            offset = self._offset + i  # absolute offset of this byte
            i += 1
            if state == "soi_ff":
                if byte != 0xFF:
                    return ImageEnd(BROKEN, offset, "JPEG does not start with FF D8 (SOI)")
                self._state = "soi"
            elif state == "soi":
                if byte != _SOI:
                    return ImageEnd(BROKEN, offset, "JPEG does not start with FF D8 (SOI)")
                self._state = "marker"
            elif state == "marker":
                if byte != 0xFF:
                    return ImageEnd(BROKEN, offset, f"expected a marker (FF), found 0x{byte:02x}")
                self._state = "marker_code"
            elif state == "marker_code":
                if byte == _STUFFED:
                    return ImageEnd(BROKEN, offset, "FF 00 outside entropy-coded data")
                if byte == _EOI:
                    return ImageEnd(COMPLETE, offset + 1)
                if self._on_marker(byte):
                    return ImageEnd(BROKEN, offset, f"more than {MAX_JPEG_SEGMENTS} JPEG segments")
            elif state == "scan_ff":
                if byte == _FILL:
                    pass  # fill bytes before a marker: still after an FF
                elif byte == _STUFFED or _RST0 <= byte <= _RST7:
                    self._state = "scan"
                elif byte == _EOI:
                    return ImageEnd(COMPLETE, offset + 1)
                elif self._on_marker(byte):
                    return ImageEnd(BROKEN, offset, f"more than {MAX_JPEG_SEGMENTS} JPEG segments")
            elif state == "length":
                self._length_bytes.append(byte)
                if len(self._length_bytes) == 2:
                    (length,) = struct.unpack(">H", self._length_bytes)
                    self._length_bytes.clear()
                    if length < 2:
                        return ImageEnd(BROKEN, offset, f"segment length {length} (must be >= 2)")
                    self._skip_left = length - 2
                    self._state = "skip"
                    if self._skip_left == 0:
                        self._state = "scan" if self._in_sos else "marker"
        self._offset += n
        return ImageEnd(INCOMPLETE, self._offset)

    def _on_marker(self, code: int) -> bool:
        """Act on a marker code other than EOI and FF 00 (handled by the caller); True when it
        starts one segment more than MAX_JPEG_SEGMENTS."""
        if code == _FILL:
            self._state = "marker_code"
        elif code in (_TEM, _SOI) or _RST0 <= code <= _RST7:
            self._state = "marker"  # standalone: no length, no body
        else:
            self._in_sos = code == _SOS
            self._state = "length"
            self._segments += 1
        return self._segments > MAX_JPEG_SEGMENTS


class _PngParser:
    """PNG structure walker. States: ``signature``, ``chunk_header`` (8 bytes), ``skip``."""

    kind = "png"

    def __init__(self) -> None:
        self._state = "signature"
        self._offset = 0  # absolute offset of the current chunk's first byte
        self._pending = bytearray()  # signature or chunk header bytes collected so far
        self._skip_left = 0
        self._chunks_seen = 0
        self._in_iend = False

    def feed(self, data: bytes) -> ImageEnd:
        """Walk the next chunk; return COMPLETE/BROKEN as soon as known, else INCOMPLETE."""
        i = 0  # position in data
        n = len(data)
        while i < n:
            offset = self._offset + i
            if self._state == "skip":
                step = min(self._skip_left, n - i)
                i += step
                self._skip_left -= step
                if self._skip_left == 0:
                    if self._in_iend:
                        return ImageEnd(COMPLETE, self._offset + i)
                    self._state = "chunk_header"
                continue
            self._pending.append(data[i])
            i += 1
            if self._state == "signature":
                if not PNG_SIGNATURE.startswith(self._pending):
                    return ImageEnd(BROKEN, offset, "not the PNG signature")
                if len(self._pending) == len(PNG_SIGNATURE):
                    self._pending.clear()
                    self._state = "chunk_header"
            elif len(self._pending) == 8:  # chunk_header complete
                broken = self._start_chunk(bytes(self._pending))
                self._pending.clear()
                if broken:
                    return ImageEnd(BROKEN, offset - 7, broken)
        self._offset += n
        return ImageEnd(INCOMPLETE, self._offset)

    def _start_chunk(self, header: bytes) -> str:
        """Take an 8-byte chunk header; return why it is broken, or "" when it is fine."""
        length, chunk_type = struct.unpack(">I4s", header)
        if length > PNG_MAX_CHUNK_LENGTH:
            return f"PNG chunk length {length} exceeds 2**31-1"
        if not chunk_type.isalpha():  # bytes.isalpha(): ASCII letters only
            return f"PNG chunk type {chunk_type!r} is not four ASCII letters"
        if self._chunks_seen == 0 and chunk_type != b"IHDR":
            return f"first PNG chunk is {chunk_type!r}, not IHDR"
        self._chunks_seen += 1
        self._in_iend = chunk_type == b"IEND"
        self._skip_left = length + 4  # data, then the CRC
        self._state = "skip"
        return ""


class _WebpParser:
    """WebP structure walker. States (what the next bytes are):

    - ``riff_header``: the 12 bytes ``RIFF``, size (u32 little-endian), ``WEBP``;
    - ``chunk_header``: the 8 bytes of a chunk header, its code and data size (u32 little-endian);
    - ``skip``: chunk data and pad byte, ``_skip_left`` bytes still to pass.
    """

    kind = "webp"

    def __init__(self, max_length: int) -> None:
        self._max_length = max_length
        self._state = "riff_header"
        self._offset = 0  # absolute offset of the first byte of the data being fed
        self._pending = bytearray()  # RIFF or chunk header bytes collected so far
        self._skip_left = 0
        self._riff_end = 0  # where the file ends, once the RIFF header is read
        self._chunks_seen = 0

    def feed(self, data: bytes) -> ImageEnd:
        """Walk the next chunk; return COMPLETE/BROKEN as soon as known, else INCOMPLETE."""
        i = 0  # position in data
        n = len(data)
        while i < n:
            if self._state == "skip":
                step = min(self._skip_left, n - i)
                i += step
                self._skip_left -= step
                verdict = self._after_chunk(self._offset + i) if self._skip_left == 0 else None
            else:
                self._pending.append(data[i])
                i += 1
                verdict = self._take_header_byte(self._offset + i)
            if verdict is not None:
                return verdict
        self._offset += n
        return ImageEnd(INCOMPLETE, self._offset)

    def _take_header_byte(self, end: int) -> ImageEnd | None:
        """Act on the header byte just collected (``end``: the offset after it)."""
        if self._state == "riff_header":
            if not _could_start_with(self._pending, SIGNATURES["webp"]):
                return ImageEnd(BROKEN, end - 1, "not the WebP signature (RIFF, size, WEBP)")
            if len(self._pending) < SIGNATURE_LENGTH:
                return None
            (riff_size,) = struct.unpack_from("<I", self._pending, 4)
            self._pending.clear()
            return self._start_riff(riff_size)
        if len(self._pending) < RIFF_CHUNK_HEADER_LENGTH:
            return None
        code, size = struct.unpack("<4sI", self._pending)
        self._pending.clear()
        return self._start_chunk(code, size, end)

    def _start_riff(self, riff_size: int) -> ImageEnd | None:
        """Take the RIFF size; BROKEN when no WebP can have it (or the file would be too long)."""
        reason = ""
        if riff_size % 2:
            reason = f"RIFF size {riff_size} is odd (every chunk is padded to an even length)"
        elif riff_size < WEBP_MIN_RIFF_SIZE:
            reason = f"RIFF size {riff_size} is below {WEBP_MIN_RIFF_SIZE} (WEBP and one chunk header)"
        elif RIFF_CHUNK_HEADER_LENGTH + riff_size > self._max_length:
            declared = RIFF_CHUNK_HEADER_LENGTH + riff_size
            reason = f"the RIFF header declares {declared} bytes, more than {self._max_length}"
        if reason:
            return ImageEnd(BROKEN, len(RIFF_SIGNATURE), reason)  # the offset of the size
        self._riff_end = RIFF_CHUNK_HEADER_LENGTH + riff_size
        self._state = "chunk_header"
        return None

    def _start_chunk(self, code: bytes, size: int, data_start: int) -> ImageEnd | None:
        """Take a chunk header (``data_start``: the offset after it); BROKEN when it is wrong."""
        header_start = data_start - RIFF_CHUNK_HEADER_LENGTH
        padded = size + size % 2
        if self._chunks_seen == 0 and code not in WEBP_FIRST_CHUNKS:
            return ImageEnd(BROKEN, header_start, f"first WebP chunk is {code!r}, not VP8, VP8L or VP8X")
        if not all(0x20 <= value <= 0x7E for value in code):
            return ImageEnd(BROKEN, header_start, f"WebP chunk code {code!r} is not four ASCII characters")
        if data_start + padded > self._riff_end:
            return ImageEnd(
                BROKEN,
                header_start,
                f"WebP chunk {code!r} ends at {data_start + padded}, after the RIFF end at {self._riff_end}",
            )
        self._chunks_seen += 1
        self._skip_left = padded
        self._state = "skip"
        return self._after_chunk(data_start) if padded == 0 else None

    def _after_chunk(self, offset: int) -> ImageEnd | None:
        """A chunk ended at ``offset``: COMPLETE at the RIFF end, else the next chunk header."""
        left = self._riff_end - offset
        if left == 0:
            return ImageEnd(COMPLETE, offset)
        if left < RIFF_CHUNK_HEADER_LENGTH:
            return ImageEnd(BROKEN, offset, f"{left} bytes before the RIFF end: too few for a chunk header")
        self._state = "chunk_header"
        return None
