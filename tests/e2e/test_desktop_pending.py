"""Uncertain check-ins end to end (real server, real MariaDB, real photos, real sockets): a roster
of Korean faces, on which dlib's encodings are close together, and two other photos of one of
them. The first photo alone is uncertain, so the check-in screen asks for another try and sends
both photos; still uncertain, the check-in waits in the professor's roll call screen, who
confirms it (a mark with source checkin) or rejects it.

The photos were chosen by measuring (docs/desktop.md): with three photos of each of four people
enrolled, ``bts_suga_11`` alone is 0.38 from Suga's template (threshold 0.33) and both photos
0.32 (threshold 0.29), with RM the second candidate at 0.34. The Korean photos are test data:
they never appear in screenshots or docs.
"""

from __future__ import annotations

import re
import shutil

import pytest
from PyQt5.QtCore import Qt

from client.desktop import checkin_logic as rules
from client.desktop.roster_model import RosterModel
from client.frame_source import SourceSpec
from testkit.databases import fresh_database
from testkit.desktop import main_windows
from testkit.servers import LECTURE, running_server

WAIT = 60_000  # ms
#: The enrolled students: (student ID, name, person folder, enrolment photos).
ROSTER = [
    ("202099001", "jimin", "jimin", ["bts_jimin_01.jpg", "bts_jimin_02.jpg", "bts_jimin_03.jpg"]),
    ("202099002", "lia", "lia", ["itzy_lia_01.jpg", "itzy_lia_02.jpg", "itzy_lia_03.jpg"]),
    ("202099003", "rm", "rm", ["bts_rm_01.jpg", "bts_rm_02.jpg", "bts_rm_03.jpg"]),
    ("202099004", "suga", "suga", ["bts_suga_01.jpg", "bts_suga_02.jpg", "bts_suga_03.jpg"]),
]
SUGA, RM, JIMIN = "202099004", "202099003", "202099001"
#: Two more photos of Suga: the camera of the check-in.
CAMERA = ["suga/bts_suga_11.jpg", "suga/bts_suga_12.jpg"]


@pytest.fixture(scope="module")
def knowns(tmp_path_factory, faces_dir):
    folder = tmp_path_factory.mktemp("korean-knowns")
    for student_id, name, person, photos in ROSTER:
        student = folder / f"{student_id}_{name}"
        student.mkdir()
        for photo in photos:
            shutil.copy(faces_dir / "korean" / person / photo, student / photo)
    return folder


@pytest.fixture(scope="module")
def server(server_db_url, knowns):
    with fresh_database(server_db_url) as url:
        with running_server(url, knowns, workers=1) as running:
            yield running


@pytest.fixture(autouse=True)
def nothing_pending_yet(server):
    for table in ("pending_candidates", "pending_checkins", "mark_history", "attendance", "class_sessions"):
        server.query(f"DELETE FROM {table}")


@pytest.fixture
def make_window(qtbot, tmp_path, server):
    with main_windows(tmp_path, server.token, dwell=0.05, result_hold=0.0) as make:
        yield make


def marks(server) -> dict[str, tuple]:
    rows = server.query("SELECT student_id, status, source FROM attendance")
    return {sid: (status, source) for sid, status, source in rows}


def queue_uncertain_checkin(server, faces_dir) -> int:
    """An uncertain check-in of Suga's two photos, as a classroom PC's second try sends it."""
    with server.client() as client:
        reply = client.checkin(LECTURE, [(faces_dir / "korean" / name).read_bytes() for name in CAMERA])
    assert reply.decision == "uncertain" and reply.pending_id is not None
    return reply.pending_id


def professor(make_window, server, tmp_path):
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", source=None, data_dir=tmp_path / "professor")
    return window, window.rollcall


