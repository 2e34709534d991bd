"""The classroom camera's requests, for the framed protocol handler (docs/camera.md).

- ``detect``: every face box of a whole-room frame (small faces included), no recognition;
- ``identify``: who is at the given boxes, each decided from this frame alone;
- ``identify_room``: who is each face the watcher follows, each decided from the encodings of
  several samples, the room as a whole (each student to at most one track);
- ``presence``: store a presence sample; ``close_session``: compute and write the statuses.

Recognition goes through the attendance service's :class:`server.matching.FaceMatcher` (the
worker processes, gallery and decision rules of ``recognize``); presence rules live in
:mod:`server.presence`.
The server keeps nothing between requests: a track's encodings are kept by the watcher.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from protocol.errors import ErrorCode
from server.errors import ServiceError
from server.matching import FaceResult
from server.presence import CloseOutcome, PresenceService, SampleOutcome
from server.recognition.decision import as_encodings
from server.recognition.faces import Box
from server.recognition.whole_room import DEFAULT_MIN_FACE
from server.service import AttendanceService


@dataclass(frozen=True)
class TrackFrames:
    """One track of an identify_room request: its box in the image, the encodings of its face
    kept from earlier samples (oldest first; shape (k, 128), k >= 0), and whether to encode the
    box now."""

    box: Box
    kept: Sequence[Sequence[float]]
    encode: bool


@dataclass(frozen=True)
class TrackResult:
    """The room decision about one track. ``frames``: the track's newest encodings it used;
    ``encoding``: the box's, shape (128,), when the track was encoded now (else None)."""

    face: FaceResult
    frames: int
    encoding: np.ndarray | None


def same_person_frames(kept, new, ceiling: float) -> np.ndarray:
    """The frames a track is decided from, shape (f, 128), oldest first: ``kept`` (k, 128) and
    ``new`` (128,) or None. A new encoding farther than ``ceiling`` from the mean of the kept
    ones cannot show the same person (the card's rule, as in
    :func:`server.recognition.decision.check_one_person`; the mean, because single frames of
    one person are sometimes that far apart): the kept encodings are dropped, as when another
    student sat down in a tracked seat."""
    kept = as_encodings(kept)
    if new is None:
        return kept
    new = np.asarray(new, dtype=np.float64)[None, :]
    if len(kept) and np.linalg.norm(kept.mean(axis=0) - new[0]) > ceiling:
        return new
    return np.vstack([kept, new])


class CameraService:
    """Stateless: cheap to build, safe for many threads (like the services it uses)."""

    def __init__(self, attendance: AttendanceService, presence: PresenceService):
        """``attendance``: for its face matcher and its rosters."""
        self.faces = attendance.faces
        self.attendance = attendance
        self.presence = presence

    def detect(self, image: bytes, min_face: int = DEFAULT_MIN_FACE) -> list[Box]:
        """The box of every face in a whole-room image, down to ``min_face`` pixels wide."""
        return self.faces.detect_whole_room(image, min_face)

    def identify(self, image: bytes, boxes: Sequence[Box], lecture_code: str | None = None) -> list[FaceResult]:
        """Who is at each face box (no detection): one result per box, in order; each student is
        given to at most one box. With a lecture code only its students are candidates."""
        allowed = self._roster(lecture_code)
        return self.faces.match(boxes, list(self.faces.encode_boxes(image, boxes)), allowed)

    def identify_room(
        self, image: bytes, tracks: Sequence[TrackFrames], lecture_code: str | None = None
    ) -> list[TrackResult]:
        """Who is each track: one result per track, in order. The tracks with ``encode`` get
        their box encoded in ``image``; each track is decided from its frames
        (:func:`same_person_frames`), all tracks at once, each student given to at most one
        (:meth:`server.recognition.decision.RosterModel.decide_room`). With a lecture code only
        its students are candidates. ``image`` may be empty when no track is to be encoded."""
        allowed = self._roster(lecture_code)
        fresh = self._encode_now(image, tracks)
        ceiling = self.faces.rules.ceiling
        frames = [same_person_frames(t.kept, fresh.get(i), ceiling) for i, t in enumerate(tracks)]
        results = self.faces.match([track.box for track in tracks], frames, allowed)
        return [TrackResult(face, len(used), fresh.get(i)) for i, (face, used) in enumerate(zip(results, frames))]

    def _encode_now(self, image: bytes, tracks: Sequence[TrackFrames]) -> dict[int, np.ndarray]:
        """Track index -> the encoding of its box, for the tracks to encode now. Rounded to
        float32 as the wire carries them, so that the track decided again from its kept
        encodings at the next sample gets the same distances."""
        indexes = [i for i, track in enumerate(tracks) if track.encode]
        if not indexes:
            return {}
        if not image:
            raise ServiceError(ErrorCode.BAD_REQUEST, "tracks to encode, but no image")
        encodings = self.faces.encode_boxes(image, [tracks[i].box for i in indexes])
        rounded = encodings.astype(np.float32).astype(np.float64)
        return dict(zip(indexes, rounded))

    def record_presence(
        self, lecture_code: str, sampled_at: dt.datetime, student_ids: Iterable[str], faces: int, *, client_name: str
    ) -> SampleOutcome:
        return self.presence.record_sample(lecture_code, sampled_at, student_ids, faces, client_name=client_name)

    def close_session(self, lecture_code: str, day: dt.date | None = None, *, client_name: str) -> CloseOutcome:
        return self.presence.close_session(lecture_code, day, client_name=client_name)

    def _roster(self, lecture_code: str | None) -> set[str] | None:
        """The lecture's students (None: no lecture, everyone enrolled is a candidate)."""
        return None if lecture_code is None else self.attendance.roster_ids(lecture_code)
