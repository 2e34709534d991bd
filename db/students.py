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
        "INSERT INTO students (student_id, name) VALUES (%s, %s)"
        " ON DUPLICATE KEY UPDATE student_id = student_id",
        (student_id, name),
    )
    return cur.rowcount == 1
