"""The 2019 clients' one-shot payloads, byte for byte (``docs/protocol.md``, "Legacy protocol").

A 2019 client opens a TCP connection per request, sends one payload with no length and no end
marker, does not close its side, and waits for the reply. The payloads:

=============================  ==========================================  ===================
bytes                          meaning                                     decoded as
=============================  ==========================================  ===================
``201911001ea0017_1``          student ID (9 digits) + lecture code (8)    :class:`LegacyMark`
``ea0017_1``                   lecture code alone (8)                      :class:`LegacyRoster`
JPEG, PNG or WebP file         a photo of the classroom or of a student    :class:`LegacyImage`
=============================  ==========================================  ===================

The first byte decides: a digit starts a mark, an ASCII letter a roster request, ``FF`` or ``89``
an image. Anything else is refused at once. One exception: a WebP starts with ``RIFF``, whose
``R`` and ``I`` could begin a lecture code; its third byte ``F`` (no lecture code has a letter
there) turns the payload into an image. HEIC photos cannot be 2019 payloads: their first byte is
``00``, the framed protocol's (see :mod:`protocol.image_end`).

Text payloads end after exactly 17 (mark) or 8 (roster) bytes; images end where their own
structure says (:mod:`protocol.image_end`). When an image's structure cannot be followed, the
decoder falls back to "the image is whatever arrived before 1 s of silence" (:meth:`on_idle`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.identifiers import (
    LECTURE_CODE_LENGTH,
    STATUSES,
    STUDENT_ID_LENGTH,
    is_legacy_lecture_code_prefix,
    is_legacy_student_id,
    is_legacy_student_id_prefix,
    normalize_legacy_lecture_code,
)
from protocol.image_end import BROKEN, COMPLETE, SIGNATURE_LENGTH, ImageEndFinder, could_be_image

#: Replies (no terminator; the server closes the connection after them). A mark gets SUCCESS or
#: FAIL; a roster request :func:`encode_roster_reply` or FAIL; an image the student ID of the
#: largest recognized face (9 ASCII digits), UNKNOWN, or FAIL.
SUCCESS = b"success"
FAIL = b"fail"
UNKNOWN = b"Unknown"

#: Payload sizes in bytes.
MARK_PAYLOAD_LENGTH = STUDENT_ID_LENGTH + LECTURE_CODE_LENGTH  # 17
ROSTER_PAYLOAD_LENGTH = LECTURE_CODE_LENGTH  # 8
DEFAULT_MAX_IMAGE_BYTES = 20 * 2**20

#: Seconds of silence after which the server calls :meth:`LegacyDecoder.on_idle`.
IDLE_SECONDS = 1.0

#: Bytes allowed after a text payload (a client that ends its line with "\n" or "\r\n").
ASCII_WHITESPACE = b" \t\r\n\x0b\x0c"


@dataclass(frozen=True)
class LegacyMark:
    """Mark ``student_id`` present in ``lecture`` (lower case). Reply SUCCESS or FAIL."""

    student_id: str
    lecture: str


@dataclass(frozen=True)
class LegacyRoster:
    """Send the roster of ``lecture`` (lower case). Reply :func:`encode_roster_reply` or FAIL."""

    lecture: str


@dataclass(frozen=True)
class LegacyImage:
    """Recognize the faces in ``data`` (JPEG, PNG or WebP). Reply a student ID, UNKNOWN or FAIL."""

    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"LegacyImage(<{len(self.data)} bytes>)"


LegacyRequest = LegacyMark | LegacyRoster | LegacyImage


def _bad_request(message: str) -> RemoteProtocolError:
    return RemoteProtocolError(ErrorCode.BAD_REQUEST, message)


def _describe_byte(value: int) -> str:
    """``'a' (0x61)`` for printable ASCII, else ``0x00``."""
    if 0x20 < value < 0x7F:
        return f"{chr(value)!r} (0x{value:02x})"
    return f"0x{value:02x}"


class LegacyDecoder:
    """Turn the bytes of one 2019 connection into one request (sans-IO).

    Call :meth:`feed` with every chunk received. It returns the request once complete, None
    while more bytes are needed, and raises :class:`RemoteProtocolError` as soon as the bytes
    cannot be the start of a payload (code ``bad_request``) or an image exceeds
    ``max_image_bytes`` (code ``frame_too_large``). One request per connection.

    When :attr:`idle_fallback` is True, the image's structure is broken: the server waits for
    :data:`IDLE_SECONDS` of silence and calls :meth:`on_idle`, which returns the bytes received.
    """

    def __init__(self, max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> None:
        self._max_image_bytes = max_image_bytes
        self._buf = bytearray()
        self._kind: str | None = None  # "mark", "roster" or "image", from the first byte (or "RIF")
        self._finder = ImageEndFinder(max_length=max_image_bytes)
        self._idle_fallback = False
        self._done = False  # a request was returned

    @property
    def idle_fallback(self) -> bool:
        """True when an image's structure is broken: end it after 1 s of silence instead."""
        return self._idle_fallback

    @property
    def done(self) -> bool:
        """True once a request was returned (by :meth:`feed` or :meth:`on_idle`)."""
        return self._done

    @property
    def buffered(self) -> int:
        """Bytes received and not yet returned as a request."""
        return len(self._buf)

    def feed(self, data: bytes) -> LegacyRequest | None:
        """Take the next bytes from the client; return the request when complete, else None."""
        if not data:
            return None
        data = bytes(data)
        if self._done:
            self._check_trailing(data)
            return None
        if self._kind is None:
            self._kind = self._kind_from_first_byte(data[0])
        if self._kind == "image":
            return self._feed_image(data)
        return self._feed_text(data)

    def on_idle(self) -> LegacyImage:
        """Called after :data:`IDLE_SECONDS` of silence (or when the client shuts down its side).

        Returns the bytes so far as an image in fallback mode; otherwise the payload is
        incomplete and this raises :class:`RemoteProtocolError` with code ``timeout``.
        """
        if self._idle_fallback and not self._done:
            self._done = True
            image = LegacyImage(bytes(self._buf))
            self._buf = bytearray()
            return image
        if self._done:
            message = "incomplete payload: the request was already decoded"
        elif self._kind is None:
            message = "incomplete payload: no bytes received"
        elif self._kind == "image":
            message = f"incomplete payload: the image ended after {len(self._buf)} bytes"
        else:
            expected = MARK_PAYLOAD_LENGTH if self._kind == "mark" else ROSTER_PAYLOAD_LENGTH
            message = f"incomplete payload: {len(self._buf)} of the {expected} bytes of a {self._kind} request"
        raise RemoteProtocolError(ErrorCode.TIMEOUT, message)

    # -- internals ------------------------------------------------------------------------

    @staticmethod
    def _kind_from_first_byte(first: int) -> str:
        if 0x30 <= first <= 0x39:  # '0'-'9'
            return "mark"
        if 0x41 <= first <= 0x5A or 0x61 <= first <= 0x7A:  # 'A'-'Z', 'a'-'z'
            return "roster"
        if could_be_image(bytes([first])):
            return "image"
        raise _bad_request(
            f"first byte {_describe_byte(first)} starts no payload "
            "(expected a student ID digit, a lecture code letter, or a JPEG/PNG/WebP signature)"
        )

    def _feed_text(self, data: bytes) -> LegacyRequest | None:
        """Add bytes to a mark or roster payload, checking each byte as it arrives."""
        expected = MARK_PAYLOAD_LENGTH if self._kind == "mark" else ROSTER_PAYLOAD_LENGTH
        needed = expected - len(self._buf)
        payload_part, rest = data[:needed], data[needed:]
        for index, value in enumerate(payload_part):
            self._buf.append(value)
            if not self._is_text_prefix(self._buf):
                if could_be_image(bytes(self._buf)):
                    return self._text_turned_image(payload_part[index + 1 :] + rest)
                raise self._text_error(len(self._buf) - 1, value)
        if len(self._buf) < expected:
            return None
        request = self._text_request(self._buf.decode("ascii"))
        self._done = True
        self._buf = bytearray()
        self._check_trailing(rest)
        return request

    def _text_turned_image(self, data: bytes) -> LegacyImage | None:
        """The text bytes so far start a WebP (``RI`` then ``F``); go on with them as an image."""
        self._kind = "image"
        head, self._buf = bytes(self._buf), bytearray()
        return self._feed_image(head + data)

    def _text_error(self, offset: int, value: int) -> RemoteProtocolError:
        if self._kind == "mark":
            expected = "a 9-digit student ID (2xxxxxxxx) then a lecture code such as ea0017_1"
        else:
            expected = "a lecture code: two letters, four digits, '_', one digit"
        return _bad_request(f"byte {offset} of a {self._kind} payload is {_describe_byte(value)}; expected {expected}")

    def _is_text_prefix(self, buf: bytearray) -> bool:
        if any(value > 0x7F for value in buf):
            return False
        text = buf.decode("ascii")
        if self._kind == "roster":
            return is_legacy_lecture_code_prefix(text)
        student, lecture = text[:STUDENT_ID_LENGTH], text[STUDENT_ID_LENGTH:]
        return is_legacy_student_id_prefix(student) and is_legacy_lecture_code_prefix(lecture)

    def _text_request(self, text: str) -> LegacyRequest:
        if self._kind == "roster":
            return LegacyRoster(normalize_legacy_lecture_code(text))
        student, lecture = text[:STUDENT_ID_LENGTH], text[STUDENT_ID_LENGTH:]
        return LegacyMark(student, normalize_legacy_lecture_code(lecture))

    def _check_trailing(self, data: bytes) -> None:
        """Bytes after a decoded request: ASCII whitespace after text is fine, images ignore all."""
        if self._kind == "image":
            return  # the rest of an image file (trailing data after its end) is not a request
        if data.strip(ASCII_WHITESPACE):
            raise _bad_request(
                f"unexpected bytes after the {self._kind} payload: {data[:20]!r} "
                "(one request per connection; only whitespace may follow)"
            )

    def _feed_image(self, data: bytes) -> LegacyImage | None:
        self._buf += data
        signature = bytes(self._buf[:SIGNATURE_LENGTH])
        if not could_be_image(signature):
            raise _bad_request(f"not a JPEG, PNG or WebP signature: {signature!r}")
        if not self._idle_fallback:
            verdict = self._finder.feed(data)
            if verdict.state is COMPLETE and verdict.length <= self._max_image_bytes:
                image = LegacyImage(bytes(self._buf[: verdict.length]))
                self._done = True
                self._buf = bytearray()
                return image
            if verdict.state is BROKEN:
                self._idle_fallback = True
        if len(self._buf) > self._max_image_bytes:
            raise RemoteProtocolError(
                ErrorCode.FRAME_TOO_LARGE,
                f"image larger than {self._max_image_bytes} bytes",
            )
        return None


