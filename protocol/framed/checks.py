"""Checks of one field's value: each takes a value and returns it normalized, or raises
ValueError saying what it must be (the caller puts the field's name in front).

A message declares which check each of its fields uses (:mod:`protocol.framed.fields`). The
same checks run when a message is encoded and when one is decoded.

Student IDs and lecture codes are checked for their form only (protocol.identifiers: up to 20
letters, digits...): the university's pattern is a server setting, which the server applies to
the identifiers of a decoded request (:func:`identifier_kind` says which checks are of
identifiers; :func:`protocol.framed.fields.identifiers_in` lists a message's).
"""

from __future__ import annotations

import base64
import datetime
import math
import re
import struct
from collections.abc import Callable
from typing import Any

from protocol.errors import ErrorCode
from protocol.identifiers import (
    LECTURE_CODE,
    LECTURE_CODE_FORM_TEXT,
    SOURCES,
    STATUSES,
    STUDENT_ID,
    STUDENT_ID_FORM_TEXT,
    is_client_name,
    is_student_id,
    normalize_lecture_code,
)

Check = Callable[[Any], Any]

#: The attribute a check of identifiers carries: STUDENT_ID or LECTURE_CODE.
_IDENTIFIER_KIND = "identifier_kind"


def identifier_kind(check: Check) -> str | None:
    """STUDENT_ID or LECTURE_CODE when ``check`` checks identifiers of that kind (one, an
    optional one, or a list), else None."""
    return getattr(check, _IDENTIFIER_KIND, None)


def _of_identifiers(kind: str, check: Check) -> Check:
    setattr(check, _IDENTIFIER_KIND, kind)
    return check


#: A batch ID: what makes a retried batch_mark harmless.
BATCH_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: A client token: 1-256 visible ASCII characters (``attendance-db add-client`` makes 43).
TOKEN = re.compile(r"[\x21-\x7e]{1,256}")
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: The largest number the database's FLOAT columns hold (IEEE single precision), e.g. a mark's
#: distance; the largest value of an INT column, e.g. a presence sample's face count.
FLOAT_MAX = 3.4028234663852886e38
INT_MAX = 2**31 - 1
#: The datetimes a DATETIME column holds (years 1000-9999) in any time zone: a day inside each
#: end, since the server turns a time with an offset into its own local time (offsets are
#: under 24 hours).
STORABLE_DATETIMES = (datetime.datetime(1000, 1, 2), datetime.datetime(9999, 12, 30, 23, 59, 59, 999999))

#: A face encoding on the wire: 128 little-endian float32 (512 bytes) in base64, 684 characters.
_ENCODING = struct.Struct("<128f")
ENCODING_CHARACTERS = 4 * math.ceil(_ENCODING.size / 3)


def shown(value: Any) -> str:
    """``repr(value)``, cut to 60 characters: error messages stay short whatever the peer sent."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- combinators --------------------------------------------------------------------------


def optional(check: Check) -> Check:
    """The same check, but None is allowed too."""

    def check_or_none(value: Any) -> Any:
        return None if value is None else check(value)

    kind = identifier_kind(check)
    return check_or_none if kind is None else _of_identifiers(kind, check_or_none)


def one_of(values: tuple[str, ...]) -> Check:
    """One of the strings ``values``."""

    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in values:
            raise ValueError(f"must be one of {', '.join(values)}, not {shown(value)}")
        return value

    return check


def int_between(low: int, high: int) -> Check:
    """A whole number from ``low`` to ``high`` (JSON booleans are refused)."""

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be an integer {low}-{high}, not {shown(value)}")
        return value

    return check


def number_between(low: float, high: float) -> Check:
    """A number (integer or decimal, not a boolean) from ``low`` to ``high``, as a float."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {shown(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"must be {low:g} to {high:g}, not a huge integer") from None
        if not low <= number <= high:  # NaN fails too
            raise ValueError(f"must be {low:g} to {high:g}, not {shown(value)}")
        return number

    return check


# -- text and identifiers -------------------------------------------------------------------


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (not encodable as UTF-8)") from None
    return value


def lecture(value: Any) -> str:
    """A lecture code's form, returned as stored (a 2019-format code lower case)."""
    try:
        return normalize_lecture_code(value)
    except ValueError:
        raise ValueError(f"must be a lecture code ({LECTURE_CODE_FORM_TEXT}), not {shown(value)}") from None


def student_id(value: Any) -> str:
    """A student ID's form."""
    if not isinstance(value, str) or not is_student_id(value):
        raise ValueError(f"must be a student ID ({STUDENT_ID_FORM_TEXT}), not {shown(value)}")
    return value


_of_identifiers(LECTURE_CODE, lecture)
_of_identifiers(STUDENT_ID, student_id)


