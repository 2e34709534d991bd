"""Students and their enrollment in lectures."""

from __future__ import annotations

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

    Raises pymysql.err.IntegrityError when the lecture or the student does not exist.
    """
    cur.execute(
        "INSERT INTO enrollments (lecture_id, student_id) VALUES (%s, %s)"
        " ON DUPLICATE KEY UPDATE lecture_id = lecture_id",
        (lecture_id, student_id),
    )
    return cur.rowcount == 1


def is_enrolled(cur, lecture_id: int, student_id: str) -> bool:
    cur.execute(
        "SELECT 1 FROM enrollments WHERE lecture_id = %s AND student_id = %s",
        (lecture_id, student_id),
    )
    return cur.fetchone() is not None


def roster(cur, lecture_id: int) -> list[Student]:
    """The lecture's enrolled students, ordered by student ID."""
    cur.execute(
        "SELECT s.student_id, s.name FROM enrollments e"
        " JOIN students s ON s.student_id = e.student_id"
        " WHERE e.lecture_id = %s ORDER BY s.student_id",
        (lecture_id,),
    )
    return [Student(*row) for row in cur.fetchall()]
