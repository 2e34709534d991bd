"""The attendance rules, independent of the wire format: roster, mark, batch mark, recognize.

Both protocol handlers (2019 one-shot payloads and the framed protocol) call these methods and
turn :class:`ServiceError` into their own error replies. Every database write happens in one
transaction; a database that is unreachable becomes ``ServiceError(db_unavailable)``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator, Sequence, TypeVar

import pymysql

from db import attendance, lectures, students
from db.connection import UNAVAILABLE_ERRORS, ConnectionPool, is_conflict, retry_on_conflict, transaction
from db.reports import LectureNotFound, LectureReport, build_report
from protocol.errors import ErrorCode
from server.recognition.enrollment import load_gallery
from server.recognition.faces import MODEL_NAME, box_area
from server.recognition.gallery import DEFAULT_THRESHOLD, Gallery
from server.recognition.images import ImageDecodeError
from server.recognition.pool import RecognitionPool, WorkerCrashedError

if TYPE_CHECKING:
    from server.evidence import EvidenceKeeper

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Sources whose marks replace an existing mark (a person's decision beats an automatic one).
_OVERWRITING_SOURCES = frozenset({"rollcall", "manual"})
#: Attempts of a write transaction that keeps losing conflicts (see write_transaction).
WRITE_ATTEMPTS = 3


class ServiceError(Exception):
    """A request that cannot be served; ``code`` is one of :class:`protocol.errors.ErrorCode`."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def write_transaction(db: ConnectionPool, work: Callable[..., T]) -> T:
    """``work(cursor)`` in one transaction on a pooled connection, run again (up to
    :data:`WRITE_ATTEMPTS` times in all) when the database rolled it back for losing a conflict
    with a concurrent one (deadlock, lock wait timeout, a Galera/Group Replication certification
    failure).

    :raises ServiceError: db_unavailable when every attempt lost or the database is unreachable.
    """

    def once():
        with db.connection() as conn, transaction(conn) as cur:
            return work(cur)

    try:
        return retry_on_conflict(once, WRITE_ATTEMPTS)
    except UNAVAILABLE_ERRORS as exc:
        raise unavailable_error(exc) from exc


def unavailable_error(exc: BaseException) -> ServiceError:
    """The db_unavailable reply for a database error (logged): every client retries it, and the
    connection to the client stays open. A write conflict that outlasted its retries says so."""
    if is_conflict(exc):
        log.warning("write conflict, given up: %s", exc)
        return ServiceError(ErrorCode.DB_UNAVAILABLE, "the database is busy with concurrent writes; try again")
    log.warning("database unavailable: %s", exc)
    return ServiceError(ErrorCode.DB_UNAVAILABLE, "the attendance database is not reachable")


@dataclass(frozen=True)
class RosterLine:
    student_id: str
    name: str
    status: str | None
    source: str | None
    marked_at: dt.datetime | None


@dataclass(frozen=True)
class Roster:
    lecture: str
    session_date: dt.date
    lines: tuple[RosterLine, ...]


@dataclass(frozen=True)
class MarkOutcome:
    lecture: str
    student_id: str
    status: str
    already_marked: bool
    attendance_id: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str
    applied: int
    replayed: bool


@dataclass(frozen=True)
class FaceResult:
    """One face found in an image. box: (top, right, bottom, left) in pixels of the image sent."""

    box: tuple[int, int, int, int]
    student_id: str | None
    name: str | None
    distance: float | None