def student_name(value: Any) -> str:
    """A student's name for enrolment, stripped: 1 to 100 characters."""
    name = text(value).strip()
    if not 1 <= len(name) <= 100:
        raise ValueError("must be a name of 1 to 100 characters")
    return name


def status(value: Any) -> str:
    if value not in STATUSES or not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(STATUSES)}, not {shown(value)}")
    return value


def source(value: Any) -> str:
    if value not in SOURCES or not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(SOURCES)}, not {shown(value)}")
    return value


def error_code(value: Any) -> str:
    if value not in ErrorCode.ALL or not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(ErrorCode.ALL)}, not {shown(value)}")
    return value


def batch_id(value: Any) -> str:
    if not isinstance(value, str) or BATCH_ID.fullmatch(value) is None:
        raise ValueError(f"must be 1-64 characters of A-Z a-z 0-9 _ . : -, not {shown(value)}")
    return value


def token(value: Any) -> str:
    """A client token. The message never repeats the value (it is a secret)."""
    if not isinstance(value, str) or TOKEN.fullmatch(value) is None:
        raise ValueError("must be 1-256 visible ASCII characters")
    return value


def client_name(value: Any) -> str:
    if not isinstance(value, str) or not is_client_name(value):
        raise ValueError(f"must be a client name (1-64 letters, digits, '_', '.', '-'), not {shown(value)}")
    return value


def student_ids(max_count: int) -> Check:
    """A list of at most ``max_count`` student IDs, none twice."""

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"must be a list, not {type(value).__name__}")
        if len(value) > max_count:
            raise ValueError(f"must hold at most {max_count} student IDs, not {len(value)}")
        seen: set[str] = set()
        for index, item in enumerate(value):
            try:
                student_id(item)
            except ValueError as exc:
                raise ValueError(f"item {index}: {exc}") from None
            if item in seen:
                raise ValueError(f"student {item} appears twice")
            seen.add(item)
        return tuple(value)

    return _of_identifiers(STUDENT_ID, check)


def bounded_text(max_length: int) -> Check:
    """Text of 1 to ``max_length`` characters, stripped (a reason, a professor's name)."""

    def check(value: Any) -> str:
        stripped = text(value).strip()
        if not 1 <= len(stripped) <= max_length:
            raise ValueError(f"must be 1 to {max_length} characters (not only spaces), not {len(stripped)}")
        return stripped

    return check


def indexes(value: Any) -> tuple[int, ...]:
    """A list of distinct integers >= 0, in increasing order (positions in another list)."""
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"must be a list, not {type(value).__name__}")
    for index, item in enumerate(value):
        non_negative_int(item)
        if index and item <= value[index - 1]:
            raise ValueError(f"must be increasing, one of each: {item} after {value[index - 1]}")
    return tuple(value)


def list_of_one_of(values: tuple[str, ...], min_count: int = 0, max_count: int | None = None) -> Check:
    """A list whose every item is one of the strings ``values`` (a report row's cells), of
    ``min_count`` to ``max_count`` items (None: any number)."""

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"must be a list, not {type(value).__name__}")
        if len(value) < min_count or (max_count is not None and len(value) > max_count):
            raise ValueError(f"must hold {min_count} to {max_count} items, not {len(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or item not in values:
                allowed = ", ".join(map(repr, values))
                raise ValueError(f"item {index} must be one of {allowed}, not {shown(item)}")
        return tuple(value)

    return check


# -- numbers --------------------------------------------------------------------------------


def numbers_between(low: float, high: float, max_count: int) -> Check:
    """A list of 1 to ``max_count`` numbers, each from ``low`` to ``high``, not decreasing."""
    each = number_between(low, high)

    def check(value: Any) -> tuple[float, ...]:
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"must be a list, not {type(value).__name__}")
        if not 1 <= len(value) <= max_count:
            raise ValueError(f"must hold 1 to {max_count} numbers, not {len(value)}")
        numbers = []
        for index, item in enumerate(value):
            try:
                numbers.append(each(item))
            except ValueError as exc:
                raise ValueError(f"item {index}: {exc}") from None
            if index and numbers[index] < numbers[index - 1]:
                raise ValueError(f"item {index}: {numbers[index]:g} is before the item before it")
        return tuple(numbers)

    return check


def non_negative_int(value: Any) -> int:
    """A whole number >= 0 (JSON booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be an integer >= 0, not {shown(value)}")
    return value


def flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {shown(value)}")
    return value


def distance(value: Any) -> float:
    """A face distance: a finite number >= 0 (no unit; 0.6 is the match threshold)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, not {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        raise ValueError("must be finite, not a huge integer") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"must be finite and >= 0, not {shown(value)}")
    if number > FLOAT_MAX:
        raise ValueError(f"must be at most {FLOAT_MAX:.7g} (what the database stores), not {shown(value)}")
    return number


