"""Student IDs and lecture codes (the two identifiers every payload carries), and client names."""

from __future__ import annotations

import re
import string

#: The 2019 server accepted 200000000-201999999; we accept the whole 2xxxxxxxx range.
STUDENT_ID_MIN = 200_000_000
STUDENT_ID_MAX = 299_999_999
STUDENT_ID_LENGTH = 9

#: Two letters, four digits, '_', one digit, any case: ``EA0017_1``. Stored lower case.
LECTURE_CODE_LENGTH = 8
_LECTURE_CODE = re.compile(r"[A-Za-z]{2}[0-9]{4}_[0-9]\Z")
_STUDENT_ID = re.compile(r"[0-9]{9}\Z")

#: A client (classroom PC, professor's app) registered with ``attendance-db add-client``:
#: 1-64 ASCII letters, digits, '_', '.', '-', starting with a letter or digit. No '@', so it
#: never looks like the names the server gives unauthenticated peers (``legacy@10.0.0.7``).
CLIENT_NAME_MAX_LENGTH = 64
_CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")

#: Attendance statuses and mark sources, as in db/schema.sql.
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
        isinstance(text, str) and _STUDENT_ID.match(text) is not None and STUDENT_ID_MIN <= int(text) <= STUDENT_ID_MAX
    )


def check_student_id(text: str) -> str:
    """Return the student ID unchanged, or raise ValueError naming what is wrong."""
    if not is_student_id(text):
        raise ValueError(f"not a student ID (9 digits, {STUDENT_ID_MIN}-{STUDENT_ID_MAX}): {text!r}")
    return text


def is_student_id_prefix(text: str) -> bool:
    """Return True when ``text`` (0-9 characters) can still grow into a valid student ID.

    ``"2019"`` can; ``"1"`` and ``"2x"`` cannot. Used to refuse bad payloads at the first bad byte.
    """
    if not isinstance(text, str) or len(text) > STUDENT_ID_LENGTH:
        return False
    if not all(c in string.digits for c in text):
        return False
    missing = STUDENT_ID_LENGTH - len(text)
    lowest = int(text + "0" * missing) if text else 0
    highest = int(text + "9" * missing) if text else 10**STUDENT_ID_LENGTH - 1
    return lowest <= STUDENT_ID_MAX and highest >= STUDENT_ID_MIN


#: What each of the 8 characters of a lecture code must be.
_LECTURE_CODE_PATTERN = ("letter", "letter", "digit", "digit", "digit", "digit", "_", "digit")


def is_lecture_code_prefix(text: str) -> bool:
    """Return True when ``text`` (0-8 characters) can still grow into a lecture code.

    ``"ea00"`` can; ``"e1"`` and ``"ea0017_1'"`` cannot.
    """
    if not isinstance(text, str) or len(text) > LECTURE_CODE_LENGTH:
        return False
    for char, expected in zip(text, _LECTURE_CODE_PATTERN):
        if expected == "letter" and char not in string.ascii_letters:
            return False
        if expected == "digit" and char not in string.digits:
            return False
        if expected == "_" and char != "_":
            return False
    return True


def is_client_name(text: str) -> bool:
    return isinstance(text, str) and _CLIENT_NAME.match(text) is not None


def check_client_name(text: str) -> str:
    """Return the client name unchanged, or raise ValueError naming what is wrong."""
    if not is_client_name(text):
        raise ValueError(
            f"not a client name (1-{CLIENT_NAME_MAX_LENGTH} letters, digits, '_', '.', '-', "
            f"starting with a letter or digit): {text!r}"
        )
    return text
