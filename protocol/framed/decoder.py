"""Received bytes -> messages (sans-IO): :class:`FramedDecoder` collects the peer's preamble,
then each frame, within a size limit, and hands each whole frame to the codec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.framed.codec import (
    BODY_PREFIX,
    DEFAULT_MAX_FRAME_BYTES,
    FRAME_LENGTH,
    MAGIC,
    PREAMBLE,
    VERSION,
    decode_frame_content,
)
from protocol.framed.messages import REQUEST_TYPES, RESPONSE_TYPES

#: What :meth:`FramedDecoder.feed` returns: messages, and InvalidMessage events.
Event = Any


@dataclass(frozen=True)
class InvalidMessage:
    """A decoder event: a well-framed frame whose content is invalid (not a message).

    The connection can go on: answer ``ErrorResponse(request_id, error.code, error.message)``.
    """

    request_id: int
    error: RemoteProtocolError


class FramedDecoder:
    """Turn received bytes into messages (sans-IO).

    ``role="server"`` decodes requests, ``role="client"`` decodes responses. ``feed()`` returns
    every message completed by the bytes so far (possibly none). A frame with invalid content
    becomes an :class:`InvalidMessage` event; a stream that cannot be followed raises
    :class:`RemoteProtocolError` (codes ``bad_frame``, ``unsupported_version``,
    ``frame_too_large``): the connection must close, and every later ``feed()`` raises again.
    Events decoded earlier in the same ``feed()`` call are lost with the raise.

    At most ``max_frame_bytes`` + 4 bytes are ever buffered. ``max_first_frame_bytes``: a smaller
    limit for the first frame only (a server's: the first frame must be a small ``hello``, so a
    peer without a token cannot make it buffer megabytes).
    """

    def __init__(
        self,
        role: Literal["server", "client"],
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        expect_preamble: bool = True,
        max_first_frame_bytes: int | None = None,
    ) -> None:
        if role not in ("server", "client"):
            raise ValueError(f"role must be 'server' or 'client', not {role!r}")
        self._role = role
        self._types = REQUEST_TYPES if role == "server" else RESPONSE_TYPES
        self._max_frame_bytes = max_frame_bytes
        self._preamble_received = not expect_preamble
        self._buf = bytearray()  # the preamble, or the frame being collected (from its N field)
        self._frame_length: int | None = None  # N, once its 4 bytes are in
        self._error: RemoteProtocolError | None = None
        self._max_first_frame_bytes = max_first_frame_bytes
        self._frames = 0  # frames decoded so far

    @property
    def role(self) -> str:
        return self._role

    @property
    def preamble_received(self) -> bool:
        """True once the peer's whole preamble arrived and was accepted."""
        return self._preamble_received

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded (non-zero at EOF means "closed mid-frame")."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Event]:
        """Take received bytes; return the messages (and InvalidMessage events) they complete."""
        if self._error is not None:
            raise self._error
        data = bytes(data)
        events: list[Event] = []
        pos = 0
        try:
            while pos < len(data):
                if not self._preamble_received:
                    pos = self._take_preamble(data, pos)
                elif self._frame_length is None:
                    pos = self._take_length(data, pos)
                else:
                    pos = self._take_body(data, pos, events)
        except RemoteProtocolError as exc:
            self._error = exc
            self._buf = bytearray()
            raise
        return events

    def _take_preamble(self, data: bytes, pos: int) -> int:
        end = pos + len(PREAMBLE) - len(self._buf)
        self._buf += data[pos:end]
        got = bytes(self._buf)
        if not MAGIC.startswith(got[: len(MAGIC)]):
            raise RemoteProtocolError(ErrorCode.BAD_FRAME, f"not the framed protocol: expected {MAGIC!r}, got {got!r}")
        if len(got) == len(PREAMBLE):
            if got[-1] != VERSION:
                raise RemoteProtocolError(
                    ErrorCode.UNSUPPORTED_VERSION,
                    f"peer speaks version {got[-1]}, this side speaks version {VERSION}",
                )
            self._preamble_received = True
            self._buf = bytearray()
        return min(end, len(data))

    def _take_length(self, data: bytes, pos: int) -> int:
        """Collect the 4 bytes of N (they stay in the buffer, at the start of the frame)."""
        end = pos + FRAME_LENGTH.size - len(self._buf)
        self._buf += data[pos:end]
        if len(self._buf) == FRAME_LENGTH.size:
            (length,) = FRAME_LENGTH.unpack(self._buf)
            limit, which = self._max_frame_bytes, ""
            if self._frames == 0 and self._max_first_frame_bytes is not None:
                limit, which = min(limit, self._max_first_frame_bytes), " for the first frame (hello)"
            if length > limit:
                raise RemoteProtocolError(
                    ErrorCode.FRAME_TOO_LARGE,
                    f"frame of {length} bytes exceeds the limit of {limit}{which}",
                )
            if length < BODY_PREFIX.size:
                raise RemoteProtocolError(
                    ErrorCode.BAD_FRAME,
                    f"frame length {length} is shorter than request_id + header_len (8 bytes)",
                )
            self._frame_length = length
        return min(end, len(data))

    def _take_body(self, data: bytes, pos: int, events: list[Event]) -> int:
        """Collect the N bytes after the length field; decode the frame once they are all in."""
        length = self._frame_length
        assert length is not None
        frame_size = FRAME_LENGTH.size + length
        end = pos + frame_size - len(self._buf)
        self._buf += data[pos:end]
        if len(self._buf) >= FRAME_LENGTH.size + BODY_PREFIX.size:
            request_id, header_len = BODY_PREFIX.unpack_from(self._buf, FRAME_LENGTH.size)
            if header_len > length - BODY_PREFIX.size:
                raise RemoteProtocolError(
                    ErrorCode.BAD_FRAME,
                    f"header_len {header_len} exceeds the frame ({length} bytes)",
                    request_id,
                )
        if len(self._buf) == frame_size:
            events.append(self._finish_frame())
        return min(end, len(data))

    def _finish_frame(self) -> Event:
        body = bytes(self._buf[FRAME_LENGTH.size :])
        self._buf = bytearray()
        self._frame_length = None
        self._frames += 1
        request_id, header_len = BODY_PREFIX.unpack_from(body)
        header_end = BODY_PREFIX.size + header_len
        try:
            return decode_frame_content(request_id, body[BODY_PREFIX.size : header_end], body[header_end:], self._types)
        except ValueError as exc:
            error = RemoteProtocolError(ErrorCode.BAD_REQUEST, str(exc), request_id)
            return InvalidMessage(request_id, error)
