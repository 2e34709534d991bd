"""Class sessions (one per lecture per day), attendance marks, and applied batches.

Concurrency in one paragraph: every "create if missing" here is a single
``INSERT ... ON DUPLICATE KEY UPDATE`` against a unique key. When two connections run it at the
same time, InnoDB makes the second one wait for the first one's transaction to end and then
treats its INSERT as a duplicate, so both end up with the same row and neither gets an error.
A mark is never taken on the INSERT's word, though: under load (bench/load.py, 50 clients) MariaDB
10.11 let a multi-row ``INSERT ... ON DUPLICATE KEY UPDATE`` succeed while writing neither a row
nor finding a duplicate for a few of its students (a few in 10,000), so the marks are read back
with a locking read and a missing one is inserted again (:func:`insert_or_read` for one row,
:func:`_insert_until_found` for a roll call's).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from db import history
from protocol.identifiers import SOURCES, STATUSES

_log = logging.getLogger(__name__)

#: Times a row is inserted when it cannot be read back after its INSERT (see above), before
#: :class:`MarksNotWritten` is raised.
_INSERT_ATTEMPTS = 5


class MarksNotWritten(RuntimeError):
    """The database kept answering an INSERT without writing the row (see the module's
    docstring); the transaction must roll back and nothing may be acknowledged."""


def insert_or_read(cur, insert: str, insert_args: tuple, read: str, read_args: tuple, what: str) -> tuple | None:
    """One row's ``INSERT ... ON DUPLICATE KEY UPDATE`` (``insert``): None when it inserted the
    row (``cur.lastrowid`` is its ID), else the existing row as the locking ``read`` returns it.
    A row neither written nor found (see the module's docstring) is inserted again, up to
    :data:`_INSERT_ATTEMPTS` times. ``what``: the row, for the log and the error.

    :raises MarksNotWritten: the row still cannot be read back.
    """
    for _ in range(_INSERT_ATTEMPTS):
        cur.execute(insert, insert_args)
        if cur.rowcount == 1:
            return None
        cur.execute(read, read_args)
        row = cur.fetchone()
        if row is not None:
            return row
        _log.info("%s not written by its INSERT: inserted again", what)
    raise MarksNotWritten(f"the database did not write {what} after {_INSERT_ATTEMPTS} tries")


# -- sessions ----------------------------------------------------------------------------------


def find_session(cur, lecture_id: int, day: datetime.date) -> int | None:
    """The session ID of the lecture on that day, or None if nobody has been marked yet."""
    cur.execute(
        "SELECT session_id FROM class_sessions WHERE lecture_id = %s AND session_date = %s",
        (lecture_id, day),
    )
    row = cur.fetchone()
    return None if row is None else row[0]


def ensure_session(cur, lecture_id: int, day: datetime.date) -> int:
    """The session ID of the lecture on that day, creating the session if missing.

    Safe under concurrency: two connections calling this at once get the same ID.
    """
    # Usual case first: the session exists. This plain read takes no lock, so check-ins of one
    # lecture do not queue behind each other on the session row.
    session_id = find_session(cur, lecture_id, day)
    if session_id is not None:
        return session_id
    # Missing (or created by a transaction this one cannot see yet). A duplicate is read back
    # with a locking read (the latest committed row), not taken from LAST_INSERT_ID: see the
    # module's docstring.
    existing = insert_or_read(
        cur,
        "INSERT INTO class_sessions (lecture_id, session_date) VALUES (%s, %s) ON DUPLICATE KEY UPDATE session_id = session_id",
        (lecture_id, day),
        "SELECT session_id FROM class_sessions WHERE lecture_id = %s AND session_date = %s LOCK IN SHARE MODE",
        (lecture_id, day),
        f"the session of lecture {lecture_id} on {day}",
    )
    return cur.lastrowid if existing is None else existing[0]


# -- marks -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkResult:
    status: str  # the status now stored
    already_marked: bool  # the student had a mark in this session before this call
    attendance_id: int | None = field(default=None, compare=False)  # the row's ID


def mark_many(
    cur,
    *,
    session_id: int,
    marks: list[tuple[str, str]],
    source: str,
    client_name: str,
    professor: str | None = None,
    reason: str | None = None,
) -> int:
    """Record (student_id, status) marks in the session, replacing existing marks (a roll call):
    what :func:`mark` with ``overwrite=True`` does for each, in a few statements instead of one
    per student. Returns the number of marks given (one per distinct student ID). Each mark that
    changes (new, or another status, source or client) gets its history row (:mod:`db.history`,
    with ``professor`` and ``reason``); a mark already as asked, by this client, is left as it is.

    One multi-row INSERT writes every missing row and locks every existing one, in student-ID
    order (the lock order of every batch, so two batches cannot deadlock); the rows it inserted
    carry the distance :data:`_NEW_ROW` until this function sets it back to NULL, which tells
    them from the rows that existed (rows of another transaction never carry it). Then one
    locking read of the rows this transaction already holds (and an INSERT and a read again for
    any row the database did not write: :func:`_insert_until_found`), one UPDATE per status for
    the rows that change, and one INSERT of the history rows.
    Raises ValueError for an unknown status or source, a student given twice with two statuses
    or a reason too long, and pymysql.err.IntegrityError when the session or a student does not
    exist.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown mark source {source!r} (one of {', '.join(SOURCES)})")
    author = history.Author(client_name, professor, reason)
    wanted: dict[str, str] = {}
    for student_id, status in marks:
        if status not in STATUSES:
            raise ValueError(f"unknown attendance status {status!r} (one of {', '.join(STATUSES)})")
        if wanted.setdefault(student_id, status) != status:
            raise ValueError(f"student {student_id} is marked twice with different statuses")
    if not wanted:
        return 0
    ordered = sorted(wanted.items())
    found = _insert_until_found(cur, session_id, ordered, source, client_name)
    new_ids: list[str] = []
    by_status: dict[str, list[str]] = {}
    for student_id, old_status, old_source, old_client, inserted in found:
        status = wanted[student_id]
        if inserted:
            new_ids.append(student_id)
        elif (old_status, old_source, old_client) != (status, source, client_name):
            by_status.setdefault(status, []).append(student_id)
    # The history rows are copied from the rows themselves (INSERT ... SELECT): a few parameters
    # instead of nine per row. A changed row's is copied before its UPDATE, with the old status.
    if new_ids:
        history.record_from_rows(cur, session_id, new_ids, author)
        cur.execute(
            "UPDATE attendance SET distance = NULL"
            f" WHERE session_id = %s AND student_id IN ({', '.join(['%s'] * len(new_ids))})",
            [session_id, *new_ids],
        )
    for status, student_ids in sorted(by_status.items()):
        history.record_from_rows(cur, session_id, student_ids, author, new_status=status, source=source)
        cur.execute(
            "UPDATE attendance SET status = %s, source = %s, distance = NULL, client_name = %s,"
            " marked_at = CURRENT_TIMESTAMP(3)"
            f" WHERE session_id = %s AND student_id IN ({', '.join(['%s'] * len(student_ids))})",
            [status, source, client_name, session_id, *student_ids],
        )
    return len(ordered)


#: The distance a row inserted by :func:`mark_many` carries until the same call sets it to NULL
#: (a distance is never negative otherwise).
_NEW_ROW = -1.0


def _insert_until_found(
    cur, session_id: int, ordered: list[tuple[str, str]], source: str, client_name: str
) -> list[tuple[str, str, str, str, int]]:
    """Insert the (student_id, status) marks that are missing (new rows carry :data:`_NEW_ROW`)
    and lock every one of the students' rows, in student-ID order. Returns one
    (student_id, status, source, client_name, inserted_by_this_call) per student, by student ID.

    The rows are read back with a locking read; a student whose row is neither there nor
    written is inserted again (up to :data:`_INSERT_ATTEMPTS` times in all).

    :raises MarksNotWritten: when a row still cannot be read back.
    """
    found: dict[str, tuple[str, str, str, str, int]] = {}
    missing = ordered
    for _ in range(_INSERT_ATTEMPTS):
        rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(missing))
        values = [
            v for student_id, status in missing for v in (session_id, student_id, status, source, _NEW_ROW, client_name)
        ]
        cur.execute(
            "INSERT INTO attendance (session_id, student_id, status, source, distance, client_name)"
            f" VALUES {rows} ON DUPLICATE KEY UPDATE attendance_id = attendance_id",
            values,
        )
        ids = [student_id for student_id, _ in missing]
        cur.execute(
            "SELECT student_id, status, source, client_name, distance = %s FROM attendance"
            f" WHERE session_id = %s AND student_id IN ({', '.join(['%s'] * len(ids))}) ORDER BY student_id FOR UPDATE",
            [_NEW_ROW, session_id, *ids],
        )
        found.update((row[0], row) for row in cur.fetchall())
        missing = [(student_id, status) for student_id, status in missing if student_id not in found]
        if not missing:
            return [found[student_id] for student_id, _ in ordered]
        _log.info("session %s: %d marks not written by the INSERT, inserted again", session_id, len(missing))
    raise MarksNotWritten(
        f"session {session_id}: the database did not write the marks of {len(missing)} students"
        f" ({', '.join(student_id for student_id, _ in missing[:5])}...) after {_INSERT_ATTEMPTS} tries"
    )


