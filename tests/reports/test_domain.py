"""reports/domain.py's pure rules, without a database (tests/db/test_reports.py runs them on one)."""

from __future__ import annotations

import datetime

import pytest

from reports.domain import (
    NOT_ENROLLED,
    UNMARKED,
    LectureReport,
    SessionColumn,
    StudentRow,
    Tally,
    cell_letter,
    check_report_range,
    place_cells,
)

DAY = datetime.date(2024, 3, 4)
NO_TALLY = Tally(0, 0, 0, 0, 0, None)


def test_each_state_has_its_letter():
    assert [cell_letter(s) for s in ("present", "late", "absent", "excused", "left_early")] == list("PLAEO")
    assert cell_letter("not_enrolled") == NOT_ENROLLED == "-"
    assert cell_letter("unmarked") == UNMARKED == ""
    with pytest.raises(KeyError):
        cell_letter("sick")


def test_cells_are_placed_in_session_order_and_missing_ones_stay_unmarked():
    sessions = [SessionColumn(7, DAY, False, NO_TALLY), SessionColumn(3, DAY + datetime.timedelta(2), True, NO_TALLY)]
    cells = place_cells(
        sessions,
        ["201900001", "201900002"],
        [("201900001", 3, "late"), ("201900001", 7, "present"), ("201900002", 7, "not_enrolled")],
    )
    assert cells == {"201900001": ("P", "L"), "201900002": ("-", "")}
    assert place_cells([], ["201900001"], []) == {"201900001": ()}


def test_the_range_and_the_weight_are_checked():
    check_report_range(DAY, DAY, 0)
    check_report_range(None, None, 1)
    with pytest.raises(ValueError, match="after the end date"):
        check_report_range(DAY, DAY - datetime.timedelta(1), 0.5)
    for weight in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            check_report_range(None, None, weight)


def test_the_warning_list_is_lowest_rate_first_without_uncounted_students():
    def row(student_id, rate):
        return StudentRow(student_id, "x", DAY, (), Tally(1, 0, 0, 0, 0, rate))

    report = LectureReport(
        "ea0017_1",
        None,
        None,
        None,
        0.5,
        (),
        (row("201900003", 50.0), row("201900001", 80.0), row("201900002", None), row("201900004", 50.0)),
    )
    assert [s.student_id for s in report.below(75)] == ["201900003", "201900004"]
    assert Tally(2, 1, 3, 4, 1, 40.0).counted == 7


# -- cells changed after their session (issue 15) ------------------------------------------------


def changed_report():
    from reports.domain import LectureReport, SessionColumn, StudentRow

    sessions = (SessionColumn(1, DAY, False, NO_TALLY), SessionColumn(2, DAY + datetime.timedelta(2), False, NO_TALLY))
    students = (
        StudentRow("201900001", "Kim", DAY, ("P", "E"), NO_TALLY, changed_after=(1,)),
        StudentRow("201900002", "Lee", DAY, ("A", "P"), NO_TALLY),
    )
    return LectureReport("ea0017_1", None, None, None, 0.5, sessions, students)


def test_renderings_mark_the_cells_changed_after_their_session_and_say_so():
    import io

    import openpyxl

    from reports.render import COLORS, render

    report = changed_report()
    for fmt, flagged in (("table", "E*"), ("md", "E\\*"), ("csv", "E*")):  # Markdown escapes the *
        text = render(report, fmt).decode("utf-8-sig")
        assert flagged in text and "P*" not in text and "A*" not in text and "P\\*" not in text, fmt
    assert "mark changed after its session" in render(report, "table").decode()
    sheet = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx")))["Attendance"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_col=4)]
    assert values[:2] == [["201900001", "Kim", "P", "E*"], ["201900002", "Lee", "A", "P"]]
    assert sheet.cell(row=2, column=4).fill.fgColor.rgb.endswith(COLORS["E"].lstrip("#"))  # coloured as an E
    unchanged = dataclass_replace_rows(report)
    assert "*" not in render(unchanged, "table").decode()  # no flag: the rendering of before


def dataclass_replace_rows(report):
    import dataclasses

    return dataclasses.replace(
        report, students=tuple(dataclasses.replace(row, changed_after=()) for row in report.students)
    )
