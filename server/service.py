"""The attendance rules, independent of the wire format: roster, mark, batch mark, recognize,
check-in from several frames, enrolment, uncertain check-ins for the professor.

Both protocol handlers (2019 one-shot payloads and the framed protocol) call these methods and
turn :class:`ServiceError` (server/errors.py) into their own error replies. Every database write
happens in one transaction; a database that is unreachable becomes ``ServiceError(db_unavailable)``.
Faces are found and decided by the :class:`server.matching.FaceMatcher` the camera shares.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn, TypeVar

import numpy as np
import pymysql

from db import attendance, lectures, pending, sessions, students
from db import encodings as db_encodings
from db import history as db_history
from db.campus_clock import CampusClock
from db.connection import ConnectionPool, retry_on_conflict, transaction
from db.reports import build_report
from protocol.errors import ErrorCode
from protocol.framed import MAX_CHECKIN_FRAMES
from reports.domain import LectureNotFound, LectureReport
from server.challenges import Challenge, ChallengeBook, ChallengePaused
from server.errors import ServiceError, database_errors
from server.matching import FaceMatcher, FaceResult
from server.recognition import enrolment_checks, liveness
from server.recognition.decision import (
    ACCEPTED,
    UNCERTAIN,
    Candidate,
    Decision,
    DecisionRules,
    DifferentPeopleError,
    check_one_person,
)
from server.recognition.enrollment import load_gallery
from server.recognition.faces import ENROLMENT_MODEL, Box, box_area
from server.recognition.gallery import Gallery
from server.recognition.pool import LivenessFrame, PhotoEncoding, RecognitionPool

if TYPE_CHECKING:
    from server.evidence import EvidenceKeeper

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Sources whose marks replace an existing mark (a person's decision beats an automatic one).
_OVERWRITING_SOURCES = frozenset({"rollcall", "manual"})
#: Attempts of a write transaction that keeps losing conflicts (see write_transaction).
WRITE_ATTEMPTS = 3


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

    with database_errors():
        return retry_on_conflict(once, WRITE_ATTEMPTS)


@contextlib.contextmanager
def pooled_transaction(db: ConnectionPool) -> Iterator[pymysql.cursors.Cursor]:
    """One transaction on a pooled connection (not run again on a conflict: reads, and writes
    that lock first). :raises ServiceError: db_unavailable, see :func:`server.errors.database_errors`."""
    with database_errors(), db.connection() as conn, transaction(conn) as cur:
        yield cur


def require_lecture(cur, code: str) -> lectures.Lecture:
    """The lecture with this code. :raises ServiceError: not_found."""
    lecture = lectures.get_lecture(cur, code)
    if lecture is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no lecture {code}")
    return lecture


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
class _ClosedSession:
    """Why a check-in marked nothing: the session is closed or cancelled."""

    lecture: str
    session_id: int
    day: dt.date
    closed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    cancel_reason: str | None


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str
    applied: int
    replayed: bool


@dataclass(frozen=True)
class CheckinOutcome:
    """The answer to a check-in: the decision, and what was written.

    status/already_marked: the accepted student's mark now (when marked). pending_id: the
    uncertain check-in queued for the professor (when queued).
    """

    lecture: str
    decision: Decision
    name: str | None
    candidates: tuple[Candidate, ...]
    status: str | None = None
    already_marked: bool = False
    pending_id: int | None = None


@dataclass(frozen=True)
class ChallengeProgress:
    """A challenge's state after some frames: the asked actions seen so far (in the asked order),
    the next one (None: all seen), frames received, seconds left before the deadline."""

    challenge_id: str
    done: tuple[str, ...]
    next_action: str | None
    frames: int
    remaining: float


@dataclass(frozen=True)
class PhotoProblem:
    """The verdict on one enrolment photo (problem None: fine); see protocol.framed.EnrolledPhoto."""

    problem: str | None
    other_student: str | None = None
    distance: float | None = None


#: Problems that ``force`` lifts (staff checked the person); the others never are.
FORCEABLE_PROBLEMS = frozenset({enrolment_checks.UNLIKE_STUDENT, enrolment_checks.LIKE_OTHER_STUDENT})


@dataclass(frozen=True)
class EnrolOutcome:
    student_id: str
    stored: int  # photos written (0 unless every photo is fine or forced)
    total: int  # the student's encodings now
    photos: tuple[PhotoProblem, ...]


@dataclass(frozen=True)
class PendingList:
    lecture: str
    session_date: dt.date
    checkins: tuple[pending.PendingCheckin, ...]


@dataclass(frozen=True)
class ResolveOutcome:
    pending_id: int
    resolution: str  # confirmed or rejected
    student_id: str | None
    status: str | None
    already_marked: bool


class AttendanceService:
    """Serves requests for many threads at once (the pool and the matcher are thread-safe)."""

    def __init__(
        self,
        db: ConnectionPool,
        recognizer: RecognitionPool,
        *,
        rules: DecisionRules = DecisionRules(),
        evidence: EvidenceKeeper | None = None,
        keep_enrolment_photos: bool = False,
        challenges: ChallengeBook | None = None,
        clock: CampusClock | None = None,
    ):
        """``recognizer`` and ``rules``: the :attr:`faces` matcher's (``--threshold`` is the
        rules' ceiling). ``evidence``: keeps the frames that support marks (``--keep-evidence``);
        None keeps none. ``keep_enrolment_photos``: store enrolled photos in MySQL beside their
        encodings (else only the encodings). ``challenges``: the liveness challenges, when
        check-ins need one (docs/liveness.md); None: ``checkin`` marks without one.
        ``clock``: campus time (default: the server's
        zone); today's session is the one of its date."""
        self.db = db
        self.challenges = challenges
        #: Recognize and match; shared with the camera (server/camera.py).
        self.faces = FaceMatcher(recognizer, rules)
        self.clock = clock or CampusClock()
        self.today = self.clock.today
        self.evidence = evidence
        self.keep_enrolment_photos = keep_enrolment_photos

    # -- gallery -------------------------------------------------------------------------------

    @property
    def gallery(self) -> Gallery:
        return self.faces.gallery

    def reload_gallery(self) -> Gallery:
        """Read every stored encoding of the current model into memory (after enrollment)."""
        with database_errors(), self.db.connection() as conn:
            gallery = load_gallery(conn, ENROLMENT_MODEL)
        self.faces.use_gallery(gallery)
        return gallery

    # -- requests ------------------------------------------------------------------------------

    def roster(self, lecture_code: str, session_date: dt.date | None = None) -> Roster:
        """The lecture's students with the marks of today's session, or of ``session_date``'s
        (unmarked students have status None). :raises ServiceError: bad_request (a future date)."""
        day = self._session_day(session_date)
        with self.transaction() as cur:
            lecture = require_lecture(cur, lecture_code)
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
        session_date: dt.date | None = None,
        professor: str | None = None,
        reason: str | None = None,
        frames: int = 1,
    ) -> MarkOutcome:
        """Mark one student in today's session (or, for a roll call or manual mark with a
        ``reason``, in the past session of ``session_date``). A check-in never changes an
        existing mark. The change is recorded in the mark history with ``professor`` and
        ``reason``.

        With evidence keeping on, a new mark stores the frame this client recently sent in which
        the student was recognized (see :mod:`server.evidence`).

        A check-in (source checkin or camera) in a session that is closed, without a mark by a
        person or the camera's "present"/"late", marks nothing: the attempt is queued for the
        professor (a late check-in, ``frames`` and ``distance`` kept) and ServiceError
        (session_closed) tells the student to see the professor. Also for a cancelled session
        (nothing queued then).

        :raises ServiceError: bad_request (a future date; a past one for a check-in or camera
            mark, or without a reason), not_found (no lecture, or no session on that past day),
            not_enrolled.
        """
        day = self._session_day(session_date, source=source, reason=reason)

        def write(cur):
            lecture = require_lecture(cur, lecture_code)
            self._require_enrolled(cur, lecture, [student_id])
            session_id = self._session_to_mark(cur, lecture, day)
            if source not in _OVERWRITING_SOURCES:
                refusal = self._closed_session_refusal(cur, lecture, session_id, day, student_id)
                if refusal is not None:
                    return lecture, refusal
            return lecture, attendance.mark(
                cur,
                session_id=session_id,
                student_id=student_id,
                status=status,
                source=source,
                client_name=client_name,
                distance=distance,
                overwrite=source in _OVERWRITING_SOURCES,
                professor=professor,
                reason=reason,
            )

        lecture, result = self.write_transaction(write)
        if isinstance(result, _ClosedSession):
            self._refuse_closed_session(result, student_id, client_name, distance, frames)
        if self.evidence is not None and not result.already_marked:
            self.evidence.attach(
                client_name,
                lecture=lecture.code,
                day=day,
                student_id=student_id,
                attendance_id=result.attendance_id,
            )
        return MarkOutcome(lecture.code, student_id, result.status, result.already_marked, result.attendance_id)

    def batch_mark(
        self,
        lecture_code: str,
        batch_id: str,
        marks: Sequence[tuple[str, str]],
        *,
        client_name: str,
        source: str = "rollcall",
        session_date: dt.date | None = None,
        professor: str | None = None,
        reason: str | None = None,
    ) -> BatchOutcome:
        """Apply (student_id, status) marks all at once, or none; a batch ID is applied once.
        The session is today's, or the past one of ``session_date`` (then a ``reason`` is
        needed, as for :meth:`mark`); each change is recorded in the mark history.

        A batch ID is the client's own, per lecture. A retried batch (same client, lecture,
        ``batch_id`` and content) is not applied again: the first reply is returned with
        ``replayed=True``. The same ID with other content (other marks, another source) is
        refused (bad_request), never answered as a replay. A student not enrolled in the
        lecture refuses the whole batch.
        """
        day = self._session_day(session_date, source=source, reason=reason)
        author = (client_name, professor, reason)
        fingerprint = batch_fingerprint(lecture_code, source, marks)
        try:
            return self.write_transaction(
                lambda cur: self._write_batch(cur, lecture_code, batch_id, marks, author, source, day, fingerprint)
            )
        except ServiceError:
            raise
        except pymysql.err.IntegrityError:
            # A concurrent copy of this batch committed first (applied_batches primary key):
            # ours was rolled back whole. Answer what the first one answered.
            with self.transaction() as cur:
                lecture = require_lecture(cur, lecture_code)
                stored = attendance.find_applied_batch(
                    cur, client_name=client_name, lecture_id=lecture.lecture_id, batch_id=batch_id
                )
            if stored is None:
                raise
            return _replayed(stored, batch_id, fingerprint, client_name, lecture.code)

    def _write_batch(self, cur, lecture_code, batch_id, marks, author, source, day, fingerprint) -> BatchOutcome:
        client_name, professor, reason = author
        lecture = require_lecture(cur, lecture_code)
        stored = attendance.find_applied_batch(
            cur, client_name=client_name, lecture_id=lecture.lecture_id, batch_id=batch_id
        )
        if stored is not None:
            return _replayed(stored, batch_id, fingerprint, client_name, lecture.code)
        self._require_enrolled(cur, lecture, [student_id for student_id, _ in marks])
        session_id = self._session_to_mark(cur, lecture, day)
        attendance.mark_many(
            cur,
            session_id=session_id,
            marks=list(marks),
            source=source,
            client_name=client_name,
            professor=professor,
            reason=reason,
        )
        outcome = BatchOutcome(batch_id, applied=len(marks), replayed=False)
        attendance.record_batch(
            cur,
            batch_id=batch_id,
            lecture_id=lecture.lecture_id,
            session_id=session_id,
            client_name=client_name,
            reply_json=json.dumps({"batch_id": batch_id, "applied": outcome.applied}),
            request_sha256=fingerprint,
        )
        return outcome

    def recognize(
        self, image: bytes, lecture_code: str | None = None, *, client_name: str | None = None
    ) -> list[FaceResult]:
        """Every face in the image, each decided (accepted, uncertain or unknown) against the
        lecture's students (everyone enrolled without a lecture code). Each student is accepted
        for at most one face. ``client_name``: who asked (for evidence keeping)."""
        allowed = self.roster_ids(lecture_code) if lecture_code is not None else None
        found = self.faces.find_faces(image)
        if not found:
            return []
        results = self.faces.match([face.box for face in found], [face.encoding for face in found], allowed)
        if self.evidence is not None and client_name is not None:
            accepted = [r.student_id for r in results if r.decision == ACCEPTED and r.student_id is not None]
            self.evidence.remember(client_name, image, accepted)
        return results

    def checkin(
        self,
        lecture_code: str,
        images: Sequence[bytes],
        *,
        client_name: str,
        mark: bool = True,
        queue_uncertain: bool = True,
    ) -> CheckinOutcome:
        """Decide who the one face in these frames is (the largest face of each; frames without
        a face are left out), against the lecture's roster, and mark them when accepted
        (``mark``). An uncertain face is queued for the professor when ``mark`` and
        ``queue_uncertain``.

        With liveness challenges on, a check-in that would mark needs one (:meth:`finish_challenge`):
        ``mark`` is then refused.

        :raises ServiceError: bad_image (a frame cannot be decoded, or no frame has a face),
            different_people (the frames are not one person), not_found (no such lecture),
            challenge_required (``mark`` while liveness challenges are on).
        """
        if mark and self.challenges is not None:
            raise ServiceError(
                ErrorCode.CHALLENGE_REQUIRED,
                "this server checks in only after a liveness challenge (op challenge, docs/liveness.md); "
                "checkin without mark still decides",
            )
        roster = self.roster_ids(lecture_code)
        encodings = _frame_encodings(self.faces.encode_frames(images))
        try:
            check_one_person(encodings, self.faces.rules.ceiling)
        except DifferentPeopleError as exc:
            raise ServiceError(ErrorCode.DIFFERENT_PEOPLE, str(exc)) from None
        return self._decide_and_mark(
            lecture_code, roster, encodings, client_name, mark, queue_uncertain, evidence_frame=images[0]
        )

    def _decide_and_mark(
        self,
        lecture_code: str,
        roster: set[str],
        encodings: np.ndarray,
        client_name: str,
        mark: bool,
        queue_uncertain: bool,
        *,
        evidence_frame: bytes | None,
    ) -> CheckinOutcome:
        """Decide the one person of these frames (shape (f, 128)) against the roster; mark an
        accepted student (``mark``), queue an uncertain face (``mark`` and ``queue_uncertain``)."""
        decision, name, candidates = self.faces.decide_person(encodings, roster)
        if decision.outcome == ACCEPTED and mark:
            assert decision.student_id is not None  # an accepted decision names its student
            if self.evidence is not None and evidence_frame is not None:
                self.evidence.remember(client_name, evidence_frame, [decision.student_id])
            marked = self.mark(
                lecture_code,
                decision.student_id,
                client_name=client_name,
                source="checkin",
                distance=decision.distance,
                frames=decision.frames,
            )
            return CheckinOutcome(marked.lecture, decision, name, candidates, marked.status, marked.already_marked)
        if decision.outcome == UNCERTAIN and mark and queue_uncertain:
            pending_id = self.write_transaction(
                lambda cur: self._queue_uncertain(cur, lecture_code, decision, client_name)
            )
            return CheckinOutcome(lecture_code, decision, None, candidates, pending_id=pending_id)
        return CheckinOutcome(lecture_code, decision, name, candidates)

    # -- liveness challenges (server/challenges.py, docs/liveness.md) ----------------------------

    def _challenge_book(self) -> ChallengeBook:
        if self.challenges is None:
            raise ServiceError(
                ErrorCode.LIVENESS_OFF, "this server does not use liveness challenges (--no-liveness): use checkin"
            )
        return self.challenges

    def open_challenge(self, lecture_code: str, *, client_name: str) -> Challenge:
        """A new challenge for a check-in in this lecture: the actions to do, in order.

        :raises ServiceError: liveness_off, checkins_paused, not_found (no such lecture).
        """
        book = self._challenge_book()
        with self.transaction() as cur:
            lecture = require_lecture(cur, lecture_code)
        try:
            challenge = book.open(client_name, lecture.code)
        except ChallengePaused as exc:
            raise ServiceError(ErrorCode.CHECKINS_PAUSED, _paused_text(exc.seconds)) from None
        log.info("challenge for %s in %s: %s", client_name, lecture.code, " ".join(challenge.actions))
        self.faces.prepare_liveness()
        return challenge

    def challenge_frames(
        self, challenge_id: str, images: Sequence[bytes], times: Sequence[float], *, client_name: str
    ) -> ChallengeProgress:
        """Measure and encode these frames of an open challenge, and say what was seen so far.

        :raises ServiceError: liveness_failed (unknown challenge, frames after its deadline: a
            failed challenge), bad_request (as many times as images, too many frames), bad_image.
        """
        book = self._challenge_book()
        challenge = self._open_challenge_of(book, client_name, challenge_id)
        received_at = book.elapsed(challenge)
        if len(times) != len(images):
            raise ServiceError(ErrorCode.BAD_REQUEST, f"{len(times)} times for {len(images)} frames")
        if challenge.times and times[0] < challenge.times[-1]:
            raise ServiceError(ErrorCode.BAD_REQUEST, "frame times must not go back in time")
        settings = book.settings
        if len(challenge.times) + len(images) > settings.max_frames:
            raise ServiceError(ErrorCode.BAD_REQUEST, f"a challenge takes at most {settings.max_frames} frames")
        if times[-1] > challenge.deadline or received_at > challenge.deadline + settings.grace:
            self._fail_challenge(
                challenge, f"frames after the deadline ({challenge.deadline:g} s): the challenge was not done in time"
            )
        encode = [(len(challenge.times) + k) % settings.encode_every == 0 for k in range(len(images))]
        frames = self.faces.analyze_liveness_frames(images, encode)
        for index, frame in enumerate(frames):
            if frame.error is not None:
                raise ServiceError(ErrorCode.BAD_IMAGE, f"frame {len(challenge.times) + index + 1}: {frame.error}")
        _add_frames(challenge, frames, times, images if self.evidence is not None else None)
        events = challenge.events(settings.thresholds)
        done = challenge.done(events)
        return ChallengeProgress(
            challenge.challenge_id,
            done,
            challenge.actions[len(done)] if len(done) < len(challenge.actions) else None,
            len(challenge.times),
            max(0.0, challenge.deadline - book.elapsed(challenge)),
        )

    def finish_challenge(
        self, challenge_id: str, *, client_name: str, mark: bool = True, queue_uncertain: bool = True
    ) -> CheckinOutcome:
        """Decide a challenge: the asked actions in order, by one face (else a failed challenge),
        then who that face is, from the challenge's frames (as :meth:`checkin`).

        :raises ServiceError: liveness_failed (an action not seen, named; no face), different_people.
        """
        book = self._challenge_book()
        challenge = self._open_challenge_of(book, client_name, challenge_id)
        book.close(challenge)
        missing = liveness.first_action_missing(challenge.events(book.settings.thresholds), challenge.actions)
        if not challenge.encodings:
            self._fail_challenge(
                challenge, "no face was seen in the challenge's frames", code=ErrorCode.LIVENESS_FAILED
            )
        if missing is not None:
            self._fail_challenge(
                challenge,
                f"{missing} was not seen (asked, in this order: {', '.join(challenge.actions)}; "
                f"seen: {', '.join(challenge.done(challenge.events(book.settings.thresholds))) or 'none'})",
            )
        jump = _face_jump(challenge, book.settings.min_overlap)
        if jump is not None:
            self._fail_challenge(
                challenge, f"the face jumped between frames {jump} and {jump + 1}", ErrorCode.DIFFERENT_PEOPLE
            )
        encodings = np.array(challenge.encodings)
        try:
            check_one_person(encodings, self.faces.rules.ceiling)
        except DifferentPeopleError as exc:
            self._fail_challenge(challenge, f"the face changed during the challenge: {exc}", ErrorCode.DIFFERENT_PEOPLE)
        roster = self.roster_ids(challenge.lecture)
        chosen = np.linspace(0, len(encodings) - 1, min(len(encodings), MAX_CHECKIN_FRAMES)).round().astype(int)
        return self._decide_and_mark(
            challenge.lecture,
            roster,
            encodings[np.unique(chosen)],
            client_name,
            mark,
            queue_uncertain,
            evidence_frame=challenge.evidence_frame,
        )

    def _open_challenge_of(self, book: ChallengeBook, client_name: str, challenge_id: str) -> Challenge:
        challenge = book.get(client_name, challenge_id)
        if challenge is None:
            paused = book.paused_for(client_name)
            if paused > 0:
                raise ServiceError(ErrorCode.CHECKINS_PAUSED, _paused_text(paused))
            raise ServiceError(
                ErrorCode.LIVENESS_FAILED, "no such open challenge (finished, replaced by a newer one, or expired)"
            )
        return challenge

    def _fail_challenge(self, challenge: Challenge, reason: str, code: str = ErrorCode.LIVENESS_FAILED) -> NoReturn:
        """Close the challenge as failed, count the failure (a pause after too many: shown to the
        professor as an uncertain check-in from that PC), and raise ServiceError(code, reason)."""
        book = self._challenge_book()
        book.close(challenge)
        log.warning("challenge of %s in %s failed: %s", challenge.client_name, challenge.lecture, reason)
        if book.record_failure(challenge.client_name):
            settings = book.settings
            log.warning(
                "%s failed %d challenges within %g s: its check-ins pause for %g s",
                challenge.client_name,
                settings.failures,
                settings.failure_window,
                settings.pause,
            )
            try:
                self.write_transaction(lambda cur: self._queue_pause_notice(cur, challenge))
            except ServiceError as exc:  # the pause holds anyway; the professor is not told
                log.warning("cannot tell the professor about the pause: %s", exc)
            reason += f"; {_paused_text(settings.pause)}"
        raise ServiceError(code, reason)

    def _queue_pause_notice(self, cur, challenge: Challenge) -> int:
        """The professor's uncertain check-ins list gets a check-in from the paused PC with no
        candidate and no frame: someone there failed the challenge again and again."""
        lecture = require_lecture(cur, challenge.lecture)
        session_id = attendance.ensure_session(cur, lecture.lecture_id, self.today())
        return pending.add_pending(
            cur, session_id=session_id, client_name=challenge.client_name, frames=0, candidates=[]
        )

    @staticmethod
    def _closed_session_refusal(cur, lecture, session_id: int, day: dt.date, student_id: str) -> _ClosedSession | None:
        """Why a check-in in this session marks nothing (closed, cancelled), or None."""
        session = sessions.get_calendar_session(cur, lecture.lecture_id, day)
        if session is None or (session.closed_at is None and session.cancelled_at is None):
            return None
        mark = attendance.session_marks(cur, session_id).get(student_id)
        if session.cancelled_at is None and mark is not None and (mark.source != "camera" or mark.status != "absent"):
            return None  # marked already: answered as such
        return _ClosedSession(
            lecture.code, session_id, day, session.closed_at, session.cancelled_at, session.cancel_reason
        )

    def _refuse_closed_session(
        self, closed: _ClosedSession, student_id: str, client_name: str, distance: float | None, frames: int
    ) -> None:
        """Queue a late check-in for the professor (once per student and session), then raise."""
        if closed.cancelled_at is not None:
            reason = f" ({closed.cancel_reason})" if closed.cancel_reason else ""
            raise ServiceError(
                ErrorCode.SESSION_CLOSED,
                f"{closed.lecture}: the session of {closed.day} is cancelled{reason}: nothing was marked",
            )

        def queue(cur):
            if pending.late_attempt(cur, closed.session_id, student_id) is None:
                pending.add_pending(
                    cur,
                    session_id=closed.session_id,
                    client_name=client_name,
                    frames=max(1, frames),
                    candidates=[(student_id, distance or 0.0)],
                    kind=pending.LATE,
                )

        self.write_transaction(queue)
        assert closed.closed_at is not None  # not cancelled: closed
        log.info(
            "late check-in of %s in %s of %s (closed %s)", student_id, closed.lecture, closed.day, closed.closed_at
        )
        raise ServiceError(
            ErrorCode.SESSION_CLOSED,
            f"{closed.lecture}: the session of {closed.day} closed at {closed.closed_at:%H:%M}, so nothing was "
            f"marked: see the professor, whose screen lists this check-in",
        )

    def _queue_uncertain(self, cur, lecture_code: str, decision: Decision, client_name: str) -> int:
        lecture = require_lecture(cur, lecture_code)
        session_id = attendance.ensure_session(cur, lecture.lecture_id, self.today())
        return pending.add_pending(
            cur,
            session_id=session_id,
            client_name=client_name,
            frames=decision.frames,
            candidates=[(c.student_id, c.distance) for c in decision.candidates],
        )

    def enroll(
        self,
        student_id: str,
        images: Sequence[bytes],
        *,
        name: str | None = None,
        force: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> EnrolOutcome:
        """Store the encodings of these photos of one student, all or none: each photo must show
        one face, look like the student's other photos and not like another student (see
        :mod:`server.recognition.enrolment_checks`; ``force`` lifts those two). The photos
        themselves are stored only with ``keep_enrolment_photos``.

        ``progress(done)`` is called as each photo is encoded (``attendance-db enroll`` prints it).

        :raises ServiceError: not_found (a new student without ``name``).
        """
        with self.transaction() as cur:
            _require_known_or_named(cur, student_id, name)  # before the encoding work
        results = self.faces.encode_enrolment(images, progress=progress)
        problems = [_photo_problem(result) for result in results]
        usable = [i for i, problem in enumerate(problems) if problem is None]
        gallery = self.faces.gallery
        verdicts = enrolment_checks.check_new_photos(gallery, student_id, [results[i].encoding for i in usable])
        for i, verdict in zip(usable, verdicts):
            problems[i] = PhotoProblem(verdict.problem, verdict.other_student, verdict.distance)
        photos = tuple(problem or PhotoProblem(None) for problem in problems)
        blocking = [p for p in photos if p.problem is not None and not (force and p.problem in FORCEABLE_PROBLEMS)]
        if blocking:
            return EnrolOutcome(student_id, 0, len(gallery.encodings_of(student_id)), photos)
        rows = [
            (
                hashlib.sha256(images[i]).hexdigest(),
                results[i].encoding,
                images[i] if self.keep_enrolment_photos else None,
            )
            for i in usable
        ]

        def write(cur):
            _require_known_or_named(cur, student_id, name)
            if name:
                students.ensure_student(cur, student_id, name)  # an existing student keeps theirs
            db_encodings.insert_enrolled(cur, student_id, rows, ENROLMENT_MODEL)
            return db_encodings.count_encodings(cur, student_id, ENROLMENT_MODEL)

        total = self.write_transaction(write)
        self.reload_gallery()
        log.info("enrolled %d photos of %s (%d encodings now)", len(rows), student_id, total)
        return EnrolOutcome(student_id, len(rows), total, photos)

    def pending(self, lecture_code: str) -> PendingList:
        """Today's uncertain check-ins of the lecture not resolved yet, oldest first."""
        day = self.today()
        with self.transaction() as cur:
            lecture = require_lecture(cur, lecture_code)
            session_id = attendance.find_session(cur, lecture.lecture_id, day)
            checkins = pending.unresolved(cur, session_id) if session_id else []
        return PendingList(lecture.code, day, tuple(checkins))

    def resolve_pending(
        self,
        pending_id: int,
        student_id: str | None,
        *,
        client_name: str,
        status: str = "present",
        professor: str | None = None,
        reason: str | None = None,
    ) -> ResolveOutcome:
        """The professor confirms an uncertain or late check-in as ``student_id`` (marked
        ``status`` in the check-in's session, source checkin, by the check-in's client; a late
        one replaces the mark there) or rejects it (None).
        The mark's history row names the confirming client (``client_name``), ``professor``
        and ``reason``, the reason saying which check-in it was.

        :raises ServiceError: not_found (no such check-in, or resolved already), not_enrolled.
        """

        def write(cur):
            checkin = pending.get_for_update(cur, pending_id)
            if checkin is None or checkin.resolution is not None:
                raise ServiceError(ErrorCode.NOT_FOUND, f"no unresolved check-in {pending_id}")
            if student_id is None:
                pending.resolve(cur, pending_id, resolution="rejected", student_id=None, resolved_by=client_name)
                return ResolveOutcome(pending_id, "rejected", None, None, False)
            assert checkin.lecture_id is not None  # get_for_update fills it
            if not students.is_enrolled(cur, checkin.lecture_id, student_id):
                raise ServiceError(ErrorCode.NOT_ENROLLED, f"student {student_id} is not on the roster of this lecture")
            distance = next((c.distance for c in checkin.candidates if c.student_id == student_id), None)
            result = attendance.mark(
                cur,
                session_id=checkin.session_id,
                student_id=student_id,
                status=status,
                source="checkin",
                client_name=checkin.client_name,
                distance=distance,
                # A late check-in comes after the close: the professor's decision replaces the
                # camera's "absent" (the check-in was refused because of it).
                overwrite=checkin.kind == pending.LATE,
                changed_by=client_name,  # the history names who confirmed it, not the check-in PC
                professor=professor,
                reason=_confirmation_reason(checkin.kind, pending_id, checkin.client_name, reason),
            )
            pending.resolve(cur, pending_id, resolution="confirmed", student_id=student_id, resolved_by=client_name)
            return ResolveOutcome(pending_id, "confirmed", student_id, result.status, result.already_marked)

        return self.write_transaction(write)

    def pending_lecture(self, pending_id: int) -> str | None:
        """The lecture code of an uncertain check-in (None: no such check-in); for the
        lecture-scope check of ``resolve_pending`` (server/authorization.py)."""
        with self.transaction() as cur:
            return pending.lecture_code_of(cur, pending_id)

    def roster_ids(self, lecture_code: str) -> set[str]:
        """The student IDs on the lecture's roster. :raises ServiceError: not_found."""
        with self.transaction() as cur:
            lecture = require_lecture(cur, lecture_code)
            return {s.student_id for s in students.roster(cur, lecture.lecture_id)}

    def report(
        self,
        lecture_code: str,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        late_weight: float = 0.5,
    ) -> LectureReport:
        """The lecture's attendance report (reports/domain.py, db/reports.py): student × session matrix and rates.

        Read in one transaction, so the three queries see one snapshot. Unknown lecture:
        ServiceError(not_found); start after end or a weight outside 0..1: bad_request.
        """
        with self.transaction() as cur:
            try:
                return build_report(cur, lecture_code, date_from, date_to, late_weight)
            except LectureNotFound:
                raise ServiceError(ErrorCode.NOT_FOUND, f"no lecture {lecture_code}") from None
            except ValueError as exc:
                raise ServiceError(ErrorCode.BAD_REQUEST, str(exc)) from None

    def history(
        self, lecture_code: str, *, student_id: str | None = None, session_date: dt.date | None = None
    ) -> tuple[str, list[db_history.HistoryRow]]:
        """(lecture code, its mark changes): of one student, one session's date, or all.
        :raises ServiceError: not_found."""
        with self.transaction() as cur:
            lecture = require_lecture(cur, lecture_code)
            rows = db_history.lecture_history(cur, lecture.lecture_id, student_id=student_id, session_date=session_date)
        return lecture.code, rows

    # -- helpers -------------------------------------------------------------------------------

    def _session_day(
        self, session_date: dt.date | None, *, source: str | None = None, reason: str | None = None
    ) -> dt.date:
        """The day of the session a request concerns: today, or ``session_date``. ``source``:
        the marks the request writes (None: it only reads).

        :raises ServiceError: bad_request for a future day, or for marks of a past day with a
            source other than rollcall and manual (a check-in or the camera happen now) or
            without a reason.
        """
        today = self.today()
        if session_date is None or session_date == today:
            return today
        if session_date > today:
            raise ServiceError(ErrorCode.BAD_REQUEST, f"{session_date} is in the future (today is {today})")
        if source is None:
            return session_date
        if source not in _OVERWRITING_SOURCES:
            raise ServiceError(ErrorCode.BAD_REQUEST, f"a {source} mark is for today's session, not {session_date}")
        if not (reason and reason.strip()):
            raise ServiceError(ErrorCode.BAD_REQUEST, f"changing the session of {session_date} needs a reason")
        return session_date

    def _session_to_mark(self, cur, lecture: lectures.Lecture, day: dt.date) -> int:
        """Today's session (made if missing), or the existing session of a past day.
        :raises ServiceError: not_found (no session of the lecture on that past day)."""
        if day == self.today():
            return attendance.ensure_session(cur, lecture.lecture_id, day)
        session_id = attendance.find_session(cur, lecture.lecture_id, day)
        if session_id is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"{lecture.code} has no session on {day}")
        return session_id

    def write_transaction(self, work):
        """:func:`write_transaction` on this service's connection pool."""
        return write_transaction(self.db, work)

    def transaction(self):
        """:func:`pooled_transaction` on this service's connection pool."""
        return pooled_transaction(self.db)

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