def mark(
    cur,
    *,
    session_id: int,
    student_id: str,
    status: str,
    source: str,
    client_name: str,
    distance: float | None = None,
    overwrite: bool = False,
    professor: str | None = None,
    reason: str | None = None,
    changed_by: str | None = None,
) -> MarkResult:
    """Record the student's attendance in the session: at most one row per (session, student).

    ``overwrite=False`` (a check-in): an existing mark is left exactly as it is; the result has
    ``already_marked=True`` and the stored status. ``overwrite=True`` (a roll call): an existing
    mark of another status, source or client gets this one's status, source, distance,
    client_name and marked_at (one the same in all three is left as it is). Each change (a new mark, or
    a mark replaced) gets its history row (:mod:`db.history`, with ``professor`` and ``reason``;
    its client is ``changed_by`` when given, else ``client_name``).

    Safe under concurrency: two connections marking the same student at once leave one row and
    raise nothing. Raises ValueError for an unknown status or source or a reason too long, and
    pymysql.err.IntegrityError when the session or the student does not exist (nothing is
    written by this call; the caller's transaction rolls back the rest).
    """
    if status not in STATUSES:
        raise ValueError(f"unknown attendance status {status!r} (one of {', '.join(STATUSES)})")
    if source not in SOURCES:
        raise ValueError(f"unknown mark source {source!r} (one of {', '.join(SOURCES)})")
    author = history.Author(changed_by or client_name, professor, reason)
    stored = insert_or_read(
        cur,
        "INSERT INTO attendance (session_id, student_id, status, source, distance, client_name)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE attendance_id = attendance_id",
        (session_id, student_id, status, source, distance, client_name),
        # FOR UPDATE reads the latest committed row (maybe written by another connection after
        # this transaction's first read); the INSERT already holds the lock on it.
        "SELECT status, source, client_name, attendance_id FROM attendance WHERE session_id = %s AND student_id = %s"
        " FOR UPDATE",
        (session_id, student_id),
        f"the mark of {student_id} in session {session_id}",
    )
    if stored is None:
        attendance_id = cur.lastrowid
        history.record_changes(cur, session_id, [history.Change(student_id, None, None, status, source)], author)
        return MarkResult(status, already_marked=False, attendance_id=attendance_id)
    stored_status, stored_source, stored_client, attendance_id = stored
    if not overwrite or (stored_status, stored_source, stored_client) == (status, source, client_name):
        return MarkResult(stored_status, already_marked=True, attendance_id=attendance_id)
    cur.execute(
        "UPDATE attendance SET status = %s, source = %s, distance = %s, client_name = %s,"
        " marked_at = CURRENT_TIMESTAMP(3) WHERE attendance_id = %s",
        (status, source, distance, client_name, attendance_id),
    )
    change = history.Change(student_id, stored_status, stored_source, status, source)
    history.record_changes(cur, session_id, [change], author)
    return MarkResult(status, already_marked=True, attendance_id=attendance_id)


