"""Classroom camera rules: presence samples during a session, statuses when it is closed.

A watcher (``attendance-watch``) recognizes the whole room every minute or so and sends a
*presence sample*: the time the frame was taken and the enrolled students it saw. When the
session is closed (``attendance-db close-session``, the framed ``close_session`` op, or by the
server shortly after the session's scheduled end), each enrolled student gets a status:

========== ==============================================================================
absent     never seen
late       first seen more than ``late_after_minutes`` (10) after the session started
left_early seen on time, but not in the last ``leave_window_minutes`` (15) of the session
present    seen on time and still seen in the last part of the session
========== ==============================================================================

Late takes precedence: a student who came late and left early is ``late``. Only the first and
the last sighting matter, so a student missed by one sample (head down, hidden by a neighbour)
loses nothing. The camera writes its status only where no person decided: a face check-in, a
roll call or a manual mark is never overwritten, and the professor can override the camera's
statuses afterwards with a roll call. Closing again recomputes the same statuses.

Session times: the first sample opens the session. It starts at the lecture's scheduled time on
that day (``lectures.starts_at``) and lasts ``duration_minutes``; without a schedule (or when the
first sample comes after the scheduled end: a make-up lecture) it starts at the first sample.
``attendance-db open-session`` sets both explicitly. The end used by the rules is the scheduled
end, or the last sample when the camera stopped earlier (or there is no scheduled end): the
camera judges only the time it watched. Sightings after the end do not count.

All times are campus time (db/campus_clock.py), as every DATETIME column of the schema. The
server decides which session a sample belongs to from its own clock: a sample's ``sampled_at``
further than ``--max-clock-skew`` (5 minutes) from it is refused (``clock_skew``), and one within
goes to the session of the server's date. A sample outside every session's window (well before
its start, after its end, in a cancelled session, on a day the term's calendar has no session)
is stored but answered with a warning, which the server also logs. ``--trust-client-clocks``
(replaying a recorded lecture) accepts any time and lets the sample's own date pick the session.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from db import attendance as db_attendance
from db import lectures, students
from db import presence as db_presence
from db import sessions as db_sessions
from db.campus_clock import DEFAULT_MAX_CLOCK_SKEW_MINUTES, CampusClock, describe_skew
from db.connection import ConnectionPool
from protocol.errors import ErrorCode
from server.presence_settings import PresenceSettings as PresenceSettings  # the rules' thresholds
from server.service import ServiceError, pooled_transaction, require_lecture, write_transaction

log = logging.getLogger(__name__)

#: The statuses the camera writes, in the order reports list them.
CAMERA_STATUSES = ("present", "late", "left_early", "absent")


# -- the rules (pure) ------------------------------------------------------------------------


def decide_statuses(
    student_ids: Iterable[str],
    sightings: Mapping[str, Sequence[dt.datetime]],
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    settings: PresenceSettings = PresenceSettings(),
) -> dict[str, str]:
    """Each student's status from the times they were seen (see the module's table).

    :param student_ids: the enrolled students; sightings of anyone else are ignored.
    :param sightings: student ID -> times of the samples that saw them (any order).
    :param starts_at, ends_at: the session as the camera watched it (:func:`effective_end`).
    """
    late_after = starts_at + dt.timedelta(minutes=settings.late_after_minutes)
    leave_before = ends_at - dt.timedelta(minutes=settings.leave_window_minutes)
    statuses = {}
    for student_id in student_ids:
        seen = [t for t in sightings.get(student_id, ()) if t <= ends_at]
        if not seen:
            statuses[student_id] = "absent"
        elif min(seen) > late_after:
            statuses[student_id] = "late"
        elif max(seen) < leave_before:
            statuses[student_id] = "left_early"
        else:
            statuses[student_id] = "present"
    return statuses


def effective_end(ends_at: dt.datetime | None, sample_times: Sequence[dt.datetime]) -> dt.datetime:
    """The end the rules use: the scheduled end, or the last sample if the camera stopped
    before it (or the session has no scheduled end). ``sample_times`` must not be empty."""
    last_sample = max(sample_times)
    return last_sample if ends_at is None else min(ends_at, last_sample)


def implicit_times(lecture: lectures.Lecture, first_sample: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """(starts_at, ends_at) of a session opened by its first sample (see the module docstring)."""
    duration = dt.timedelta(minutes=lecture.duration_minutes) if lecture.duration_minutes else None
    if lecture.starts_at is not None:
        scheduled = dt.datetime.combine(first_sample.date(), lecture.starts_at)
        if duration is None or first_sample <= scheduled + duration:
            return scheduled, None if duration is None else scheduled + duration
    return first_sample, None if duration is None else first_sample + duration


#: A sample this many minutes before its session's start is not warned about (a camera started
#: a little early).
EARLY_SAMPLE_MINUTES = 15.0


def window_warning(
    lecture_code: str, session: db_presence.SessionRow, sampled_at: dt.datetime, *, calendar: bool
) -> str | None:
    """Why a sample is outside its session's window, or None (see the module's docstring).
    ``calendar``: the lecture has a term calendar (sessions made by attendance-db schedule)."""
    day = session.session_date
    if session.cancelled_at is not None:
        return f"{lecture_code}'s session of {day} is cancelled: this sample counts for nobody"
    if calendar and not session.scheduled:
        return (
            f"{lecture_code} has no session on {day} in its term calendar: this sample opened one "
            f"(attendance-db delete-session {lecture_code} {day} removes it)"
        )
    if session.starts_at is not None and sampled_at < session.starts_at - dt.timedelta(minutes=EARLY_SAMPLE_MINUTES):
        return (
            f"the sample at {sampled_at:%H:%M} is before {lecture_code}'s session of {day}, "
            f"which starts at {session.starts_at:%H:%M}"
        )
    if session.ends_at is not None and sampled_at > session.ends_at:
        return (
            f"the sample at {sampled_at:%H:%M} is after the end of {lecture_code}'s session of {day} "
            f"({session.ends_at:%H:%M}): it does not count"
        )
    return None


def local_naive(moment: dt.datetime) -> dt.datetime:
    """A datetime as the server's local time without tzinfo (as DATETIME columns hold them)."""
    return moment if moment.tzinfo is None else moment.astimezone().replace(tzinfo=None)


