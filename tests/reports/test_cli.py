"""``attendance-report`` run as a real command (``python -m reports``) on the term of
tests/db/test_reports.py: every output format read back cell by cell and compared with the term's
independent computation (``Term.expected_*``)."""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import subprocess
import sys
import unicodedata

import openpyxl
import pytest

from db.connection import connect, transaction
from testkit.paths import REPO
from testkit.report_term import (
    EMPTY_LECTURE,
    LECTURE,
    STUDENTS,
    TITLE,
    png_size,
    rate_text,
    term_database,
)

TOTAL_WORDS = ["present", "late", "absent", "excused", "left_early", "rate_percent"]
TOTAL_LETTERS = ["P", "L", "A", "E", "O", "rate %"]


def attendance_report(*args: str) -> subprocess.CompletedProcess:
    """Run the command; stdout and stderr as bytes (the CSV starts with a BOM)."""
    return subprocess.run(
        [sys.executable, "-m", "reports", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def term_db(server_db_url):
    with term_database(server_db_url) as (url, term):
        yield url.to_url(), term


def compact_header(dates: list[datetime.date]) -> list[str]:
    """Session headers of the text formats: MM-DD when the dates span under a year, else ISO."""
    if (dates[-1] - dates[0]).days < 365:
        return [d.strftime("%m-%d") for d in dates]
    return [d.isoformat() for d in dates]


def expected_rows(term, late_weight=0.5, date_from=None, date_to=None) -> list[list[str]]:
    """The matrix as text cells: ID, name, sessions, P L A E O, rate."""
    cells = term.expected_cells(date_from, date_to)
    tallies = term.expected_tallies(late_weight, date_from, date_to)
    rows = []
    for sid in sorted(STUDENTS):
        t = tallies[sid]
        rows.append(
            [
                sid,
                STUDENTS[sid],
                *cells[sid],
                *map(str, (t.present, t.late, t.absent, t.excused, t.left_early)),
                rate_text(t.rate),
            ]
        )
    return rows


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads 김민수 right
    assert b"\r\n" in data
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def split_text_table(text: str) -> tuple[str, list[str], list[list[str]], list[str]]:
    """(title, header, rows, rest) of the aligned table, cut at the columns of the dashes line.

    Positions count terminal columns: a Hangul character takes two.
    """
    lines = text.splitlines()
    title, header_line, dashes = lines[0], lines[2], lines[3]
    spans = [m.span() for m in re.finditer(r"-+", dashes)]
    starts = [a for a, _ in spans]
    ends = starts[1:] + [10_000]

    def cut(line: str) -> list[str]:
        columns = []
        for ch in line:
            columns.append(ch)
            if unicodedata.east_asian_width(ch) in "WF":
                columns.append("")
        return ["".join(columns[a:b]).strip() for a, b in zip(starts, ends)]

    body = []
    rest_at = 4
    while rest_at < len(lines) and lines[rest_at]:
        body.append(cut(lines[rest_at]))
        rest_at += 1
    return title, cut(header_line), body, lines[rest_at:]


# -- the formats -------------------------------------------------------------------------------


def test_table_is_the_default_and_matches_cell_by_cell(term_db):
    url, term = term_db
    result = attendance_report("--db-url", url, "--lecture", "EA0017_1")  # any case
    assert result.returncode == 0, result.stderr
    title, header, rows, rest = split_text_table(result.stdout.decode("utf-8"))
    assert title == f"{LECTURE} {TITLE}: 13 sessions, 2024-03-04 to {term.today}"
    assert header == ["student_id", "name", *compact_header(term.sessions), *TOTAL_LETTERS]
    assert rows == expected_rows(term)
    assert any("Rate % = (P + 0.5 x (L + O)) / (P + L + O + A)" in line for line in rest)


def test_csv_has_a_bom_iso_dates_and_matches_cell_by_cell(term_db, tmp_path):
    url, term = term_db
    out = tmp_path / "report.csv"
    result = attendance_report("--db-url", url, "--lecture", LECTURE, "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    rows = read_csv(out.read_bytes())
    assert rows[0] == ["student_id", "name", *(d.isoformat() for d in term.sessions), *TOTAL_WORDS]
    assert rows[1:] == expected_rows(term)
    # Without --out the same bytes go to stdout.
    stdout = attendance_report("--db-url", url, "--lecture", LECTURE, "--format", "csv").stdout
    assert stdout == out.read_bytes()


def test_xlsx_reads_back_cell_by_cell(term_db, tmp_path):
    url, term = term_db
    out = tmp_path / "report.xlsx"
    result = attendance_report("--db-url", url, "--lecture", LECTURE, "--format", "xlsx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Attendance", "Sessions"]
    matrix = [list(r) for r in book["Attendance"].iter_rows(values_only=True)]
    assert matrix[0] == ["student_id", "name", *(d.isoformat() for d in term.sessions), *TOTAL_WORDS]
    expected = []
    for row in expected_rows(term):  # numbers are numbers in the sheet; blank cells are empty
        counts = [int(v) for v in row[-6:-1]]
        rate = float(row[-1]) if row[-1] else None
        expected.append([v or None for v in row[:-6]] + counts + [rate])
    assert matrix[1:] == expected

    sessions = [list(r) for r in book["Sessions"].iter_rows(values_only=True)]
    assert sessions[0] == ["date", *TOTAL_WORDS]
    assert sessions[1:] == [
        [d.isoformat(), t.present, t.late, t.absent, t.excused, t.left_early, t.rate]
        for d, t in zip(term.sessions, term.expected_session_tallies())
    ]


def test_markdown_matches_cell_by_cell(term_db):
    url, term = term_db
    result = attendance_report("--db-url", url, "--lecture", LECTURE, "--format", "md")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode("utf-8").splitlines()
    assert lines[0] == f"### {LECTURE} {TITLE}: 13 sessions, 2024-03-04 to {term.today}"
    table = [[c.strip() for c in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    assert table[0] == ["student_id", "name", *compact_header(term.sessions), *TOTAL_LETTERS]
    assert set(table[1][2:]) <= {":-:", "---:"}
    assert table[2:] == expected_rows(term)


# -- options -----------------------------------------------------------------------------------


def test_below_lists_the_students_under_the_rate_lowest_first(term_db):
    url, term = term_db
    tallies = term.expected_tallies()
    expected = sorted((t.rate, sid) for sid, t in tallies.items() if t.rate < 75)
    expected_cells = [
        [sid, STUDENTS[sid], *map(str, (t.present, t.late, t.absent, t.excused, t.left_early)), rate_text(t.rate)]
        for _, sid in expected
        for t in [tallies[sid]]
    ]
    table = attendance_report("--db-url", url, "--lecture", LECTURE, "--below", "75")
    assert table.returncode == 0, table.stderr
    title, header, rows, _ = split_text_table(table.stdout.decode("utf-8"))
    assert title.endswith(": 4 students below 75%")
    assert header == ["student_id", "name", *TOTAL_LETTERS]
    assert rows == expected_cells

    as_csv = attendance_report("--db-url", url, "--lecture", LECTURE, "--below", "75", "--format", "csv")
    assert read_csv(as_csv.stdout) == [["student_id", "name", *TOTAL_WORDS], *expected_cells]

    nobody = attendance_report("--db-url", url, "--lecture", LECTURE, "--below", "10")
    assert nobody.returncode == 0
    assert "no students below 10%" in nobody.stdout.decode("utf-8")


def test_dates_and_late_weight(term_db):
    url, term = term_db
    date_from, date_to = datetime.date(2024, 3, 18), datetime.date(2024, 4, 22)
    result = attendance_report(
        "--db-url",
        url,
        "--lecture",
        LECTURE,
        "--format",
        "csv",
        "--from",
        "2024-03-18",
        "--to",
        "2024-04-22",
        "--late-weight",
        "0.25",
    )
    assert result.returncode == 0, result.stderr
    rows = read_csv(result.stdout)
    assert rows[0][2:-6] == [d.isoformat() for d in term.dates(date_from, date_to)]
    assert rows[1:] == expected_rows(term, 0.25, date_from, date_to)

    table = attendance_report("--db-url", url, "--lecture", LECTURE, "--from", "2024-03-18", "--to", "2024-04-22")
    title, header, rows, _ = split_text_table(table.stdout.decode("utf-8"))
    assert header[2:-6] == ["03-18", "03-25", "04-01", "04-08", "04-15", "04-22"]
    assert rows == expected_rows(term, 0.5, date_from, date_to)


def test_chart_is_a_png_of_the_documented_size(term_db, tmp_path):
    url, _ = term_db
    chart, out = tmp_path / "term.png", tmp_path / "term.md"
    result = attendance_report(
        "--db-url",
        url,
        "--lecture",
        LECTURE,
        "--format",
        "md",
        "--out",
        str(out),
        "--chart",
        str(chart),
        "--below",
        "75",
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("### ")
    assert png_size(chart.read_bytes()) == (2300, 1150)  # 11.5 x 5.75 in at 200 dpi


# -- failures: one clear line, no traceback ----------------------------------------------------


def one_line(result: subprocess.CompletedProcess) -> str:
    text = result.stderr.decode("utf-8")
    assert "Traceback" not in text
    assert text.count("\n") == 1, text
    return text


def test_an_empty_lecture_says_so_and_writes_nothing(term_db, tmp_path):
    url, _ = term_db
    out, chart = tmp_path / "empty.csv", tmp_path / "empty.png"
    result = attendance_report(
        "--db-url", url, "--lecture", EMPTY_LECTURE, "--format", "csv", "--out", str(out), "--chart", str(chart)
    )
    assert result.returncode == 0
    assert one_line(result) == f"attendance-report: {EMPTY_LECTURE}: no sessions; nothing written\n"
    assert not out.exists() and not chart.exists()

    later = attendance_report("--db-url", url, "--lecture", LECTURE, "--from", "2030-01-01")
    assert later.returncode == 0 and later.stdout == b""
    assert "no sessions from 2030-01-01 to the end" in one_line(later)


def test_an_unknown_lecture_is_one_line_and_exit_1(term_db):
    url, _ = term_db
    result = attendance_report("--db-url", url, "--lecture", "zz9999_9")
    assert result.returncode == 1
    assert "no lecture zz9999_9" in one_line(result)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lecture", "ea17 1"], "not a lecture code"),
        (["--lecture", LECTURE, "--from", "2024-13-01"], "not a date"),
        (["--lecture", LECTURE, "--from", "2024-05-01", "--to", "2024-04-01"], "is after"),
        (["--lecture", LECTURE, "--format", "xlsx"], "needs --out"),
        (["--lecture", LECTURE, "--below", "abc"], "must be a number from 0 to 100"),
        (["--lecture", LECTURE, "--late-weight", "2"], "must be a number from 0 to 1"),
    ],
)
def test_a_bad_command_line_is_exit_2(term_db, args, message):
    result = attendance_report("--db-url", term_db[0], *args)
    assert result.returncode == 2
    assert message in result.stderr.decode("utf-8")
    assert "Traceback" not in result.stderr.decode("utf-8")


def test_an_unreachable_database_is_one_line_and_exit_1():
    result = attendance_report("--db-url", "mysql://root:secret@127.0.0.1:1/attendance", "--lecture", LECTURE)
    assert result.returncode == 1
    line = one_line(result)
    assert line.strip() == "attendance-report: cannot connect to MySQL at 127.0.0.1:1: Connection refused"
    assert "secret" not in line


def test_a_database_without_tables_gets_a_hint(server_db_url):
    name = f"attendance_report_bare{os.getpid()}"
    admin = connect(server_db_url, database=False)
    try:
        with transaction(admin) as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        url = server_db_url.with_database(name).to_url()
        no_tables = attendance_report("--db-url", url, "--lecture", LECTURE)
        assert no_tables.returncode == 1
        assert "attendance-db --db-url URL init" in one_line(no_tables)
    finally:
        with transaction(admin) as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
    missing = attendance_report("--db-url", server_db_url.with_database(name).to_url(), "--lecture", LECTURE)
    assert missing.returncode == 1
    assert f"database {name} does not exist" in one_line(missing)