RosterRow = tuple[str, str, str | None, datetime.datetime | datetime.time | None]

#: Characters that would split a roster line (str.splitlines() breaks on all but the tab).
_LINE_BREAKING = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_TO_SPACE = str.maketrans({char: " " for char in _LINE_BREAKING})


def encode_roster_reply(rows: Iterable[RosterRow]) -> bytes:
    """Encode the reply to a :class:`LegacyRoster` request (UTF-8).

    Each row is ``(student_id, name, status, marked_at)``; ``status`` and ``marked_at`` are
    None for a student not marked yet. One line per student::

        201911001<TAB>Barack Obama<TAB>present<TAB>09:03:12<LF>
        201911002<TAB>Joe Biden<TAB>-<TAB>-<LF>

    Tabs and line breaks inside a name become spaces. An empty roster is a single ``b"\\n"``
    (a client waiting for a reply gets one empty line, never zero bytes).
    Raises :class:`LocalProtocolError` for an invalid student ID or status.
    """
    lines = [_roster_line(*row) for row in rows]
    if not lines:
        return b"\n"
    return "".join(lines).encode("utf-8", errors="replace")


def _roster_line(
    student_id: str,
    name: str,
    status: str | None,
    marked_at: datetime.datetime | datetime.time | None,
) -> str:
    if not is_legacy_student_id(student_id):
        raise LocalProtocolError(ErrorCode.BAD_REQUEST, f"not a student ID: {student_id!r}")
    if status is not None and status not in STATUSES:
        raise LocalProtocolError(ErrorCode.BAD_REQUEST, f"unknown status: {status!r}")
    clean_name = str(name).translate(_TO_SPACE)
    if status is None:
        return f"{student_id}\t{clean_name}\t-\t-\n"
    time_text = "-" if marked_at is None else marked_at.strftime("%H:%M:%S")
    return f"{student_id}\t{clean_name}\t{status}\t{time_text}\n"
