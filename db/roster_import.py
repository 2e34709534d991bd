"""Importing the registrar's roster: a CSV of (lecture code, student ID, student name).

The file::

    lecture_code,student_id,student_name
    EA0017_1,201912345,홍길동
    ea0017_1,201954321,"O'Brien, Pat"

UTF-8 (a byte-order mark is fine), exactly that header, one enrollment per line. Blank lines
and repeated lines are ignored. The import only adds: lectures, students and enrollments that
are missing are created, and a student whose name differs is renamed (the roster is the
registrar's truth); nobody is removed from a roster.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from db.lectures import insert_lecture_if_missing
from db.students import enroll, ensure_student, rename_student
from protocol.identifiers import check_student_id, normalize_lecture_code

HEADER = ("lecture_code", "student_id", "student_name")
MAX_NAME_LENGTH = 100  # students.name is VARCHAR(100)


class RosterFormatError(ValueError):
    """A problem in the roster file; the message starts with ``FILE:LINE:``."""

    def __init__(self, path: str | Path, line: int, problem: str):
        super().__init__(f"{path}:{line}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class RosterRow:
    lecture_code: str  # normalized: lower case
    student_id: str
    student_name: str
    line: int  # line number in the file, for messages


@dataclass(frozen=True)
class ImportReport:
    lectures_created: int
    students_created: int
    enrollments_created: int
    students_renamed: int = 0


def read_roster_csv(path: str | Path) -> list[RosterRow]:
    """Read and check the whole file; the first problem raises RosterFormatError."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")  # drops a leading byte-order mark if there is one
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RosterFormatError(path, line, "not UTF-8 text") from None

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[RosterRow] = []
    names: dict[str, RosterRow] = {}  # student ID -> first row naming them
    try:
        header = next(reader, None)
        if header is None or tuple(field.strip() for field in header) != HEADER:
            raise RosterFormatError(path, 1, f"the first line must be exactly: {','.join(HEADER)}")
        for fields in reader:
            line = reader.line_num  # a quoted field may span lines: this is where the row ends
            if not any(field.strip() for field in fields):
                continue  # blank line
            row = _check_row(path, line, fields)
            first = names.setdefault(row.student_id, row)
            if first.student_name != row.student_name:
                raise RosterFormatError(
                    path,
                    line,
                    f"student {row.student_id} is named {row.student_name!r} here"
                    f" but {first.student_name!r} on line {first.line}",
                )
            rows.append(row)
    except csv.Error as exc:
        raise RosterFormatError(path, reader.line_num, f"bad CSV: {exc}") from None
    return rows


def _check_row(path, line: int, fields: list[str]) -> RosterRow:
    if len(fields) != len(HEADER):
        raise RosterFormatError(path, line, f"expected {len(HEADER)} fields, found {len(fields)}")
    code, student_id, name = (field.strip() for field in fields)
    try:
        code = normalize_lecture_code(code)
        check_student_id(student_id)
    except ValueError as exc:
        raise RosterFormatError(path, line, str(exc)) from None
    if not name:
        raise RosterFormatError(path, line, "the student name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise RosterFormatError(path, line, f"the student name is longer than {MAX_NAME_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise RosterFormatError(path, line, f"the student name contains a control character: {name!r}")
    return RosterRow(code, student_id, name, line)


def import_roster(cur, rows: list[RosterRow]) -> ImportReport:
    """Create the missing lectures, students and enrollments; rename students whose name changed.

    Importing the same rows again changes nothing and reports all zeros. When a student appears
    on several rows, the name on the last one is used (read_roster_csv refuses differing names).
    """
    lecture_ids: dict[str, int] = {}
    lectures_created = 0
    for code in dict.fromkeys(row.lecture_code for row in rows):  # each code once, file order
        lecture, created = insert_lecture_if_missing(cur, code)
        lecture_ids[code] = lecture.lecture_id
        lectures_created += created

    names = {row.student_id: row.student_name for row in rows}
    students_created = students_renamed = 0
    for student_id, name in names.items():
        if ensure_student(cur, student_id, name):
            students_created += 1
        elif rename_student(cur, student_id, name):
            students_renamed += 1

    enrollments_created = 0
    for code, student_id in dict.fromkeys((row.lecture_code, row.student_id) for row in rows):
        enrollments_created += enroll(cur, lecture_ids[code], student_id)

    return ImportReport(lectures_created, students_created, enrollments_created, students_renamed)