# -- in one transaction (a cursor from the caller) ---------------------------------------------


@dataclass(frozen=True)
class SampleOutcome:
    sample_id: int
    session_date: dt.date
    closed: bool  # the session was already closed
    warning: str | None = None  # outside every session's window (window_warning)


@dataclass(frozen=True)
class CloseOutcome:
    lecture: str
    session_date: dt.date
    samples: int
    counts: dict[str, int]  # camera status -> students given it now
    kept: int  # students whose mark a person made: left as it was


def record_sample(
    cur,
    lecture_code: str,
    sampled_at: dt.datetime,
    student_ids: Iterable[str],
    faces: int,
    client_name: str,
    *,
    session_day: dt.date | None = None,
) -> SampleOutcome:
    """Store one presence sample in the lecture's session of ``session_day`` (default: the
    sample's own date); open the session if this is its first sample.

    :raises ServiceError: not_found (no such lecture), not_enrolled (a student not on its roster).
    """
    sampled_at = local_naive(sampled_at)
    student_ids = sorted(set(student_ids))
    lecture = require_lecture(cur, lecture_code)
    for student_id in student_ids:
        if not students.is_enrolled(cur, lecture.lecture_id, student_id):
            raise ServiceError(ErrorCode.NOT_ENROLLED, f"student {student_id} is not on the roster of {lecture.code}")
    session_id = db_attendance.ensure_session(cur, lecture.lecture_id, session_day or sampled_at.date())
    session = db_presence.get_session(cur, session_id)
    assert session is not None  # ensure_session made it
    if session.starts_at is None:
        db_presence.set_times_if_unset(cur, session_id, *implicit_times(lecture, sampled_at))
    sample_id, _created = db_presence.insert_sample(
        cur, session_id=session_id, sampled_at=sampled_at, faces=faces, client_name=client_name
    )
    db_presence.insert_sightings(cur, sample_id, student_ids)
    calendar = not session.scheduled and db_sessions.has_scheduled_sessions(cur, lecture.lecture_id)
    warning = window_warning(lecture.code, session, sampled_at, calendar=calendar)
    return SampleOutcome(sample_id, session.session_date, closed=session.closed_at is not None, warning=warning)


