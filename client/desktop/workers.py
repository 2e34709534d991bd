"""Everything in the desktop app that waits on the server, a camera or the landmark model.

The GUI thread never touches a socket or a camera. Each screen's requests are create_worker
calls (client.qt_worker) on its own thread and connection (:class:`ServerCalls`, a
:class:`~client.reconnecting.ReconnectingClient`, never shared); the long-lived workers are
QObjects on a :class:`~client.qt_worker.WorkerThread` of their own:

- :class:`ServerCalls`: one screen's requests (roster, uncertain check-ins, check-ins, enrolments,
  reports);
- :class:`OutboxWorker`: every roll call batch goes through it: written to the durable queue
  first, then sent; resent on a timer (and at the next start) until the server acknowledges it;
- :class:`CaptureWorker`: reads frames, finds faces locally, hands over the frames of one face
  when the check-in or Enrol screen asks;
- :func:`check_enrol_photo`: checks an enrolment photo (size, sharpness, eyes, pose).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PyQt5.QtCore import QObject, QTimer, pyqtSignal, pyqtSlot
from PyQt5.QtGui import QImage

from client.connection import FramedClient, ServerError
from client.desktop.checkin_logic import FRAMES_PER_TRY, STREAM_FPS, FrameCollector
from client.desktop.enrol_checks import FaceMeasures, LandmarkModel, PhotoCheck, check_photo, measure_face
from client.desktop.faces_local import DetectorUnavailable, FaceDetector
from client.desktop.mark_queue import BatchEntry, FolderLock, LoadReport, MarkQueue, QueueEntry, QueueLocked
from client.frame_source import FaceFrame, SourceError, SourceSpec, limit_size, open_source, to_qimage
from client.qt_worker import create_worker, serial_pool
from client.reconnecting import ReconnectingClient
from protocol import framed
from protocol.errors import ErrorCode, ProtocolError

log = logging.getLogger(__name__)

#: A liveness challenge's frames are sent at most this many pixels on their longest side.
STREAM_MAX_SIDE = 640

#: Error codes after which a queued mark is sent again later; any other error reply means the
#: server will never take it (unknown lecture, student not enrolled, bad request).
#: A refused token (unauthorized), or one whose role does not allow roll calls (forbidden), is
#: transient too: the mark waits until the token or its role is fixed (attendance-db set-role).
TRANSIENT_CODES = frozenset(
    {
        ErrorCode.DB_UNAVAILABLE,
        ErrorCode.TIMEOUT,
        ErrorCode.INTERNAL,
        ErrorCode.UNAUTHORIZED,
        ErrorCode.FORBIDDEN,
        ErrorCode.RATE_LIMITED,
        ErrorCode.BUSY,
    }
)

#: The code of a queued entry that is not a valid request (it is never sent; see invalid_entry).
INVALID_ENTRY = "invalid_entry"

#: What the status bar is told after an answer (an error reply included).
CONNECTED = "connected"
#: Pseudo error codes for failures that are not error replies.
UNREACHABLE = "unreachable"
TIMED_OUT = "no_reply"
PROTOCOL = "protocol"
TLS_FAILED = "tls"


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(code, detail) for a failed call: a server error code or one of the pseudo codes."""
    if isinstance(exc, ServerError):
        return exc.code, exc.message
    if isinstance(exc, TimeoutError):
        return TIMED_OUT, str(exc) or "timed out"
    if isinstance(exc, ProtocolError):
        return PROTOCOL, str(exc)
    if isinstance(exc, ssl.SSLError):  # a certificate not trusted, a server without TLS...
        return TLS_FAILED, str(exc)
    return UNREACHABLE, str(exc) or type(exc).__name__


#: What a request that was no longer wanted returns instead of a reply (see ServerCalls.request).
_NOT_SENT = object()


