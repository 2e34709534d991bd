"""Blocking connections to the attendance server, for scripts, tests and the desktop app's workers.

- :class:`FramedClient`: the framed protocol, many requests over one connection, optionally over
  TLS; ``token=`` says ``hello`` with the client's token first (servers require it).
- :func:`legacy_request`: one 2019-style payload on its own connection, as the original clients did.
"""

from __future__ import annotations

import datetime
import itertools
import os
import socket
import ssl
from collections.abc import Iterable

from protocol import framed

RECV_SIZE = 64 * 1024
#: Environment variable the command-line client reads its token from.
TOKEN_ENV = "ATTENDANCE_TOKEN"


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


def tls_context(cafile: str | os.PathLike | None = None) -> ssl.SSLContext:
    """A client TLS context that verifies the server's certificate and host name, against
    ``cafile`` (PEM, e.g. your own CA) or else the system's certificate authorities."""
    context = ssl.create_default_context(cafile=os.fspath(cafile) if cafile else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class FramedClient:
    """One connection speaking the framed protocol; requests are answered in order.

    ``token``: the client token from ``attendance-db add-client``; when given, the constructor
    says ``hello`` with it (and :attr:`client_name` is the name the server knows it by).
    ``ssl_context`` (or ``cafile``, which makes one with :func:`tls_context`): speak TLS and
    verify the server's certificate for ``host``.

    Raises :class:`ServerError` for an error reply (also for the error a server sends before
    closing: ``unauthorized``, ``busy``...) and ``OSError`` (``ssl.SSLError`` included) when the
    connection fails.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        cafile: str | os.PathLike | None = None,
    ):
        if ssl_context is None and cafile is not None:
            ssl_context = tls_context(cafile)
        sock = socket.create_connection((host, port), timeout=timeout)
        try:
            if ssl_context is not None:
                sock = ssl_context.wrap_socket(sock, server_hostname=host)
            self.sock = sock
            self.conn = framed.FramedConnection(framed.CLIENT, require_hello=token is not None)
            self.sock.sendall(self.conn.send_preamble())
            self._pending: list = []
            self._ids = itertools.count(1)
            self.client_name: str | None = None
            if token is not None:
                self.client_name = self.hello(token).client_name
        except BaseException:
            sock.close()
            raise

    def __enter__(self) -> FramedClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def next_request_id(self) -> int:
        return next(self._ids) % 2**32

    def call(self, request):
        """Send one request and return its response (an ErrorResponse raises ServerError)."""
        if self.conn.state is framed.State.CLOSED:  # the server sent a fatal error
            raise ConnectionError("the server closed the connection")
        self.sock.sendall(self.conn.send(request))
        response = self._receive()
        if self.conn.concerns(response, request.request_id):  # about this request or the connection
            raise ServerError(response.code, response.message)
        if response.request_id != request.request_id:
            raise ConnectionError(f"reply to request {response.request_id}, expected {request.request_id}")
        return response

    def _receive(self):
        while not self._pending:
            data = self.sock.recv(RECV_SIZE)
            if not data:
                raise ConnectionError("the server closed the connection")
            for event in self.conn.receive_data(data):
                if isinstance(event, framed.InvalidMessage):
                    raise ConnectionError(f"the server sent an invalid message: {event.error}")
                self._pending.append(event)
        return self._pending.pop(0)

    # -- one method per request kind ---------------------------------------------------------

    def hello(self, token: str) -> framed.WelcomeResponse:
        """Identify this connection with a client token (done by the constructor's ``token=``)."""
        return self.call(framed.HelloRequest(self.next_request_id(), token))

    def ping(self) -> framed.PongResponse:
        return self.call(framed.PingRequest(self.next_request_id()))

    def roster(self, lecture: str, session_date: str | datetime.date | None = None) -> framed.RosterResponse:
        """Today's roster, or that of the session of ``session_date`` (a past day)."""
        return self.call(framed.RosterRequest(self.next_request_id(), lecture, _iso(session_date)))

    def mark(
        self,
        lecture: str,
        student_id: str,
        *,
        status: str = "present",
        source: str = "checkin",
        distance: float | None = None,
        session_date: str | datetime.date | None = None,
        professor: str | None = None,
        reason: str | None = None,
    ) -> framed.MarkResponse:
        return self.call(
            framed.MarkRequest(
                self.next_request_id(),
                lecture,
                student_id,
                status,
                source,
                distance,
                _iso(session_date),
                professor,
                reason,
            )
        )

    def batch_mark(
        self,
        lecture: str,
        batch_id: str,
        marks: Iterable[tuple[str, str]],
        *,
        source: str = "rollcall",
        session_date: str | datetime.date | None = None,
        professor: str | None = None,
        reason: str | None = None,
    ) -> framed.BatchMarkResponse:
        """A roll call of today's session, or (with a ``reason``) of a past one."""
        items = tuple(framed.BatchMark(student_id, status) for student_id, status in marks)
        return self.call(
            framed.BatchMarkRequest(
                self.next_request_id(), lecture, batch_id, items, source, _iso(session_date), professor, reason
            )
        )

    def history(
        self, lecture: str, *, student_id: str | None = None, session_date: str | datetime.date | None = None
    ) -> framed.HistoryResponse:
        """The changes of the lecture's marks (of one student, of one session's date, or all)."""
        return self.call(framed.HistoryRequest(self.next_request_id(), lecture, student_id, _iso(session_date)))

    def recognize(self, image: bytes, lecture: str | None = None) -> framed.RecognizeResponse:
        return self.call(framed.RecognizeRequest(self.next_request_id(), image, lecture))

    # classroom camera (docs/camera.md)

    def detect(self, image: bytes, *, min_face: int = framed.DEFAULT_MIN_FACE) -> framed.DetectResponse:
        return self.call(framed.DetectRequest(self.next_request_id(), image, min_face))

    def identify(
        self, image: bytes, boxes: Iterable[tuple[int, int, int, int]], lecture: str | None = None
    ) -> framed.RecognizeResponse:
        items = tuple(framed.FaceBox(*box) for box in boxes)
        return self.call(framed.IdentifyRequest(self.next_request_id(), image, items, lecture))

    def identify_room(
        self,
        image: bytes,
        tracks: Iterable[tuple[tuple[int, int, int, int], Iterable[str], bool]],
        lecture: str | None = None,
    ) -> framed.IdentifyRoomResponse:
        """``tracks``: (box, kept encodings, encode now) of every face followed; ``image`` may
        be b"" when no track is to be encoded now."""
        items = tuple(framed.RoomTrack(*box, tuple(kept), encode) for box, kept, encode in tracks)
        return self.call(framed.IdentifyRoomRequest(self.next_request_id(), image, items, lecture))

    def presence(
        self, lecture: str, sampled_at: str, student_ids: Iterable[str], face_count: int
    ) -> framed.PresenceResponse:
        return self.call(
            framed.PresenceRequest(self.next_request_id(), lecture, sampled_at, tuple(student_ids), face_count)
        )

    def close_session(self, lecture: str, session_date: str | None = None) -> framed.CloseSessionResponse:
        return self.call(framed.CloseSessionRequest(self.next_request_id(), lecture, session_date))

    # identification from several frames, enrolment (docs/recognition.md)

    def checkin(
        self, lecture: str, images: Iterable[bytes], *, mark: bool = True, queue_uncertain: bool = True
    ) -> framed.CheckinResponse:
        """Decide who the one face in these frames is; mark them when accepted (``mark``)."""
        return self.call(framed.CheckinRequest(self.next_request_id(), lecture, tuple(images), mark, queue_uncertain))

    def enroll(
        self, student_id: str, images: Iterable[bytes], *, name: str | None = None, force: bool = False
    ) -> framed.EnrollResponse:
        return self.call(framed.EnrollRequest(self.next_request_id(), student_id, tuple(images), name, force))

    def pending(self, lecture: str) -> framed.PendingResponse:
        return self.call(framed.PendingRequest(self.next_request_id(), lecture))

    def resolve_pending(
        self,
        pending_id: int,
        student_id: str | None,
        *,
        status: str = "present",
        professor: str | None = None,
        reason: str | None = None,
    ) -> framed.ResolvePendingResponse:
        """Confirm an uncertain check-in as ``student_id``, or reject it (None)."""
        return self.call(
            framed.ResolvePendingRequest(self.next_request_id(), pending_id, student_id, status, professor, reason)
        )

    # liveness challenge for check-ins (docs/liveness.md)

    def challenge(self, lecture: str) -> framed.ChallengeResponse:
        """Open a liveness challenge: the actions to do, in order, and the seconds for them."""
        return self.call(framed.ChallengeRequest(self.next_request_id(), lecture))

    def challenge_frames(
        self, challenge_id: str, images: Iterable[bytes], times: Iterable[float]
    ) -> framed.ChallengeProgressResponse:
        """Frames of the challenge (JPEG bytes) and their times, seconds since it was given."""
        return self.call(
            framed.ChallengeFramesRequest(self.next_request_id(), challenge_id, tuple(images), tuple(times))
        )

    def challenge_finish(
        self, challenge_id: str, *, mark: bool = True, queue_uncertain: bool = True
    ) -> framed.CheckinResponse:
        """Decide the challenge, then who the face is; marks an accepted student (``mark``)."""
        return self.call(framed.ChallengeFinishRequest(self.next_request_id(), challenge_id, mark, queue_uncertain))

    # attendance report (docs/reports.md)

    def report(
        self,
        lecture: str,
        date_from: str | datetime.date | None = None,
        date_to: str | datetime.date | None = None,
        *,
        late_weight: float = 0.5,
    ) -> framed.ReportResponse:
        """The lecture's attendance report, dates included (None: no bound).
        ``reports.wire.from_response(reply)`` turns the reply into a LectureReport."""

        return self.call(
            framed.ReportRequest(self.next_request_id(), lecture, _iso(date_from), _iso(date_to), late_weight)
        )


def _iso(day: str | datetime.date | None) -> str | None:
    """A date as the protocol writes it (YYYY-MM-DD); text and None as they are."""
    return day.isoformat() if isinstance(day, datetime.date) else day


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