def open_session(cur, lecture_code: str, day: dt.date, start: dt.time, minutes: int) -> tuple[dt.datetime, dt.datetime]:
    """Give the lecture's session on ``day`` an explicit start and length (creating it if
    needed; a closed session is opened again). Returns (starts_at, ends_at)."""
    if minutes <= 0:
        raise ValueError(f"a session lasts at least one minute, not {minutes}")
    lecture = require_lecture(cur, lecture_code)
    session_id = db_attendance.ensure_session(cur, lecture.lecture_id, day)
    starts_at = dt.datetime.combine(day, start)
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    db_presence.set_times(cur, session_id, starts_at, ends_at)
    return starts_at, ends_at


def close_session(
    cur,
    lecture_code: str,
    day: dt.date,
    *,
    settings: PresenceSettings,
    now: dt.datetime,
    client_name: str,
) -> CloseOutcome:
    """Compute every enrolled student's status from the session's samples and write it.

    A session without samples (no camera watched) is closed without writing any status.
    Closing twice is harmless: the second close writes the same statuses again.

    :raises ServiceError: not_found (no such lecture, or no session on that day).
    """
    lecture = require_lecture(cur, lecture_code)
    session_id = db_attendance.find_session(cur, lecture.lecture_id, day)
    if session_id is None:
        raise ServiceError(ErrorCode.NOT_FOUND, f"{lecture.code} has no session on {day}")
    session = db_presence.get_session(cur, session_id, for_update=True)
    assert session is not None  # find_session found it, in this transaction
    times = db_presence.sample_times(cur, session_id)
    counts = dict.fromkeys(CAMERA_STATUSES, 0)
    kept = 0
    if times and session.cancelled_at is None:  # a cancelled session counts for nobody
        starts_at = session.starts_at or min(times)
        ends_at = effective_end(session.ends_at, times)
        seen = db_presence.sightings(cur, session_id)
        roster = [s.student_id for s in students.roster(cur, lecture.lecture_id)]
        statuses = decide_statuses(roster, seen, starts_at=starts_at, ends_at=ends_at, settings=settings)
        marks = db_attendance.session_marks(cur, session_id)
        for student_id, status in sorted(statuses.items()):  # one lock order for every writer
            mark = marks.get(student_id)
            if mark is not None and mark.source != "camera":
                kept += 1
                continue
            first_seen = min((t for t in seen.get(student_id, ()) if t <= ends_at), default=ends_at)
            db_presence.write_camera_mark(
                cur,
                session_id=session_id,
                student_id=student_id,
                status=status,
                marked_at=first_seen,  # when first seen; the end of the session for the absent
                client_name=client_name,
            )
            counts[status] += 1
    db_presence.set_closed(cur, session_id, now)
    return CloseOutcome(lecture.code, day, len(times), counts, kept)


# -- the service (for the server's threads) ----------------------------------------------------


