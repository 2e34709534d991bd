"""Classroom camera: session times, presence samples and sightings, camera marks.

A watcher (``attendance-watch``) sends a presence sample every minute or so: the students it
recognized in one frame. :mod:`server.presence` turns the samples of a session into statuses
when the session is closed; this module only reads and writes rows. Functions take a cursor and
never commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from db import attendance, history
from protocol.identifiers import STATUSES


@dataclass(frozen=True)
class SessionRow:
    session_id: int
    lecture_id: int
    session_date: datetime.date
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    scheduled: bool = False  # made by attendance-db schedule (db/sessions.py)
    cancelled_at: datetime.datetime | None = None  # attendance-db cancel-session: counts for nobody


_SELECT_SESSION = (
    "SELECT session_id, lecture_id, session_date, starts_at, ends_at, closed_at, scheduled, cancelled_at"
    " FROM class_sessions"
)


def get_session(cur, session_id: int, *, for_update: bool = False) -> SessionRow | None:
    """The session, or None. ``for_update`` locks its row until the transaction ends (closing a
    session takes this lock, so two closes of one session run one after the other)."""
    cur.execute(_SELECT_SESSION + " WHERE session_id = %s" + (" FOR UPDATE" if for_update else ""), (session_id,))
    row = cur.fetchone()
    if row is None:
        return None
    session_id, lecture_id, day, starts_at, ends_at, closed_at, scheduled, cancelled_at = row
    return SessionRow(session_id, lecture_id, day, starts_at, ends_at, closed_at, bool(scheduled), cancelled_at)


def set_times_if_unset(cur, session_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime | None) -> bool:
    """Give the session its start and end unless it has a start already (the first sample
    opens the session; a later or concurrent one changes nothing). True when set now."""
    cur.execute(
        "UPDATE class_sessions SET starts_at = %s, ends_at = %s WHERE session_id = %s AND starts_at IS NULL",
        (starts_at, ends_at, session_id),
    )
    return cur.rowcount == 1


def set_times(cur, session_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime) -> None:
    """Set the session's start and end (an explicit open), and open it again if it was closed."""
    cur.execute(
        "UPDATE class_sessions SET starts_at = %s, ends_at = %s, closed_at = NULL WHERE session_id = %s",
        (starts_at, ends_at, session_id),
    )


def set_closed(cur, session_id: int, closed_at: datetime.datetime) -> None:
    """Record when the session was closed; a session closed before keeps its first closing time."""
    cur.execute(
        "UPDATE class_sessions SET closed_at = COALESCE(closed_at, %s) WHERE session_id = %s",
        (closed_at, session_id),
    )


def due_sessions(cur, ended_before: datetime.datetime) -> list[tuple[str, datetime.date]]:
    """(lecture code, session date) of the open sessions whose end is before ``ended_before``
    (cancelled sessions aside: they count for nobody)."""
    cur.execute(
        "SELECT l.code, s.session_date FROM class_sessions s JOIN lectures l USING (lecture_id)"
        " WHERE s.closed_at IS NULL AND s.cancelled_at IS NULL AND s.ends_at IS NOT NULL AND s.ends_at < %s"
        " ORDER BY s.ends_at, l.code",
        (ended_before,),
    )
    return [(code, day) for code, day in cur.fetchall()]


# -- samples -------------------------------------------------------------------------------------


def insert_sample(
    cur, *, session_id: int, sampled_at: datetime.datetime, faces: int, client_name: str
) -> tuple[int, bool]:
    """Store a presence sample; return (sample_id, created).

    The same sample sent again (same session, client and sampled_at: a retry after a lost
    reply) is not stored twice: the existing sample's ID is returned with created=False.
    """
    cur.execute(
        "INSERT INTO presence_samples (session_id, sampled_at, faces, client_name)"
        " VALUES (%s, %s, %s, %s)"
        " ON DUPLICATE KEY UPDATE sample_id = LAST_INSERT_ID(sample_id)",
        (session_id, sampled_at, faces, client_name),
    )
    return cur.lastrowid, cur.rowcount == 1


def insert_sightings(cur, sample_id: int, student_ids: Iterable[str]) -> None:
    """The students seen in the sample (a student already recorded for it is skipped)."""
    rows = [(sample_id, student_id) for student_id in sorted(set(student_ids))]
    if rows:
        cur.executemany(
            "INSERT INTO presence_sightings (sample_id, student_id) VALUES (%s, %s)"
            " ON DUPLICATE KEY UPDATE student_id = student_id",
            rows,
        )


def sample_times(cur, session_id: int) -> list[datetime.datetime]:
    """When each sample of the session was taken, in order."""
    cur.execute("SELECT sampled_at FROM presence_samples WHERE session_id = %s ORDER BY sampled_at", (session_id,))
    return [row[0] for row in cur.fetchall()]


def sightings(cur, session_id: int) -> dict[str, list[datetime.datetime]]:
    """For each student seen in the session: the times of the samples that saw them, in order."""
    cur.execute(
        "SELECT g.student_id, s.sampled_at FROM presence_sightings g"
        " JOIN presence_samples s ON s.sample_id = g.sample_id"
        " WHERE s.session_id = %s ORDER BY g.student_id, s.sampled_at",
        (session_id,),
    )
    seen: dict[str, list[datetime.datetime]] = {}
    for student_id, sampled_at in cur.fetchall():
        seen.setdefault(student_id, []).append(sampled_at)
    return seen


# -- camera marks ----------------------------------------------------------------------------


def write_camera_mark(
    cur,
    *,
    session_id: int,
    student_id: str,
    status: str,
    marked_at: datetime.datetime,
    client_name: str,
) -> None:
    """Store the camera's status for a student, unless a person marked them.

    A student without a mark gets one with source 'camera'; a mark whose source is 'camera'
    (an earlier close) is updated; any other mark (checkin, rollcall, manual) is left exactly
    as it is. The INSERT locks an existing row before it is read, so a mark a person makes
    concurrently is never overwritten either. A new mark or another status gets its history
    row (:mod:`db.history`).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown attendance status {status!r}")
    stored = attendance.insert_or_read(
        cur,
        "INSERT INTO attendance (session_id, student_id, status, source, marked_at, client_name)"
        " VALUES (%s, %s, %s, 'camera', %s, %s)"
        " ON DUPLICATE KEY UPDATE attendance_id = attendance_id",
        (session_id, student_id, status, marked_at, client_name),
        "SELECT status, source FROM attendance WHERE session_id = %s AND student_id = %s FOR UPDATE",
        (session_id, student_id),
        f"the camera's mark of {student_id} in session {session_id}",
    )
    author = history.Author(client_name)
    if stored is None:
        history.record_changes(cur, session_id, [history.Change(student_id, None, None, status, "camera")], author)
        return
    old_status, old_source = stored
    if old_source != "camera":
        return  # a person's mark
    cur.execute(
        "UPDATE attendance SET status = %s, marked_at = %s, client_name = %s WHERE session_id = %s AND student_id = %s",
        (status, marked_at, client_name, session_id, student_id),
    )
    if old_status != status:
        change = history.Change(student_id, old_status, old_source, status, "camera")
        history.record_changes(cur, session_id, [change], author)
