"""The rules of one framed connection, for either end (sans-IO, like h11's Connection).

:class:`FramedConnection` turns received bytes into messages and messages into bytes to send,
and keeps the connection's :class:`State`. It owns the rules both ends follow:

- **Preamble**: each side sends :data:`PREAMBLE` before its first frame (the client at once; the
  server once the client's preamble arrived, or in front of its first reply).
- **hello first**: the server answers every request before a ``hello`` with a valid token
  ``unauthorized`` (:meth:`FramedConnection.before_hello`).
- **Fatal errors**: an error whose code is in ``ErrorCode.FATAL`` ends the connection, whoever
  sends it; a stream the decoder cannot follow too (the state is ERROR until that error is sent).
- **Request ID 0**: an error about the connection rather than one request (a refusal, a broken
  stream) carries request ID 0 when no request's ID is known (:meth:`error_for`,
  :meth:`concerns`).

It moves no bytes itself: the caller reads and writes the socket.
"""

from __future__ import annotations

import enum
from typing import Any, Final, Literal

from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.framed.codec import DEFAULT_MAX_FRAME_BYTES, PREAMBLE, encode
from protocol.framed.decoder import Event, FramedDecoder
from protocol.framed.messages import ErrorResponse, HelloRequest, WelcomeResponse

CLIENT: Final = "client"
SERVER: Final = "server"
#: The request ID of an error about the connection, not about one request.
CONNECTION_REQUEST_ID = 0


class State(enum.Enum):
    """Where a connection is. AWAIT_PREAMBLE -> AWAIT_HELLO -> READY -> CLOSED; ERROR (the
    peer's bytes cannot be followed) -> CLOSED once the error is sent."""

    AWAIT_PREAMBLE = "await_preamble"  # the peer's preamble has not arrived yet
    AWAIT_HELLO = "await_hello"  # no welcome yet: the server answers requests unauthorized
    READY = "ready"
    ERROR = "error"  # the peer broke the stream: send error_for(exc), then close
    CLOSED = "closed"  # a fatal error was sent or received: close the socket


class FramedConnection:
    """One end of a framed connection: ``role`` is CLIENT or SERVER.

    ``require_hello``: the connection must say ``hello`` before anything else (False: it is
    READY as soon as the preamble arrived; for servers with ``require_token=False``, and for
    clients without a token). ``max_frame_bytes``: the largest frame received or sent.
    ``max_hello_frame_bytes`` (a server's, with ``require_hello``): the largest first frame,
    which must be the ``hello`` (a client without a token cannot make the server buffer
    megabytes; requests sent right behind the hello may be as large as ``max_frame_bytes``).
    """

    def __init__(
        self,
        role: Literal["server", "client"],
        *,
        require_hello: bool = True,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_hello_frame_bytes: int | None = None,
    ) -> None:
        if role not in (CLIENT, SERVER):
            raise ValueError(f"role must be {CLIENT!r} or {SERVER!r}, not {role!r}")
        self.role = role
        self.require_hello = require_hello
        self.max_frame_bytes = max_frame_bytes
        # a server decodes requests, a client responses
        first_limit = max_hello_frame_bytes if role == SERVER and require_hello else None
        self._decoder = FramedDecoder(role, max_frame_bytes=max_frame_bytes, max_first_frame_bytes=first_limit)
        self._state = State.AWAIT_PREAMBLE
        self._preamble_sent = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def preamble_received(self) -> bool:
        return self._decoder.preamble_received

    @property
    def preamble_sent(self) -> bool:
        return self._preamble_sent

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded (non-zero at EOF means "closed mid-frame")."""
        return self._decoder.buffered

    # -- receiving ---------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """The messages (and InvalidMessage events) completed by ``data``.

        Raises :class:`RemoteProtocolError` when the stream cannot be followed: the state is
        then ERROR, and the caller sends :meth:`error_for` and closes.
        """
        if self._state is State.CLOSED:
            raise LocalProtocolError(ErrorCode.BAD_REQUEST, "the connection is closed")
        try:
            events = self._decoder.feed(data)
        except RemoteProtocolError:
            self._state = State.ERROR
            raise
        if self._state is State.AWAIT_PREAMBLE and self._decoder.preamble_received:
            self._state = State.AWAIT_HELLO if self.require_hello else State.READY
        if self.role == CLIENT:
            for event in events:
                self._after(event)
        return events

    # -- sending -----------------------------------------------------------------------------

    def send_preamble(self) -> bytes:
        """The bytes of this side's preamble (call once, before anything else is sent)."""
        if self._preamble_sent:
            raise LocalProtocolError(ErrorCode.BAD_REQUEST, "the preamble was sent already")
        self._preamble_sent = True
        return PREAMBLE

    def send(self, message: Any, max_frame_bytes: int | None = None) -> bytes:
        """The bytes of ``message``, preceded by the preamble if it was not sent yet.

        Raises :class:`LocalProtocolError` when the message is invalid or larger than
        ``max_frame_bytes`` (default: the connection's; nothing is sent and the state does not
        change), or when the state does not allow it (CLOSED; ERROR allows only an
        ErrorResponse).
        """
        if self._state is State.CLOSED or (self._state is State.ERROR and not isinstance(message, ErrorResponse)):
            raise LocalProtocolError(
                ErrorCode.BAD_REQUEST, f"cannot send {type(message).__name__}: the connection is {self._state.value}"
            )
        data = encode(message, max_frame_bytes=max_frame_bytes or self.max_frame_bytes)
        if not self._preamble_sent:
            data = self.send_preamble() + data
        if self.role == SERVER:
            self._after(message)
        return data

    def _after(self, message: Any) -> None:
        """The state after a response went by (sent by a server, received by a client)."""
        if isinstance(message, ErrorResponse) and message.code in ErrorCode.FATAL:
            self._state = State.CLOSED
        elif self._state is State.ERROR and isinstance(message, ErrorResponse):
            self._state = State.CLOSED
        elif isinstance(message, WelcomeResponse) and self._state is State.AWAIT_HELLO:
            self._state = State.READY

    # -- the rules ---------------------------------------------------------------------------

    def before_hello(self, event: Event) -> ErrorResponse | None:
        """For a server: the ``unauthorized`` answer to a request that comes before a welcome
        (anything but a HelloRequest while AWAIT_HELLO), or None when the request may go on."""
        if self._state is State.AWAIT_HELLO and not isinstance(event, HelloRequest):
            return ErrorResponse(
                event.request_id,
                ErrorCode.UNAUTHORIZED,
                "the first request must be hello with a valid client token",
            )
        return None

    @staticmethod
    def error_for(error: RemoteProtocolError) -> ErrorResponse:
        """The error to send about a stream the decoder could not follow (fatal): it carries
        the request ID when the frame's was read, else CONNECTION_REQUEST_ID."""
        return ErrorResponse(error.request_id or CONNECTION_REQUEST_ID, error.code, error.message)

    @staticmethod
    def refusal(code: str, message: str) -> ErrorResponse:
        """An error about the whole connection, before any request (``busy``, TLS only...)."""
        return ErrorResponse(CONNECTION_REQUEST_ID, code, message)

    @staticmethod
    def concerns(response: Any, request_id: int) -> bool:
        """True when ``response`` is an error about request ``request_id`` or about the whole
        connection (CONNECTION_REQUEST_ID): the request failed."""
        return isinstance(response, ErrorResponse) and response.request_id in (
            CONNECTION_REQUEST_ID,
            request_id,
        )
