"""Students and their enrollment in lectures.

An enrollment is active until the student drops the lecture (``enrollments.dropped_on``, set by
``attendance-db import-roster --sync``): a dropped student keeps the row and their marks, is no
longer on the roster, cannot be marked in the lecture, and no session from that day counts for
them (db/reports.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str


def ensure_student(cur, student_id: str, name: str) -> bool:
    """Create the student if missing (an existing student keeps their name). True if created."""
    cur.execute(
        "INSERT INTO students (student_id, name) VALUES (%s, %s) ON DUPLICATE KEY UPDATE student_id = student_id",
        (student_id, name),
    )
    return cur.rowcount == 1


def get_student(cur, student_id: str) -> Student | None:
    cur.execute("SELECT student_id, name FROM students WHERE student_id = %s", (student_id,))
    row = cur.fetchone()
    return None if row is None else Student(*row)


def rename_student(cur, student_id: str, name: str) -> bool:
    """Store a new name for an existing student. True if the stored name changed.

    False when the name was already exactly this (case included) or there is no such student.
    """
    cur.execute("UPDATE students SET name = %s WHERE student_id = %s", (name, student_id))
    # The server counts a row as affected only when its bytes change, so "kim" -> "Kim" counts
    # even though the column's collation compares them as equal.
    return cur.rowcount == 1


def enroll(cur, lecture_id: int, student_id: str) -> bool:
    """Put the student on the lecture's roster. True if newly enrolled, False if already there.

    A student who had dropped the lecture is not enrolled again here (see :func:`readmit`).
    Raises pymysql.err.IntegrityError when the lecture or the student does not exist.
    """
    cur.execute(
        "INSERT INTO enrollments (lecture_id, student_id) VALUES (%s, %s)"
        " ON DUPLICATE KEY UPDATE lecture_id = lecture_id",
        (lecture_id, student_id),
    )
    return cur.rowcount == 1


def readmit(cur, lecture_id: int, student_id: str) -> bool:
    """Put a student who had dropped the lecture back on its roster (their enrollment date
    stays). True if they had dropped it."""
    cur.execute(
        "UPDATE enrollments SET dropped_on = NULL WHERE lecture_id = %s AND student_id = %s AND dropped_on IS NOT NULL",
        (lecture_id, student_id),
    )
    return cur.rowcount == 1


def drop(cur, lecture_id: int, student_id: str, day: datetime.date) -> bool:
    """The student leaves the lecture's roster from ``day`` on; their marks stay. True if they
    were on it (False: not enrolled, or dropped already)."""
    cur.execute(
        "UPDATE enrollments SET dropped_on = %s WHERE lecture_id = %s AND student_id = %s AND dropped_on IS NULL",
        (day, lecture_id, student_id),
    )
    return cur.rowcount == 1


def is_enrolled(cur, lecture_id: int, student_id: str) -> bool:
    """True while the student is on the lecture's roster (enrolled, not dropped)."""
    cur.execute(
        "SELECT 1 FROM enrollments WHERE lecture_id = %s AND student_id = %s AND dropped_on IS NULL",
        (lecture_id, student_id),
    )
    return cur.fetchone() is not None


def roster(cur, lecture_id: int) -> list[Student]:
    """The lecture's enrolled students (not those who dropped it), ordered by student ID."""
    cur.execute(
        "SELECT s.student_id, s.name FROM enrollments e"
        " JOIN students s ON s.student_id = e.student_id"
        " WHERE e.lecture_id = %s AND e.dropped_on IS NULL ORDER BY s.student_id",
        (lecture_id,),
    )
    return [Student(*row) for row in cur.fetchall()]