def stored_count(value: Any) -> int:
    """A whole number from 0 to INT_MAX (an INT column): a count the database stores."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT_MAX:
        raise ValueError(f"must be an integer 0-{INT_MAX}, not {shown(value)}")
    return value


def request_id(value: Any, max_request_id: int) -> int:
    """A request ID: 0 to ``max_request_id``. (Not a field check: the frame carries it.)"""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= max_request_id:
        raise ValueError(f"request_id must be an integer 0-{max_request_id}, not {shown(value)}")
    return value


# -- dates ----------------------------------------------------------------------------------


def iso_date(value: Any) -> str:
    try:
        datetime.date.fromisoformat(text(value))
    except ValueError:
        raise ValueError(f"must be a date as YYYY-MM-DD, not {shown(value)}") from None
    return value


def iso_datetime(value: Any) -> str:
    try:
        datetime.datetime.fromisoformat(text(value))
    except ValueError:
        raise ValueError(f"must be an ISO 8601 date and time, not {shown(value)}") from None
    return value


def storable_datetime(value: Any) -> str:
    """An ISO 8601 date and time (an offset allowed) that a DATETIME column holds once turned into
    the server's local time: from 1000-01-02 to 9999-12-30 (STORABLE_DATETIMES)."""
    iso_datetime(value)
    moment = datetime.datetime.fromisoformat(value).replace(tzinfo=None)
    low, high = STORABLE_DATETIMES
    if not low <= moment <= high:
        raise ValueError(f"must be from {low:%Y-%m-%d} to {high:%Y-%m-%d}, not {shown(value)}")
    return value


def plain_date(value: Any) -> str:
    """A date written exactly ``YYYY-MM-DD`` (not the other ISO 8601 forms)."""
    if not isinstance(value, str) or _PLAIN_DATE.fullmatch(value) is None:
        raise ValueError(f"must be a date as YYYY-MM-DD, not {shown(value)}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be a date as YYYY-MM-DD, not {shown(value)}") from None
    return value


# -- images (the frame's blob) --------------------------------------------------------------


def image(value: Any) -> bytes:
    if isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    if not isinstance(value, bytes):
        raise ValueError(f"must be bytes, not {type(value).__name__}")
    if not value:
        raise ValueError("is empty")
    return value


def image_or_empty(value: Any) -> bytes:
    """An image, or no bytes at all (identify_room without a track to encode)."""
    if isinstance(value, (bytes, bytearray, memoryview)) and len(value) == 0:
        return b""
    return image(value)


def image_list(max_count: int) -> Check:
    """1 to ``max_count`` images."""

    def check(value: Any) -> tuple[bytes, ...]:
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"must be a list of images, not {type(value).__name__}")
        if not 1 <= len(value) <= max_count:
            raise ValueError(f"must hold 1 to {max_count} images, not {len(value)}")
        checked = []
        for index, item in enumerate(value):
            try:
                checked.append(image(item))
            except ValueError as exc:
                raise ValueError(f"image {index}: {exc}") from None
        return tuple(checked)

    return check


# -- face encodings -------------------------------------------------------------------------


def pack_encoding(values) -> str:
    """A face encoding (128 numbers) as it travels: base64 of 128 little-endian float32."""
    values = [float(v) for v in values]
    if len(values) != _ENCODING.size // 4:
        raise ValueError(f"an encoding has {_ENCODING.size // 4} numbers, not {len(values)}")
    return base64.b64encode(_ENCODING.pack(*values)).decode("ascii")


def unpack_encoding(text: str) -> tuple[float, ...]:
    """The 128 numbers of a checked encoding (see :func:`pack_encoding`)."""
    return _ENCODING.unpack(base64.b64decode(text, validate=True))


def encoding(value: Any) -> str:
    """One face encoding (:func:`pack_encoding`): 684 base64 characters, 128 finite numbers."""
    if not isinstance(value, str) or len(value) != ENCODING_CHARACTERS:
        raise ValueError(f"must be an encoding: {ENCODING_CHARACTERS} base64 characters")
    try:
        numbers = unpack_encoding(value)
    except ValueError:  # binascii.Error, or not ASCII
        raise ValueError("must be an encoding: not valid base64") from None
    if not all(math.isfinite(number) for number in numbers):
        raise ValueError("must be an encoding: it holds NaN or infinite numbers")
    return value


def encodings(max_count: int) -> Check:
    """A list of at most ``max_count`` face encodings."""

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"must be a list, not {type(value).__name__}")
        if len(value) > max_count:
            raise ValueError(f"must hold at most {max_count} encodings, not {len(value)}")
        checked = []
        for index, item in enumerate(value):
            try:
                checked.append(encoding(item))
            except ValueError as exc:
                raise ValueError(f"item {index}: {exc}") from None
        return tuple(checked)

    return check