@dataclass(frozen=True)
class AttendanceMark:
    student_id: str
    status: str
    source: str
    marked_at: datetime.datetime
    distance: float | None
    client_name: str


def session_marks(cur, session_id: int) -> dict[str, AttendanceMark]:
    """Every mark of the session, by student ID."""
    cur.execute(
        "SELECT student_id, status, source, marked_at, distance, client_name"
        " FROM attendance WHERE session_id = %s ORDER BY student_id",
        (session_id,),
    )
    return {row[0]: AttendanceMark(*row) for row in cur.fetchall()}


# -- batches -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedBatch:
    """A batch applied before: the reply given then, the SHA-256 of its content (None for
    batches applied before schema version 2) and the day of its session."""

    reply_json: str
    request_sha256: str | None
    session_date: datetime.date


def find_applied_batch(cur, *, client_name: str, lecture_id: int, batch_id: str) -> AppliedBatch | None:
    """The batch this client applied to this lecture with this ID, or None if it never did.
    A batch_id is the client's own, per lecture: another client's (or lecture's) is not found.

    A plain read (no lock): two transactions applying the same new batch both get None here, and
    :func:`record_batch` is what lets only one of them commit.
    """
    cur.execute(
        "SELECT b.reply, b.request_sha256, s.session_date FROM applied_batches b"
        " JOIN class_sessions s ON s.session_id = b.session_id"
        " WHERE b.client_name = %s AND b.lecture_id = %s AND b.batch_id = %s",
        (client_name, lecture_id, batch_id),
    )
    row = cur.fetchone()
    return None if row is None else AppliedBatch(*row)


def record_batch(
    cur,
    *,
    batch_id: str,
    lecture_id: int,
    session_id: int,
    client_name: str,
    reply_json: str,
    request_sha256: str | None = None,
) -> None:
    """Remember that the batch was applied, with the reply to send again if it is retried.

    Use it in the same transaction as the batch's marks::

        with transaction(conn) as cur:
            stored = find_applied_batch(cur, client_name=..., lecture_id=..., batch_id=...)
            if stored is not None:
                return stored                    # a retry: answer as the first time
            ... mark(...) for every student ...
            record_batch(cur, batch_id=..., ...)  # commit happens at the end of the block

    When two transactions apply the same batch (same client, lecture and ID) at once, both see
    None, both apply the marks (the second one waits on the first one's row locks), and the
    second one's record_batch then raises pymysql.err.IntegrityError (duplicate primary key):
    ``transaction`` rolls that whole transaction back, marks included, so the batch is applied
    exactly once. The caller can then call find_applied_batch in a new transaction to get the
    stored reply.
    """
    cur.execute(
        "INSERT INTO applied_batches (batch_id, lecture_id, session_id, client_name, reply, request_sha256)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (batch_id, lecture_id, session_id, client_name, reply_json, request_sha256),
    )
