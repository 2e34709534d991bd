"""One TCP connection: tell the protocols apart, check who is talking, then serve.

The first byte decides (it is peeked at, not read):

- ``0x16`` (a TLS ClientHello) when the server has a certificate: TLS, then the framed protocol
  inside it;
- ``0x00``: the framed protocol's preamble (no 2019 payload can start with it). With a
  certificate configured, the framed protocol is only accepted inside TLS;
- anything else: a 2019 one-shot payload, accepted only from the configured networks.

A framed connection must start with ``hello`` and a client token (see docs/protocol.md). Bytes
are turned into requests by the sans-IO decoders in :mod:`protocol`; this module only moves bytes
and calls :class:`AttendanceService`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from attendance_version import version
from db.clients import ADMIN
from protocol import framed, legacy
from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.identifiers import is_legacy_student_id
from reports import wire as report_wire
from server import authorization
from server.authorization import Principal
from server.camera import TrackFrames, TrackResult
from server.limits import ADMIT, REFUSE_ADDRESS
from server.recognition.pool import on_behalf_of
from server.service import ServiceError, largest_recognized

if TYPE_CHECKING:
    from server.app import AttendanceServer

log = logging.getLogger(__name__)

RECV_SIZE = 64 * 1024
#: Said in welcome and pong: the release, from its one source (setup.cfg, attendance_version.py).
SERVER_VERSION = f"attendance-server {version()}"
#: First byte of a TLS record carrying a handshake (the ClientHello).
TLS_HANDSHAKE = b"\x16"
#: Seconds a connection refused for "busy" may take to send its first bytes.
REFUSAL_TIMEOUT = 2.0
#: After a rate_limited reply the connection is not read for the time its bucket needs to allow
#: a request again, between these bounds (s); after a request beyond max-faces, for the longer:
#: a client that ignores the refusal and sends more costs the server a frame decoded now and
#: then, not one per round trip.
RATE_LIMITED_PAUSE = (0.2, 2.0)


class ConnectionHandler(socketserver.BaseRequestHandler):
    """Serves one connection (one thread). ``self.server`` is an :class:`AttendanceServer`.

    ``slot``: ADMIT, or REFUSE when the server already has ``max_connections`` connections,
    REFUSE_ADDRESS when this address has ``max_connections_per_address`` (the client then gets a
    ``busy`` error, or ``fail`` for a 2019 payload).
    """

    server: AttendanceServer

    def __init__(self, request, client_address, server, slot: str = ADMIT):
        self.slot = slot
        super().__init__(request, client_address, server)

    def setup(self) -> None:
        self.config = self.server.config
        self.service = self.server.service
        self.ip = self.client_address[0]
        self.peer = "{}:{}".format(*self.client_address[:2])
        self.sock = self.request  # becomes the TLS socket after a TLS handshake
        self.connected_at = time.monotonic()
        first_bytes = min(self.config.idle_timeout, self.config.hello_timeout)
        self.request.settimeout(first_bytes if self.slot == ADMIT else REFUSAL_TIMEOUT)

    def handle(self) -> None:
        try:
            first = self.request.recv(1, socket.MSG_PEEK)
        except TimeoutError:
            log.info("%s connected and sent nothing for %.0f s; closing", self.peer, self.request.gettimeout())
            return
        except OSError as exc:
            log.info("%s: connection error before any request: %s", self.peer, exc)
            return
        if not first:
            return
        try:
            if first == TLS_HANDSHAKE and self.server.tls_context is not None:
                with self.deadline(self.connected_at + self.config.hello_timeout, "the TLS handshake"):
                    self.sock = self.server.tls_context.wrap_socket(self.request, server_side=True)
                FramedSession(self, tls=True).run()
            elif first == framed.MAGIC[:1]:
                FramedSession(self, tls=False).run()
            else:
                LegacySession(self).run()
        except OSError as exc:  # the peer went away, or a failed TLS handshake
            log.info("%s: connection lost: %s", self.peer, exc)
        finally:
            if self.sock is not self.request:
                self.sock.close()

    @contextlib.contextmanager
    def deadline(self, at: float, what: str):
        """Shut the connection down when the block has not ended by ``at`` (monotonic): for
        work that reads many times, such as a TLS handshake, where a timeout per read does not
        bound the whole."""

        def expire():
            log.warning("%s: %s took more than %g s; closing", self.peer, what, at - self.connected_at)
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(0.0, at - time.monotonic()), expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def busy_reason(self) -> str:
        """Which connection limit refused this connection (decided when it connected)."""
        if self.slot == REFUSE_ADDRESS:
            per_address = self.server.connection_limit.per_address
            return f"{per_address} connections from {self.ip} already (max-connections-per-address)"
        return f"{self.config.max_connections} connections already (max-connections)"

    @staticmethod
    def read_timeout(deadline: float | None, idle: float) -> float:
        """The timeout of the next read: ``idle``, or less when ``deadline`` comes first."""
        if deadline is None:
            return idle
        return max(0.0, min(idle, deadline - time.monotonic()))


def _shown_reply(request, reply: bytes) -> str:
    """A 2019 reply as the log shows it: a roster by its size only (it holds names, which stay
    out of the log), any other reply (success, fail, a student ID, Unknown) as it is."""
    if isinstance(request, legacy.LegacyRoster) and reply != legacy.FAIL:
        students = sum(1 for line in reply.split(b"\n") if line)
        return f"roster of {students} students ({len(reply)} bytes)"
    return repr(reply[:40])


class LegacySession:
    """A 2019 client: one payload with no length or end marker, one reply, then close.

    Refused with ``fail`` (after reading the first bytes) when the server is busy, the peer is
    outside the legacy networks (or 2019 payloads are turned off), or the peer's address sends
    more payloads per second than the rate limit.
    """

    def __init__(self, handler: ConnectionHandler):
        self.handler = handler
        self.sock = handler.request
        self.peer = handler.peer
        self.config = handler.config
        self.service = handler.service
        self.client_name = f"legacy@{handler.ip}"

    def run(self) -> None:
        started = time.monotonic()
        first = self.sock.recv(RECV_SIZE)
        refusal = self._refusal()
        if refusal:
            log.warning("%s legacy: %s; replying fail", self.peer, refusal)
            self._send(legacy.FAIL)
            return
        try:
            request = self._read_request(first)
        except RemoteProtocolError as exc:
            log.warning("%s legacy: %s; replying fail", self.peer, exc)
            self._send(legacy.FAIL)
            return
        if request is None:
            log.warning(
                "%s legacy: the payload did not arrive whole within %g s (request-timeout); replying fail",
                self.peer,
                self.config.request_timeout,
            )
            self._send(legacy.FAIL)
            return
        reply = self._answer(request)
        self._send(reply)
        log.info(
            "%s legacy %s -> %s (%.0f ms)",
            self.peer,
            type(request).__name__,
            _shown_reply(request, reply),
            1000 * (time.monotonic() - started),
        )

    def _refusal(self) -> str | None:
        """Why this connection gets ``fail`` without being read further, or None."""
        server = self.handler.server
        if self.handler.slot != ADMIT:
            return f"busy: {self.handler.busy_reason()}"
        if server.legacy_networks is None:
            return "2019 payloads are turned off (--no-legacy)"
        if not server.legacy_networks.allows(self.handler.ip):
            return f"2019 payloads are accepted only from {server.legacy_networks} (--legacy-from)"
        if not server.rate_limiter.allow(f"ip:{self.handler.ip}"):
            return "rate limited"
        return None

    def _read_request(self, data: bytes):
        """The payload, or None when it is not whole by the request deadline (request-timeout
        seconds after connecting, however slowly it trickles in)."""
        decoder = legacy.LegacyDecoder(max_image_bytes=self.config.max_image_bytes)
        deadline = self.handler.connected_at + self.config.request_timeout
        request = decoder.feed(data)
        while request is None:
            # An image whose structure cannot be followed ends at 1 s of silence instead.
            wait = self.config.legacy_image_idle if decoder.idle_fallback else self.config.idle_timeout
            timeout = self.handler.read_timeout(deadline, wait)
            if timeout <= 0:
                return None
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
                if time.monotonic() >= deadline:
                    return None
                return decoder.on_idle()
            if not data:  # the client closed its side: what came is all there is
                return decoder.on_idle()
            request = decoder.feed(data)
        return request

    def _answer(self, request) -> bytes:
        try:
            if isinstance(request, legacy.LegacyMark):
                self.service.mark(request.lecture, request.student_id, client_name=self.client_name)
                return legacy.SUCCESS
            if isinstance(request, legacy.LegacyRoster):
                roster = self.service.roster(request.lecture)
                # A student whose ID does not fit the 2019 format is out of reach of 2019 clients.
                return legacy.encode_roster_reply(
                    (line.student_id, line.name, line.status, line.marked_at)
                    for line in roster.lines
                    if is_legacy_student_id(line.student_id)
                )
            key = f"ip:{self.handler.ip}"
            if not self.handler.server.cost_limiter.allow(key, 1):
                log.warning(
                    "%s legacy: more than %g images and faces per second (recognition-rate); replying fail",
                    self.peer,
                    self.config.recognition_rate,
                )
                return legacy.FAIL
            with on_behalf_of(self.client_name):
                faces = self.service.recognize(request.data, client_name=self.client_name)
            self.handler.server.cost_limiter.charge(key, len(faces))
            return legacy_image_reply(faces)
        except ServiceError as exc:
            log.warning("%s legacy %s: %s; replying fail", self.peer, type(request).__name__, exc)
            return legacy.FAIL
        except Exception:  # a bug must cost one reply, not the server
            log.exception("%s legacy %s: internal error; replying fail", self.peer, type(request).__name__)
            return legacy.FAIL

    def _send(self, reply: bytes) -> None:
        try:
            self.sock.sendall(reply)
        except OSError as exc:
            log.info("%s legacy: could not send the reply: %s", self.peer, exc)


def legacy_image_reply(faces) -> bytes:
    """The 2019 reply to an image: the student ID of the largest recognized face whose ID fits
    the 2019 format (9 digits; a 2019 client cannot take another), else ``Unknown``."""
    best = largest_recognized([face for face in faces if face.student_id and is_legacy_student_id(face.student_id)])
    return best.student_id.encode("ascii") if best and best.student_id else legacy.UNKNOWN


class FramedSession:
    """A new client: preamble, ``hello`` with its token, then any number of framed requests
    answered in order.

    Before a successful ``hello`` every other frame is answered ``unauthorized`` and the
    connection is closed (``ServerConfig.require_token=False``, for tests, lets a connection
    without hello go on as ``framed@<address>``, an admin). Each request is then checked
    against the server's copy of the clients table (:class:`server.auth.TokenChecker`: a
    revoked client loses its open connection within ``token_recheck`` seconds), takes one token
    of the client's rate-limit bucket (an empty bucket answers ``rate_limited``) and must be
    allowed to the client's role and lectures (:mod:`server.authorization`, else ``forbidden``).
    """

    def __init__(self, handler: ConnectionHandler, *, tls: bool):
        self.handler = handler
        self.sock = handler.sock
        self.tls = tls
        self.peer = handler.peer
        self.config = handler.config
        self.service = handler.service
        self.server = handler.server
        self.client_name: str | None = None if self.config.require_token else f"framed@{handler.ip}"
        self.token: str | None = None
        #: Who is asking (set by hello; without tokens, for tests: an admin).
        self.principal: Principal | None = (
            None if self.config.require_token else Principal(f"framed@{handler.ip}", ADMIN)
        )
        self.conn = framed.FramedConnection(
            framed.SERVER,
            require_hello=self.config.require_token,
            max_frame_bytes=self.config.max_frame_bytes,
            max_hello_frame_bytes=self.config.max_hello_frame_bytes,
        )
        self.frame_started: float | None = None  # when the first byte of the frame being read came
        self.pause = 0.0  # seconds not to read after the replies (a rate_limited reply was sent)
        self.dispatch: dict[type, Callable[[Any], Any]] = {
            framed.PingRequest: self._ping,
            framed.RosterRequest: self._roster,
            framed.MarkRequest: self._mark,
            framed.BatchMarkRequest: self._batch_mark,
            framed.RecognizeRequest: self._recognize,
            # classroom camera (server/camera.py, docs/camera.md)
            framed.DetectRequest: self._detect,
            framed.IdentifyRequest: self._identify,
            framed.IdentifyRoomRequest: self._identify_room,
            framed.PresenceRequest: self._presence,
            framed.CloseSessionRequest: self._close_session,
            framed.ReportRequest: self._report,  # attendance report (docs/reports.md)
            # identification from several frames, enrolment (docs/recognition.md)
            framed.CheckinRequest: self._checkin,
            framed.EnrollRequest: self._enroll,
            framed.PendingRequest: self._pending,
            framed.ResolvePendingRequest: self._resolve_pending,
            # liveness challenge for check-ins (docs/liveness.md)
            framed.ChallengeRequest: self._challenge,
            framed.ChallengeFramesRequest: self._challenge_frames,
            framed.ChallengeFinishRequest: self._challenge_finish,
            framed.HistoryRequest: self._history,  # mark history (docs/protocol.md)
        }
        self.camera = handler.server.camera

    def _deadline(self) -> tuple[float | None, str]:
        """When the connection must have sent what it is sending, and what that is: its hello
        (hello-timeout after connecting), the rest of a request (request-timeout after its
        first byte), or nothing (None: it may stay silent for idle-timeout)."""
        config = self.config
        deadlines = []
        if config.require_token and self.conn.state in (framed.State.AWAIT_PREAMBLE, framed.State.AWAIT_HELLO):
            deadlines.append(
                (self.handler.connected_at + config.hello_timeout, f"hello within {config.hello_timeout:g} s")
            )
        if self.frame_started is not None:
            deadlines.append(
                (self.frame_started + config.request_timeout, f"a whole request within {config.request_timeout:g} s")
            )
        return min(deadlines, default=(None, ""))

    def run(self) -> None:
        while True:
            deadline, what = self._deadline()
            idle = self.config.idle_timeout if self.handler.slot == ADMIT else REFUSAL_TIMEOUT
            timeout = self.handler.read_timeout(deadline, idle)
            try:
                if timeout <= 0:
                    raise TimeoutError
                self.sock.settimeout(timeout)
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline - 0.01:
                    log.warning(
                        "%s framed: did not send %s (%d bytes buffered); closing", self.peer, what, self.conn.buffered
                    )
                    with contextlib.suppress(OSError, LocalProtocolError):
                        self._send(self.conn.refusal(ErrorCode.TIMEOUT, f"send {what}; closing"))
                    return
                log.info("%s framed: idle for %.0f s; closing", self.peer, self.sock.gettimeout())
                return
            if not data:
                if self.conn.buffered:
                    log.warning("%s framed: closed in the middle of a frame (%d bytes)", self.peer, self.conn.buffered)
                return
            try:
                events = self.conn.receive_data(data)
            except RemoteProtocolError as exc:
                log.warning("%s framed: %s; closing", self.peer, exc)
                self._send(self.conn.error_for(exc))
                return
            if not self.conn.buffered:
                self.frame_started = None
            elif events or self.frame_started is None:
                self.frame_started = time.monotonic()  # a new frame began
            if self.conn.preamble_received and not self.conn.preamble_sent:
                refusal = self._refusal()
                if refusal is not None:
                    log.warning("%s framed: %s; closing", self.peer, refusal.message)
                    self._send(refusal)
                    return
                self.sock.sendall(self.conn.send_preamble())
            for event in events:
                self._send(self._answer(event))
                if self.conn.state is framed.State.CLOSED:  # a fatal error was sent
                    return
            if self.pause:
                low, high = RATE_LIMITED_PAUSE
                time.sleep(min(high, max(low, self.pause)))
                self.pause = 0.0

    def _refusal(self) -> framed.ErrorResponse | None:
        """The error that ends the connection before its first request, or None."""
        if self.handler.slot != ADMIT:
            return self.conn.refusal(ErrorCode.BUSY, f"the server has {self.handler.busy_reason()}; try again later")
        if self.server.tls_context is not None and not self.tls:
            return self.conn.refusal(ErrorCode.UNAUTHORIZED, "this server accepts the framed protocol over TLS only")
        return None

    def _send(self, message) -> None:
        """Send a message, preceded by the server's preamble the first time. A reply larger than
        ``max_frame_bytes`` (a report over many dates, say) is answered ``bad_request`` instead,
        so the connection goes on."""
        try:
            data = self.conn.send(message)
        except LocalProtocolError as exc:
            if isinstance(message, framed.ErrorResponse):
                raise
            log.warning("%s framed %s #%d: %s", self.peer, type(message).__name__, message.request_id, exc)
            data = self.conn.send(
                framed.ErrorResponse(
                    message.request_id,
                    ErrorCode.BAD_REQUEST,
                    f"the reply is too large to send ({exc.message}); ask for less (e.g. fewer dates)",
                ),
                max_frame_bytes=framed.DEFAULT_MAX_FRAME_BYTES,
            )
        self.sock.sendall(data)

    @property
    def identified_client(self) -> str:
        """The client's name, for the service: known before any request is dispatched (the
        connection answers ``hello`` first, or needs no token)."""
        assert self.client_name is not None
        return self.client_name

    def _answer(self, event):
        started = time.monotonic()
        request_id = event.request_id
        if isinstance(event, framed.HelloRequest):
            reply = self._hello(event)
        elif (refusal := self.conn.before_hello(event)) is not None:
            reply = refusal
        elif not self._still_authorized():
            reply = framed.ErrorResponse(request_id, ErrorCode.UNAUTHORIZED, "the client token was revoked")
        elif not self.server.rate_limiter.allow(self.identified_client):
            reply = framed.ErrorResponse(
                request_id,
                ErrorCode.RATE_LIMITED,
                f"more than {self.config.rate:g} requests per second; slow down",
            )
            self.pause = max(self.pause, self.server.rate_limiter.seconds_until(self.identified_client))
        elif isinstance(event, framed.InvalidMessage):
            log.warning("%s framed request %d refused: %s", self.peer, request_id, event.error)
            return framed.ErrorResponse(request_id, event.error.code, event.error.message)
        elif (forbidden := self._forbidden(event)) is not None:
            reply = forbidden
        elif (refusal := self._cost_refusal(event)) is not None:
            reply = refusal
        else:
            with on_behalf_of(self.identified_client):
                reply = self._call(event)
            if isinstance(reply, framed.RecognizeResponse) and isinstance(event, framed.RecognizeRequest):
                self.server.cost_limiter.charge(self.identified_client, len(reply.faces))
        log.info(
            "%s framed %s %s #%d -> %s%s (%.0f ms)",
            self.peer,
            self.client_name or "-",
            type(event).__name__,
            request_id,
            type(reply).__name__,
            f" {reply.code}" if isinstance(reply, framed.ErrorResponse) else "",
            1000 * (time.monotonic() - started),
        )
        return reply

    def _cost_refusal(self, event) -> framed.ErrorResponse | None:
        """The refusal of a request beyond the faces per image (max-faces) or the client's
        recognition budget (recognition-rate: images sent plus faces encoded), or None."""
        faces = faces_to_encode(event)
        if faces > self.config.max_faces:
            self.pause = RATE_LIMITED_PAUSE[1]  # no client of ours sends these: not read for a while
            return framed.ErrorResponse(
                event.request_id,
                ErrorCode.BAD_REQUEST,
                f"{faces} faces to encode in one image, more than the limit of {self.config.max_faces} (max-faces)",
            )
        cost = images_sent(event) + faces
        if cost and not self.server.cost_limiter.allow(self.identified_client, cost):
            self.pause = max(self.pause, self.server.cost_limiter.seconds_until(self.identified_client, cost))
            return framed.ErrorResponse(
                event.request_id,
                ErrorCode.RATE_LIMITED,
                f"more than {self.config.recognition_rate:g} images and faces per second (recognition-rate); slow down",
            )
        return None

    def _call(self, event):
        problem = self._identifier_problem(event)
        if problem is not None:
            log.warning("%s framed %s #%d refused: %s", self.peer, type(event).__name__, event.request_id, problem)
            return framed.ErrorResponse(event.request_id, ErrorCode.BAD_REQUEST, problem)
        try:
            return self.dispatch[type(event)](event)
        except ServiceError as exc:
            log.warning("%s framed %s: %s", self.peer, type(event).__name__, exc)
            return framed.ErrorResponse(event.request_id, exc.code, exc.message)
        except Exception:  # a bug must cost one reply, not the server
            log.exception("%s framed %s: internal error", self.peer, type(event).__name__)
            return framed.ErrorResponse(event.request_id, ErrorCode.INTERNAL, "internal server error")

    def _identifier_problem(self, request) -> str | None:
        """The first student ID or lecture code of the request that misses the university's
        pattern (the protocol checked only their form), said with its field; or None."""
        rules = self.server.identifier_rules
        for field_name, kind, value in framed.identifiers_in(request):
            problem = rules.problem(kind, value)
            if problem is not None:
                return f"{field_name}: {problem}"
        return None

    def _hello(self, req: framed.HelloRequest):
        if self.token is not None:
            return framed.ErrorResponse(
                req.request_id, ErrorCode.BAD_REQUEST, f"already identified as {self.client_name}"
            )
        if not self.server.rate_limiter.allow(f"ip:{self.handler.ip}"):
            return framed.ErrorResponse(req.request_id, ErrorCode.RATE_LIMITED, "too many hello requests; slow down")
        try:
            client = self.server.tokens.check(req.token)
        except ServiceError as exc:  # unauthorized (then the connection closes) or db_unavailable
            return framed.ErrorResponse(req.request_id, exc.code, exc.message)
        self.client_name, self.token = client.name, req.token
        self.principal = Principal(client.name, client.role, client.lectures)
        return framed.WelcomeResponse(req.request_id, client.name, SERVER_VERSION)

    def _still_authorized(self) -> bool:
        """Take the client's role and lectures from the server's copy of the clients table (read
        every ``token_recheck`` seconds, kept while the database is down); False when the token
        was revoked (or replaced) since hello."""
        if self.token is None:
            return True
        client = self.server.tokens.current(self.token)
        if client is None:
            log.warning("%s framed %s: the client token was revoked; closing", self.peer, self.client_name)
            return False
        self.principal = Principal(client.name, client.role, client.lectures)
        return True

    def _forbidden(self, request) -> framed.ErrorResponse | None:
        """The ``forbidden`` reply when the client's role or lectures do not allow the request
        (server/authorization.py), logged; None when they do."""
        assert self.principal is not None  # after hello (or without tokens)
        try:
            reason = authorization.refusal(self.principal, request, self)
        except ServiceError as exc:  # the database, asked for the lecture of a pending check-in
            return framed.ErrorResponse(request.request_id, exc.code, exc.message)
        except Exception:  # a bug must cost one reply, not the connection
            log.exception("%s framed %s: internal error in the authorization", self.peer, type(request).__name__)
            return framed.ErrorResponse(request.request_id, ErrorCode.INTERNAL, "internal server error")
        if reason is None:
            return None
        log.warning(
            "%s framed %s (%s) %s #%d forbidden: %s",
            self.peer,
            self.principal.name,
            self.principal.role,
            type(request).__name__,
            request.request_id,
            reason,
        )
        return framed.ErrorResponse(request.request_id, ErrorCode.FORBIDDEN, reason)

    # -- authorization.Context -----------------------------------------------------------------

    def today(self) -> dt.date:
        return self.service.today()

    def pending_lecture(self, pending_id: int) -> str | None:
        return self.service.pending_lecture(pending_id)

    def _ping(self, req: framed.PingRequest):
        return framed.PongResponse(req.request_id, SERVER_VERSION)

    def _roster(self, req: framed.RosterRequest):
        roster = self.service.roster(req.lecture, _date(req.session_date))
        entries = tuple(
            framed.RosterEntry(
                line.student_id,
                line.name,
                line.status,
                line.source,
                line.marked_at.isoformat(timespec="seconds") if line.marked_at else None,
            )
            for line in roster.lines
        )
        return framed.RosterResponse(req.request_id, roster.lecture, roster.session_date.isoformat(), entries)

    def _mark(self, req: framed.MarkRequest):
        outcome = self.service.mark(
            req.lecture,
            req.student_id,
            client_name=self.identified_client,
            status=req.status,
            source=req.source,
            distance=req.distance,
            session_date=_date(req.session_date),
            professor=req.professor,
            reason=req.reason,
        )
        return framed.MarkResponse(
            req.request_id, outcome.lecture, outcome.student_id, outcome.status, outcome.already_marked
        )

    def _batch_mark(self, req: framed.BatchMarkRequest):
        outcome = self.service.batch_mark(
            req.lecture,
            req.batch_id,
            [(mark.student_id, mark.status) for mark in req.marks],
            client_name=self.identified_client,
            source=req.source,
            session_date=_date(req.session_date),
            professor=req.professor,
            reason=req.reason,
        )
        return framed.BatchMarkResponse(req.request_id, outcome.batch_id, outcome.applied, outcome.replayed)

    def _recognize(self, req: framed.RecognizeRequest):
        faces = self.service.recognize(req.image, req.lecture, client_name=self.identified_client)
        return framed.RecognizeResponse(req.request_id, tuple(recognized_face(face) for face in faces))

    # -- identification from several frames, enrolment (docs/recognition.md) -------------------

    def _checkin(self, req: framed.CheckinRequest):
        outcome = self.service.checkin(
            req.lecture,
            req.images,
            client_name=self.identified_client,
            mark=req.mark,
            queue_uncertain=req.queue_uncertain,
        )
        return checkin_response(req.request_id, outcome)

    def _challenge(self, req: framed.ChallengeRequest):
        challenge = self.service.open_challenge(req.lecture, client_name=self.identified_client)
        return framed.ChallengeResponse(
            req.request_id,
            challenge.challenge_id,
            challenge.lecture,
            challenge.actions,
            challenge.deadline,
            challenge.max_frames,
        )

    def _challenge_frames(self, req: framed.ChallengeFramesRequest):
        progress = self.service.challenge_frames(
            req.challenge_id, req.images, req.times, client_name=self.identified_client
        )
        return framed.ChallengeProgressResponse(
            req.request_id,
            progress.challenge_id,
            progress.done,
            progress.next_action,
            progress.frames,
            round(progress.remaining, 3),
        )

    def _challenge_finish(self, req: framed.ChallengeFinishRequest):
        outcome = self.service.finish_challenge(
            req.challenge_id, client_name=self.identified_client, mark=req.mark, queue_uncertain=req.queue_uncertain
        )
        return checkin_response(req.request_id, outcome)

    def _enroll(self, req: framed.EnrollRequest):
        outcome = self.service.enroll(req.student_id, req.images, name=req.name, force=req.force)
        return framed.EnrollResponse(
            req.request_id,
            outcome.student_id,
            outcome.stored,
            outcome.total,
            tuple(
                framed.EnrolledPhoto(index, photo.problem, photo.other_student, photo.distance)
                for index, photo in enumerate(outcome.photos)
            ),
        )

    def _pending(self, req: framed.PendingRequest):
        listed = self.service.pending(req.lecture)
        return framed.PendingResponse(
            req.request_id,
            listed.lecture,
            listed.session_date.isoformat(),
            tuple(
                framed.PendingCheckin(
                    c.pending_id,
                    c.requested_at.isoformat(timespec="seconds"),
                    c.client_name,
                    c.frames,
                    wire_candidates(c.candidates),
                    c.kind,
                )
                for c in listed.checkins
            ),
        )

    def _resolve_pending(self, req: framed.ResolvePendingRequest):
        outcome = self.service.resolve_pending(
            req.pending_id,
            req.student_id,
            client_name=self.identified_client,
            status=req.status,
            professor=req.professor,
            reason=req.reason,
        )
        return framed.ResolvePendingResponse(
            req.request_id,
            outcome.pending_id,
            outcome.resolution,
            outcome.student_id,
            outcome.status,
            outcome.already_marked,
        )

    def _history(self, req: framed.HistoryRequest):
        lecture, rows = self.service.history(
            req.lecture, student_id=req.student_id, session_date=_date(req.session_date)
        )
        return framed.HistoryResponse(req.request_id, lecture, tuple(history_entry(row) for row in rows))

    # -- classroom camera (server/camera.py) ---------------------------------------------------

    def _detect(self, req: framed.DetectRequest):
        boxes = self.camera.detect(req.image, req.min_face)
        return framed.DetectResponse(req.request_id, tuple(framed.FaceBox(*box) for box in boxes))

    def _identify(self, req: framed.IdentifyRequest):
        boxes = [(box.top, box.right, box.bottom, box.left) for box in req.boxes]
        faces = self.camera.identify(req.image, boxes, req.lecture)
        return framed.RecognizeResponse(req.request_id, tuple(recognized_face(face) for face in faces))

    def _identify_room(self, req: framed.IdentifyRoomRequest):
        tracks = [track_frames(track) for track in req.tracks]
        results = self.camera.identify_room(req.image, tracks, req.lecture)
        return framed.IdentifyRoomResponse(req.request_id, tuple(track_decision(result) for result in results))

    def _presence(self, req: framed.PresenceRequest):
        outcome = self.camera.record_presence(
            req.lecture,
            dt.datetime.fromisoformat(req.sampled_at),
            req.student_ids,
            req.face_count,
            client_name=self.identified_client,
        )
        return framed.PresenceResponse(
            req.request_id, outcome.sample_id, outcome.session_date.isoformat(), outcome.closed, outcome.warning
        )

    def _close_session(self, req: framed.CloseSessionRequest):
        day = dt.date.fromisoformat(req.session_date) if req.session_date else None
        outcome = self.camera.close_session(req.lecture, day, client_name=self.identified_client)
        counts = outcome.counts
        return framed.CloseSessionResponse(
            req.request_id,
            outcome.lecture,
            outcome.session_date.isoformat(),
            outcome.samples,
            counts["present"],
            counts["late"],
            counts["left_early"],
            counts["absent"],
            outcome.kept,
        )

    # -- attendance report (db/reports.py, docs/reports.md) -------------------------------------

    def _report(self, req: framed.ReportRequest):
        report = self.service.report(
            req.lecture,
            dt.date.fromisoformat(req.date_from) if req.date_from else None,
            dt.date.fromisoformat(req.date_to) if req.date_to else None,
            req.late_weight,
        )
        return report_wire.to_response(req.request_id, report)


def images_sent(request) -> int:
    """The images a request asks the recognition workers to decode."""
    if isinstance(request, (framed.CheckinRequest, framed.EnrollRequest, framed.ChallengeFramesRequest)):
        return len(request.images)
    if isinstance(request, framed.IdentifyRoomRequest):
        return 1 if request.image else 0  # no image: every track decided from kept encodings
    return 1 if isinstance(request, (framed.RecognizeRequest, framed.DetectRequest, framed.IdentifyRequest)) else 0


def faces_to_encode(request) -> int:
    """The faces a request names for encoding (identify's boxes, identify_room's tracks to
    encode); faces found by recognize are counted after the reply."""
    if isinstance(request, framed.IdentifyRequest):
        return len(request.boxes)
    if isinstance(request, framed.IdentifyRoomRequest):
        return sum(1 for track in request.tracks if track.encode)
    return 0


def checkin_response(request_id: int, outcome) -> framed.CheckinResponse:
    """A :class:`server.service.CheckinOutcome` as the framed protocol sends it (ops checkin
    and challenge_finish)."""
    decision = outcome.decision
    return framed.CheckinResponse(
        request_id,
        outcome.lecture,
        decision.outcome,
        decision.student_id,
        outcome.name,
        decision.distance,
        decision.threshold,
        wire_candidates(outcome.candidates),
        decision.frames,
        outcome.status,
        outcome.already_marked,
        outcome.pending_id,
    )


def _date(text: str | None) -> dt.date | None:
    """A request's YYYY-MM-DD date (checked by the codec already), or None."""
    return None if text is None else dt.date.fromisoformat(text)


