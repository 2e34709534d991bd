"""A generated term of sessions and marks, for the report tests that run a real server."""

from __future__ import annotations

import datetime
import random

from db.connection import DatabaseUrl, connect, transaction
from db.reports import build_report
from reports.domain import LectureReport

STATUSES = ("present", "present", "present", "present", "late", "absent", "excused", "left_early")
SOURCES = ("checkin", "rollcall", "camera", "manual")


def generate_term(
    url: DatabaseUrl, lecture: str, *, weeks: int = 10, seed: int = 5, first: datetime.date = datetime.date(2024, 3, 4)
) -> list[datetime.date]:
    """Weekly past sessions of ``lecture`` from ``first`` (the first half closed), plus an open
    session today, with random marks (about one cell in ten has none). Every student is enrolled
    a week before the term, except the second one, who enrolls in the fourth week. Replaces the
    lecture's earlier sessions and marks. Returns the session dates."""
    rng = random.Random(seed)
    days = [first + datetime.timedelta(weeks=k) for k in range(weeks)]
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            cur.execute("SELECT lecture_id FROM lectures WHERE code = %s", (lecture,))
            (lecture_id,) = cur.fetchone()
            cur.execute(
                "DELETE h FROM mark_history h JOIN class_sessions s USING (session_id) WHERE s.lecture_id = %s",
                (lecture_id,),
            )
            cur.execute(
                "DELETE a FROM attendance a JOIN class_sessions s USING (session_id) WHERE s.lecture_id = %s",
                (lecture_id,),
            )
            cur.execute(
                "DELETE b FROM applied_batches b JOIN class_sessions s USING (session_id) WHERE s.lecture_id = %s",
                (lecture_id,),
            )
            cur.execute("DELETE FROM class_sessions WHERE lecture_id = %s", (lecture_id,))
            cur.execute("SELECT student_id FROM enrollments WHERE lecture_id = %s ORDER BY student_id", (lecture_id,))
            students = [row[0] for row in cur.fetchall()]
            enrolled = {}
            for n, student_id in enumerate(students):
                enrolled[student_id] = first + datetime.timedelta(weeks=3 if n == 1 else -1)
                cur.execute(
                    "UPDATE enrollments SET enrolled_at = %s WHERE lecture_id = %s AND student_id = %s",
                    (datetime.datetime.combine(enrolled[student_id], datetime.time(10, 0)), lecture_id, student_id),
                )
            today = datetime.date.today()
            for k, day in enumerate([*days, today]):
                closed = datetime.datetime.combine(day, datetime.time(12, 0)) if k < weeks // 2 else None
                cur.execute(
                    "INSERT INTO class_sessions (lecture_id, session_date, closed_at) VALUES (%s, %s, %s)",
                    (lecture_id, day, closed),
                )
                session_id = cur.lastrowid
                for student_id in students:
                    if rng.random() < (0.5 if day == today else 0.1):
                        continue  # no mark
                    if first < day < enrolled[student_id]:
                        continue  # not enrolled yet (a mark in the first week counts anyway)
                    cur.execute(
                        "INSERT INTO attendance (session_id, student_id, status, source, client_name)"
                        " VALUES (%s, %s, %s, %s, 'report-test')",
                        (session_id, student_id, rng.choice(STATUSES), rng.choice(SOURCES)),
                    )
    finally:
        conn.close()
    return [*days, datetime.date.today()]


def report_from_db(url: DatabaseUrl, lecture: str, **kwargs) -> LectureReport:
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            return build_report(cur, lecture, **kwargs)
    finally:
        conn.close()
