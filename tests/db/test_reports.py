"""Reports (db/reports.py, reports/domain.py, the views in db/schema.sql, the chart) against a real MariaDB/MySQL.

A term of the sample students is written with plain INSERTs, and what every report should say
is worked out again, in plain Python (testkit/report_term.py, ``Term.expected_*``), from the same
marks. tests/reports/test_cli.py uses the same term for the command line.
"""

from __future__ import annotations

import datetime

import pytest

from db.connection import connect, transaction
from db.reports import build_report
from reports.domain import LectureNotFound
from reports.render import CHART_DPI, render_chart
from testkit.report_term import (
    EMPTY_LECTURE,
    ENROLLED,
    LECTURE,
    OTHER_LECTURE,
    PAST_SESSIONS,
    STATUS,
    STUDENTS,
    TITLE,
    Expected,
    Term,
    png_size,
    tally,
    term_database,
)

LETTER = {status: letter for letter, status in STATUS.items()}

# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def term_db(server_db_url):
    """One database for the whole module: these tests only read it."""
    with term_database(server_db_url) as (url, term):
        yield url, term


@pytest.fixture
def cur(term_db):
    conn = connect(term_db[0])
    with transaction(conn) as cursor:
        yield cursor
    conn.close()


@pytest.fixture
def term(term_db) -> Term:
    return term_db[1]


# -- build_report ------------------------------------------------------------------------------


def check_report(report, term: Term, late_weight=0.5, date_from=None, date_to=None):
    dates = term.dates(date_from, date_to)
    assert [s.date for s in report.sessions] == dates
    assert [s.student_id for s in report.students] == sorted(STUDENTS)  # by student ID
    cells = term.expected_cells(date_from, date_to)
    tallies = term.expected_tallies(late_weight, date_from, date_to)
    for student in report.students:
        assert student.name == STUDENTS[student.student_id]
        assert student.enrolled_on == ENROLLED[student.student_id].date()
        assert list(student.cells) == cells[student.student_id], student.student_id
        assert Expected(**vars(student.tally)) == tallies[student.student_id], student.student_id


def test_report_matches_the_independent_computation(cur, term):
    report = build_report(cur, LECTURE)
    assert (report.lecture_code, report.title, report.late_weight) == (LECTURE, TITLE, 0.5)
    check_report(report, term)
    # A few cells spelled out, so that a reader sees the rules at work:
    by_id = {s.student_id: s for s in report.students}
    assert by_id["201911002"].cells[5] == "A"  # no row in a past session: absent
    assert by_id["201911005"].cells[:6] == ("-", "-", "-", "P", "A", "A")  # enrolled on 03-27
    assert by_id["201911005"].tally.rate == 56.3
    assert by_id["201911005"].cells[-1] == ""  # today's open session, not marked yet
    assert by_id["201911001"].tally.rate == 96.2  # 12 P and 1 L: (12 + 0.5) / 13 = 96.15...%


def test_session_totals_count_the_enrolled_students_of_that_day(cur, term):
    report = build_report(cur, LECTURE)
    expected = term.expected_session_tallies()
    assert [Expected(**vars(s.tally)) for s in report.sessions] == expected
    assert [s.still_open for s in report.sessions] == [False] * 12 + [True]


@pytest.mark.parametrize("late_weight", [0.0, 0.25, 1.0])
def test_the_late_weight_is_configurable(cur, term, late_weight):
    check_report(build_report(cur, LECTURE, late_weight=late_weight), term, late_weight)


def test_dates_filter_the_sessions_inclusively(cur, term):
    date_from, date_to = datetime.date(2024, 3, 18), datetime.date(2024, 4, 22)
    report = build_report(cur, LECTURE, date_from, date_to)
    assert len(report.sessions) == 6  # 03-18 and 04-22 included
    check_report(report, term, date_from=date_from, date_to=date_to)
    only_from = build_report(cur, LECTURE, date_from=datetime.date(2024, 5, 13))
    check_report(only_from, term, date_from=datetime.date(2024, 5, 13))


def test_the_warning_list_is_lowest_rate_first(cur, term):
    report = build_report(cur, LECTURE)
    tallies = term.expected_tallies()
    for percent in (50, 75, 90, 100):
        expected = sorted((t.rate, sid) for sid, t in tallies.items() if t.rate is not None and t.rate < percent)
        assert [(s.tally.rate, s.student_id) for s in report.below(percent)] == expected
    assert [s.student_id for s in report.below(75)] == ["201911004", "201911005", "201911003", "201911002"]


def test_the_other_lectures_marks_do_not_leak(cur):
    report = build_report(cur, OTHER_LECTURE)
    assert [s.student_id for s in report.students] == ["201911001", "201911002"]  # not 201911006
    assert [s.cells for s in report.students] == [("E", "E"), ("E", "E")]
    assert [s.tally.rate for s in report.students] == [None, None]  # excused only: no rate


def test_an_empty_or_unknown_lecture(cur):
    empty = build_report(cur, EMPTY_LECTURE)
    assert empty.sessions == ()
    assert [(s.student_id, s.cells, s.tally.rate) for s in empty.students] == [
        ("201911001", (), None),
        ("201911003", (), None),
    ]
    assert build_report(cur, LECTURE, datetime.date(2030, 1, 1), datetime.date(2030, 2, 1)).sessions == ()
    with pytest.raises(LectureNotFound):
        build_report(cur, "zz9999_9")
    with pytest.raises(ValueError):
        build_report(cur, LECTURE, datetime.date(2024, 5, 1), datetime.date(2024, 4, 1))
    with pytest.raises(ValueError):
        build_report(cur, LECTURE, late_weight=1.5)