class AttendanceService:
    """Serves requests for many threads at once (the pool and the gallery are thread-safe)."""

    def __init__(
        self,
        db: ConnectionPool,
        recognizer: RecognitionPool,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        today: Callable[[], dt.date] = dt.date.today,
        evidence: EvidenceKeeper | None = None,
    ):
        """``evidence``: keeps the frames that support marks (``--keep-evidence``); None keeps none."""
        self.db = db
        self.recognizer = recognizer
        self.threshold = threshold
        self.today = today
        self.evidence = evidence
        self._gallery = Gallery.empty()  # replaced whole by reload_gallery(), never changed

    # -- gallery -------------------------------------------------------------------------------

    @property
    def gallery(self) -> Gallery:
        return self._gallery

    def reload_gallery(self) -> Gallery:
        """Read every stored encoding of the current model into memory (after enrollment)."""
        with self._database() as conn:
            gallery = load_gallery(conn, MODEL_NAME)
        self._gallery = gallery  # one assignment: requests see the old gallery or the new one
        return gallery

    # -- requests ------------------------------------------------------------------------------

    def roster(self, lecture_code: str) -> Roster:
        """The lecture's students with today's marks (unmarked students have status None)."""
        day = self.today()
        with self._database() as conn, transaction(conn) as cur:
            lecture = self._lecture(cur, lecture_code)
            session_id = attendance.find_session(cur, lecture.lecture_id, day)
            marks = attendance.session_marks(cur, session_id) if session_id else {}
            lines = []
            for student in students.roster(cur, lecture.lecture_id):
                mark = marks.get(student.student_id)
                lines.append(
                    RosterLine(
                        student.student_id,
                        student.name,
                        mark.status if mark else None,
                        mark.source if mark else None,
                        mark.marked_at if mark else None,
                    )
                )
        return Roster(lecture.code, day, tuple(lines))

    def mark(
        self,
        lecture_code: str,
        student_id: str,
        *,
        client_name: str,
        status: str = "present",
        source: str = "checkin",
        distance: float | None = None,
    ) -> MarkOutcome:
        """Mark one student in today's session. A check-in never changes an existing mark.

        With evidence keeping on, a new mark stores the frame this client recently sent in which
        the student was recognized (see :mod:`server.evidence`).
        """
        day = self.today()

        def write(cur):
            lecture = self._lecture(cur, lecture_code)
            self._require_enrolled(cur, lecture, [student_id])
            session_id = attendance.ensure_session(cur, lecture.lecture_id, day)
            return lecture, attendance.mark(
                cur,
                session_id=session_id,
                student_id=student_id,
                status=status,
                source=source,
                client_name=client_name,
                distance=distance,
                overwrite=source in _OVERWRITING_SOURCES,
            )

        lecture, result = self.write_transaction(write)
        if self.evidence is not None and not result.already_marked:
            self.evidence.attach(
                client_name, lecture=lecture.code, day=day, student_id=student_id,
                attendance_id=result.attendance_id,
            )
        return MarkOutcome(
            lecture.code, student_id, result.status, result.already_marked, result.attendance_id
        )

    def batch_mark(
        self,
        lecture_code: str,
        batch_id: str,
        marks: Sequence[tuple[str, str]],
        *,
        client_name: str,
        source: str = "rollcall",
    ) -> BatchOutcome:
        """Apply (student_id, status) marks all at once, or none; a batch ID is applied once.

        A retried batch (same ``batch_id``) is not applied again: the first reply is returned
        with ``replayed=True``. A student not enrolled in the lecture refuses the whole batch.
        """
        try:
            return self.write_transaction(
                lambda cur: self._write_batch(cur, lecture_code, batch_id, marks, client_name, source)
            )
        except ServiceError:
            raise
        except pymysql.err.IntegrityError:
            # A concurrent copy of this batch committed first (applied_batches primary key):
            # ours was rolled back whole. Answer what the first one answered.
            with self._database() as conn, transaction(conn) as cur:
                stored = attendance.find_applied_batch(cur, batch_id)
            if stored is None:
                raise
            return _replayed(stored)

    def _write_batch(self, cur, lecture_code, batch_id, marks, client_name, source) -> BatchOutcome:
        stored = attendance.find_applied_batch(cur, batch_id)
        if stored is not None:
            log.info("batch %s already applied; replying as before", batch_id)
            return _replayed(stored)
        lecture = self._lecture(cur, lecture_code)
        self._require_enrolled(cur, lecture, [student_id for student_id, _ in marks])
        session_id = attendance.ensure_session(cur, lecture.lecture_id, self.today())
        attendance.mark_many(cur, session_id=session_id, marks=list(marks), source=source,
                             client_name=client_name)
        outcome = BatchOutcome(batch_id, applied=len(marks), replayed=False)
        attendance.record_batch(
            cur,
            batch_id=batch_id,
            session_id=session_id,
            client_name=client_name,
            reply_json=json.dumps({"batch_id": batch_id, "applied": outcome.applied}),
        )
        return outcome

    def recognize(
        self, image: bytes, lecture_code: str | None = None, *, client_name: str | None = None
    ) -> list[FaceResult]:
        """Every face in the image with its student (or None), matched at the threshold.

        With a lecture code only that lecture's students are candidates. Each student is given
        to at most one face. ``client_name``: who asked (for evidence keeping).
        """
        allowed = None
        if lecture_code is not None:
            with self._database() as conn, transaction(conn) as cur:
                lecture = self._lecture(cur, lecture_code)
                allowed = {s.student_id for s in students.roster(cur, lecture.lecture_id)}
        try:
            faces = self.recognizer.analyze(image)
        except ImageDecodeError as exc:
            raise ServiceError(ErrorCode.BAD_IMAGE, str(exc)) from exc
        except WorkerCrashedError as exc:
            raise ServiceError(ErrorCode.INTERNAL, str(exc)) from exc
        if not faces:
            return []
        gallery = self._gallery
        matches = gallery.match(
            [face.encoding for face in faces], threshold=self.threshold, allowed=allowed
        )
        if self.evidence is not None and client_name is not None:
            self.evidence.remember(client_name, image, [m.student_id for m in matches if m.student_id])
        return [
            FaceResult(
                tuple(int(v) for v in face.box),
                match.student_id,
                gallery.name_of(match.student_id) if match.student_id else None,
                None if match.distance is None else round(float(match.distance), 4),
            )
            for face, match in zip(faces, matches)
        ]

    def report(
        self,
        lecture_code: str,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        late_weight: float = 0.5,
    ) -> LectureReport:
        """The lecture's attendance report (db/reports.py): student × session matrix and rates.

        Read in one transaction, so the three queries see one snapshot. Unknown lecture:
        ServiceError(not_found); start after end or a weight outside 0..1: bad_request.
        """
        with self._database() as conn, transaction(conn) as cur:
            try:
                return build_report(cur, lecture_code, date_from, date_to, late_weight)
            except LectureNotFound:
                raise ServiceError(ErrorCode.NOT_FOUND, f"no lecture {lecture_code}") from None
            except ValueError as exc:
                raise ServiceError(ErrorCode.BAD_REQUEST, str(exc)) from None

    # -- helpers -------------------------------------------------------------------------------

    def write_transaction(self, work):
        """:func:`write_transaction` on this service's connection pool."""
        return write_transaction(self.db, work)

    @contextlib.contextmanager
    def _database(self) -> Iterator[pymysql.connections.Connection]:
        """A pooled connection; a database that is unreachable or goes away mid-request becomes
        ServiceError(db_unavailable) (the transaction was rolled back; nothing half-written)."""
        try:
            with self.db.connection() as conn:
                yield conn
        except UNAVAILABLE_ERRORS as exc:
            raise unavailable_error(exc) from exc

    @staticmethod
    def _lecture(cur, code: str) -> lectures.Lecture:
        lecture = lectures.get_lecture(cur, code)
        if lecture is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no lecture {code}")
        return lecture

    @staticmethod
    def _require_enrolled(cur, lecture: lectures.Lecture, student_ids: Sequence[str]) -> None:
        """ServiceError(not_enrolled) naming the first student not on the roster. One query
        for a single student; the whole roster, once, for a batch."""
        if len(student_ids) == 1:
            enrolled = {sid for sid in student_ids if students.is_enrolled(cur, lecture.lecture_id, sid)}
        else:
            enrolled = {student.student_id for student in students.roster(cur, lecture.lecture_id)}
        for student_id in student_ids:
            if student_id not in enrolled:
                raise ServiceError(
                    ErrorCode.NOT_ENROLLED, f"student {student_id} is not on the roster of {lecture.code}"
                )


def largest_recognized(faces: Sequence[FaceResult]) -> FaceResult | None:
    """The recognized face with the largest box (the 2019 reply names only one student)."""
    known = [face for face in faces if face.student_id is not None]
    return max(known, key=lambda face: box_area(face.box), default=None)


def _replayed(stored_json: str) -> BatchOutcome:
    stored = json.loads(stored_json)
    return BatchOutcome(stored["batch_id"], applied=stored["applied"], replayed=True)
