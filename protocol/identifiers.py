"""Student IDs and lecture codes: the two identifiers every payload carries."""

from __future__ import annotations

import re

#: The 2019 server accepted 200000000-201999999; we accept the whole 2xxxxxxxx range.
STUDENT_ID_MIN = 200_000_000
STUDENT_ID_MAX = 299_999_999
STUDENT_ID_LENGTH = 9

#: Two letters, four digits, '_', one digit, any case: ``EA0017_1``. Stored lower case.
LECTURE_CODE_LENGTH = 8
_LECTURE_CODE = re.compile(r"[A-Za-z]{2}[0-9]{4}_[0-9]\Z")
_STUDENT_ID = re.compile(r"[0-9]{9}\Z")

#: Attendance statuses and mark sources, as in schema.sql.
STATUSES = ("present", "late", "absent", "excused", "left_early")
SOURCES = ("checkin", "rollcall", "camera", "manual")


def is_lecture_code(text: str) -> bool:
    return isinstance(text, str) and _LECTURE_CODE.match(text) is not None


def normalize_lecture_code(text: str) -> str:
    """Return the lower-case lecture code, or raise ValueError naming what is wrong."""
    if not is_lecture_code(text):
        raise ValueError(f"not a lecture code (two letters, four digits, '_', one digit): {text!r}")
    return text.lower()


def is_student_id(text: str) -> bool:
    return (
        isinstance(text, str)
        and _STUDENT_ID.match(text) is not None
        and STUDENT_ID_MIN <= int(text) <= STUDENT_ID_MAX
    )


def check_student_id(text: str) -> str:
    """Return the student ID unchanged, or raise ValueError naming what is wrong."""
    if not is_student_id(text):
        raise ValueError(f"not a student ID (9 digits, {STUDENT_ID_MIN}-{STUDENT_ID_MAX}): {text!r}")
    return text