def history_entry(row) -> framed.HistoryEntry:
    """A :class:`db.history.HistoryRow` as the framed protocol sends it."""
    return framed.HistoryEntry(
        row.session_date.isoformat(),
        row.student_id,
        row.name,
        row.old_status,
        row.old_source,
        row.new_status,
        row.source,
        row.client_name,
        row.professor,
        row.reason,
        row.changed_at.isoformat(timespec="seconds"),
    )


def recognized_face(face) -> framed.RecognizedFace:
    """A :class:`server.service.FaceResult` as the framed protocol sends it."""
    top, right, bottom, left = face.box
    return framed.RecognizedFace(
        top,
        right,
        bottom,
        left,
        face.student_id,
        face.name,
        face.distance,
        face.decision,
        wire_candidates(face.candidates),
    )


def track_frames(track: framed.RoomTrack) -> TrackFrames:
    """A track of an identify_room request as :class:`server.camera.CameraService` takes it."""
    kept = [framed.unpack_encoding(encoding) for encoding in track.encodings]
    return TrackFrames((track.top, track.right, track.bottom, track.left), kept, track.encode)


def track_decision(result: TrackResult) -> framed.TrackDecision:
    """A :class:`server.camera.TrackResult` as the framed protocol sends it."""
    face = result.face
    encoding = None if result.encoding is None else framed.pack_encoding(result.encoding)
    return framed.TrackDecision(
        face.decision,
        face.student_id,
        face.name,
        face.distance,
        wire_candidates(face.candidates),
        result.frames,
        encoding,
    )


def wire_candidates(candidates) -> tuple[framed.Candidate, ...]:
    """Candidates (of a decision, or of a queued check-in) as the framed protocol sends them;
    distances to 4 decimals (the database stores them as FLOAT)."""
    return tuple(framed.Candidate(c.student_id, c.name, round(float(c.distance), 4)) for c in candidates)
