"""The desktop app without a server: command line, remembered settings, translations, the
capture worker (bursts of frames of one face, enrolment stills)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PyQt5.QtCore import QCoreApplication, QSettings, Qt, QTranslator

from client.desktop import settings as prefs_store
from client.desktop.app import I18N_DIR, MainWindow, Options, install_translators, options_from_args, parse_args
from client.desktop.checkin_logic import FRAMES_PER_TRY, overlap
from client.desktop.workers import CaptureWorker
from client.frame_source import SourceSpec
from client.qt_worker import WorkerThread
from testkit.paths import REPO

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
    third = window_factory(server=f"127.0.0.1:{closed_port()}", lecture="ea0017_1")  # for this run only
    assert third.port != port and third.lecture() == "ea0017_1"
    third.close()
    assert window_factory().port == port


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