def _require_known_or_named(cur, student_id: str, name: str | None) -> None:
    """:raises ServiceError: not_found, for a student not in the database and no name to add them."""
    if not name and students.get_student(cur, student_id) is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"no student {student_id}; give their name to enrol them")


def _frame_encodings(frames: Sequence[PhotoEncoding]) -> np.ndarray:
    """The encodings of the check-in frames that show a face, shape (F, 128).

    :raises ServiceError: bad_image, naming a frame that cannot be decoded, or when no frame
        shows a face.
    """
    for index, frame in enumerate(frames):
        if frame.error is not None:
            raise ServiceError(ErrorCode.BAD_IMAGE, f"frame {index + 1}: {frame.error}")
    found = [frame.encoding for frame in frames if frame.encoding is not None]
    if not found:
        raise ServiceError(ErrorCode.BAD_IMAGE, f"no face found in any of the {len(frames)} frames")
    return np.array(found)


def _add_frames(
    challenge: Challenge, frames: Sequence[LivenessFrame], times: Sequence[float], images: Sequence[bytes] | None
) -> None:
    """Keep what the frames gave (measures, encodings; a frame itself only for evidence)."""
    for index, (frame, at) in enumerate(zip(frames, times)):
        challenge.times.append(float(at))
        challenge.measures.append(frame.measure)
        if frame.encoding is not None:
            challenge.encodings.append(frame.encoding)
            if images is not None and challenge.evidence_frame is None:
                challenge.evidence_frame = images[index]


