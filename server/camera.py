"""The classroom camera's requests, for the framed protocol handler (docs/camera.md).

- ``detect``: every face box of a whole-room frame (small faces included), no recognition;
- ``identify``: who is at the given boxes (the watcher asks only for faces it does not track);
- ``presence``: store a presence sample; ``close_session``: compute and write the statuses.

Recognition goes through the same worker processes and gallery as ``recognize``
(:class:`server.service.AttendanceService`); presence rules live in :mod:`server.presence`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Iterable, Iterator, Sequence

from db import lectures, students
from protocol.errors import ErrorCode
from server.presence import CloseOutcome, PresenceService, SampleOutcome
from server.recognition.faces import Box
from server.recognition.images import ImageDecodeError
from server.recognition.pool import WorkerCrashedError
from server.recognition.whole_room import DEFAULT_MIN_FACE
from server.service import AttendanceService, FaceResult, ServiceError


class CameraService:
    """Stateless: cheap to build, safe for many threads (like the services it uses)."""

    def __init__(self, attendance: AttendanceService, presence: PresenceService):
        self.attendance = attendance
        self.presence = presence

    def detect(self, image: bytes, min_face: int = DEFAULT_MIN_FACE) -> list[Box]:
        """The box of every face in a whole-room image, down to ``min_face`` pixels wide."""
        with _recognition_errors():
            return self.attendance.recognizer.detect_whole_room(image, min_face)

    def identify(self, image: bytes, boxes: Sequence[Box], lecture_code: str | None = None) -> list[FaceResult]:
        """Who is at each face box (no detection): one result per box, in order; each student is
        given to at most one box. With a lecture code only its students are candidates."""
        allowed = self._roster(lecture_code)
        with _recognition_errors():
            encodings = self.attendance.recognizer.encode_boxes(image, boxes)
        gallery = self.attendance.gallery
        matches = gallery.match(encodings, threshold=self.attendance.threshold, allowed=allowed)
        return [
            FaceResult(
                tuple(int(v) for v in box),
                match.student_id,
                gallery.name_of(match.student_id) if match.student_id else None,
                None if match.distance is None else round(float(match.distance), 4),
            )
            for box, match in zip(boxes, matches)
        ]

    def record_presence(
        self, lecture_code: str, sampled_at: dt.datetime, student_ids: Iterable[str], faces: int, *, client_name: str
    ) -> SampleOutcome:
        return self.presence.record_sample(lecture_code, sampled_at, student_ids, faces, client_name=client_name)

    def close_session(self, lecture_code: str, day: dt.date | None = None, *, client_name: str) -> CloseOutcome:
        return self.presence.close_session(lecture_code, day, client_name=client_name)

    def _roster(self, lecture_code: str | None) -> set[str] | None:
        if lecture_code is None:
            return None
        with self.presence.transaction() as cur:
            lecture = lectures.get_lecture(cur, lecture_code)
            if lecture is None:
                raise ServiceError(ErrorCode.NOT_FOUND, f"no lecture {lecture_code}")
            return {s.student_id for s in students.roster(cur, lecture.lecture_id)}


@contextlib.contextmanager
def _recognition_errors() -> Iterator[None]:
    """Turn the recognition pool's exceptions into ServiceError."""
    try:
        yield
    except ImageDecodeError as exc:  # (a ValueError: caught first)
        raise ServiceError(ErrorCode.BAD_IMAGE, str(exc)) from exc
    except WorkerCrashedError as exc:
        raise ServiceError(ErrorCode.INTERNAL, str(exc)) from exc
    except ValueError as exc:  # BoxOutsideImageError, or min_face out of range
        raise ServiceError(ErrorCode.BAD_REQUEST, str(exc)) from exc