class PresenceService:
    """The rules above over a connection pool, one transaction per call; thread-safe."""

    def __init__(
        self,
        db: ConnectionPool,
        settings: PresenceSettings = PresenceSettings(),
        *,
        clock: CampusClock | None = None,
        max_clock_skew: float | None = DEFAULT_MAX_CLOCK_SKEW_MINUTES,
    ):
        """``clock``: campus time (default: the server's zone). ``max_clock_skew``: minutes a
        sample's time may be from the clock; None: any (--trust-client-clocks: the sample's own
        date then picks its session)."""
        self.db = db
        self.settings = settings
        self.clock = clock or CampusClock()
        self.now = self.clock.now
        self.max_clock_skew = max_clock_skew

    def record_sample(
        self, lecture_code: str, sampled_at: dt.datetime, student_ids: Iterable[str], faces: int, *, client_name: str
    ) -> SampleOutcome:
        """Store a sample in the session the server's clock says (see the module's docstring).

        :raises ServiceError: clock_skew, not_found, not_enrolled.
        """
        student_ids = list(student_ids)  # read again if the transaction is run again
        sampled = self.clock.to_campus(sampled_at)
        day = None
        if self.max_clock_skew is not None:
            now = self.now()
            skew = sampled - now
            if abs(skew) > dt.timedelta(minutes=self.max_clock_skew):
                message = (
                    f"the sample's time {sampled_at.isoformat()} is {describe_skew(skew)} the server's clock "
                    f"({now:%Y-%m-%d %H:%M:%S}, {self.clock.describe()}): set this computer's clock and time "
                    f"zone (the server accepts {self.max_clock_skew:g} minutes of difference)"
                )
                log.warning("%s: presence sample of %s refused: %s", client_name, lecture_code, message)
                raise ServiceError(ErrorCode.CLOCK_SKEW, message)
            day = now.date()  # the server's clock decides the session
        outcome = write_transaction(
            self.db,
            lambda cur: record_sample(cur, lecture_code, sampled, student_ids, faces, client_name, session_day=day),
        )
        if outcome.warning:
            log.warning(
                "%s: presence sample %d of %s: %s", client_name, outcome.sample_id, lecture_code, outcome.warning
            )
        return outcome

    def close_session(self, lecture_code: str, day: dt.date | None = None, *, client_name: str) -> CloseOutcome:
        now = self.now()
        with self.transaction() as cur:
            return close_session(
                cur, lecture_code, day or now.date(), settings=self.settings, now=now, client_name=client_name
            )

    def close_due_sessions(self) -> list[CloseOutcome]:
        """Close every open session whose scheduled end is more than the margin ago."""
        return close_due_sessions(self.transaction, self.settings, self.now())

    def transaction(self) -> AbstractContextManager:
        """:func:`server.service.pooled_transaction` on this service's connection pool."""
        return pooled_transaction(self.db)


def close_due_sessions(
    transaction_factory: Callable[[], AbstractContextManager], settings: PresenceSettings, now: dt.datetime
) -> list[CloseOutcome]:
    """Close each open session whose end is more than ``close_margin_minutes`` before ``now``,
    each in its own transaction (``with transaction_factory() as cur``), so that one failing
    session does not stop the others."""
    ended_before = now - dt.timedelta(minutes=settings.close_margin_minutes)
    with transaction_factory() as cur:
        due = db_presence.due_sessions(cur, ended_before)
    outcomes = []
    for code, day in due:
        try:
            with transaction_factory() as cur:
                outcomes.append(
                    close_session(cur, code, day, settings=settings, now=now, client_name="scheduled-close")
                )
        except ServiceError as exc:
            log.warning("closing %s of %s failed: %s", code, day, exc)
    return outcomes


class DueSessionCloser:
    """A daemon thread that closes due sessions every ``every`` seconds (the scheduled end)."""

    def __init__(self, presence: PresenceService, every: float):
        self.presence = presence
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DueSessionCloser:
        self._thread = threading.Thread(target=self._run, name="close-due-sessions", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                for outcome in self.presence.close_due_sessions():
                    log.info(
                        "closed %s of %s at its scheduled end: %s (%d samples, %d kept)",
                        outcome.lecture,
                        outcome.session_date,
                        outcome.counts,
                        outcome.samples,
                        outcome.kept,
                    )
            except ServiceError as exc:
                log.warning("closing due sessions: %s", exc)
            except Exception:  # the thread must survive a bug in one round
                log.exception("closing due sessions failed")
