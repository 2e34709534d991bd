"""Blocking connections to the attendance server, for scripts, tests and the desktop app's workers.

- :class:`FramedClient`: the framed protocol, many requests over one connection.
- :func:`legacy_request`: one 2019-style payload on its own connection, as the original clients did.
"""

from __future__ import annotations

import itertools
import socket
from typing import Iterable

from protocol import framed

RECV_SIZE = 64 * 1024


class ServerError(Exception):
    """The server answered a request with an error (``code`` from protocol.errors.ErrorCode)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def parse_address(text: str, default_port: int = 9009) -> tuple[str, int]:
    """``host:port`` (or ``host``) → (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad server address {text!r}: expected HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


class FramedClient:
    """One connection speaking the framed protocol; requests are answered in order.

    Raises :class:`ServerError` for an error reply and ``OSError`` when the connection fails.
    """

    def __init__(self, host: str, port: int, *, timeout: float = 30.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.sendall(framed.PREAMBLE)
        self.decoder = framed.FramedDecoder("client")
        self._pending: list = []
        self._ids = itertools.count(1)

    def __enter__(self) -> "FramedClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def next_request_id(self) -> int:
        return next(self._ids) % 2**32

    def call(self, request):
        """Send one request and return its response (an ErrorResponse raises ServerError)."""
        self.sock.sendall(framed.encode(request))
        response = self._receive()
        if response.request_id != request.request_id:
            raise ConnectionError(f"reply to request {response.request_id}, expected {request.request_id}")
        if isinstance(response, framed.ErrorResponse):
            raise ServerError(response.code, response.message)
        return response

    def _receive(self):
        while not self._pending:
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise ConnectionError("the server closed the connection")
            for event in self.decoder.feed(data):
                if isinstance(event, framed.InvalidMessage):
                    raise ConnectionError(f"the server sent an invalid message: {event.error}")
                self._pending.append(event)
        return self._pending.pop(0)

    # -- one method per request kind ---------------------------------------------------------

    def ping(self) -> framed.PongResponse:
        return self.call(framed.PingRequest(self.next_request_id()))

    def roster(self, lecture: str) -> framed.RosterResponse:
        return self.call(framed.RosterRequest(self.next_request_id(), lecture))

    def mark(self, lecture: str, student_id: str, *, status: str = "present",
             source: str = "checkin", distance: float | None = None) -> framed.MarkResponse:
        return self.call(framed.MarkRequest(self.next_request_id(), lecture, student_id, status, source, distance))

    def batch_mark(self, lecture: str, batch_id: str, marks: Iterable[tuple[str, str]],
                   *, source: str = "rollcall") -> framed.BatchMarkResponse:
        items = tuple(framed.BatchMark(student_id, status) for student_id, status in marks)
        return self.call(framed.BatchMarkRequest(self.next_request_id(), lecture, batch_id, items, source))

    def recognize(self, image: bytes, lecture: str | None = None) -> framed.RecognizeResponse:
        return self.call(framed.RecognizeRequest(self.next_request_id(), image, lecture))


def legacy_request(host: str, port: int, payload: bytes, *, timeout: float = 30.0) -> bytes:
    """Send one 2019 payload as the original clients did (no length, no end marker, our side
    left open) and return the reply, read until the server closes the connection."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            data = sock.recv(RECV_SIZE)
            if not data:
                return b"".join(chunks)
            chunks.append(data)
