"""The Enrol screen against the real server (in this process, real sockets, real MariaDB, real
photos): a new student enrolled from five photos in the five poses; photos of an enrolled
student under another ID refused as "looks like student ...", then enrolled anyway."""

from __future__ import annotations

import os
import shutil

import pytest
from PyQt5.QtCore import Qt

from client.frame_source import SourceSpec
from testkit.databases import fresh_database
from testkit.desktop import main_windows
from testkit.servers import running_server

WAIT = 60_000  # ms
#: One person in the five poses, in the order the screen asks for them (test data, never shown).
FIVE_POSES = ["v/bts_v_23.jpg", "v/bts_v_07.jpg", "v/bts_v_06.jpg", "v/bts_v_17.jpg", "v/bts_v_09.jpg"]


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1) as running:
            yield running


@pytest.fixture
def make_window(qtbot, tmp_path, server):
    with main_windows(tmp_path, server.token, dwell=0.05, enrol=True, screen="enrol") as make:
        yield make


def camera_folder(tmp_path, faces_dir, photos: list[str]):
    folder = tmp_path / "camera"
    folder.mkdir()
    for n, name in enumerate(photos):
        shutil.copy(faces_dir / name, folder / f"{n}{os.path.splitext(name)[1]}")
    return SourceSpec("images", str(folder))


def encodings_of(server, student_id: str) -> int:
    [(count,)] = server.query("SELECT COUNT(*) FROM face_encodings WHERE student_id = %s", (student_id,))
    return count


def test_a_new_student_is_enrolled_from_five_photos(qtbot, server, make_window, tmp_path, faces_dir, caplog):
    window = make_window(server.port, source=camera_folder(tmp_path, faces_dir, [f"korean/{n}" for n in FIVE_POSES]))
    screen = window.enrol
    assert window.tabs.currentWidget() is screen and window.tabs.tabText(window.tabs.currentIndex()) == "Enrol"
    assert not screen.send_button.isEnabled()
    qtbot.waitUntil(screen.model.ready, timeout=WAIT)
    assert [screen.model.step(n).frame is not None for n in range(5)] == [True] * 5
    assert "All photos taken" in screen.instruction.text()
    assert not screen.send_button.isEnabled()  # no student ID yet

    qtbot.keyClicks(screen.student_id_edit, "202012345")
    qtbot.keyClicks(screen.name_edit, "Kim Taehyung")
    assert screen.send_button.isEnabled()
    with qtbot.waitSignal(screen.enrolFinished, timeout=WAIT) as finished:
        qtbot.mouseClick(screen.send_button, Qt.LeftButton)
    reply = finished.args[0]
    assert (reply.stored, reply.total) == (5, 5)
    assert [photo.problem for photo in reply.photos] == [None] * 5
    assert encodings_of(server, "202012345") == 5
    assert server.query("SELECT name FROM students WHERE student_id = '202012345'") == [("Kim Taehyung",)]
    assert "Enrolled 202012345: 5 photos stored" in screen.feedback.text()
    assert "stored ✓" in screen.model.index(0).data()
    # the check-in screen took no frame while the Enrol screen was shown
    assert window.checkin.outcomes == [] and window.capture.handovers == 5

    screen.new_student()
    assert screen.student_id_edit.text() == "" and screen.model.photos() == []


def test_photos_of_an_enrolled_student_under_another_id_are_refused_then_enrolled_anyway(
    qtbot, server, make_window, tmp_path, faces_dir, monkeypatch
):
    """Obama (enrolled as 201911001) straight and turned to his left; the other poses skipped."""
    window = make_window(
        server.port, source=camera_folder(tmp_path, faces_dir, ["probes/obama_720p.jpg", "probes/obama_3.jpg"])
    )
    screen = window.enrol
    qtbot.waitUntil(lambda: screen.model.current() == 2, timeout=WAIT)
    for _ in range(3):  # right, up, down: these photos have none of them
        qtbot.mouseClick(screen.skip_button, Qt.LeftButton)
    assert screen.model.ready() and len(screen.model.photos()) == 2
    qtbot.keyClicks(screen.student_id_edit, "202012347")
    qtbot.keyClicks(screen.name_edit, "Barack Again")

    with qtbot.waitSignal(screen.enrolFinished, timeout=WAIT) as finished:
        qtbot.mouseClick(screen.send_button, Qt.LeftButton)
    reply = finished.args[0]
    assert reply.stored == 0
    assert [(p.problem, p.other_student) for p in reply.photos] == [("like_other_student", "201911001")] * 2
    assert encodings_of(server, "202012347") == 0
    assert "looks like student 201911001" in screen.model.index(0).data()
    assert "skipped" in screen.model.index(2).data()
    assert screen.force_button.isVisible() and "Not enrolled" in screen.feedback.text()

    asked = []
    monkeypatch.setattr(screen, "ask_enrol_anyway", lambda: asked.append(1) or False)
    qtbot.mouseClick(screen.force_button, Qt.LeftButton)  # "No": nothing is sent
    assert asked == [1] and screen.force_button.isVisible()
    monkeypatch.setattr(screen, "ask_enrol_anyway", lambda: asked.append(2) or True)
    with qtbot.waitSignal(screen.enrolFinished, timeout=WAIT) as finished:
        qtbot.mouseClick(screen.force_button, Qt.LeftButton)
    assert asked == [1, 2]
    assert (finished.args[0].stored, finished.args[0].total) == (2, 2)
    assert encodings_of(server, "202012347") == 2
    assert "stored anyway" in screen.model.index(0).data()
    assert not screen.force_button.isVisible()


def test_a_new_student_without_a_name_is_asked_for_it(qtbot, server, make_window, tmp_path, faces_dir):
    window = make_window(server.port, source=camera_folder(tmp_path, faces_dir, ["probes/obama_720p.jpg"]))
    screen = window.enrol
    assert not screen.model.skip(0)  # the straight photo cannot be skipped
    qtbot.waitUntil(lambda: screen.model.current() == 1, timeout=WAIT)
    for _ in range(4):
        screen.skip_current()
    qtbot.keyClicks(screen.student_id_edit, "202012399")
    with qtbot.waitSignal(screen.server.failed, timeout=WAIT) as failed:
        screen.send(force=True)  # past the photo checks: the server needs a name for a new student
    assert failed.args[0] == "not_found"
    assert "enter their name" in screen.feedback.text()
    assert encodings_of(server, "202012399") == 0