def test_an_uncertain_check_in_is_tried_again_then_confirmed_by_the_professor(
    qtbot, server, make_window, faces_dir, tmp_path
):
    folder = tmp_path / "camera"
    folder.mkdir()
    for n, name in enumerate(CAMERA):
        shutil.copy(faces_dir / "korean" / name, folder / f"{n}.jpg")
    classroom = make_window(server.port, lecture=LECTURE, source=SourceSpec("images", str(folder), loop=False))
    checkin = classroom.checkin
    qtbot.waitUntil(lambda: len(checkin.outcomes) == 2, timeout=WAIT)
    first, second = checkin.outcomes
    assert first.kind == rules.RETRY and (first.reply.frames, first.reply.pending_id) == (1, None)
    assert second.kind == rules.PENDING and second.reply.frames == 2 and second.reply.pending_id is not None
    assert [c.student_id for c in second.reply.candidates] == [SUGA, RM]
    assert "waits for your professor" in checkin.headline.text()
    # the student is told no candidate's name or ID
    shown = checkin.headline.text() + checkin.name_label.text() + checkin.student_id_label.text()
    assert re.search(rf"\b(suga|rm|{SUGA}|{RM})\b", shown) is None
    assert "waiting for the professor" in checkin.history.item(0).text()
    assert marks(server) == {}

    window, rollcall = professor(make_window, server, tmp_path)
    qtbot.waitUntil(lambda: rollcall.pending_model.rowCount() == 1 and rollcall.model.rowCount() == 4, timeout=WAIT)
    assert rollcall.pending_box.isVisible() and "waiting for you: 1" in rollcall.pending_box.title()
    listed = rollcall.pending_model.index(0, rollcall.pending_model.CANDIDATES).data()
    assert listed.startswith("suga (202099004) 0.3") and "rm (202099003)" in listed
    assert rollcall.pending_model.index(0, rollcall.pending_model.FRAMES).data() == "2"
    # candidates first, then the rest of the roster
    choices = [rollcall.confirm_choice.itemData(n) for n in range(rollcall.confirm_choice.count())]
    assert [c.student_id for c in choices if c is not None] == [SUGA, RM, JIMIN, "202099002"]
    assert rollcall.confirm_choice.currentData().student_id == SUGA

    with qtbot.waitSignal(rollcall.pendingResolved, timeout=WAIT) as resolved:
        qtbot.mouseClick(rollcall.confirm_button, Qt.LeftButton)
    assert (resolved.args[0].resolution, resolved.args[0].student_id) == ("confirmed", SUGA)
    assert marks(server) == {SUGA: ("present", "checkin")}
    row = rollcall.model.find(SUGA)
    qtbot.waitUntil(lambda: rollcall.model.row(row).server_status == "present", timeout=WAIT)
    assert rollcall.model.index(row, RosterModel.SOURCE).data() == "Face check-in"
    qtbot.waitUntil(lambda: rollcall.pending_model.rowCount() == 0, timeout=WAIT)
    assert not rollcall.pending_box.isVisible()
    assert server.query("SELECT resolution, resolved_student_id FROM pending_checkins") == [("confirmed", SUGA)]


def test_the_professor_rejects_an_uncertain_check_in(qtbot, server, make_window, faces_dir, tmp_path):
    pending_id = queue_uncertain_checkin(server, faces_dir)
    window, rollcall = professor(make_window, server, tmp_path)
    qtbot.waitUntil(lambda: rollcall.pending_model.rowCount() == 1, timeout=WAIT)
    with qtbot.waitSignal(rollcall.pendingResolved, timeout=WAIT) as resolved:
        qtbot.mouseClick(rollcall.reject_button, Qt.LeftButton)
    assert (resolved.args[0].pending_id, resolved.args[0].resolution) == (pending_id, "rejected")
    assert marks(server) == {}
    qtbot.waitUntil(lambda: rollcall.pending_model.rowCount() == 0, timeout=WAIT)


def test_confirming_as_a_student_the_server_did_not_name_asks_first(
    qtbot, server, make_window, faces_dir, tmp_path, monkeypatch
):
    queue_uncertain_checkin(server, faces_dir)
    window, rollcall = professor(make_window, server, tmp_path)
    qtbot.waitUntil(lambda: rollcall.pending_model.rowCount() == 1 and rollcall.model.rowCount() == 4, timeout=WAIT)
    rollcall.confirm_choice.setCurrentIndex(rollcall.confirm_choice.findText("jimin", Qt.MatchStartsWith))
    asked = []
    monkeypatch.setattr(rollcall, "ask_confirm_other", lambda name, sid: asked.append((name, sid)) or False)
    rollcall.confirm_pending()
    assert asked == [("jimin", JIMIN)] and rollcall.confirm_button.isEnabled()
    monkeypatch.setattr(rollcall, "ask_confirm_other", lambda name, sid: True)
    with qtbot.waitSignal(rollcall.pendingResolved, timeout=WAIT):
        rollcall.confirm_pending()
    assert marks(server) == {JIMIN: ("present", "checkin")}


def test_a_check_in_decided_on_another_pc_is_said_and_dropped(qtbot, server, make_window, faces_dir, tmp_path):
    pending_id = queue_uncertain_checkin(server, faces_dir)
    window, rollcall = professor(make_window, server, tmp_path)
    qtbot.waitUntil(lambda: rollcall.pending_model.rowCount() == 1, timeout=WAIT)
    with server.client() as client:
        client.resolve_pending(pending_id, None)  # the other PC was quicker
    with qtbot.waitSignal(rollcall.server.failed, timeout=WAIT) as failed:
        qtbot.mouseClick(rollcall.confirm_button, Qt.LeftButton)
    assert failed.args[0] == "not_found"
    assert "decided already" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: rollcall.pending_model.rowCount() == 0, timeout=WAIT)
    assert marks(server) == {}
