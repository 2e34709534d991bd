"""The desktop app's Report tab: the table model alone (qtmodeltester, cells, colors, the warning
list), then the whole window against the real server with a generated term: the table equals
build_report's report, the chart is shown, the saved CSV equals ``render(report, "csv")``;
unknown lecture, no sessions, unreachable or silent server.

Qt runs offscreen; the report request and the chart drawing run on the screen's worker thread,
so the tests wait with qtbot while the GUI event loop keeps running.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import socket
import struct
import time

import pytest
from PyQt5.QtCore import QDate, Qt, QTimer
from PyQt5.QtGui import QColor

from client.desktop.report_model import ChangedAfterRole, ReportModel, ValueRole, WarningRole
from client.desktop.report_view import SCREEN_DPI, ReportScreen, chart_png
from reports.domain import LectureReport, SessionColumn, StudentRow, Tally
from reports.render import COLORS, render
from testkit.databases import fresh_database
from testkit.desktop import main_windows
from testkit.generated_term import generate_term, report_from_db
from testkit.servers import LECTURE, SMALL_LECTURE, running_server

WAIT = 60_000  # ms: generous for a slow CI machine; a report takes well under a second here
D = datetime.date


def sample_report(late_weight: float = 0.5) -> LectureReport:
    return LectureReport(
        lecture_code="ea0017_1",
        title="Data Structures",
        date_from=None,
        date_to=None,
        late_weight=late_weight,
        sessions=(
            SessionColumn(1, D(2024, 3, 4), False, Tally(2, 1, 1, 0, 0, 62.5)),
            SessionColumn(2, D(2024, 3, 11), False, Tally(1, 0, 2, 1, 0, 33.3)),
            SessionColumn(3, D(2024, 3, 18), True, Tally(1, 0, 0, 0, 1, 75.0)),
        ),
        students=(
            StudentRow("201911001", "Barack Obama", D(2024, 2, 26), ("P", "P", "P"), Tally(3, 0, 0, 0, 0, 100.0)),
            StudentRow("201911002", "Joe Biden", D(2024, 2, 26), ("L", "A", "O"), Tally(0, 1, 1, 0, 1, 33.3)),
            StudentRow("201911003", "김민수", D(2024, 2, 26), ("P", "E", ""), Tally(1, 0, 0, 1, 0, 100.0)),
            StudentRow("201911004", "Kit Harington", D(2024, 3, 5), ("A", "A", ""), Tally(0, 0, 2, 0, 0, 0.0)),
            StudentRow("201911005", "Rose Leslie", D(2024, 3, 20), ("-", "-", ""), Tally(0, 0, 0, 0, 0, None)),
        ),
    )


# -- the model alone ------------------------------------------------------------------------------


def test_qt_model_rules_empty_then_changing(qtmodeltester, qapp):
    """One tester watches every change (resets, dataChanged) of a model that starts empty."""
    model = ReportModel()
    qtmodeltester.check(model, force_py=True)
    model.set_report(sample_report(), below=75)
    model.set_below(20)
    model.set_below(None)
    model.set_report(LectureReport("cs0001_1", None, None, None, 0.5, (), ()))  # nothing at all
    model.set_report(sample_report())
    model.clear()


def test_qt_model_rules_loaded(qtmodeltester, qapp):
    model = ReportModel()
    model.set_report(sample_report(), below=75)
    qtmodeltester.check(model, force_py=True)
    model.set_below(40)


def test_qt_model_rules_students_without_sessions(qtmodeltester, qapp):
    report = sample_report()
    students = tuple(
        StudentRow(s.student_id, s.name, s.enrolled_on, (), Tally(0, 0, 0, 0, 0, None)) for s in report.students
    )
    model = ReportModel()
    model.set_report(LectureReport("ea0017_1", None, None, None, 0.5, (), students), below=75)
    qtmodeltester.check(model, force_py=True)
    assert model.columnCount() == 2 + 5 + 1


def test_model_cells_totals_rate_and_colors(qapp):
    model = ReportModel()
    report = sample_report()
    model.set_report(report, below=75)
    assert (model.rowCount(), model.columnCount()) == (5, 2 + 3 + 5 + 1)
    headers = [model.headerData(c, Qt.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Student ID", "Name", "03-04", "03-11", "03-18", "P", "L", "A", "E", "O", "Rate %"]
    assert "open" in model.headerData(4, Qt.Horizontal, Qt.ToolTipRole)
    rows = [[model.index(r, c).data() for c in range(model.columnCount())] for r in range(5)]
    assert rows[1] == ["201911002", "Joe Biden", "L", "A", "O", "0", "1", "1", "0", "1", "33.3"]
    assert rows[4] == ["201911005", "Rose Leslie", "-", "-", "", "0", "0", "0", "0", "0", ""]
    for r, student in enumerate(report.students):
        assert tuple(model.index(r, 2 + c).data() for c in range(3)) == student.cells
        assert model.index(r, model.rate_column).data(ValueRole) == student.tally.rate
        for c, letter in enumerate(student.cells):
            brush = model.index(r, 2 + c).data(Qt.BackgroundRole)
            if letter:
                assert brush.color() == QColor(COLORS[letter])  # the chart's colors
            else:
                assert brush is None
    assert "Absent" in model.index(3, 2).data(Qt.ToolTipRole)
    assert "Not enrolled yet" in model.index(4, 2).data(Qt.ToolTipRole)


def test_model_highlights_the_warning_list(qapp):
    model = ReportModel()
    model.set_report(sample_report(), below=75)
    warned = [model.index(r, 0).data(WarningRole) for r in range(5)]
    assert warned == [False, True, False, True, False]  # no rate: never listed
    assert [s.student_id for s in model.warning_list()] == ["201911004", "201911002"]  # lowest first
    assert model.index(1, model.rate_column).data(Qt.FontRole).bold()
    changed = []
    model.dataChanged.connect(lambda *args: changed.append(args))
    model.set_below(10)
    assert [model.index(r, 0).data(WarningRole) for r in range(5)] == [False, False, False, True, False]
    assert changed
    model.set_below(None)
    assert not any(model.index(r, 0).data(WarningRole) for r in range(5))


def test_a_name_in_a_tooltip_is_plain_text(qapp):
    report = sample_report()
    hostile = dataclasses.replace(report.students[0], name="<img src=x onerror=alert(1)>")
    model = ReportModel()
    model.set_report(dataclasses.replace(report, students=(hostile,)))
    tooltip = model.index(0, 2).data(Qt.ToolTipRole)
    assert "<img" not in tooltip and "&lt;img src=x onerror=alert(1)&gt;" in tooltip


def test_a_cell_changed_after_its_session_is_flagged_as_in_the_exports(qapp):
    report = sample_report()
    changed = dataclasses.replace(report.students[1], changed_after=(1,))
    report = dataclasses.replace(report, students=(report.students[0], changed, *report.students[2:]))
    model = ReportModel()
    model.set_report(report)
    assert [model.index(1, 2 + c).data() for c in range(3)] == ["L", "A*", "O"]
    assert [model.index(1, 2 + c).data(ValueRole) for c in range(3)] == ["L", "A", "O"]
    assert [model.index(1, 2 + c).data(ChangedAfterRole) for c in range(3)] == [False, True, False]
    assert not any(model.index(0, 2 + c).data(ChangedAfterRole) for c in range(3))
    assert "changed after its session" in model.index(1, 3).data(Qt.ToolTipRole)
    assert "changed after" not in model.index(1, 2).data(Qt.ToolTipRole)
    screen = ReportScreen(host="127.0.0.1", port=1, lecture=lambda: "ea0017_1")
    try:
        assert "*: mark changed after its session." in screen._legend(report)
        assert "changed after" not in screen._legend(sample_report())
    finally:
        screen.shutdown()


def test_headers_are_full_dates_when_the_sessions_span_a_year(qapp):
    report = sample_report()
    late = SessionColumn(9, D(2025, 3, 18), False, Tally(0, 0, 0, 0, 0, None))
    students = tuple(StudentRow(s.student_id, s.name, s.enrolled_on, (*s.cells, "A"), s.tally) for s in report.students)
    model = ReportModel()
    model.set_report(LectureReport("ea0017_1", None, None, None, 0.5, (*report.sessions, late), students))
    assert model.headerData(2, Qt.Horizontal) == "2024-03-04"
    assert model.headerData(5, Qt.Horizontal) == "2025-03-18"


def test_chart_png_at_screen_resolution():
    data = chart_png(sample_report(), below=75)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == round(11.5 * SCREEN_DPI) and height > 400


# -- the window against the real server ---------------------------------------------------------


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1) as running:
            generate_term(url, LECTURE)
            yield running


@pytest.fixture
def make_window(qtbot, tmp_path, server):
    with main_windows(tmp_path, server.token, size=(1200, 800)) as make:
        yield make


def open_report(qtbot, window):
    screen = window.report
    with qtbot.waitSignal(screen.reportShown, timeout=WAIT):
        window.tabs.setCurrentWidget(screen)
    return screen


def table(model: ReportModel) -> list[list]:
    return [[model.index(r, c).data(ValueRole) for c in range(model.columnCount())] for r in range(model.rowCount())]


def expected_table(report: LectureReport) -> list[list]:
    return [
        [
            s.student_id,
            s.name,
            *s.cells,
            s.tally.present,
            s.tally.late,
            s.tally.absent,
            s.tally.excused,
            s.tally.left_early,
            s.tally.rate,
        ]
        for s in report.students
    ]


def test_report_tab_shows_build_reports_table_chart_and_warning_list(qtbot, server, make_window):
    window = make_window(server.port, lecture=LECTURE)
    assert window.tabs.tabText(window.tabs.indexOf(window.report)) == "Report"
    screen = open_report(qtbot, window)
    expected = report_from_db(server.db_url, LECTURE)
    model = screen.model
    assert model.report == expected
    assert table(model) == expected_table(expected)
    assert [model.index(r, 2 + c).data() for r in range(model.rowCount()) for c in range(len(expected.sessions))] == [
        c for s in expected.students for c in s.cells
    ]
    assert model.headerData(2, Qt.Horizontal) == expected.sessions[0].date.isoformat()  # spans years
    assert f"{len(expected.sessions)} sessions" in screen.title_label.text()
    assert not screen.banner.isVisible()
    assert screen.save_button.isEnabled()

    qtbot.waitUntil(screen.chart.has_chart, timeout=WAIT)
    assert not screen.chart.label.pixmap().isNull()
    assert screen.chart.label.pixmap().width() <= screen.chart.viewport().width()

    low = expected.below(75)
    assert low, "the generated term should have students below 75 %"
    assert screen.warning_label.text().startswith(f"Students below 75 %: {len(low)} — {low[0].student_id}")
    highlighted = [model.index(r, 0).data(WarningRole) for r in range(model.rowCount())]
    assert [s.student_id for s, h in zip(expected.students, highlighted) if h] == sorted(s.student_id for s in low)
    assert window.connection_state == "connected"


def test_saved_csv_and_xlsx_are_the_reports(qtbot, server, make_window, tmp_path, monkeypatch):
    window = make_window(server.port, lecture=LECTURE)
    screen = open_report(qtbot, window)
    expected = report_from_db(server.db_url, LECTURE)

    monkeypatch.setattr(screen, "ask_save_path", lambda suggested: str(tmp_path / "term"))
    qtbot.mouseClick(screen.save_button, Qt.LeftButton)
    assert (tmp_path / "term.csv").read_bytes() == render(expected, "csv")  # .csv added

    assert screen.save(tmp_path / "term.xlsx") == tmp_path / "term.xlsx"
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(io.BytesIO((tmp_path / "term.xlsx").read_bytes()))
    assert book.sheetnames == ["Attendance", "Sessions"]
    assert book["Attendance"].max_row == len(expected.students) + 1

    assert screen.save(tmp_path / "missing-folder" / "x.csv") is None
    assert "Cannot save" in screen.banner.text() and screen.banner.isVisible()


def test_date_range_late_weight_and_warning_percentage(qtbot, server, make_window):
    window = make_window(server.port, lecture=LECTURE)
    screen = open_report(qtbot, window)
    qtbot.waitUntil(lambda: screen.chart_drawings_shown == 1, timeout=WAIT)

    with qtbot.waitSignal(screen.reportShown, timeout=WAIT):
        screen.from_edit.setDate(QDate(2024, 3, 18))
        screen.to_edit.setDate(QDate(2024, 4, 22))
        screen.from_check.setChecked(True)
        screen.to_check.setChecked(True)
        screen.weight_spin.setValue(0.25)
        screen.refresh()  # or wait for the half-second pause after the last change
    expected = report_from_db(
        server.db_url, LECTURE, date_from=D(2024, 3, 18), date_to=D(2024, 4, 22), late_weight=0.25
    )
    assert screen.model.report == expected
    assert table(screen.model) == expected_table(expected)
    assert [s.date for s in expected.sessions] == [D(2024, 3, 18) + datetime.timedelta(weeks=k) for k in range(6)]
    assert "0.25 × (L + O)" in screen.legend_label.text()

    qtbot.waitUntil(lambda: screen.chart_drawings_shown == 2, timeout=WAIT)
    screen.below_spin.setValue(100)
    qtbot.waitUntil(lambda: screen.chart_drawings_shown == 3, timeout=WAIT)  # the line at 100 %
    low = expected.below(100)
    assert sum(bool(screen.model.index(r, 0).data(WarningRole)) for r in range(screen.model.rowCount())) == len(low)

    screen.from_edit.setDate(QDate(2024, 5, 1))  # after the end date: not sent
    screen.refresh()
    assert screen.banner.isVisible() and "start date is after the end date" in screen.banner.text()
    assert screen.model.report == expected


def test_lecture_without_sessions_unknown_lecture_and_switching(qtbot, server, make_window):
    window = make_window(server.port, lecture=SMALL_LECTURE)
    screen = open_report(qtbot, window)
    assert screen.model.rowCount() == 3 and screen.model.session_count == 0
    assert screen.banner.isVisible() and "cs0001_1 has no sessions yet." in screen.banner.text()
    assert not screen.save_button.isEnabled() and not screen.chart.has_chart()

    with qtbot.waitSignal(screen.server.failed, timeout=WAIT):
        window.set_lecture("zz9999_9")
    assert "There is no lecture zz9999_9 on the server" in screen.banner.text()
    assert screen.model.rowCount() == 0 and not screen.save_button.isEnabled()
    assert window.connection_state == "connected"  # the server answered

    with qtbot.waitSignal(screen.reportShown, timeout=WAIT):
        window.set_lecture(LECTURE)
    assert not screen.banner.isVisible()
    assert screen.model.report == report_from_db(server.db_url, LECTURE)


def test_unreachable_server_is_reported(qtbot, make_window):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once closed
    window = make_window(port, lecture=LECTURE)
    screen = window.report
    with qtbot.waitSignal(screen.server.failed, timeout=WAIT):
        window.tabs.setCurrentWidget(screen)
    assert f"Cannot reach the attendance server at 127.0.0.1:{port}" in screen.banner.text()
    assert screen.model.rowCount() == 0
    assert window.connection_state == "unreachable"


def test_gui_stays_responsive_while_the_server_does_not_answer(qtbot, make_window):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections are accepted; nobody ever answers
        window = make_window(silent.getsockname()[1], lecture=LECTURE)
        screen = window.report
        ticks = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(20)
        window.tabs.setCurrentWidget(screen)
        qtbot.wait(1500)
        timer.stop()
        assert screen.server.pool.activeThreadCount() == 1  # the request waits on the screen's own thread
        assert "Loading the report of ea0017_1" in screen.title_label.text()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        assert len(ticks) > 40 and max(gaps) < 0.25
        started = time.monotonic()
        window.shutdown()
        assert time.monotonic() - started < 3