def _face_jump(challenge: Challenge, min_overlap: float) -> int | None:
    """The frame (1-based) after which the face's box does not overlap the next face's box by
    ``min_overlap`` (another face, or the same moved too far at once), or None."""
    previous: tuple[int, liveness.FaceMeasure] | None = None
    for index, measure in enumerate(challenge.measures, 1):
        if measure is None:
            continue
        if previous is not None and box_overlap(previous[1].box, measure.box) < min_overlap:
            return previous[0]
        previous = (index, measure)
    return None


def box_overlap(a: Box, b: Box) -> float:
    """Intersection over union of two (top, right, bottom, left) boxes: 0 (apart) to 1 (the same)."""
    height = min(a[2], b[2]) - max(a[0], b[0])
    width = min(a[1], b[1]) - max(a[3], b[3])
    if height <= 0 or width <= 0:
        return 0.0
    inter = height * width
    return inter / float(box_area(a) + box_area(b) - inter)


def _paused_text(seconds: float) -> str:
    return f"too many failed liveness challenges from this PC: check-ins pause for {seconds:.0f} s more"


def describe_photo_problem(photo: PhotoProblem) -> str:
    """One line of English for an enrolment photo's problem (command-line tools)."""
    texts: dict[str | None, str] = {
        "bad_image": "not an image that can be read",
        "no_face": "no face found",
        "several_faces": "more than one face",
        enrolment_checks.UNLIKE_STUDENT: f"unlike this student's other photos (distance {photo.distance})",
        enrolment_checks.LIKE_OTHER_STUDENT: f"looks like student {photo.other_student} (distance {photo.distance})",
    }
    return texts.get(photo.problem, photo.problem or "ok")


