"""One presence sample: the server finds the faces, the tracker follows them, the server
identifies only new or changed faces, and the students seen are sent as a presence sample.

    connect = lambda: FramedClient(host, port, token=token)
    with ReconnectingClient(connect) as client, VideoFileSource("lecture.mp4") as source:
        watcher = Watcher(client, "ea0017_1", start=datetime.datetime(2019, 11, 1, 9, 0))
        watch(source, watcher, every=60, on_sample=print)

``client`` is anything with the framed client's ``detect``, ``identify`` and ``presence``
methods: :class:`client.watch.connection.ReconnectingClient` (which survives the server closing
an idle connection between two samples), or a plain :class:`client.connection.FramedClient`.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import cv2
import numpy as np

from client.connection import ServerError
from client.watch.appearance import histogram_distance, hsv_histogram
from client.watch.source import SampleClock
from client.watch.tracker import Box, FaceTracker, Track, TrackerSettings


#: Error codes after which watching goes on with the next sample.
PASSING_ERRORS = frozenset({"db_unavailable", "timeout", "internal", "rate_limited", "bad_image"})


class CameraClient(Protocol):
    def detect(self, image: bytes, *, min_face: int = 40): ...
    def identify(self, image: bytes, boxes, lecture: str | None = None): ...
    def presence(self, lecture: str, sampled_at: str, student_ids, face_count: int): ...


@dataclass(frozen=True)
class WatchSettings:
    #: Width in pixels of the smallest faces to find (smaller is slower; see docs/camera.md).
    min_face: int = 40
    #: False: every face is identified at every sample (for comparisons).
    tracking: bool = True
    #: Quality of the JPEG frames sent to the server.
    jpeg_quality: int = 90
    tracker: TrackerSettings = field(default_factory=TrackerSettings)


@dataclass(frozen=True)
class SeenFace:
    """One face of a sample, as shown on screen."""

    box: Box
    track_id: int
    student_id: str | None
    name: str | None
    distance: float | None
    identified_now: bool  # sent to the server at this sample (else: known from tracking)


@dataclass(frozen=True)
class SampleReport:
    number: int  # 1, 2, ...
    media_seconds: float
    sampled_at: dt.datetime
    faces: tuple[SeenFace, ...]
    students: tuple[str, ...]  # the enrolled students seen, sorted
    encoded: int  # faces the server encoded for this sample
    sample_id: int | None  # the server's presence sample ID
    session_closed: bool  # the server says the session was closed already


class Watcher:
    """Turns frames into presence samples for one lecture (not thread-safe: one per camera)."""

    def __init__(
        self,
        client: CameraClient,
        lecture: str,
        *,
        start: dt.datetime | None = None,
        settings: WatchSettings = WatchSettings(),
    ):
        """``start``: the wall-clock time of media time 0 (default: now). A sample at media
        time t is sent as taken at ``start + t``."""
        self.client = client
        self.lecture = lecture
        self.start = start or dt.datetime.now().replace(microsecond=0)
        self.settings = settings
        self.tracker = FaceTracker(settings.tracker, histogram_distance)
        self.samples = 0
        self.encoded = 0  # faces encoded by the server so far, all samples

    def sample(self, image_bgr: np.ndarray, media_seconds: float) -> SampleReport:
        """Process one frame (BGR, as OpenCV reads it) taken at ``media_seconds``."""
        ok, jpeg = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality])
        if not ok:
            raise ValueError("cannot encode the frame as JPEG")
        jpeg = jpeg.tobytes()
        detected = self.client.detect(jpeg, min_face=self.settings.min_face)
        boxes = [(b.top, b.right, b.bottom, b.left) for b in detected.boxes]
        if not self.settings.tracking:
            self.tracker.forget()
        tracks = self.tracker.update(boxes, [hsv_histogram(image_bgr, box) for box in boxes])
        asked = [track for track in tracks if self.tracker.needs_identity(track)]
        if asked:
            reply = self.client.identify(jpeg, [track.box for track in asked], self.lecture)
            for track, face in zip(asked, reply.faces):
                self.tracker.identified(track, face.student_id, face.name, face.distance)
        seen = self.tracker.seen(tracks)
        sampled_at = self.start + dt.timedelta(seconds=media_seconds)
        students = tuple(track.student_id for track in seen)
        recorded = self.client.presence(
            self.lecture, sampled_at.isoformat(timespec="milliseconds"), students, len(boxes)
        )
        self.samples += 1
        self.encoded += len(asked)
        asked_ids = {track.track_id for track in asked}
        return SampleReport(
            number=self.samples,
            media_seconds=media_seconds,
            sampled_at=sampled_at,
            faces=tuple(_seen_face(track, track.track_id in asked_ids) for track in tracks),
            students=students,
            encoded=len(asked),
            sample_id=recorded.sample_id,
            session_closed=recorded.closed,
        )


def watch(
    source,
    watcher: Watcher,
    *,
    every: float = 60.0,
    on_sample: Callable[[SampleReport], None] = lambda report: None,
    on_frame: Callable[[np.ndarray, float], None] | None = None,
    frame_every: float = 0.2,
    stop: threading.Event | None = None,
    on_error: Callable[[ServerError, float], None] | None = None,
) -> int:
    """Read ``source`` to its end (or until ``stop`` is set), sampling every ``every`` seconds
    of media time; return the number of samples.

    ``on_frame(image, media_seconds)``, when given, also receives a frame every ``frame_every``
    seconds of media time (a preview on screen). ``on_error(error, media_seconds)``, when given,
    is told about a sample the server could not serve for a passing reason (database down,
    too many requests, ...), and watching goes on; without it, or for any other error (a
    refused token, an unknown lecture), the ServerError is raised.
    """
    clock = SampleClock(every)
    next_frame = 0.0
    while stop is None or not stop.is_set():
        media_seconds = source.grab()
        if media_seconds is None:
            break
        sample_due = clock.due(media_seconds)
        frame_due = on_frame is not None and media_seconds >= next_frame
        if not (sample_due or frame_due):
            continue
        image = source.retrieve()
        if sample_due:
            try:
                on_sample(watcher.sample(image, media_seconds))
            except ServerError as exc:
                if on_error is None or exc.code not in PASSING_ERRORS:
                    raise
                on_error(exc, media_seconds)
        if frame_due:
            on_frame(image, media_seconds)
            next_frame = media_seconds + frame_every
    return watcher.samples


def draw_faces(image_bgr: np.ndarray, faces: Sequence[SeenFace]) -> np.ndarray:
    """A copy of the frame with a box and the student ID (or "?") on every face."""
    out = image_bgr.copy()
    for face in faces:
        top, right, bottom, left = face.box
        color = (60, 200, 60) if face.student_id else (40, 40, 230)  # green known, red unknown
        cv2.rectangle(out, (left, top), (right, bottom), color, 2)
        label = face.student_id or "?"
        (width, height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        cv2.rectangle(out, (left, max(0, top - height - 6)), (left + width + 4, top), color, -1)
        cv2.putText(out, label, (left + 2, max(height, top - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _seen_face(track: Track, identified_now: bool) -> SeenFace:
    return SeenFace(track.box, track.track_id, track.student_id, track.name, track.distance, identified_now)
