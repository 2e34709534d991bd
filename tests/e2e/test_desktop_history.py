"""The roll-call screen's past sessions and mark history (issue 15) against the real server (in
this process, real sockets, real MariaDB): the date picker opens yesterday's session, a change
needs a reason, the change reaches the server with it, and the student's history shows every
change of the shown session."""

from __future__ import annotations

import datetime as dt

import pytest
from PyQt5.QtCore import QDate, Qt

from client.desktop.history_model import HistoryModel
from client.desktop.roster_model import RosterModel
from testkit.databases import fresh_database
from testkit.desktop import main_windows
from testkit.servers import LECTURE, TEST_CLIENT, running_server

WAIT = 60_000  # ms


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1) as running:
            yield running


@pytest.fixture
def make_window(qtbot, tmp_path, server):
    with main_windows(tmp_path, server.token) as make:
        yield make


def yesterdays_session(server, student: str) -> dt.date:
    """Yesterday's session of LECTURE, closed by the camera that day with ``student`` absent."""
    yesterday = dt.date.today() - dt.timedelta(days=1)
    closed = dt.datetime.combine(yesterday, dt.time(10, 30))
    server.query(
        "INSERT INTO class_sessions (lecture_id, session_date, closed_at)"
        " SELECT lecture_id, %s, %s FROM lectures WHERE code = %s",
        (yesterday, closed, LECTURE),
    )
    (session_id,) = server.query(
        "SELECT session_id FROM class_sessions JOIN lectures USING (lecture_id) WHERE code = %s AND session_date = %s",
        (LECTURE, yesterday),
    )[0]
    server.query(
        "INSERT INTO attendance (session_id, student_id, status, source, marked_at, client_name)"
        " VALUES (%s, %s, 'absent', 'camera', %s, 'cam-1')",
        (session_id, student, closed),
    )
    server.query(
        "INSERT INTO mark_history (session_id, student_id, new_status, source, client_name, changed_at)"
        " VALUES (%s, %s, 'absent', 'camera', 'cam-1', %s)",
        (session_id, student, closed),
    )
    return yesterday


def test_a_past_session_is_opened_changed_with_a_reason_and_its_history_shown(qtbot, server, make_window):
    student = server.student_ids[2]
    yesterday = yesterdays_session(server, student)
    window = make_window(server.port, lecture=LECTURE, screen="rollcall")
    screen = window.rollcall
    model = screen.model
    qtbot.waitUntil(lambda: model.rowCount() == 6 and model.session_date is not None, timeout=WAIT)
    assert not model.past and model.counts().marked == 0  # today's session

    with qtbot.waitSignal(screen.rosterLoaded, timeout=WAIT):
        screen.date_edit.setDate(QDate(yesterday.year, yesterday.month, yesterday.day))
    assert model.past and model.session_date == yesterday.isoformat()
    assert "a past session" in screen.session_label.text()
    assert not screen.pending_box.isVisible()
    row = model.find(student)
    assert model.row(row).status == "absent" and model.index(row, RosterModel.SOURCE).data() == "Camera"

    with qtbot.waitSignal(screen.historyLoaded, timeout=WAIT) as loaded:
        screen.view.setCurrentIndex(model.index(row, RosterModel.STATUS))
    assert loaded.args == [student, yesterday.isoformat()]
    history = screen.history_model
    assert history.rowCount() == 1
    assert history.index(0, HistoryModel.CHANGE).data() == "Absent (new)"
    assert history.index(0, HistoryModel.BY).data() == "cam-1"

    screen.view.setFocus()
    qtbot.keyClick(screen.view, Qt.Key_E)
    assert model.row(row).local_status == "excused"
    assert screen.finish() is None  # no reason: nothing sent
    assert "Say why" in screen.banner.text() and model.counts().changed == 1

    screen.reason_edit.setText("hospital, note seen")
    screen.professor_edit.setText("김교수")
    with qtbot.waitSignal(window.outbox.delivered, timeout=WAIT) as delivered:
        qtbot.mouseClick(screen.finish_button, Qt.LeftButton)
    entry, reply = delivered.args
    assert reply.applied == 1 and entry.session_date == yesterday.isoformat()
    assert server.query(
        "SELECT a.status, a.source, s.session_date FROM attendance a JOIN class_sessions s USING (session_id)"
        " WHERE a.student_id = %s",
        (student,),
    ) == [("excused", "rollcall", yesterday)]  # yesterday's mark changed; nothing made today
    assert server.query(
        "SELECT old_status, new_status, source, client_name, professor, reason FROM mark_history"
        " WHERE student_id = %s ORDER BY history_id",
        (student,),
    ) == [
        (None, "absent", "camera", "cam-1", None, None),
        ("absent", "excused", "rollcall", TEST_CLIENT, "김교수", "hospital, note seen"),
    ]

    # the roster and the history reload: the change, who made it and why
    qtbot.waitUntil(lambda: model.row(row).state == "saved", timeout=WAIT)
    assert screen.view.currentIndex().row() == row + 1  # the roll call moved on to the next student
    with qtbot.waitSignal(screen.historyLoaded, timeout=WAIT):
        screen.view.setCurrentIndex(model.index(row, RosterModel.STATUS))
    assert history.rowCount() == 2
    assert model.row(row).status == "excused"
    assert history.index(1, HistoryModel.CHANGE).data() == "Absent → Excused"
    assert history.index(1, HistoryModel.BY).data() == f"김교수 ({TEST_CLIENT})"
    assert history.index(1, HistoryModel.REASON).data() == "hospital, note seen"
    assert screen.reason_edit.text() == ""

    with qtbot.waitSignal(screen.rosterLoaded, timeout=WAIT):  # back to today: its own, empty session
        qtbot.mouseClick(screen.today_button, Qt.LeftButton)
    assert not model.past and model.row(model.find(student)).status is None
