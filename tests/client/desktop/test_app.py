"""The desktop app without a server: command line, remembered settings, translations, the
capture worker (bursts of frames of one face, enrolment stills)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PyQt5.QtCore import QCoreApplication, QSettings, Qt, QTranslator
from PyQt5.QtWidgets import QLabel, QMessageBox

from client.desktop import checkin_logic as rules
from client.desktop import mark_queue
from client.desktop import settings as prefs_store
from client.desktop.app import (
    I18N_DIR,
    ConnectionDialog,
    MainWindow,
    Options,
    already_running_text,
    install_translators,
    is_loopback,
    options_from_args,
    parse_args,
)
from client.desktop.app import main as app_main
from client.desktop.checkin_logic import FRAMES_PER_TRY, Outcome, overlap
from client.desktop.mark_queue import QueueLocked
from client.desktop.plain_text import plain_tooltip, question_box
from client.desktop.workers import CaptureWorker
from client.frame_source import SourceSpec
from client.qt_worker import WorkerThread
from protocol import framed
from testkit.paths import REPO
from testkit.tls import make_certificates

TS_FILE = I18N_DIR / "attendance_ko.ts"
QM_FILE = I18N_DIR / "attendance_ko.qm"
#: The classroom camera screen lives in client/watch/ but is a tab of the same app.
WATCH_SCREEN = I18N_DIR.parent.parent / "watch" / "qt_screen.py"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- command line ---------------------------------------------------------------------------------


def test_default_source_is_the_first_camera():
    options = options_from_args(parse_args([]))
    assert (options.source.kind, options.source.value) == ("camera", 0)
    assert options.server is None and options.lecture is None and options.screen == "checkin"


def test_sources_and_options(tmp_path):
    options = options_from_args(
        parse_args(
            ["--images", str(tmp_path), "--once", "--lecture", "EA0017_1", "--server", "127.0.0.1:9100", "--rollcall"]
        )
    )
    assert (options.source.kind, options.source.value, options.source.loop) == ("images", str(tmp_path), False)
    assert options.lecture == "ea0017_1" and options.server == "127.0.0.1:9100"
    assert options.screen == "rollcall" and not options.enrol
    enrol = options_from_args(parse_args(["--enrol"]))
    assert enrol.screen == "enrol" and enrol.enrol
    assert options_from_args(parse_args(["--video", "clip.mp4"])).source.kind == "video"
    assert options_from_args(parse_args(["--camera", "2"])).source.value == 2
    assert options_from_args(parse_args(["--no-camera"])).source is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--camera", "0", "--video", "x.mp4"],
        ["--server", "host:99999"],
        ["--lecture", "ea0017 1"],
        ["--rollcall", "--enrol"],
    ],
)
def test_bad_command_lines_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2


def test_python_dash_m_client_is_the_desktop_app():
    result = subprocess.run(
        [sys.executable, "-m", "client", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "attendance-desktop" in result.stdout and "--images" in result.stdout


# -- settings -------------------------------------------------------------------------------------


def test_data_dir_and_settings_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(prefs_store.DATA_ENV, str(tmp_path / "data"))
    assert prefs_store.data_dir() == tmp_path / "data" and (tmp_path / "data").is_dir()
    settings = prefs_store.open_settings()
    assert Path(settings.fileName()) == tmp_path / "data" / "settings.ini"


def test_preferences_round_trip_and_bad_values(tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    assert prefs_store.load(settings) == prefs_store.Preferences()
    prefs = prefs_store.Preferences(host="127.0.0.1", port=9100, lecture="cs0001_1")
    prefs_store.save(settings, prefs)
    assert prefs_store.load(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)) == prefs
    settings.setValue("server/port", "not a port")
    assert prefs_store.load(settings).port == prefs_store.DEFAULT_PORT


@pytest.fixture
def window_factory(qtbot, tmp_path):
    windows = []

    def make(**options):
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        window = MainWindow(
            Options(data_dir=tmp_path / "data", retry_interval=60, status_interval=600, **options), settings
        )
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.deleteLater()


def test_connection_and_lecture_are_remembered(window_factory):
    port = closed_port()
    first = window_factory()
    assert (first.host, first.port) == ("127.0.0.1", 9009)
    first.set_server("127.0.0.1", port)
    first.set_lecture("CS0001_1")
    first.close()
    second = window_factory()
    assert (second.host, second.port) == ("127.0.0.1", port)
    assert second.lecture() == "cs0001_1" and second.lecture_edit.text() == "cs0001_1"
    second.close()  # one app per data folder
    third = window_factory(server=f"127.0.0.1:{closed_port()}", lecture="ea0017_1")  # for this run only
    assert third.port != port and third.lecture() == "ea0017_1"
    third.close()
    assert window_factory().port == port


def test_the_token_is_kept_in_a_file_only_the_user_can_read(tmp_path, window_factory):
    window = window_factory()
    window.set_server("127.0.0.1", closed_port(), "secret-token-of-this-pc")
    token_file = tmp_path / "settings.token"
    assert token_file.read_text(encoding="utf-8").strip() == "secret-token-of-this-pc"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert "secret-token-of-this-pc" not in (tmp_path / "settings.ini").read_text(encoding="utf-8")
    window.close()
    assert window_factory().token == "secret-token-of-this-pc"


def test_a_token_an_earlier_version_left_in_the_settings_file_is_moved(tmp_path):
    ini = tmp_path / "old.ini"
    ini.write_text("[server]\nhost=127.0.0.1\nport=9100\ntoken=old-token-in-clear\n", encoding="utf-8")
    ini.chmod(0o644)
    settings = QSettings(str(ini), QSettings.IniFormat)
    assert prefs_store.load(settings).token == "old-token-in-clear"
    assert "old-token-in-clear" not in ini.read_text(encoding="utf-8")
    assert stat.S_IMODE((tmp_path / "old.token").stat().st_mode) == 0o600
    (tmp_path / "old.token").chmod(0o644)  # made readable by a copy or a hand edit
    assert prefs_store.load(settings).token == "old-token-in-clear"
    assert stat.S_IMODE((tmp_path / "old.token").stat().st_mode) == 0o600
    prefs_store.save(settings, prefs_store.Preferences(token=""))
    assert not (tmp_path / "old.token").exists()


def test_tls_choice_and_ca_file_are_remembered(tmp_path, window_factory):
    files = make_certificates(tmp_path / "tls")
    window = window_factory()
    assert window.ssl_context is None
    window.set_server("127.0.0.1", closed_port(), tls=True, cafile=str(files.ca_cert))
    assert isinstance(window.ssl_context, ssl.SSLContext) and window.ssl_context.verify_mode == ssl.CERT_REQUIRED
    window.close()
    again = window_factory()
    assert (again.tls, again.cafile) == (True, str(files.ca_cert))
    assert again.ssl_context is not None and again.checkin.server.connection.ssl_context is again.ssl_context
    assert again.rollcall.server.connection.ssl_context is again.ssl_context
    assert again.watch.connection.ssl_context is again.ssl_context
    again.close()
    plain = window_factory(tls=False)  # for this run only
    assert plain.ssl_context is None


def test_an_unencrypted_connection_to_another_machine_is_said(tmp_path, window_factory):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("10.20.30.40") and not is_loopback("attendance.example.ac.kr")
    window = window_factory()
    assert "not encrypted" not in window.connection_label.text()  # 127.0.0.1: nothing crosses a network
    window.host = "10.20.30.40"  # what set_server sets (without connecting to it here)
    window._show_connection("unknown", "10.20.30.40:9009")
    assert "not encrypted" in window.connection_label.text() and "in clear" in window.connection_label.toolTip()
    window.ssl_context = ssl.create_default_context()
    window._show_connection("unknown", "10.20.30.40:9009")
    assert "not encrypted" not in window.connection_label.text()


def test_the_connection_dialog_has_tls_and_refuses_an_unreadable_ca_file(qtbot, tmp_path):
    files = make_certificates(tmp_path / "tls")
    dialog = ConnectionDialog("10.0.0.5", 9009, "tok", tls=False)
    qtbot.addWidget(dialog)
    assert dialog.tls_values() == (False, "") and not dialog.cafile_edit.isEnabled()
    dialog.tls_check.setChecked(True)
    assert dialog.cafile_edit.isEnabled() and dialog.tls_values() == (True, "") and dialog.problem() is None
    dialog.cafile_edit.setText(str(tmp_path / "missing.pem"))
    assert "missing.pem" in dialog.problem()
    (tmp_path / "junk.pem").write_text("not a certificate")
    dialog.cafile_edit.setText(str(tmp_path / "junk.pem"))
    assert dialog.problem() is not None
    dialog.cafile_edit.setText(str(files.ca_cert))
    assert dialog.problem() is None and dialog.tls_values() == (True, str(files.ca_cert))
    assert dialog.values() == ("10.0.0.5", 9009, "tok")


def test_tls_options_on_the_command_line(tmp_path, capsys):
    files = make_certificates(tmp_path / "tls")
    assert options_from_args(parse_args(["--tls"])).tls is True
    options = options_from_args(parse_args(["--cafile", str(files.ca_cert)]))
    assert (options.tls, options.cafile) == (True, files.ca_cert)
    assert options_from_args(parse_args([])).tls is None  # the remembered choice
    with pytest.raises(SystemExit):
        parse_args(["--cafile", str(tmp_path / "missing.pem")])
    assert "--cafile" in capsys.readouterr().err


# -- one app per data folder, a damaged queue ---------------------------------------------------


def test_a_second_app_on_the_same_data_folder_is_refused_and_says_so(qapp, tmp_path, window_factory, monkeypatch):
    first = window_factory()
    with pytest.raises(QueueLocked) as refused:
        window_factory()
    text = already_running_text(refused.value)
    assert str(tmp_path / "data") in text and f"process {os.getpid()}" in text and "already running" in text

    shown = []
    monkeypatch.setenv(prefs_store.DATA_ENV, str(tmp_path / "data"))
    monkeypatch.setattr(QMessageBox, "exec_", lambda box: shown.append(box.text()))  # not modal in a test
    assert app_main(["--no-camera"]) == 1
    assert shown and "already running" in shown[0]
    first.close()
    window_factory()  # the folder is free again


def test_a_damaged_queue_is_salvaged_and_the_user_told_how_many_were_kept(qtbot, tmp_path, window_factory):
    data = tmp_path / "data"
    entries = [mark_queue.batch_entry("ea0017_1", [(str(201911001 + n), "absent")]) for n in range(3)]
    with mark_queue.MarkQueue(data) as queue:
        for entry in entries:
            queue.add(entry)
    journal = data / mark_queue.JOURNAL_FILE
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0] + b"garbage\n" + lines[2])
    window = window_factory()
    qtbot.waitUntil(lambda: window.salvage_box is not None, timeout=10_000)
    text = window.salvage_box.text()
    assert "Kept: 2" in text and "Could not be read: 1" in text and ".damaged-" in text
    assert window.salvage_box.isVisible()
    qtbot.waitUntil(lambda: [e.id for e in window.pending_entries] == [entries[0].id, entries[2].id], timeout=10_000)


HTML_NAME = '<img src="x.png"><b>Kim</b> <a href="http://evil.example">link</a>'


def test_names_are_shown_as_plain_text_never_as_rich_text(qtbot, window_factory):
    window = window_factory(lecture="ea0017_1")
    labels = window.findChildren(QLabel)
    assert labels and all(label.textFormat() == Qt.PlainText for label in labels)
    reply = framed.CheckinResponse(
        1, "ea0017_1", "accepted", "201911001", HTML_NAME, 0.31, 0.5, (), 4, "present", False, None
    )
    window.checkin._show_outcome(Outcome(rules.ACCEPTED, reply))
    assert window.checkin.name_label.text() == HTML_NAME
    assert HTML_NAME in window.checkin.headline.text()
    for label in (window.checkin.name_label, window.checkin.headline):
        assert label.textFormat() == Qt.PlainText
    box = question_box(window, "t", f"Confirm {HTML_NAME}?")
    assert box.textFormat() == Qt.PlainText
    tooltip = plain_tooltip(HTML_NAME)
    assert "<img" not in tooltip and "&lt;img" in tooltip


def test_a_bad_lecture_code_is_not_taken(window_factory):
    window = window_factory(lecture="ea0017_1")
    window.set_lecture("ea0017'; DROP TABLE x")
    assert window.lecture() == "ea0017_1"
    assert "not a lecture code" in window.statusBar().currentMessage()


def test_without_a_lecture_the_screens_say_what_to_do(qtbot, window_factory):
    window = window_factory(server=f"127.0.0.1:{closed_port()}")
    window.show()
    assert window.lecture() == ""
    assert not window.rollcall.banner.isHidden() and "lecture code" in window.rollcall.banner.text()
    assert "--images" in window.checkin.video.text()  # no video source given


# -- translations ---------------------------------------------------------------------------------


def _ts_messages(path: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(path).getroot()
    return {
        (context.find("name").text, message.find("source").text): message.find("translation")
        for context in root.findall("context")
        for message in context.findall("message")
    }


def test_korean_translation_is_complete():
    messages = _ts_messages(TS_FILE)
    assert len(messages) > 100
    unfinished = [key for key, tr in messages.items() if tr.get("type") in ("unfinished", "obsolete") or not tr.text]
    assert unfinished == []


def test_translation_source_covers_every_text_in_the_code(tmp_path):
    pylupdate = shutil.which("pylupdate5", path=str(Path(sys.executable).parent)) or shutil.which("pylupdate5")
    if pylupdate is None:
        pytest.skip("pylupdate5 (PyQt5's) is not installed")
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in I18N_DIR.parent.glob("*.py")) + [str(WATCH_SCREEN)]
    subprocess.run([pylupdate, *sources, "-ts", str(fresh)], check=True, capture_output=True)
    assert set(_ts_messages(fresh)) == set(_ts_messages(TS_FILE)), "run `make translations`"


def test_compiled_translation_matches_the_source(qapp):
    translator = QTranslator()
    assert translator.load(str(QM_FILE))
    qapp.installTranslator(translator)
    try:
        for (context, source), translation in _ts_messages(TS_FILE).items():
            assert QCoreApplication.translate(context, source) == translation.text, (context, source)
    finally:
        qapp.removeTranslator(translator)


def test_lang_ko_translates_the_window(qapp, window_factory):
    translators = install_translators(qapp, "ko")
    try:
        assert QCoreApplication.translate("Status", "Present") == "출석"
        window = window_factory()
        assert window.windowTitle() == "강의 출석"
        assert window.tabs.tabText(1) == "호명 출석"
        assert window.rollcall.finish_button.text() == "완료(&F)"
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
    assert QCoreApplication.translate("Status", "Present") == "Present"


# -- the capture worker on its thread -------------------------------------------------------------


def test_capture_worker_collects_frames_of_one_face_from_a_video(qtbot, faces_dir):
    worker = CaptureWorker(SourceSpec("video", str(faces_dir / "video/short_hamilton_clip.mp4")))
    thread = WorkerThread(worker, "test-capture")
    try:
        with qtbot.waitSignal(worker.frameReady, timeout=20_000) as shown:
            pass
        assert shown.args[0].width() == 640
        with qtbot.waitSignal(worker.burstReady, timeout=30_000) as handed:
            worker.requestBurst()  # a flag the worker reads on its next frame
        frames = handed.args[0]
        assert len(frames) == FRAMES_PER_TRY
        assert all(f.jpeg[:3] == b"\xff\xd8\xff" and f.image.shape == (360, 640, 3) for f in frames)
        assert all(overlap(a.box, b.box) > 0 for a, b in zip(frames, frames[1:]))  # the same face
        assert len({f.jpeg for f in frames}) == FRAMES_PER_TRY  # different frames
        assert worker.handovers == 1
        qtbot.wait(500)
        assert worker.handovers == 1  # one burst per request
        with qtbot.waitSignal(worker.stillReady, timeout=30_000) as still:
            worker.requestStill()
        assert still.args[0].jpeg[:3] == b"\xff\xd8\xff" and worker.handovers == 2
    finally:
        assert thread.stop()


def test_capture_worker_gives_one_frame_per_image_of_a_folder(qtbot, faces_dir):
    worker = CaptureWorker(SourceSpec("images", str(faces_dir / "knowns"), loop=False), dwell=0.05)
    thread = WorkerThread(worker, "test-capture")
    try:
        bursts = []
        worker.burstReady.connect(bursts.append, Qt.DirectConnection)
        for _ in range(2):
            with qtbot.waitSignal(worker.burstReady, timeout=20_000):
                worker.requestBurst()
        assert [len(b) for b in bursts] == [1, 1] and bursts[0][0].jpeg != bursts[1][0].jpeg
    finally:
        assert thread.stop()


def test_capture_worker_reports_a_missing_camera(qtbot):
    worker = CaptureWorker(SourceSpec("camera", 99))
    with qtbot.waitSignal(worker.sourceFailed, timeout=20_000) as failed:
        thread = WorkerThread(worker, "test-camera")
    try:
        assert "camera 99 cannot be opened" in failed.args[0]
    finally:
        thread.stop()
