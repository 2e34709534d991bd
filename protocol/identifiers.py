"""Student IDs and lecture codes (the two identifiers every payload carries), and client names.

Three levels of checks:

- **The identifiers' form** (:func:`check_student_id`, :func:`normalize_lecture_code`): what any
  university's identifiers look like, and what the framed protocol checks: 1 to
  :data:`IDENTIFIER_MAX_LENGTH` ASCII letters and digits (a student ID may hold '-', a lecture
  code '-' and '_'), starting with a letter or digit. The database's columns hold that much.
- **The university's pattern** (:class:`IdentifierRules`): a regular expression for each, a
  setting of the server and of ``attendance-db`` (``--student-id-pattern``,
  ``--lecture-code-pattern``). The defaults are the 2019 formats below.
- **The 2019 formats** (``is_legacy_*``): 9-digit IDs 200000000-299999999 and 8-character codes
  like ``ea0017_1``, fixed by the 2019 payloads' byte layout (:mod:`protocol.legacy`). A student
  or lecture outside them is out of reach of 2019 clients, whatever the pattern.

A lecture code in the 2019 format is stored lower case, as it always was; any other code is
kept as written (the database compares codes without regard to case).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

#: The longest student ID or lecture code (the database's VARCHAR(20) columns).
IDENTIFIER_MAX_LENGTH = 20
_STUDENT_ID_FORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}\Z")
_LECTURE_CODE_FORM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}\Z")

#: The 2019 server accepted 200000000-201999999; we accept the whole 2xxxxxxxx range.
STUDENT_ID_MIN = 200_000_000
STUDENT_ID_MAX = 299_999_999
STUDENT_ID_LENGTH = 9

#: Two letters, four digits, '_', one digit, any case: ``EA0017_1``. Stored lower case.
LECTURE_CODE_LENGTH = 8
_LECTURE_CODE = re.compile(r"[A-Za-z]{2}[0-9]{4}_[0-9]\Z")
_STUDENT_ID = re.compile(r"[0-9]{9}\Z")

#: The default patterns of :class:`IdentifierRules`: the 2019 formats.
DEFAULT_STUDENT_ID_PATTERN = r"2[0-9]{8}"
DEFAULT_LECTURE_CODE_PATTERN = r"[A-Za-z]{2}[0-9]{4}_[0-9]"

#: A client (classroom PC, professor's app) registered with ``attendance-db add-client``:
#: 1-64 ASCII letters, digits, '_', '.', '-', starting with a letter or digit. No '@', so it
#: never looks like the names the server gives unauthenticated peers (``legacy@10.0.0.7``).
CLIENT_NAME_MAX_LENGTH = 64
_CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")

#: Attendance statuses and mark sources, as in db/schema.sql.
STATUSES = ("present", "late", "absent", "excused", "left_early")
SOURCES = ("checkin", "rollcall", "camera", "manual")

STUDENT_ID_FORM_TEXT = f"1-{IDENTIFIER_MAX_LENGTH} letters, digits or '-'"
LECTURE_CODE_FORM_TEXT = f"1-{IDENTIFIER_MAX_LENGTH} letters, digits, '_' or '-'"


# -- the identifiers' form (any university) -------------------------------------------------


def is_student_id(text: str) -> bool:
    """True for a student ID's form (:data:`STUDENT_ID_FORM_TEXT`), whatever the university's pattern."""
    return isinstance(text, str) and _STUDENT_ID_FORM.match(text) is not None


def check_student_id(text: str) -> str:
    """Return the student ID unchanged, or raise ValueError naming what is wrong."""
    if not is_student_id(text):
        raise ValueError(f"not a student ID ({STUDENT_ID_FORM_TEXT}): {text!r}")
    return text


def is_lecture_code(text: str) -> bool:
    """True for a lecture code's form (:data:`LECTURE_CODE_FORM_TEXT`), whatever the university's pattern."""
    return isinstance(text, str) and _LECTURE_CODE_FORM.match(text) is not None


def normalize_lecture_code(text: str) -> str:
    """The lecture code as stored (a 2019-format code lower case, any other as written), or
    ValueError naming what is wrong."""
    if not is_lecture_code(text):
        raise ValueError(f"not a lecture code ({LECTURE_CODE_FORM_TEXT}): {text!r}")
    return text.lower() if is_legacy_lecture_code(text) else text


# -- the university's pattern ---------------------------------------------------------------


@dataclass(frozen=True)
class IdentifierRules:
    """The university's student IDs and lecture codes: a regular expression each, matched
    against the whole text (after the form check above, which no pattern widens).

    ``IdentifierRules()`` is the 2019 formats. ValueError (naming the setting) for a pattern
    that is not a regular expression.
    """

    student_id_pattern: str = DEFAULT_STUDENT_ID_PATTERN
    lecture_code_pattern: str = DEFAULT_LECTURE_CODE_PATTERN
    _student_id: re.Pattern = field(init=False, repr=False, compare=False)
    _lecture_code: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_student_id", compile_pattern("student ID", self.student_id_pattern))
        object.__setattr__(self, "_lecture_code", compile_pattern("lecture code", self.lecture_code_pattern))

    def is_student_id(self, text: str) -> bool:
        return is_student_id(text) and self._student_id.fullmatch(text) is not None

    def is_lecture_code(self, text: str) -> bool:
        if not is_lecture_code(text):
            return False
        stored = text.lower() if is_legacy_lecture_code(text) else text
        return self._lecture_code.fullmatch(text) is not None or self._lecture_code.fullmatch(stored) is not None

    def check_student_id(self, text: str) -> str:
        """The student ID unchanged, or ValueError naming the pattern it misses."""
        check_student_id(text)
        if self._student_id.fullmatch(text) is None:
            raise ValueError(f"not a student ID of the pattern {self.student_id_pattern}: {text!r}")
        return text

    def normalize_lecture_code(self, text: str) -> str:
        """The lecture code as stored (:func:`normalize_lecture_code`), or ValueError naming the
        pattern it misses (it may match the code as written or as stored: ``EA0017_1`` fits
        ``[a-z]{2}[0-9]{4}_[0-9]``)."""
        code = normalize_lecture_code(text)
        if self._lecture_code.fullmatch(text) is None and self._lecture_code.fullmatch(code) is None:
            raise ValueError(f"not a lecture code of the pattern {self.lecture_code_pattern}: {text!r}")
        return code

    def problem(self, kind: str, text: str) -> str | None:
        """What is wrong with an identifier of ``kind`` (STUDENT_ID or LECTURE_CODE), or None."""
        if kind == STUDENT_ID and self.is_student_id(text):
            return None  # the usual case, without building a message
        try:
            if kind == STUDENT_ID:
                self.check_student_id(text)
            else:
                self.normalize_lecture_code(text)
        except ValueError as exc:
            return str(exc)
        return None


#: The two kinds of identifier (:meth:`IdentifierRules.problem`, the framed fields' markers).
STUDENT_ID = "student_id"
LECTURE_CODE = "lecture_code"


def compile_pattern(what: str, pattern: str) -> re.Pattern:
    """``pattern`` compiled, or ValueError saying which pattern is not a regular expression."""
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"the {what} pattern must be a non-empty regular expression")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"the {what} pattern {pattern!r} is not a regular expression: {exc}") from None


# -- the 2019 formats -----------------------------------------------------------------------


def is_legacy_lecture_code(text: str) -> bool:
    """A lecture code of the 2019 payloads: two letters, four digits, '_', one digit."""
    return isinstance(text, str) and _LECTURE_CODE.match(text) is not None


def is_legacy_student_id(text: str) -> bool:
    """A student ID of the 2019 payloads: 9 digits, 200000000-299999999."""
    return (
        isinstance(text, str) and _STUDENT_ID.match(text) is not None and STUDENT_ID_MIN <= int(text) <= STUDENT_ID_MAX
    )


def normalize_legacy_lecture_code(text: str) -> str:
    """Return the lower-case 2019 lecture code, or raise ValueError naming what is wrong."""
    if not is_legacy_lecture_code(text):
        raise ValueError(f"not a lecture code (two letters, four digits, '_', one digit): {text!r}")
    return text.lower()


def is_legacy_student_id_prefix(text: str) -> bool:
    """Return True when ``text`` (0-9 characters) can still grow into a 2019 student ID.

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


#: What each of the 8 characters of a 2019 lecture code must be.
_LECTURE_CODE_PATTERN = ("letter", "letter", "digit", "digit", "digit", "digit", "_", "digit")


def is_legacy_lecture_code_prefix(text: str) -> bool:
    """Return True when ``text`` (0-8 characters) can still grow into a 2019 lecture code.

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
