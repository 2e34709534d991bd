"""One TCP connection: tell the protocols apart, then serve 2019 payloads or framed requests.

The first byte decides: 0x00 starts the framed protocol's preamble (no 2019 payload can start
with it); anything else is a 2019 one-shot payload. Bytes are turned into requests by the sans-IO
decoders in :mod:`protocol`; this module only moves bytes and calls :class:`AttendanceService`.
"""

from __future__ import annotations

import logging
import socketserver
import time

from protocol import framed, legacy
from protocol.errors import ErrorCode, RemoteProtocolError
from server.service import ServiceError, largest_recognized

log = logging.getLogger(__name__)

RECV_SIZE = 64 * 1024
SERVER_VERSION = "attendance-server 0.1"


class ConnectionHandler(socketserver.BaseRequestHandler):
    """Serves one connection (one thread). ``self.server`` is an :class:`AttendanceServer`."""

    def setup(self) -> None:
        self.config = self.server.config
        self.service = self.server.service
        self.peer = "%s:%d" % self.client_address[:2]
        self.request.settimeout(self.config.idle_timeout)

    def handle(self) -> None:
        try:
            first = self.request.recv(RECV_SIZE)
        except TimeoutError:
            log.info("%s connected and sent nothing for %.0f s; closing", self.peer, self.config.idle_timeout)
            return
        except OSError as exc:
            log.info("%s: connection error before any request: %s", self.peer, exc)
            return
        if not first:
            return
        try:
            if first[:1] == framed.MAGIC[:1]:
                FramedSession(self).run(first)
            else:
                LegacySession(self).run(first)
        except OSError as exc:  # the peer went away while we were answering
            log.info("%s: connection lost: %s", self.peer, exc)


class LegacySession:
    """A 2019 client: one payload with no length or end marker, one reply, then close."""

    def __init__(self, handler: ConnectionHandler):
        self.sock = handler.request
        self.peer = handler.peer
        self.config = handler.config
        self.service = handler.service
        self.client_name = f"legacy@{handler.client_address[0]}"

    def run(self, first: bytes) -> None:
        started = time.monotonic()
        try:
            request = self._read_request(first)
        except RemoteProtocolError as exc:
            log.warning("%s legacy: %s; replying fail", self.peer, exc)
            self._send(legacy.FAIL)
            return
        reply = self._answer(request)
        self._send(reply)
        log.info(
            "%s legacy %s -> %r (%.0f ms)",
            self.peer, type(request).__name__, reply[:40], 1000 * (time.monotonic() - started),
        )

    def _read_request(self, data: bytes):
        decoder = legacy.LegacyDecoder(max_image_bytes=self.config.max_image_bytes)
        request = decoder.feed(data)
        while request is None:
            # An image whose structure cannot be followed ends at 1 s of silence instead.
            wait = self.config.legacy_image_idle if decoder.idle_fallback else self.config.idle_timeout
            self.sock.settimeout(wait)
            try:
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
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
                return legacy.encode_roster_reply(
                    (line.student_id, line.name, line.status, line.marked_at) for line in roster.lines
                )
            faces = self.service.recognize(request.data)
            best = largest_recognized(faces)
            return best.student_id.encode("ascii") if best else legacy.UNKNOWN
        except ServiceError as exc:
            log.warning("%s legacy %s: %s; replying fail", self.peer, type(request).__name__, exc)
            return legacy.FAIL
        except Exception:  # noqa: BLE001 - a bug must cost one reply, not the server
            log.exception("%s legacy %s: internal error; replying fail", self.peer, type(request).__name__)
            return legacy.FAIL

    def _send(self, reply: bytes) -> None:
        try:
            self.sock.sendall(reply)
        except OSError as exc:
            log.info("%s legacy: could not send the reply: %s", self.peer, exc)


class FramedSession:
    """A new client: preamble, then any number of framed requests answered in order."""

    def __init__(self, handler: ConnectionHandler):
        self.sock = handler.request
        self.peer = handler.peer
        self.config = handler.config
        self.service = handler.service
        self.client_name = f"framed@{handler.client_address[0]}"
        self.decoder = framed.FramedDecoder("server", max_frame_bytes=self.config.max_frame_bytes)
        self.preamble_sent = False
        self.dispatch = {
            framed.PingRequest: self._ping,
            framed.RosterRequest: self._roster,
            framed.MarkRequest: self._mark,
            framed.BatchMarkRequest: self._batch_mark,
            framed.RecognizeRequest: self._recognize,
        }

    def run(self, data: bytes) -> None:
        while True:
            try:
                events = self.decoder.feed(data)
            except RemoteProtocolError as exc:
                log.warning("%s framed: %s; closing", self.peer, exc)
                self._send_preamble()
                self.sock.sendall(
                    framed.encode(framed.ErrorResponse(exc.request_id or 0, exc.code, exc.message))
                )
                return
            if self.decoder.preamble_received:
                self._send_preamble()
            for event in events:
                self.sock.sendall(framed.encode(self._answer(event)))
            try:
                data = self.sock.recv(RECV_SIZE)
            except TimeoutError:
                log.info("%s framed: idle for %.0f s; closing", self.peer, self.config.idle_timeout)
                return
            if not data:
                if self.decoder.buffered:
                    log.warning("%s framed: closed in the middle of a frame (%d bytes)", self.peer, self.decoder.buffered)
                return

    def _send_preamble(self) -> None:
        if not self.preamble_sent:
            self.sock.sendall(framed.PREAMBLE)
            self.preamble_sent = True

    def _answer(self, event):
        started = time.monotonic()
        if isinstance(event, framed.InvalidMessage):
            log.warning("%s framed request %d refused: %s", self.peer, event.request_id, event.error)
            return framed.ErrorResponse(event.request_id, event.error.code, event.error.message)
        try:
            reply = self.dispatch[type(event)](event)
        except ServiceError as exc:
            log.warning("%s framed %s: %s", self.peer, type(event).__name__, exc)
            reply = framed.ErrorResponse(event.request_id, exc.code, exc.message)
        except Exception:  # noqa: BLE001 - a bug must cost one reply, not the server
            log.exception("%s framed %s: internal error", self.peer, type(event).__name__)
            reply = framed.ErrorResponse(event.request_id, ErrorCode.INTERNAL, "internal server error")
        log.info(
            "%s framed %s #%d -> %s (%.0f ms)",
            self.peer, type(event).__name__, event.request_id, type(reply).__name__,
            1000 * (time.monotonic() - started),
        )
        return reply

    def _ping(self, req: framed.PingRequest):
        return framed.PongResponse(req.request_id, SERVER_VERSION)

    def _roster(self, req: framed.RosterRequest):
        roster = self.service.roster(req.lecture)
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
            client_name=self.client_name,
            status=req.status,
            source=req.source,
            distance=req.distance,
        )
        return framed.MarkResponse(req.request_id, outcome.lecture, outcome.student_id, outcome.status, outcome.already_marked)

    def _batch_mark(self, req: framed.BatchMarkRequest):
        outcome = self.service.batch_mark(
            req.lecture,
            req.batch_id,
            [(mark.student_id, mark.status) for mark in req.marks],
            client_name=self.client_name,
            source=req.source,
        )
        return framed.BatchMarkResponse(req.request_id, outcome.batch_id, outcome.applied, outcome.replayed)

    def _recognize(self, req: framed.RecognizeRequest):
        faces = self.service.recognize(req.image, req.lecture)
        return framed.RecognizeResponse(
            req.request_id,
            tuple(
                framed.RecognizedFace(*face.box, face.student_id, face.name, face.distance)
                for face in faces
            ),
        )

