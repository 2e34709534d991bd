"""Reading registrars' rosters (db/roster_import.py): encodings, XLSX, Korean headers, --columns,
--lecture, the university's identifiers, and errors naming the file, line and column. (The
import into the database: tests/db/test_queries.py, tests/admin/test_cli.py, tests/e2e/test_identifiers.py.)"""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from db.roster_import import (
    RosterFormatError,
    RosterRow,
    check_encoding,
    out_of_reach_of_2019_clients,
    parse_columns,
    read_roster,
)
from protocol.identifiers import IdentifierRules

UNIVERSITY = IdentifierRules(r"[0-9]{10}", r"[A-Z]{4}[0-9]{3}-[0-9]{2}")
KOREAN = "학번,이름,과목코드,학과\n2020123490,김민수,COSE101-02,컴퓨터학과\n2020123491,이서연,COSE101-02,수학과\n"
EXPECTED = [
    RosterRow("COSE101-02", "2020123490", "김민수", 2),
    RosterRow("COSE101-02", "2020123491", "이서연", 3),
]


def write(tmp_path, data: bytes, name: str = "roster.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_korean_headers_in_every_usual_encoding_are_read_without_options(tmp_path, encoding):
    path = write(tmp_path, KOREAN.encode(encoding))
    assert read_roster(path, rules=UNIVERSITY) == EXPECTED


def test_a_named_encoding_is_used_and_a_wrong_one_names_the_line(tmp_path):
    path = write(tmp_path, KOREAN.encode("utf-16"))
    with pytest.raises(RosterFormatError, match="neither UTF-8 nor CP949"):
        read_roster(path, rules=UNIVERSITY)
    assert read_roster(path, rules=UNIVERSITY, encoding="utf-16") == EXPECTED
    cp949 = write(tmp_path, KOREAN.encode("cp949"), "cp949.csv")
    with pytest.raises(RosterFormatError, match=r"cp949.csv:1: not utf-8 text"):
        read_roster(cp949, rules=UNIVERSITY, encoding="utf-8")
    with pytest.raises(ValueError, match="unknown encoding 'klingon'"):
        check_encoding("klingon")


def test_xlsx_with_a_title_row_numbers_for_ids_and_extra_columns(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["2027학년도 1학기 수강생 명단"])
    sheet.append([])
    sheet.append(["No", "학번", "성명", "학수번호", None])
    sheet.append([1, 2020123490, "김민수", "COSE101-02"])
    sheet.append([2, 2020123491.0, "이서연", "COSE101-02"])
    sheet.append([])
    path = tmp_path / "명단.xlsx"
    book.save(path)
    assert read_roster(path, rules=UNIVERSITY) == [
        RosterRow("COSE101-02", "2020123490", "김민수", 4),
        RosterRow("COSE101-02", "2020123491", "이서연", 5),
    ]


def test_a_bad_xlsx_file_is_one_error(tmp_path):
    path = write(tmp_path, b"not a zip", "roster.xlsx")
    with pytest.raises(RosterFormatError, match=r"roster.xlsx:1: not an XLSX workbook"):
        read_roster(path)


def test_columns_are_mapped_by_name_and_lecture_gives_one_class_list(tmp_path):
    path = write(tmp_path, "Hakbun,Full name,Year\n2020123490,김민수,1\n2020123491,이서연,2\n".encode())
    with pytest.raises(RosterFormatError, match="student_id: one of .*학번"):
        read_roster(path, rules=UNIVERSITY, lecture="COSE101-02")
    columns = parse_columns("student_id=hakbun, student_name=FULL NAME")
    assert read_roster(path, rules=UNIVERSITY, columns=columns, lecture="COSE101-02") == EXPECTED
    with pytest.raises(RosterFormatError, match="--lecture: not a lecture code of the pattern"):
        read_roster(path, rules=UNIVERSITY, columns=columns, lecture="cose101")
    with pytest.raises(RosterFormatError, match="not both"):
        read_roster(path, rules=UNIVERSITY, columns={**columns, "lecture_code": "Year"}, lecture="COSE101-02")


@pytest.mark.parametrize(
    "text, problem",
    [
        ("student_id", "FIELD=HEADER"),
        ("student_id=", "FIELD=HEADER"),
        ("grade=학년", "unknown field 'grade'"),
        ("student_id=학번,student_id=번호", "named twice"),
    ],
)
def test_bad_columns_options_say_what_is_wrong(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_columns(text)


@pytest.mark.parametrize(
    "content, line, column, words",
    [
        (KOREAN + "202012349,박지훈,COSE101-02,물리학과\n", 4, "A (학번)", "pattern"),
        (KOREAN + "2020123492,박지훈,COSE10-02,물리학과\n", 4, "C (과목코드)", "pattern"),
        (KOREAN + "2020123492,,COSE101-02,물리학과\n", 4, "B (이름)", "empty"),
        (KOREAN + "2020123492,박지훈\n", 4, None, "expected 4 fields, found 2"),
        ("학번,이름,학번,과목코드\n", 1, None, "columns A .학번. and C .학번. could both be the student_id"),
    ],
)
def test_errors_name_the_file_line_and_column(tmp_path, content, line, column, words):
    path = write(tmp_path, content.encode("cp949"))
    with pytest.raises(RosterFormatError, match=words) as caught:
        read_roster(path, rules=UNIVERSITY)
    where = f"{path}:{line}: " + (f"column {column}: " if column else "")
    assert str(caught.value).startswith(where)
    assert (caught.value.line, caught.value.column) == (line, column)


def test_the_default_rules_are_the_2019_formats_and_the_2019_reach_is_told(tmp_path):
    path = write(tmp_path, KOREAN.encode())
    with pytest.raises(RosterFormatError, match="pattern 2\\[0-9\\]\\{8\\}"):
        read_roster(path)  # 10 digits: not the default pattern
    mixed = IdentifierRules(r"2[0-9]{8,9}", r"[a-z]{2}[0-9]{4}_[0-9]|[A-Z]{4}[0-9]{3}-[0-9]{2}")
    rows = read_roster(write(tmp_path, (KOREAN + "201911001,Obama,EA0017_1,x\n").encode(), "mixed.csv"), rules=mixed)
    assert rows[-1] == RosterRow("ea0017_1", "201911001", "Obama", 4)  # the 2019 format: lower case
    assert out_of_reach_of_2019_clients(rows) == (["COSE101-02"], ["2020123490", "2020123491"])
