"""Everything that waits: network calls and camera capture, as QObjects living on QThreads.

The GUI thread never touches a socket or a camera. It talks to the workers through queued
signal/slot connections and gets results back as signals. Each worker that talks to the server
owns its own :class:`Connection` (one FramedClient per thread, never shared).

- :class:`ServerWorker`: one screen's requests (roster, uncertain check-ins, check-ins,
  enrolments);
- :class:`OutboxWorker`: every roll call batch goes through it: written to the durable queue
  first, then sent; resent on a timer (and at the next start) until the server acknowledges it;
- :class:`CaptureWorker`: reads frames, finds faces locally, hands over the frames of one face
  when the check-in or Enrol screen asks;
- :class:`EnrolCheckWorker`: checks enrolment photos (size, sharpness, eyes, pose).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from PyQt5.QtCore import QObject, Qt, QThread, QTimer, pyqtSignal, pyqtSlot
from PyQt5.QtGui import QImage

from client.connection import FramedClient, ServerError
from client.desktop.capture import FaceFrame, SourceError, SourceSpec, limit_size, open_source
from client.desktop.checkin_logic import FRAMES_PER_TRY, FrameCollector
from client.desktop.enrol_checks import FaceMeasures, LandmarkModel, LandmarksUnavailable, check_photo, measure_face
from client.desktop.faces_local import DetectorUnavailable, FaceDetector
from client.desktop.mark_queue import MarkQueue
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

#: Error codes after which a queued mark is sent again later; any other error reply means the
#: server will never take it (unknown lecture, student not enrolled, bad request).
#: A refused token (unauthorized) is transient too: the mark waits until the token is fixed.
TRANSIENT_CODES = frozenset({"db_unavailable", "timeout", "internal", "unauthorized", "rate_limited", "busy"})

#: Pseudo error codes for failures that are not error replies.
UNREACHABLE = "unreachable"
TIMED_OUT = "no_reply"
PROTOCOL = "protocol"


def describe_failure(exc: BaseException) -> tuple[str, str]:
    """(code, detail) for a failed call: a server error code or one of the pseudo codes."""
    if isinstance(exc, ServerError):
        return exc.code, exc.message
    if isinstance(exc, TimeoutError):
        return TIMED_OUT, str(exc) or "timed out"
    if isinstance(exc, ProtocolError):
        return PROTOCOL, str(exc)
    return UNREACHABLE, str(exc) or type(exc).__name__


class Connection:
    """A FramedClient for one thread, connected on first use and again after a failure.

    A request on a connection the server has closed meanwhile (it closes idle ones) is sent
    again once on a new connection; every request the app sends is safe to repeat.
    """

    def __init__(self, host: str, port: int, *, token: str = "", timeout: float = 30.0,
                 connect_timeout: float = 5.0):
        self.host, self.port = host, port
        self.token = token  # from `attendance-db add-client`; said in a hello on each connection
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._client: FramedClient | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def configure(self, host: str, port: int, token: str) -> None:
        if (host, port, token) != (self.host, self.port, self.token):
            self.close()
            self.host, self.port, self.token = host, port, token

    def call(self, request: Callable[[FramedClient], Any]) -> Any:
        for attempt in range(2):
            reused = self._client is not None
            client = self._connect()
            try:
                return request(client)
            except ServerError:
                raise
            except TimeoutError:
                self.close()
                raise
            except (OSError, ProtocolError):
                self.close()
                if not reused or attempt or self._closed:
                    raise
                log.debug("connection to %s went stale; reconnecting", self.address)
        raise AssertionError("unreachable")

    def _connect(self) -> FramedClient:
        if self._closed:
            raise ConnectionAbortedError("the app is closing")
        if self._client is None:
            client = FramedClient(self.host, self.port, timeout=self.connect_timeout)
            client.sock.settimeout(self.timeout)
            with self._lock:
                if self._closed:
                    client.close()
                    raise ConnectionAbortedError("the app is closing")
                self._client = client  # from here on, interrupt() can end a waiting hello
            if self.token:
                try:
                    client.client_name = client.hello(self.token).client_name
                except BaseException:
                    self.close()
                    raise
        return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except OSError:
                pass

    def interrupt(self) -> None:
        """From any thread: end a call that is waiting for the server (used when closing)."""
        with self._lock:
            self._closed = True
            client = self._client
        if client is not None:
            try:
                client.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class WorkerThread:
    """A worker QObject on a QThread of its own; ``stop()`` ends both and waits."""

    def __init__(self, worker: QObject, name: str):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        if hasattr(worker, "start"):
            self.thread.started.connect(worker.start)
        if hasattr(worker, "stop"):
            # Runs on the worker's own thread as it ends: its timers die where they were born.
            self.thread.finished.connect(worker.stop, Qt.DirectConnection)
        self.thread.start()

    def stop(self, wait_ms: int = 5000) -> bool:
        interrupt = getattr(self.worker, "interrupt", None)
        if interrupt is not None:
            interrupt()  # thread-safe: unblocks a socket wait
        self.thread.quit()
        return self.thread.wait(wait_ms)


class ServerWorker(QObject):
    """One screen's requests, one at a time, on its own connection: the roster, today's uncertain
    check-ins and the professor's decisions (roll call), check-ins (face check-in), enrolments
    (Enrol). Every result comes back as a signal; a failure as (code, detail)."""

    connectionChanged = pyqtSignal(str, str)  # "connected" or a failure code; "host:port"
    rosterReady = pyqtSignal(object)  # framed.RosterResponse
    rosterFailed = pyqtSignal(str, str, str)  # lecture, code, detail
    pendingReady = pyqtSignal(object)  # framed.PendingResponse
    pendingFailed = pyqtSignal(str, str, str)  # lecture, code, detail
    resolved = pyqtSignal(object)  # framed.ResolvePendingResponse
    resolveFailed = pyqtSignal(int, str, str)  # pending ID, code, detail
    checkedIn = pyqtSignal(int, object)  # ticket, framed.CheckinResponse
    checkinFailed = pyqtSignal(int, str, str)  # ticket, code, detail
    enrolled = pyqtSignal(int, object)  # ticket, framed.EnrollResponse
    enrollFailed = pyqtSignal(int, str, str)  # ticket, code, detail

    def __init__(self, host: str, port: int, *, token: str = "", timeout: float = 30.0):
        super().__init__()
        self.connection = Connection(host, port, token=token, timeout=timeout)

    def interrupt(self) -> None:
        self.connection.interrupt()

    @pyqtSlot(str, int, str)
    def configure(self, host: str, port: int, token: str) -> None:
        self.connection.configure(host, port, token)

    @pyqtSlot(str)
    def loadRoster(self, lecture: str) -> None:
        self._request(lambda client: client.roster(lecture), self.rosterReady.emit,
                      lambda code, detail: self.rosterFailed.emit(lecture, code, detail))

    @pyqtSlot(str)
    def loadPending(self, lecture: str) -> None:
        self._request(lambda client: client.pending(lecture), self.pendingReady.emit,
                      lambda code, detail: self.pendingFailed.emit(lecture, code, detail))

    @pyqtSlot(int, object)
    def resolvePending(self, pending_id: int, student_id: str | None) -> None:
        """Confirm the uncertain check-in as ``student_id`` (marked present), or reject it (None)."""
        self._request(lambda client: client.resolve_pending(pending_id, student_id), self.resolved.emit,
                      lambda code, detail: self.resolveFailed.emit(pending_id, code, detail))

    @pyqtSlot(int, object, str, bool)
    def checkin(self, ticket: int, frames: tuple, lecture: str, queue_uncertain: bool) -> None:
        """Frames (JPEG bytes) of one face: the server decides and marks an accepted face."""
        self._request(
            lambda client: client.checkin(lecture, frames, mark=True, queue_uncertain=queue_uncertain),
            lambda reply: self.checkedIn.emit(ticket, reply),
            lambda code, detail: self.checkinFailed.emit(ticket, code, detail),
        )

    @pyqtSlot(int, str, object, object, bool)
    def enroll(self, ticket: int, student_id: str, photos: tuple, name: str | None, force: bool) -> None:
        """Photos (JPEG bytes) of one student, stored by the server all or none."""
        self._request(
            lambda client: client.enroll(student_id, photos, name=name, force=force),
            lambda reply: self.enrolled.emit(ticket, reply),
            lambda code, detail: self.enrollFailed.emit(ticket, code, detail),
        )

    def _request(self, call: Callable[[FramedClient], Any], done: Callable[[Any], None],
                 failed: Callable[[str, str], None]) -> None:
        try:
            reply = self.connection.call(call)
        except Exception as exc:  # noqa: BLE001 - reported to the GUI
            code, detail = describe_failure(exc)
            if not isinstance(exc, (ServerError, OSError, ProtocolError)):
                log.exception("unexpected failure")
            self.connectionChanged.emit("connected" if isinstance(exc, ServerError) else code, self.connection.address)
            failed(code, detail)
            return
        self.connectionChanged.emit("connected", self.connection.address)
        done(reply)


class OutboxWorker(QObject):
    """The path a roll call's marks take to the server: queue file first, then the network
    (a face check-in is marked by the server itself; queued check-in marks of an older version
    are still delivered).

    ``submit(entry)`` writes the entry to the durable queue and then tries to send every queued
    entry, oldest first. What the server does not acknowledge stays queued and is sent again
    every ``retry_interval`` seconds, and at the next start. When the queue is empty the worker
    pings the server every ``status_interval`` seconds so the status bar stays true.
    """

    pendingChanged = pyqtSignal(object)  # list of queued entries (dicts)
    delivered = pyqtSignal(object, object)  # entry, the server's reply
    rejected = pyqtSignal(object, str, str)  # entry, code, detail: the server refuses it for good
    deliveryFailed = pyqtSignal(str, str)  # code, detail: kept, sent again later
    queueFailed = pyqtSignal(str)  # the queue file cannot be written
    connectionChanged = pyqtSignal(str, str)

    def __init__(self, host: str, port: int, folder: Path, *, token: str = "", retry_interval: float = 5.0,
                 status_interval: float = 15.0, timeout: float = 15.0):
        super().__init__()
        self.connection = Connection(host, port, token=token, timeout=timeout)
        self.folder = Path(folder)
        self.retry_interval = retry_interval
        self.status_interval = status_interval
        self.queue: MarkQueue | None = None
        self._volatile: list[dict] = []  # entries the queue file could not take (disk trouble)
        self._timer: QTimer | None = None
        self._last_contact = 0.0
        self._failing = False

    def interrupt(self) -> None:
        self.connection.interrupt()

    @pyqtSlot()
    def start(self) -> None:
        try:
            self.queue = MarkQueue(self.folder)
        except OSError as exc:
            self.queueFailed.emit(str(exc))
            self.queue = None
        self._timer = QTimer(self)
        self._timer.setInterval(max(50, int(self.retry_interval * 1000)))
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._emit_pending()
        self.flush()

    def entries(self) -> list[dict]:
        return (self.queue.entries() if self.queue else []) + [dict(e) for e in self._volatile]

    def _emit_pending(self) -> None:
        self.pendingChanged.emit(self.entries())

    @pyqtSlot(str, int, str)
    def configure(self, host: str, port: int, token: str) -> None:
        self.connection.configure(host, port, token)
        self.flush()

    @pyqtSlot(object)
    def submit(self, entry: dict) -> None:
        try:
            if self.queue is None:
                raise OSError("the queue folder cannot be used")
            self.queue.add(entry)
        except OSError as exc:
            log.error("cannot write the queue file: %s", exc)
            self.queueFailed.emit(str(exc))
            self._volatile.append(dict(entry))
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
        self.connectionChanged.emit("connected", self.connection.address)

    @pyqtSlot()
    def flush(self) -> None:
        """Send every queued entry, oldest first; stop at the first one that cannot go now."""
        for entry in self.entries():
            try:
                reply = self.connection.call(lambda client, e=entry: self._send(client, e))
            except ServerError as exc:
                self._contact()
                if exc.code in TRANSIENT_CODES:
                    self._fail(exc)
                    return
                log.warning("server refuses queued %s %s: %s", entry["kind"], entry["id"], exc)
                self._forget(entry, reject=(exc.code, exc.message))
                self.rejected.emit(entry, exc.code, exc.message)
                continue
            except Exception as exc:  # noqa: BLE001 - unreachable, timed out, protocol trouble
                if not isinstance(exc, (OSError, ProtocolError)):
                    log.exception("unexpected failure sending %s", entry["id"])
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

    def _forget(self, entry: dict, reject: tuple[str, str] | None = None) -> None:
        volatile = [e for e in self._volatile if e["id"] != entry["id"]]
        if len(volatile) != len(self._volatile):
            self._volatile = volatile
        elif self.queue is not None:
            try:
                if reject:
                    self.queue.reject(entry["id"], *reject)
                else:
                    self.queue.remove(entry["id"])
            except OSError as exc:
                # Still on disk: it will be sent again, which the server treats as a repeat.
                self.queueFailed.emit(str(exc))
        self._emit_pending()

    @staticmethod
    def _send(client: FramedClient, entry: dict):
        if entry["kind"] == "batch":
            return client.batch_mark(
                entry["lecture"], entry["batch_id"], [tuple(m) for m in entry["marks"]],
                source=entry.get("source", "rollcall"),
            )
        return client.mark(
            entry["lecture"], entry["student_id"], status=entry.get("status", "present"),
            source=entry.get("source", "checkin"), distance=entry.get("distance"),
        )

    @pyqtSlot()
    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer.setParent(None)
            self._timer = None
        self.connection.close()


def to_qimage(frame_bgr: np.ndarray) -> QImage:
    rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format_RGB888).copy()


class CaptureWorker(QObject):
    """Reads frames, finds faces on this PC, shows every frame, and hands over frames with exactly
    one face when a screen asks for them:

    - ``requestBurst``: the frames of one face for a check-in try
      (:class:`~client.desktop.checkin_logic.FrameCollector`: 4 frames over 0.75 s of a camera or
      video; one frame, the image, from a folder of images), as ``burstReady``;
    - ``requestStill``: one frame for an enrolment photo, as ``stillReady``.

    ``cancelRequest`` withdraws either. A folder of images shows each image for at least
    ``dwell`` seconds, and an image with exactly one face until it has been handed over once (so
    every such image is used, whatever the server's speed).
    """

    frameReady = pyqtSignal(QImage, int)  # the frame with face boxes drawn, number of faces
    burstProgress = pyqtSignal(int, int)  # frames of the try collected, frames needed (on a change)
    burstReady = pyqtSignal(object)  # tuple of FaceFrame: one check-in try
    stillReady = pyqtSignal(object)  # FaceFrame: an enrolment photo to check
    sourceOpened = pyqtSignal(str)  # the detector backend in use
    sourceFailed = pyqtSignal(str)
    sourceEnded = pyqtSignal()

    BURST, STILL = "burst", "still"

    def __init__(self, spec: SourceSpec, *, dwell: float = 1.5, fps: float = 15.0,
                 detector_backend: str | None = None, jpeg_quality: int = 90):
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


class EnrolCheckWorker(QObject):
    """Checks enrolment photos (:mod:`client.desktop.enrol_checks`) on its own thread; the 68-point
    landmark model is loaded when the first photo comes."""

    checked = pyqtSignal(int, object)  # ticket, enrol_checks.PhotoCheck
    checkFailed = pyqtSignal(int, str)  # ticket, why (the landmark model cannot be loaded)

    def __init__(self, landmarks: LandmarkModel | None = None):
        super().__init__()
        self.landmarks = landmarks or LandmarkModel()

    @pyqtSlot(int, object, str, object)
    def check(self, ticket: int, frame: FaceFrame, pose: str, reference: FaceMeasures | None) -> None:
        """Check ``frame`` for ``pose``; ``reference``: the straight photo's measures (the other
        poses are measured from it)."""
        try:
            measures = measure_face(frame.image, frame.box, self.landmarks)
        except LandmarksUnavailable as exc:
            self.checkFailed.emit(ticket, str(exc))
            return
        self.checked.emit(ticket, check_photo(measures, pose, reference))
