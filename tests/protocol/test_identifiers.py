"""Student IDs and lecture codes (protocol/identifiers.py): their form, the university's pattern,
the 2019 formats; and which framed fields carry them (protocol.framed.identifiers_in)."""

from __future__ import annotations

import pytest

from protocol import framed
from protocol.identifiers import (
    LECTURE_CODE,
    STUDENT_ID,
    IdentifierRules,
    check_student_id,
    is_legacy_lecture_code,
    is_legacy_student_id,
    normalize_lecture_code,
)


def test_the_form_accepts_common_university_identifiers_up_to_20_characters():
    for student_id in ("2020123490", "201911001", "A1234567", "2020-12345", "1" * 20):
        assert check_student_id(student_id) == student_id
    for bad in ("", "1" * 21, "2020 1234", "2020_1234", "-2020", "２０２０", None, 2020123490):
        with pytest.raises(ValueError, match="not a student ID"):
            check_student_id(bad)  # type: ignore[arg-type]
    assert normalize_lecture_code("COSE101-02") == "COSE101-02"  # kept as written
    assert normalize_lecture_code("EA0017_1") == "ea0017_1"  # the 2019 format: lower case, as always
    for bad in ("", "C" * 21, "COSE 101", "COSE101/02", "_x"):
        with pytest.raises(ValueError, match="not a lecture code"):
            normalize_lecture_code(bad)


def test_the_default_pattern_is_the_2019_format_and_a_pattern_is_configurable():
    default = IdentifierRules()
    assert default.check_student_id("201911001") == "201911001"
    for outside in ("2020123490", "101911001", "20191100"):
        assert not default.is_student_id(outside)
        with pytest.raises(ValueError, match=r"pattern 2\[0-9\]\{8\}"):
            default.check_student_id(outside)
    assert default.normalize_lecture_code("EA0017_1") == "ea0017_1"
    assert default.problem(LECTURE_CODE, "COSE101-02") is not None

    korea = IdentifierRules(r"20[0-9]{8}", r"[A-Z]{4}[0-9]{3}-[0-9]{2}")
    assert korea.problem(STUDENT_ID, "2020123490") is None
    assert korea.problem(LECTURE_CODE, "COSE101-02") is None
    assert "pattern" in (korea.problem(STUDENT_ID, "201911001") or "")
    assert korea.problem(LECTURE_CODE, "cose101-02") is not None  # the pattern says upper case
    wide = IdentifierRules(r".*", r".*")  # no pattern widens the form
    assert wide.problem(STUDENT_ID, "2020 1234") is not None and wide.problem(LECTURE_CODE, "x" * 21) is not None


@pytest.mark.parametrize("pattern", ["[0-9", "", "(?P<x"])
def test_a_pattern_that_is_not_a_regular_expression_is_refused(pattern):
    with pytest.raises(ValueError, match="student ID pattern"):
        IdentifierRules(student_id_pattern=pattern)


def test_the_2019_formats_stay_fixed():
    assert is_legacy_student_id("201911001") and not is_legacy_student_id("2020123490")
    assert is_legacy_lecture_code("ea0017_1") and not is_legacy_lecture_code("COSE101-02")


def test_identifiers_in_finds_every_student_id_and_lecture_code_of_a_request():
    batch = framed.BatchMarkRequest(
        1, "COSE101-02", "b-1", (framed.BatchMark("2020123490", "present"), framed.BatchMark("201911001", "late"))
    )
    assert framed.identifiers_in(batch) == [
        ("lecture", LECTURE_CODE, "COSE101-02"),
        ("marks: item 0: student_id", STUDENT_ID, "2020123490"),
        ("marks: item 1: student_id", STUDENT_ID, "201911001"),
    ]
    presence = framed.PresenceRequest(1, "COSE101-02", "2027-03-02T09:00", ("2020123490",), 1)
    assert ("student_ids: item 0", STUDENT_ID, "2020123490") in framed.identifiers_in(presence)
    assert framed.identifiers_in(framed.RecognizeRequest(1, b"x", None)) == []  # an optional lecture left out
    assert framed.identifiers_in(framed.PingRequest(1)) == []