def _photo_problem(photo: PhotoEncoding) -> PhotoProblem | None:
    """The problem of an enrolment photo before any comparison (None: it has one face)."""
    if photo.error is not None:
        return PhotoProblem("bad_image")
    if photo.encoding is None:
        return PhotoProblem("no_face")
    if photo.face_count > 1:
        return PhotoProblem("several_faces")
    return None


def largest_recognized(faces: Sequence[FaceResult]) -> FaceResult | None:
    """The recognized face with the largest box (the 2019 reply names only one student)."""
    known = [face for face in faces if face.student_id is not None]
    return max(known, key=lambda face: box_area(face.box), default=None)


def _confirmation_reason(kind: str, pending_id: int, checkin_client: str, reason: str | None) -> str:
    """The history's reason for a confirmed uncertain or late check-in: which one, from where,
    and the professor's reason if given."""
    said = f"{kind} check-in {pending_id} from {checkin_client} confirmed"
    return f"{said}: {reason.strip()}" if reason and reason.strip() else said


def batch_fingerprint(lecture_code: str, source: str, marks: Sequence[tuple[str, str]]) -> str:
    """The SHA-256 of a batch's content (lecture, source, marks in any order): what tells a
    retry of a batch from another batch given the same ID."""
    content = json.dumps([lecture_code, source, sorted([student_id, status] for student_id, status in marks)])
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _replayed(
    stored: attendance.AppliedBatch, batch_id: str, fingerprint: str, client_name: str, lecture: str
) -> BatchOutcome:
    """The reply to a batch_id this client applied to this lecture before: the first reply
    again when the content is the same (a retry), else ServiceError(bad_request)."""
    if stored.request_sha256 is not None and stored.request_sha256 != fingerprint:
        log.warning(
            "batch %s of client %s for %s: refused, the ID was used on %s for other marks",
            batch_id,
            client_name,
            lecture,
            stored.session_date,
        )
        raise ServiceError(
            ErrorCode.BAD_REQUEST,
            f"batch_id {batch_id} was used by this client for other marks of {lecture} on "
            f"{stored.session_date:%Y-%m-%d}; nothing was written: send this roll call with a new batch_id",
        )
    log.info("batch %s of client %s already applied; replying as before", batch_id, client_name)
    reply = json.loads(stored.reply_json)
    return BatchOutcome(reply["batch_id"], applied=reply["applied"], replayed=True)
