"""Forgetting a student's biometric data (``attendance-db forget``; docs/privacy.md).

Functions take a cursor and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ForgetReport:
    """What :func:`forget_student` did.

    encodings: face_encodings rows deleted. lectures: codes of the enrollments deleted.
    attendance: attendance rows of the student (deleted when ``history_deleted``, else kept).
    """

    student_id: str
    name: str | None  # None when the student is not in the students table
    encodings: int
    lectures: tuple[str, ...]
    attendance: int
    history_deleted: bool


def forget_student(cur, student_id: str, *, with_history: bool = False) -> ForgetReport:
    """Delete the student's face encodings (and enrolment photos) and enrollments.

    The attendance history (attendance rows and their mark_history, the classroom camera's
    sightings, and the students row they refer to, which holds the name) is kept unless
    ``with_history`` is true; then it is deleted too.
    """
    cur.execute("SELECT name FROM students WHERE student_id = %s FOR UPDATE", (student_id,))
    row = cur.fetchone()
    name = None if row is None else row[0]

    # The encodings (from knowns/ or enrolled, with any enrolment photo kept in the same row),
    # and the distances of uncertain check-ins to this student.
    cur.execute("DELETE FROM face_encodings WHERE student_id = %s", (student_id,))
    encodings = cur.rowcount
    cur.execute("DELETE FROM pending_candidates WHERE student_id = %s", (student_id,))

    cur.execute(
        "SELECT l.code FROM enrollments e JOIN lectures l ON l.lecture_id = e.lecture_id"
        " WHERE e.student_id = %s ORDER BY l.code",
        (student_id,),
    )
    lectures = tuple(code for (code,) in cur.fetchall())
    cur.execute("DELETE FROM enrollments WHERE student_id = %s", (student_id,))

    cur.execute("SELECT COUNT(*) FROM attendance WHERE student_id = %s", (student_id,))
    (attendance,) = cur.fetchone()
    if with_history:
        cur.execute("DELETE FROM presence_sightings WHERE student_id = %s", (student_id,))
        cur.execute(
            "UPDATE pending_checkins SET resolved_student_id = NULL WHERE resolved_student_id = %s",
            (student_id,),
        )
        cur.execute("DELETE FROM mark_history WHERE student_id = %s", (student_id,))
        cur.execute("DELETE FROM attendance WHERE student_id = %s", (student_id,))
        cur.execute("DELETE FROM students WHERE student_id = %s", (student_id,))
    return ForgetReport(student_id, name, encodings, lectures, attendance, with_history)
