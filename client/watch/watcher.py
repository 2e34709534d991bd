"""One presence sample: the server finds the faces, the tracker follows them, the server
decides every face in view from the encodings of its track (encoding again only the faces that
need more evidence), and the students seen are sent as a presence sample.

    with ReconnectingClient(host, port, token=token) as client, VideoFileSource("lecture.mp4") as source:
        watcher = Watcher(client, "ea0017_1", start=datetime.datetime(2019, 11, 1, 9, 0))
        watch(source, watcher, every=60, on_sample=print)

``client`` is anything with the framed client's ``detect``, ``identify_room`` and ``presence``
methods: :class:`client.reconnecting.ReconnectingClient` (which survives the server closing
an idle connection between two samples), or a plain :class:`client.connection.FramedClient`.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from client.connection import ServerError
from client.watch.appearance import histogram_distance, hsv_histogram
from client.watch.tracker import ACCEPTED, UNCERTAIN, Box, FaceTracker, Track, TrackerSettings, box_area
from protocol.errors import ErrorCode
from protocol.framed import DEFAULT_MIN_FACE, MAX_FACE_BOXES

#: Error codes after which watching goes on with the next sample.
PASSING_ERRORS = frozenset(
    {
        ErrorCode.DB_UNAVAILABLE,
        ErrorCode.TIMEOUT,
        ErrorCode.INTERNAL,
        ErrorCode.RATE_LIMITED,
        ErrorCode.BAD_IMAGE,
    }
)


class CameraClient(Protocol):
    def detect(self, image: bytes, *, min_face: int = DEFAULT_MIN_FACE): ...
    def identify_room(self, image: bytes, tracks, lecture: str | None = None): ...
    def presence(self, lecture: str, sampled_at: str, student_ids, face_count: int): ...


@dataclass(frozen=True)
class WatchSettings:
    #: Width in pixels of the smallest faces to find (smaller is slower; see docs/camera.md).
    min_face: int = DEFAULT_MIN_FACE
    #: False: every face is a new track at every sample, decided from that sample alone and
    #: encoded every time (for comparisons).
    tracking: bool = True
    #: Quality of the JPEG frames sent to the server.
    jpeg_quality: int = 90
    tracker: TrackerSettings = field(default_factory=TrackerSettings)


@dataclass(frozen=True)
class SeenFace:
    """One face of a sample, as shown on screen: the room decision about its track (see
    :class:`client.watch.tracker.Track`; ``decision`` None: not decided at this sample)."""

    box: Box
    track_id: int
    decision: str | None
    student_id: str | None  # when accepted
    name: str | None
    distance: float | None
    candidates: tuple[str, ...]  # the students an uncertain face may be, nearest first
    frames: int  # encodings the decision used
    encoded_now: bool  # its face was encoded at this sample (else: decided from kept encodings)


@dataclass(frozen=True)
class SampleReport:
    number: int  # 1, 2, ...
    media_seconds: float
    sampled_at: dt.datetime
    faces: tuple[SeenFace, ...]
    students: tuple[str, ...]  # the enrolled students seen (accepted faces), sorted
    encoded: int  # faces the server encoded for this sample
    sample_id: int | None  # the server's presence sample ID
    session_closed: bool  # the server says the session was closed already
    #: The server's warning: the sample is outside every session's window (None: none).
    warning: str | None = None
    #: The date of the session the server put the sample in (campus time), YYYY-MM-DD.
    session_date: str | None = None

    @property
    def uncertain(self) -> int:
        """Faces near a student but not accepted (not counted as seen)."""
        return sum(face.decision == UNCERTAIN for face in self.faces)


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
        """``start``: the wall-clock time of media time 0 (default: now; a time without a UTC
        offset is this computer's local time). A sample at media time t is sent as taken at
        ``start + t``, with this computer's UTC offset, so that the server converts it to campus
        time whatever zone this computer is set to (the server refuses a time too far from its
        own clock: ErrorCode.CLOCK_SKEW)."""
        self.client = client
        self.lecture = lecture
        self.start = (start or dt.datetime.now()).astimezone().replace(microsecond=0)
        #: The session the server put the last sample in (its date, campus time), once known.
        self.session_date: str | None = None
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
        decided = _largest(tracks, MAX_FACE_BOXES)
        encoded = self._decide_room(jpeg, decided)
        seen = self.tracker.seen(decided)
        sampled_at = self.start + dt.timedelta(seconds=media_seconds)
        students = tuple(track.student_id for track in seen)
        recorded = self.client.presence(
            self.lecture, sampled_at.isoformat(timespec="milliseconds"), students, len(boxes)
        )
        self.samples += 1
        self.encoded += len(encoded)
        self.session_date = recorded.session_date
        decided_ids = {track.track_id for track in decided}
        encoded_ids = {track.track_id for track in encoded}
        return SampleReport(
            number=self.samples,
            media_seconds=media_seconds,
            sampled_at=sampled_at,
            faces=tuple(
                _seen_face(track, track.track_id in decided_ids, track.track_id in encoded_ids) for track in tracks
            ),
            students=students,
            encoded=len(encoded),
            sample_id=recorded.sample_id,
            session_closed=recorded.closed,
            warning=getattr(recorded, "warning", None),
            session_date=recorded.session_date,
        )

    def _decide_room(self, jpeg: bytes, tracks: Sequence[Track]) -> list[Track]:
        """Ask the server to decide these tracks as one room (encoding the faces that need it)
        and record its decisions; return the tracks encoded."""
        if not tracks:
            return []
        encode = [self.tracker.needs_encoding(track) for track in tracks]
        requests = [(track.box, self.tracker.kept_encodings(track, now), now) for track, now in zip(tracks, encode)]
        reply = self.client.identify_room(jpeg if any(encode) else b"", requests, self.lecture)
        for track, decision in zip(tracks, reply.decisions):
            self.tracker.decided(track, decision)
        return [track for track, now in zip(tracks, encode) if now]


class SampleClock:
    """Decides which frames are samples: the first frame, then the first frame at or after each
    multiple of ``every`` seconds of media time (a late frame does not shift the next ones)."""

    def __init__(self, every: float):
        if not every > 0:
            raise ValueError(f"the sampling interval must be positive, not {every}")
        self.every = every
        self.next_due = 0.0

    def due(self, media_seconds: float) -> bool:
        # A small tolerance: 59.9999 s of a video's timestamps is the 60 s sample.
        if media_seconds + 1e-3 < self.next_due:
            return False
        self.next_due = (math.floor((media_seconds + 1e-3) / self.every) + 1) * self.every
        return True


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


#: Box colours (BGR) by decision: accepted green, uncertain amber, unknown (or undecided) red.
DECISION_COLOURS = {ACCEPTED: (60, 200, 60), UNCERTAIN: (0, 170, 255)}
UNKNOWN_COLOUR = (40, 40, 230)


def face_label(face: SeenFace) -> str:
    """The student ID of an accepted face, the nearest candidate and "?" for an uncertain one
    ("201911001?"), "?" for an unknown one."""
    if face.decision == ACCEPTED:
        return face.student_id
    if face.decision == UNCERTAIN and face.candidates:
        return f"{face.candidates[0]}?"
    return "?"


def draw_faces(image_bgr: np.ndarray, faces: Sequence[SeenFace]) -> np.ndarray:
    """A copy of the frame with a box and a label (:func:`face_label`) on every face, coloured
    by its decision (:data:`DECISION_COLOURS`)."""
    out = image_bgr.copy()
    for face in faces:
        top, right, bottom, left = face.box
        color = DECISION_COLOURS.get(face.decision, UNKNOWN_COLOUR)
        cv2.rectangle(out, (left, top), (right, bottom), color, 2)
        label = face_label(face)
        (width, height), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        cv2.rectangle(out, (left, max(0, top - height - 6)), (left + width + 4, top), color, -1)
        cv2.putText(
            out, label, (left + 2, max(height, top - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA
        )
    return out


def _largest(tracks: Sequence[Track], count: int) -> list[Track]:
    """The ``count`` tracks with the largest boxes (all when there are fewer), in their order."""
    if len(tracks) <= count:
        return list(tracks)
    kept = set(sorted(range(len(tracks)), key=lambda i: -box_area(tracks[i].box))[:count])
    return [track for i, track in enumerate(tracks) if i in kept]


def _seen_face(track: Track, decided_now: bool, encoded_now: bool) -> SeenFace:
    if not decided_now:  # beyond the request's limit: shown as not decided
        return SeenFace(track.box, track.track_id, None, None, None, None, (), 0, False)
    return SeenFace(
        track.box,
        track.track_id,
        track.decision,
        track.student_id,
        track.name,
        track.distance,
        track.candidates,
        track.frames,
        encoded_now,
    )
