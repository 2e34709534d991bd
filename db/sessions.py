"""The term's calendar in the database: scheduled, cancelled and deleted sessions.

``attendance-db schedule`` writes a session per meeting day (safe to repeat: an existing
session keeps its marks, and its times unless it had none); ``cancel-session`` marks one as
cancelled (it counts for nobody, its marks stay); ``delete-session`` removes a session made by
mistake, refused when a person's mark is in it. Functions take a cursor and never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: What :func:`schedule_session` did.
CREATED, TIMES_SET, UNCHANGED, KEPT_OTHER_TIMES = "created", "times set", "unchanged", "kept its other times"


@dataclass(frozen=True)
class CalendarSession:
    session_id: int
    session_date: dt.date
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    closed_at: dt.datetime | None
    scheduled: bool
    cancelled_at: dt.datetime | None
    cancel_reason: str | None


_SELECT = (
    "SELECT session_id, session_date, starts_at, ends_at, closed_at, scheduled, cancelled_at, cancel_reason"
    " FROM class_sessions"
)


def get_calendar_session(cur, lecture_id: int, day: dt.date, *, for_update: bool = False) -> CalendarSession | None:
    """The lecture's session on ``day``, or None."""
    cur.execute(
        _SELECT + " WHERE lecture_id = %s AND session_date = %s" + (" FOR UPDATE" if for_update else ""),
        (lecture_id, day),
    )
    row = cur.fetchone()
    return None if row is None else _session(row)


def has_scheduled_sessions(cur, lecture_id: int) -> bool:
    """Whether the lecture has a term calendar (a session made by ``attendance-db schedule``)."""
    cur.execute("SELECT 1 FROM class_sessions WHERE lecture_id = %s AND scheduled = 1 LIMIT 1", (lecture_id,))
    return cur.fetchone() is not None


def schedule_session(cur, lecture_id: int, day: dt.date, starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    """The lecture's session on ``day`` from ``starts_at`` to ``ends_at``, created if missing.

    An existing session (made by a mark, a camera sample, open-session or an earlier schedule)
    is kept with its marks; it gets these times only when it has none, and counts as scheduled
    from now on. Returns CREATED, TIMES_SET, UNCHANGED or KEPT_OTHER_TIMES.
    """
    cur.execute(
        "INSERT INTO class_sessions (lecture_id, session_date, starts_at, ends_at, scheduled)"
        " VALUES (%s, %s, %s, %s, 1) ON DUPLICATE KEY UPDATE session_id = session_id",
        (lecture_id, day, starts_at, ends_at),
    )
    if cur.rowcount == 1:
        return CREATED
    session = get_calendar_session(cur, lecture_id, day, for_update=True)
    assert session is not None  # the INSERT found it
    if session.starts_at is None:
        cur.execute(
            "UPDATE class_sessions SET starts_at = %s, ends_at = %s, scheduled = 1 WHERE session_id = %s",
            (starts_at, ends_at, session.session_id),
        )
        return TIMES_SET
    cur.execute("UPDATE class_sessions SET scheduled = 1 WHERE session_id = %s", (session.session_id,))
    if (session.starts_at, session.ends_at) == (starts_at, ends_at):
        return UNCHANGED
    return KEPT_OTHER_TIMES


def cancel_session(cur, session_id: int, reason: str | None, now: dt.datetime) -> bool:
    """Mark the session cancelled (its marks stay); False when it was cancelled already."""
    cur.execute(
        "UPDATE class_sessions SET cancelled_at = %s, cancel_reason = %s WHERE session_id = %s AND cancelled_at IS NULL",
        (now, reason, session_id),
    )
    return cur.rowcount == 1


@dataclass(frozen=True)
class SessionContents:
    person_marks: int  # marks by check-in, roll call or staff
    camera_marks: int
    samples: int  # presence samples
    pending: int  # uncertain or late check-ins waiting for the professor (or resolved)


def session_contents(cur, session_id: int) -> SessionContents:
    cur.execute(
        "SELECT COUNT(CASE WHEN source <> 'camera' THEN 1 END), COUNT(CASE WHEN source = 'camera' THEN 1 END)"
        " FROM attendance WHERE session_id = %s",
        (session_id,),
    )
    person, camera = cur.fetchone()
    cur.execute("SELECT COUNT(*) FROM presence_samples WHERE session_id = %s", (session_id,))
    (samples,) = cur.fetchone()
    cur.execute("SELECT COUNT(*) FROM pending_checkins WHERE session_id = %s", (session_id,))
    (waiting,) = cur.fetchone()
    return SessionContents(int(person), int(camera), int(samples), int(waiting))


def delete_session(cur, session_id: int) -> SessionContents:
    """Delete a session without a person's mark, with what hangs on it: camera marks (and their
    history), presence
    samples and sightings, check-ins waiting for the professor, applied batches. Returns what
    was deleted. :raises ValueError: the session holds a person's mark (nothing is deleted)."""
    contents = session_contents(cur, session_id)
    if contents.person_marks:
        raise ValueError(f"{contents.person_marks} marks made by people")
    cur.execute(
        "DELETE g FROM presence_sightings g JOIN presence_samples s ON s.sample_id = g.sample_id"
        " WHERE s.session_id = %s",
        (session_id,),
    )
    for statement in (
        "DELETE FROM presence_samples WHERE session_id = %s",
        "DELETE FROM pending_checkins WHERE session_id = %s",  # their candidates: ON DELETE CASCADE
        "DELETE FROM applied_batches WHERE session_id = %s",
        "DELETE FROM mark_history WHERE session_id = %s",  # the camera's marks' changes
        "DELETE FROM attendance WHERE session_id = %s",
        "DELETE FROM class_sessions WHERE session_id = %s",
    ):
        cur.execute(statement, (session_id,))
    return contents


def _session(row) -> CalendarSession:
    session_id, day, starts_at, ends_at, closed_at, scheduled, cancelled_at, reason = row
    return CalendarSession(session_id, day, starts_at, ends_at, closed_at, bool(scheduled), cancelled_at, reason)
