"""The history of every mark change (table ``mark_history``).

Every function of db/ that writes a mark (:mod:`db.attendance`, :func:`db.presence.write_camera_mark`)
records the change here, in the same transaction and only when the mark really changed (a new
mark; another status or source; or the same mark given again by another client, who is then the
one the mark names). So every acknowledged mark has
its history rows, and no history row exists without its change: both commit or roll back
together. Rows are never updated. Functions take a cursor and never commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

# The longest reason and professor name kept (db/schema.sql, mark_history), as the protocol's.
from protocol.framed.messages import MAX_PROFESSOR_LENGTH, MAX_REASON_LENGTH


@dataclass(frozen=True)
class Change:
    """One mark change to record: the mark before (None, None for a new mark) and after."""

    student_id: str
    old_status: str | None
    old_source: str | None
    new_status: str
    source: str


@dataclass(frozen=True)
class Author:
    """Who changed marks, and why: the client (its token's name), the professor's name when
    known, the reason when given."""

    client_name: str
    professor: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        # Blank is "not given"; surrounding spaces are dropped.
        object.__setattr__(self, "professor", _cleaned(self.professor, MAX_PROFESSOR_LENGTH, "professor name"))
        object.__setattr__(self, "reason", _cleaned(self.reason, MAX_REASON_LENGTH, "reason"))


def _cleaned(text: str | None, limit: int, what: str) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if len(text) > limit:
        raise ValueError(f"the {what} is longer than {limit} characters")
    return text or None


def record_changes(cur, session_id: int, changes: Sequence[Change], author: Author) -> int:
    """Record the changes of marks of one session (one statement); returns the rows written."""
    if not changes:
        return 0
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(changes))
    values: list = []
    for change in changes:
        values += [
            session_id,
            change.student_id,
            change.old_status,
            change.old_source,
            change.new_status,
            change.source,
            author.client_name,
            author.professor,
            author.reason,
        ]
    cur.execute(
        "INSERT INTO mark_history (session_id, student_id, old_status, old_source, new_status, source,"
        f" client_name, professor, reason) VALUES {rows}",
        values,
    )
    return len(changes)


def record_from_rows(
    cur,
    session_id: int,
    student_ids: Sequence[str],
    author: Author,
    *,
    new_status: str | None = None,
    source: str | None = None,
) -> int:
    """Record the changes of these students' attendance rows of the session, copied from the
    rows by the database (one INSERT ... SELECT, for a roll call of hundreds): without
    ``new_status``, the rows are new marks (recorded as they are); with it (and ``source``),
    the rows are about to be changed to it (recorded with their status and source as the old
    ones). Returns the rows written."""
    if not student_ids:
        return 0
    placeholders = ", ".join(["%s"] * len(student_ids))
    if new_status is None:
        columns, values = "NULL, NULL, status, source", []
    else:
        columns, values = "status, source, %s, %s", [new_status, source]
    cur.execute(
        "INSERT INTO mark_history (session_id, student_id, old_status, old_source, new_status, source,"
        " client_name, professor, reason)"
        f" SELECT session_id, student_id, {columns}, %s, %s, %s FROM attendance"  # the columns are fixed texts
        f" WHERE session_id = %s AND student_id IN ({placeholders}) ORDER BY student_id",
        [*values, author.client_name, author.professor, author.reason, session_id, *student_ids],
    )
    return cur.rowcount


@dataclass(frozen=True)
class HistoryRow:
    """One recorded change, with its session's date and the student's name."""

    history_id: int
    session_date: datetime.date
    student_id: str
    name: str
    old_status: str | None
    old_source: str | None
    new_status: str
    source: str
    client_name: str
    professor: str | None
    reason: str | None
    changed_at: datetime.datetime

    @property
    def after_session(self) -> bool:
        """Changed on a later day than its session (see :func:`changed_after_session`)."""
        return self.changed_at.date() > self.session_date


def lecture_history(
    cur, lecture_id: int, *, student_id: str | None = None, session_date: datetime.date | None = None
) -> list[HistoryRow]:
    """The lecture's mark changes (of one student, of one session's date, or all), by session
    date, student and the order they were made."""
    where = ["s.lecture_id = %s"]
    values: list = [lecture_id]
    if student_id is not None:
        where.append("h.student_id = %s")
        values.append(student_id)
    if session_date is not None:
        where.append("s.session_date = %s")
        values.append(session_date)
    cur.execute(
        "SELECT h.history_id, s.session_date, h.student_id, st.name, h.old_status, h.old_source,"
        " h.new_status, h.source, h.client_name, h.professor, h.reason, h.changed_at"
        " FROM mark_history h"
        " JOIN class_sessions s ON s.session_id = h.session_id"
        " JOIN students st ON st.student_id = h.student_id"
        f" WHERE {' AND '.join(where)}"  # the conditions are the fixed texts above
        " ORDER BY s.session_date, h.student_id, h.history_id",
        values,
    )
    return [HistoryRow(*row) for row in cur.fetchall()]


#: The cells whose mark was changed on a later day than their session (the report's flag).
CHANGED_AFTER_SESSION_SQL = (
    "SELECT DISTINCT h.session_id, h.student_id FROM mark_history h"
    " JOIN class_sessions s ON s.session_id = h.session_id"
    " WHERE s.lecture_id = %s AND h.changed_at >= s.session_date + INTERVAL 1 DAY"
)


def changed_after_session(
    cur, lecture_id: int, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> set[tuple[int, str]]:
    """(session_id, student_id) of the marks of the lecture changed on a later day than their
    session (a past session edited, say), within the dates if given."""
    sql = CHANGED_AFTER_SESSION_SQL
    values: list = [lecture_id]
    if date_from is not None:
        sql += " AND s.session_date >= %s"
        values.append(date_from)
    if date_to is not None:
        sql += " AND s.session_date <= %s"
        values.append(date_to)
    cur.execute(sql, values)
    return {(session_id, student_id) for session_id, student_id in cur.fetchall()}
