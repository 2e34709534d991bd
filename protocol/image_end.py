"""Where a JPEG or PNG ends, found by following the file's own structure.

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
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

JPEG_SIGNATURE = b"\xff\xd8\xff"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: A PNG chunk's length is at most 2**31 - 1 (PNG specification, section 5.3).
PNG_MAX_CHUNK_LENGTH = 2**31 - 1


class ImageState(str, enum.Enum):
    COMPLETE = "complete"  # the image ends at ImageEnd.length
    INCOMPLETE = "incomplete"  # the structure is fine so far; more bytes are needed
    BROKEN = "broken"  # the bytes cannot be followed as a JPEG or PNG


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
    """Return ``"jpeg"`` or ``"png"`` when ``buf`` starts with that signature, else None.

    A buffer too short to hold the whole signature gives None; see :func:`could_be_image`.
    """
    if buf.startswith(JPEG_SIGNATURE):
        return "jpeg"
    if buf.startswith(PNG_SIGNATURE):
        return "png"
    return None


def could_be_image(buf: bytes) -> bool:
    """Return True when ``buf`` could be the start of a JPEG or PNG file (judging by signature).

    ``b""`` and ``b"\\xff"`` could be; ``b"\\xff\\x00"`` and ``b"GIF8"`` could not.
    """
    for signature in (JPEG_SIGNATURE, PNG_SIGNATURE):
        if buf.startswith(signature) or signature.startswith(buf):
            return True
    return False


def find_image_end(buf: bytes) -> ImageEnd:
    """Parse ``buf`` from the start and say whether it holds a whole JPEG or PNG.

    For bytes arriving in pieces, keep an :class:`ImageEndFinder` instead of calling this with a
    growing buffer (each call re-parses from byte 0).
    """
    return ImageEndFinder().feed(buf)


class ImageEndFinder:
    """Incremental :func:`find_image_end`: ``feed()`` each new chunk, get the verdict so far.

    The finder keeps no copy of the bytes, only its position in the structure. Once the verdict
    is COMPLETE or BROKEN it never changes, and further chunks are ignored.
    """

    def __init__(self) -> None:
        self._parser: _JpegParser | _PngParser | None = None
        self._verdict = ImageEnd(INCOMPLETE, 0)

    @property
    def kind(self) -> str | None:
        """``"jpeg"``, ``"png"``, or None before the first byte (or when it is neither)."""
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
            else:
                reason = f"first byte 0x{data[0]:02x} starts no JPEG or PNG"
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
                self._on_marker(byte)
            elif state == "scan_ff":
                if byte == _FILL:
                    pass  # fill bytes before a marker: still after an FF
                elif byte == _STUFFED or _RST0 <= byte <= _RST7:
                    self._state = "scan"
                elif byte == _EOI:
                    return ImageEnd(COMPLETE, offset + 1)
                else:
                    self._on_marker(byte)
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

    def _on_marker(self, code: int) -> None:
        """Act on a marker code other than EOI and FF 00 (handled by the caller)."""
        if code == _FILL:
            self._state = "marker_code"
        elif code in (_TEM, _SOI) or _RST0 <= code <= _RST7:
            self._state = "marker"  # standalone: no length, no body
        else:
            self._in_sos = code == _SOS
            self._state = "length"


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
