"""Protocol errors and the error codes shared with the server's error replies.

Two kinds of mistakes, as in h11:

- :class:`RemoteProtocolError`: the peer sent bytes we cannot accept.
- :class:`LocalProtocolError`: our own code asked to encode something invalid (a bug on our side).
"""

from __future__ import annotations


class ErrorCode:
    """The error codes, as sent in framed ``error`` replies (``docs/protocol.md``)."""

    #: The framed stream cannot be followed (wrong magic, impossible lengths).
    BAD_FRAME = "bad_frame"
    #: A frame or legacy image is larger than the receiver's limit.
    FRAME_TOO_LARGE = "frame_too_large"
    #: The peer speaks another version of the framed protocol.
    UNSUPPORTED_VERSION = "unsupported_version"
    #: A well-framed request whose content is invalid, or a legacy payload that is not one.
    BAD_REQUEST = "bad_request"
    #: Unknown lecture (or another missing object).
    NOT_FOUND = "not_found"
    #: The student is not enrolled in the lecture.
    NOT_ENROLLED = "not_enrolled"
    #: The image bytes cannot be decoded as a picture.
    BAD_IMAGE = "bad_image"
    #: The database does not answer.
    DB_UNAVAILABLE = "db_unavailable"
    #: The peer went silent in the middle of a payload, or a step took too long.
    TIMEOUT = "timeout"
    #: A bug on the server.
    INTERNAL = "internal"
    #: No valid client token: the first framed request was not a ``hello`` with a valid token,
    #: the token is unknown or revoked, or the server requires TLS. The connection is closed.
    UNAUTHORIZED = "unauthorized"
    #: The client sent more requests per second than the server allows; try again later.
    RATE_LIMITED = "rate_limited"
    #: The server has as many connections as it allows; try again later. The connection is closed.
    BUSY = "busy"
    #: The frames of one check-in show different people (docs/recognition.md).
    DIFFERENT_PEOPLE = "different_people"
    #: The client's role (or its lectures) does not allow this request (docs/deploy.md, "Roles").
    #: The connection stays open: the client may send requests its role allows.
    FORBIDDEN = "forbidden"
    #: A client's timestamp (a camera sample's ``sampled_at``) is further from the server's
    #: clock than it allows: set the client's clock and time zone (docs/deploy.md, 6).
    CLOCK_SKEW = "clock_skew"
    #: A check-in in a session that is closed (or cancelled): nothing was marked; the student
    #: is to see the professor, whose roll-call screen lists the attempt.
    SESSION_CLOSED = "session_closed"

    #: Every code above, for validation.
    ALL = (
        BAD_FRAME,
        FRAME_TOO_LARGE,
        UNSUPPORTED_VERSION,
        BAD_REQUEST,
        NOT_FOUND,
        NOT_ENROLLED,
        BAD_IMAGE,
        DB_UNAVAILABLE,
        TIMEOUT,
        INTERNAL,
        UNAUTHORIZED,
        RATE_LIMITED,
        BUSY,
        DIFFERENT_PEOPLE,
        FORBIDDEN,
        CLOCK_SKEW,
        SESSION_CLOSED,
    )

    #: Codes after which the server closes the connection (the others concern one request).
    FATAL = (BAD_FRAME, FRAME_TOO_LARGE, UNSUPPORTED_VERSION, UNAUTHORIZED, BUSY)


class ProtocolError(Exception):
    """A protocol violation: an :class:`ErrorCode` value, a message, maybe a request ID.

    ``str(error)`` is ``"code: message"``.
    """

    def __init__(self, code: str, message: str, request_id: int | None = None) -> None:
        super().__init__(code, message, request_id)
        self.code = code
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, request_id={self.request_id!r})"


class RemoteProtocolError(ProtocolError):
    """The peer sent something wrong."""


class LocalProtocolError(ProtocolError):
    """Our own code asked to send something invalid."""
