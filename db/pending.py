"""Uncertain check-ins waiting for the professor (tables pending_checkins, pending_candidates).

A check-in whose face is near enrolled students but not clearly one of them (still so after
another try) is kept here with its candidates; the professor's roll-call screen lists the
unresolved ones of today's session and confirms each as a student or rejects it
(docs/recognition.md). Functions take a cursor and never commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

#: What a professor decides (db/schema.sql, pending_checkins.resolution).
RESOLUTIONS = ("confirmed", "rejected")
#: Why a check-in waits for the professor (pending_checkins.kind): an uncertain face, or a
#: recognized student's check-in after the session closed.
UNCERTAIN, LATE = "uncertain", "late"


@dataclass(frozen=True)
class PendingCandidate:
    student_id: str
    name: str
    distance: float


@dataclass(frozen=True)
class PendingCheckin:
    pending_id: int
    session_id: int
    requested_at: datetime.datetime
    client_name: str
    frames: int
    candidates: tuple[PendingCandidate, ...]
    resolution: str | None = None
    lecture_id: int | None = None  # filled by get_for_update
    session_date: datetime.date | None = None  # filled by get_for_update
    kind: str = UNCERTAIN


def add_pending(
    cur,
    *,
    session_id: int,
    client_name: str,
    frames: int,
    candidates: Sequence[tuple[str, float]],
    kind: str = UNCERTAIN,
) -> int:
    """Queue a check-in (uncertain, or late: then one candidate, the student) with its
    (student ID, distance) candidates; its ID."""
    cur.execute(
        "INSERT INTO pending_checkins (session_id, client_name, frames, kind) VALUES (%s, %s, %s, %s)",
        (session_id, client_name, frames, kind),
    )
    pending_id = cur.lastrowid
    if candidates:
        cur.executemany(
            "INSERT INTO pending_candidates (pending_id, student_id, distance) VALUES (%s, %s, %s)",
            [(pending_id, student_id, float(distance)) for student_id, distance in candidates],
        )
    return pending_id


def late_attempt(cur, session_id: int, student_id: str) -> int | None:
    """The unresolved late check-in of this student in the session, if one is waiting."""
    cur.execute(
        "SELECT p.pending_id FROM pending_checkins p JOIN pending_candidates c ON c.pending_id = p.pending_id"
        " WHERE p.session_id = %s AND p.kind = 'late' AND p.resolution IS NULL AND c.student_id = %s"
        " ORDER BY p.pending_id LIMIT 1",
        (session_id, student_id),
    )
    row = cur.fetchone()
    return None if row is None else row[0]


def unresolved(cur, session_id: int) -> list[PendingCheckin]:
    """The session's check-ins not confirmed or rejected yet, oldest first, with candidates
    nearest first."""
    cur.execute(
        "SELECT p.pending_id, p.session_id, p.requested_at, p.client_name, p.frames, p.kind,"
        " c.student_id, s.name, c.distance"
        " FROM pending_checkins p"
        " LEFT JOIN pending_candidates c ON c.pending_id = p.pending_id"
        " LEFT JOIN students s ON s.student_id = c.student_id"
        " WHERE p.session_id = %s AND p.resolution IS NULL"
        " ORDER BY p.pending_id, c.distance, c.student_id",
        (session_id,),
    )
    return _grouped(cur.fetchall())


def lecture_code_of(cur, pending_id: int) -> str | None:
    """The code of the lecture an uncertain check-in belongs to, None when there is no such one."""
    cur.execute(
        "SELECT l.code FROM pending_checkins p JOIN class_sessions s ON s.session_id = p.session_id"
        " JOIN lectures l ON l.lecture_id = s.lecture_id WHERE p.pending_id = %s",
        (pending_id,),
    )
    row = cur.fetchone()
    return None if row is None else row[0]


def get_for_update(cur, pending_id: int) -> PendingCheckin | None:
    """One check-in (resolved or not), its row locked until the transaction ends."""
    cur.execute(
        "SELECT p.pending_id, p.session_id, p.requested_at, p.client_name, p.frames, p.resolution,"
        " s.lecture_id, s.session_date, p.kind"
        " FROM pending_checkins p JOIN class_sessions s ON s.session_id = p.session_id"
        " WHERE p.pending_id = %s FOR UPDATE",
        (pending_id,),
    )
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute(
        "SELECT c.student_id, s.name, c.distance FROM pending_candidates c"
        " JOIN students s ON s.student_id = c.student_id"
        " WHERE c.pending_id = %s ORDER BY c.distance, c.student_id",
        (pending_id,),
    )
    candidates = tuple(PendingCandidate(sid, name, float(distance)) for sid, name, distance in cur.fetchall())
    pending_id, session_id, requested_at, client_name, frames, resolution, lecture_id, session_date, kind = row
    return PendingCheckin(
        pending_id,
        session_id,
        requested_at,
        client_name,
        frames,
        candidates,
        resolution=resolution,
        lecture_id=lecture_id,
        session_date=session_date,
        kind=kind,
    )


def resolve(cur, pending_id: int, *, resolution: str, student_id: str | None, resolved_by: str) -> None:
    """Record the professor's decision (``confirmed`` as ``student_id``, or ``rejected``)."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {resolution!r} (one of {', '.join(RESOLUTIONS)})")
    cur.execute(
        "UPDATE pending_checkins SET resolution = %s, resolved_student_id = %s, resolved_by = %s,"
        " resolved_at = CURRENT_TIMESTAMP(3) WHERE pending_id = %s",
        (resolution, student_id, resolved_by, pending_id),
    )


def _grouped(rows) -> list[PendingCheckin]:
    checkins: dict[int, PendingCheckin] = {}
    candidates: dict[int, list[PendingCandidate]] = {}
    for pending_id, session_id, requested_at, client_name, frames, kind, student_id, name, distance in rows:
        if pending_id not in checkins:
            checkins[pending_id] = PendingCheckin(
                pending_id, session_id, requested_at, client_name, frames, (), kind=kind
            )
            candidates[pending_id] = []
        if student_id is not None:
            candidates[pending_id].append(PendingCandidate(student_id, name, float(distance)))
    return [
        PendingCheckin(
            c.pending_id, c.session_id, c.requested_at, c.client_name, c.frames, tuple(candidates[i]), kind=c.kind
        )
        for i, c in checkins.items()
    ]