# -- the views ---------------------------------------------------------------------------------


def test_the_sessions_view_has_one_row_per_session_and_enrolled_student(cur, term):
    cur.execute(
        "SELECT session_date, student_id, student_name, status, source, counted"
        " FROM attendance_sessions_v WHERE lecture_code = %s ORDER BY session_date, student_id",
        (LECTURE,),
    )
    rows = cur.fetchall()
    expected = []
    for day in term.sessions:
        for sid in sorted(STUDENTS):
            mark = term.mark(sid, day)
            status = {"": "unmarked", "-": "not_enrolled"}.get(term.cell(sid, day)) or STATUS[term.cell(sid, day)]
            counted = int(status in ("present", "late", "left_early", "absent"))
            expected.append((day, sid, STUDENTS[sid], status, mark[1] if mark else None, counted))
    assert [tuple(r) for r in rows] == expected


def test_the_summary_view_has_one_row_per_lecture_and_student(cur, term):
    cur.execute(
        "SELECT lecture_code, student_id, student_name, sessions, present, late, absent, excused,"
        " left_early, attendance_rate FROM attendance_summary_v"
        " WHERE lecture_code IN (%s, %s) ORDER BY lecture_code, student_id",
        (LECTURE, EMPTY_LECTURE),
    )
    rows = [tuple(r) for r in cur.fetchall()]
    expected = []
    for sid, t in sorted(term.expected_tallies().items()):
        applying = t.present + t.late + t.absent + t.excused + t.left_early
        expected.append(
            (LECTURE, sid, STUDENTS[sid], applying, t.present, t.late, t.absent, t.excused, t.left_early, t.rate)
        )
    expected += [(EMPTY_LECTURE, sid, STUDENTS[sid], 0, 0, 0, 0, 0, 0, None) for sid in ("201911001", "201911003")]
    expected.sort()
    assert [r[:9] + (None if r[9] is None else float(r[9]),) for r in rows] == expected


# -- the chart ---------------------------------------------------------------------------------


def test_the_chart_is_a_png_of_the_documented_size(cur, tmp_path):
    report = build_report(cur, LECTURE)
    path = tmp_path / "chart.png"
    render_chart(report, path, below=75)
    # docs/reports.md: 11.5 in wide; 4.5 in + 0.18 in per student rounded up to 0.25 in (min 1 in)
    # high; 200 dpi. Six students: 1.08 -> 1.25 in, so 5.75 in.
    assert CHART_DPI == 200
    assert png_size(path.read_bytes()) == (2300, 1150)


def test_an_empty_report_has_no_chart(cur, tmp_path):
    with pytest.raises(ValueError, match="nothing to draw"):
        render_chart(build_report(cur, EMPTY_LECTURE), tmp_path / "chart.png")


def test_a_dropped_student_keeps_the_marks_and_no_later_session_counts(server_db_url):
    """import-roster --sync sets enrollments.dropped_on: from that day a session without a mark
    is "-" (not counted), in build_report and in both views; the marks before (and a mark after,
    made before the drop) stay."""
    dropper, day = "201911004", PAST_SESSIONS[8]
    with term_database(server_db_url) as (url, term), connect(url) as conn, transaction(conn) as cur:
        cur.execute(
            "UPDATE enrollments e JOIN lectures l USING (lecture_id) SET e.dropped_on = %s"
            " WHERE l.code = %s AND e.student_id = %s",
            (day, LECTURE, dropper),
        )

        def cell(sid, session_day):
            if sid == dropper and session_day >= day and term.mark(sid, session_day) is None:
                return "-"
            return term.cell(sid, session_day)

        report = build_report(cur, LECTURE)
        rows = {row.student_id: row for row in report.students}
        assert rows[dropper].dropped_on == day and all(r.dropped_on is None for s, r in rows.items() if s != dropper)
        expected = [cell(dropper, d) for d in term.sessions]
        assert list(rows[dropper].cells) == expected
        assert expected[:8] == [term.cell(dropper, d) for d in PAST_SESSIONS[:8]]  # the history stays
        assert "-" in expected[8:] and "A" in [term.cell(dropper, d) for d in term.sessions[8:]]  # would be absent
        assert Expected(**vars(rows[dropper].tally)) == tally(expected, 0.5)
        for sid in STUDENTS:
            if sid != dropper:
                assert list(rows[sid].cells) == [term.cell(sid, d) for d in term.sessions]

        cur.execute(
            "SELECT session_date, status, counted FROM attendance_sessions_v"
            " WHERE lecture_code = %s AND student_id = %s ORDER BY session_date",
            (LECTURE, dropper),
        )
        letters = {"not_enrolled": "-", "unmarked": ""}
        assert [letters.get(status) or LETTER[status] for _, status, _ in cur.fetchall()] == expected
        cur.execute(
            "SELECT absent, dropped_on FROM attendance_summary_v WHERE lecture_code = %s AND student_id = %s",
            (LECTURE, dropper),
        )
        assert cur.fetchone() == (expected.count("A"), day)