class ServerCalls(QObject):
    """One screen's requests to the server (roster, uncertain check-ins, check-ins, enrolments,
    reports): each is a :func:`~client.qt_worker.create_worker` call, run one at a time on the
    screen's own thread and connection. The reply or the failure's (code, detail) comes back to
    the callbacks given to :meth:`request`, on the GUI thread."""

    connectionChanged = pyqtSignal(str, str)  # "connected" or a failure code; "host:port"
    failed = pyqtSignal(str, str)  # code, detail of any failed request, after its own callback

    def __init__(
        self,
        host: str,
        port: int,
        *,
        token: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.connection = ReconnectingClient(host, port, token=token, timeout=timeout, ssl_context=ssl_context)
        self.pool = serial_pool(self)

    def configure(self, host: str, port: int, token: str, ssl_context: ssl.SSLContext | None = None) -> None:
        """Another server, token or TLS context (None: plain TCP), from the next request on (in
        turn with the requests)."""
        create_worker(self.connection.configure, host, port, token, ssl_context, _start_on=self.pool)

    def request(
        self,
        call: Callable[[FramedClient], Any],
        on_reply: Callable[[Any], None],
        on_failure: Callable[[str, str], None],
        *,
        still_wanted: Callable[[], bool] | None = None,
    ) -> None:
        """``call(client)`` on the screen's connection; ``on_reply(reply)`` or
        ``on_failure(code, detail)`` (see :func:`describe_failure`) after.

        ``still_wanted()`` (if given) is asked on the worker thread when the request's turn
        comes: when it says False (a newer request has been made meanwhile), the request is
        not sent and neither callback runs."""
        worker = create_worker(self._call_if_wanted, call, still_wanted)
        worker.returned.connect(lambda reply: self._answered(reply, on_reply))
        worker.errored.connect(lambda exc: self._failed(exc, on_failure))
        worker.start(self.pool)

    def _call_if_wanted(self, call: Callable[[FramedClient], Any], still_wanted: Callable[[], bool] | None):
        if still_wanted is not None and not still_wanted():
            return _NOT_SENT
        return self.connection.call(call)

    def _answered(self, reply, on_reply: Callable[[Any], None]) -> None:
        if reply is _NOT_SENT:
            return
        self.connectionChanged.emit(CONNECTED, self.connection.address)
        on_reply(reply)

    def _failed(self, exc: Exception, on_failure: Callable[[str, str], None]) -> None:
        code, detail = describe_failure(exc)
        if not isinstance(exc, (ServerError, OSError, ProtocolError)):
            log.error("unexpected failure", exc_info=exc)
        self.connectionChanged.emit(CONNECTED if isinstance(exc, ServerError) else code, self.connection.address)
        on_failure(code, detail)
        self.failed.emit(code, detail)

    def shutdown(self, wait_ms: int = 5000) -> bool:
        """End a request waiting for the server, drop the ones not started, wait for the thread."""
        self.connection.interrupt()
        self.pool.clear()
        return self.pool.waitForDone(wait_ms)


class OutboxWorker(QObject):
    """The path a roll call's marks take to the server: queue file first, then the network
    (a face check-in is marked by the server itself; queued check-in marks of an older version
    are still delivered).

    ``submit(entry)`` writes the entry to the durable queue and then tries to send every queued
    entry, oldest first. What the server does not acknowledge stays queued and is sent again
    every ``retry_interval`` seconds, and at the next start. When the queue is empty the worker
    pings the server every ``status_interval`` seconds so the status bar stays true.
    """

    pendingChanged = pyqtSignal(object)  # list of queued entries (mark_queue.QueueEntry)
    delivered = pyqtSignal(object, object)  # entry, the server's reply
    rejected = pyqtSignal(object, str, str)  # entry, code, detail: the server refuses it for good
    deliveryFailed = pyqtSignal(str, str)  # code, detail: kept, sent again later
    queueFailed = pyqtSignal(str)  # the queue file cannot be written
    queueSalvaged = pyqtSignal(object)  # mark_queue.LoadReport: the queue was damaged, this much kept
    connectionChanged = pyqtSignal(str, str)

    def __init__(
        self,
        host: str,
        port: int,
        folder: Path,
        *,
        token: str = "",
        retry_interval: float = 5.0,
        status_interval: float = 15.0,
        timeout: float = 15.0,
        lock: FolderLock | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        super().__init__()
        self.connection = ReconnectingClient(host, port, token=token, timeout=timeout, ssl_context=ssl_context)
        self.folder = Path(folder)
        self.lock = lock  # the folder's lock, held by the app (None: the queue takes it)
        self.retry_interval = retry_interval
        self.status_interval = status_interval
        self.queue: MarkQueue | None = None
        self._volatile: list[QueueEntry] = []  # entries the queue file could not take (disk trouble)
        self._timer: QTimer | None = None
        self._last_contact = 0.0
        self._failing = False

    def interrupt(self) -> None:
        self.connection.interrupt()

    @pyqtSlot()
    def start(self) -> None:
        try:
            self.queue = MarkQueue(self.folder, lock=self.lock)
        except (OSError, QueueLocked) as exc:
            self.queueFailed.emit(str(exc))
            self.queue = None
        if self.queue is not None and self.queue.load_report.salvaged:
            report: LoadReport = self.queue.load_report
            self.queueSalvaged.emit(report)
        self._timer = QTimer(self)
        self._timer.setInterval(max(50, int(self.retry_interval * 1000)))
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._emit_pending()
        self.flush()

    def entries(self) -> list[QueueEntry]:
        return (self.queue.entries() if self.queue else []) + list(self._volatile)

    def _emit_pending(self) -> None:
        self.pendingChanged.emit(self.entries())

    @pyqtSlot(str, int, str, object)
    def configure(self, host: str, port: int, token: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.connection.configure(host, port, token, ssl_context)
        self.flush()

    @pyqtSlot(object)
    def submit(self, entry: QueueEntry) -> None:
        try:
            if self.queue is None:
                raise OSError("the queue folder cannot be used")
            self.queue.add(entry)
        except OSError as exc:
            log.error("cannot write the queue file: %s", exc)
            self.queueFailed.emit(str(exc))
            self._volatile.append(entry)
        self._emit_pending()
        self.flush()

    def _tick(self) -> None:
        if self.entries():
            self.flush()
        elif time.monotonic() - self._last_contact >= self.status_interval:
            self.ping()

    @pyqtSlot()
    def ping(self) -> None:
        try:
            self.connection.call(lambda client: client.ping())
        except Exception as exc:  # noqa: BLE001 - reported to the GUI
            code, _ = describe_failure(exc)
            self.connectionChanged.emit(code, self.connection.address)
            self._last_contact = time.monotonic()
            return
        self._contact()

    def _contact(self) -> None:
        self._last_contact = time.monotonic()
        self.connectionChanged.emit(CONNECTED, self.connection.address)

    @pyqtSlot()
    def flush(self) -> None:
        """Send every queued entry, oldest first; stop at the first one that cannot go now.
        An entry that can never be sent (refused for good, or not a valid request) is moved to
        the rejected log, and the next ones go on."""
        for entry in self.entries():
            problem = invalid_entry(entry)
            if problem is not None:
                log.error(
                    "queued %s %s is not a valid request (%s); moved to the rejected log", entry.kind, entry.id, problem
                )
                self._forget(entry, reject=(INVALID_ENTRY, problem))
                self.rejected.emit(entry, INVALID_ENTRY, problem)
                continue
            try:
                reply = self.connection.call(lambda client, e=entry: self._send(client, e))
            except ServerError as exc:
                self._contact()
                if exc.code in TRANSIENT_CODES:
                    self._fail(exc)
                    return
                log.warning("server refuses queued %s %s: %s", entry.kind, entry.id, exc)
                self._forget(entry, reject=(exc.code, exc.message))
                self.rejected.emit(entry, exc.code, exc.message)
                continue
            except Exception as exc:  # unreachable, timed out, protocol trouble
                if not isinstance(exc, (OSError, ProtocolError)):
                    log.exception("unexpected failure sending %s", entry.id)
                self._fail(exc)
                return
            self._contact()
            self._forget(entry)
            self._failing = False
            self.delivered.emit(entry, reply)

    def _fail(self, exc: Exception) -> None:
        code, detail = describe_failure(exc)
        if not isinstance(exc, ServerError):
            self.connectionChanged.emit(code, self.connection.address)
        self._last_contact = time.monotonic()
        self._failing = True
        self.deliveryFailed.emit(code, detail)

    def _forget(self, entry: QueueEntry, reject: tuple[str, str] | None = None) -> None:
        volatile = [e for e in self._volatile if e.id != entry.id]
        if len(volatile) != len(self._volatile):
            self._volatile = volatile
        elif self.queue is not None:
            try:
                if reject:
                    self.queue.reject(entry.id, *reject)
                else:
                    self.queue.remove(entry.id)
            except OSError as exc:
                # Still on disk: it will be sent again, which the server treats as a repeat.
                self.queueFailed.emit(str(exc))
        self._emit_pending()

    @staticmethod
    def _send(client: FramedClient, entry: QueueEntry):
        if isinstance(entry, BatchEntry):
            return client.batch_mark(
                entry.lecture,
                entry.batch_id,
                entry.marks,
                source=entry.source,
                session_date=entry.session_date,
                professor=entry.professor,
                reason=entry.reason,
            )
        return client.mark(
            entry.lecture, entry.student_id, status=entry.status, source=entry.source, distance=entry.distance
        )

    @pyqtSlot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.setParent(None)
            self._timer = None
        self.connection.close()


def entry_request(entry: QueueEntry):
    """The request a queued entry is sent as (request ID 0: the connection numbers it)."""
    if isinstance(entry, BatchEntry):
        items = tuple(framed.BatchMark(student_id, status) for student_id, status in entry.marks)
        return framed.BatchMarkRequest(0, entry.lecture, entry.batch_id, items, entry.source)
    return framed.MarkRequest(0, entry.lecture, entry.student_id, entry.status, entry.source, entry.distance)


def invalid_entry(entry: QueueEntry) -> str | None:
    """Why a queued entry can never be sent (not a valid request: a bad lecture code, student
    ID, status...), or None. Checked with the protocol's own encoder, before any byte is sent."""
    try:
        framed.encode(entry_request(entry))
    except (ProtocolError, ValueError, TypeError) as exc:
        return str(exc) or type(exc).__name__
    return None


class CaptureWorker(QObject):
    """Reads frames, finds faces on this PC, shows every frame, and hands over frames with exactly
    one face when a screen asks for them:

    - ``requestBurst``: the frames of one face for a check-in try
      (:class:`~client.desktop.checkin_logic.FrameCollector`: 4 frames over 0.75 s of a camera or
      video; one frame, the image, from a folder of images), as ``burstReady``;
    - ``requestStill``: one frame for an enrolment photo, as ``stillReady``;
    - ``requestStream``: every frame with a face, at most :data:`STREAM_FPS` a second, as
      ``streamFrame`` ((monotonic time, JPEG of the frame at most 640 pixels)), for a liveness
      challenge, until ``cancelRequest``.

    ``cancelRequest`` withdraws any of them. A folder of images shows each image for at least
    ``dwell`` seconds, and an image with exactly one face until it has been handed over once (so
    every such image is used, whatever the server's speed).
    """

    frameReady = pyqtSignal(QImage, int)  # the frame with face boxes drawn, number of faces
    burstProgress = pyqtSignal(int, int)  # frames of the try collected, frames needed (on a change)
    burstReady = pyqtSignal(object)  # tuple of FaceFrame: one check-in try
    stillReady = pyqtSignal(object)  # FaceFrame: an enrolment photo to check
    streamFrame = pyqtSignal(object)  # (monotonic seconds, JPEG bytes): a liveness challenge's frame
    sourceOpened = pyqtSignal(str)  # the detector backend in use
    sourceFailed = pyqtSignal(str)
    sourceEnded = pyqtSignal()

    BURST, STILL, STREAM = "burst", "still", "stream"

    def __init__(
        self,
        spec: SourceSpec,
        *,
        dwell: float = 1.5,
        fps: float = 15.0,
        detector_backend: str | None = None,
        jpeg_quality: int = 90,
    ):
        super().__init__()
        self.spec = spec
        self.dwell = dwell
        self.max_fps = fps
        self.detector_backend = detector_backend
        self.jpeg_quality = jpeg_quality
        self._source = None
        self._detector: FaceDetector | None = None
        self._timer: QTimer | None = None
        self._wanted: str | None = None  # BURST, STILL or None
        self._collector: FrameCollector | None = None
        self._frame: np.ndarray | None = None
        self._boxes: list = []
        self._shown_at = 0.0
        self._used = False  # the still image on show was handed over
        self._started_at = 0.0
        self._streamed_at = 0.0
        self.frames_shown = 0
        self.handovers = 0  # bursts and stills handed over

    @pyqtSlot()
    def start(self) -> None:
        try:
            self._detector = FaceDetector(self.detector_backend)
            self._source = open_source(self.spec)
        except (SourceError, DetectorUnavailable, OSError, ValueError) as exc:
            self.sourceFailed.emit(str(exc))
            return
        self.sourceOpened.emit(self._detector.backend)
        self._timer = QTimer(self)
        if self._source.still:
            interval = 50
        else:
            interval = int(1000 / max(1.0, min(self.max_fps, self._source.fps)))
        self._timer.setInterval(interval)
        self._timer.timeout.connect(self._tick)
        self._started_at = time.monotonic()
        self._timer.start()
        self._tick()

    @pyqtSlot()
    def requestBurst(self) -> None:
        if self._wanted != self.BURST:
            self._wanted, self._collector = self.BURST, None

    @pyqtSlot()
    def requestStream(self) -> None:
        self._wanted, self._collector, self._streamed_at = self.STREAM, None, 0.0

    @pyqtSlot()
    def requestStill(self) -> None:
        self._wanted, self._collector = self.STILL, None

    @pyqtSlot()
    def cancelRequest(self) -> None:
        self._wanted, self._collector = None, None

    @pyqtSlot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.setParent(None)
            self._timer = None
        if self._source is not None:
            self._source.close()
            self._source = None

    def _tick(self) -> None:
        if self._source is None:
            return
        try:
            if self._source.still:
                self._tick_still()
            else:
                self._tick_moving()
        except SourceError as exc:
            self.stop()
            self.sourceFailed.emit(str(exc))

    def _tick_still(self) -> None:
        now = time.monotonic()
        due = now - self._shown_at >= self.dwell and (self._used or len(self._boxes) != 1)
        if self._frame is None or due:
            frame = self._source.next_image()
            if frame is None:
                self._end()
                return
            self._show(limit_size(frame))
            self._shown_at = now
            self._used = False
        if self._wanted and len(self._boxes) == 1 and not self._used:
            self._used = self._offer(now)

    def _tick_moving(self) -> None:
        skip, now, before = 0, time.monotonic(), 0
        if not self._source.live:
            before = self._source.position
            due = int((now - self._started_at) * self._source.fps)
            skip = max(0, due - before - 1)
        frame = self._source.read(skip) if skip else self._source.read()
        if frame is None:
            self._end()
            return
        if not self._source.live and self._source.position <= before:  # a video file started again
            self._started_at = now - self._source.position / self._source.fps
        self._show(limit_size(frame))
        if self._wanted:
            self._offer(time.monotonic())

    def _show(self, frame: np.ndarray) -> None:
        self._frame = frame
        self._boxes = self._detector.detect(frame)
        shown = frame.copy()
        color = (80, 200, 80) if len(self._boxes) == 1 else (0, 165, 255)
        thickness = max(2, round(max(frame.shape[:2]) / 320))
        for x, y, w, h in self._boxes:
            cv2.rectangle(shown, (x, y), (x + w, y + h), color, thickness)
        self.frames_shown += 1
        self.frameReady.emit(to_qimage(shown), len(self._boxes))

    def _offer(self, now: float) -> bool:
        """Give the frame on show to the pending request; True when it was taken."""
        if self._wanted == self.STREAM:
            if not self._boxes or now - self._streamed_at < 1.0 / STREAM_FPS * 0.9:
                return False
            self._streamed_at = now
            small = limit_size(self._frame, STREAM_MAX_SIDE)
            ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if ok:
                self.streamFrame.emit((now, jpeg.tobytes()))
            return True
        if self._wanted == self.STILL:
            if len(self._boxes) != 1:
                return False
            self._hand_over(self.stillReady, self._face_frame())
            return True
        if self._collector is None:
            self._collector = FrameCollector(1 if self._source.still else FRAMES_PER_TRY)
        collector = self._collector
        before = collector.collected
        burst = collector.feed(now, self._boxes, self._face_frame)
        if burst is not None:
            self.burstProgress.emit(len(burst), collector.count)
            self._hand_over(self.burstReady, burst)
            return True
        if collector.collected != before:
            self.burstProgress.emit(collector.collected, collector.count)
        return collector.collected > before

    def _face_frame(self) -> FaceFrame:
        ok, jpeg = cv2.imencode(".jpg", self._frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise SourceError("a frame cannot be encoded as JPEG")
        return FaceFrame(self._frame, tuple(int(v) for v in self._boxes[0]), jpeg.tobytes())

    def _hand_over(self, signal, payload) -> None:
        self._wanted, self._collector = None, None
        self.handovers += 1
        signal.emit(payload)

    def _end(self) -> None:
        self.stop()
        self.sourceEnded.emit()


def check_enrol_photo(
    frame: FaceFrame, pose: str, reference: FaceMeasures | None, landmarks: LandmarkModel
) -> PhotoCheck:
    """Check ``frame`` for ``pose`` (:mod:`client.desktop.enrol_checks`); ``reference``: the
    straight photo's measures (the other poses are measured from it). Slow (the landmark model
    loads with the first photo): run with create_worker. Raises LandmarksUnavailable."""
    return check_photo(measure_face(frame.image, frame.box, landmarks), pose, reference)
