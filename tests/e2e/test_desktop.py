"""The desktop app against the real server (in this process, real sockets, real MariaDB):
face check-in from a folder of images and from a video (frames of one face in one request, marked
by the server), the roll call in one batch request, marks that survive a server that is down
(queued on disk, delivered exactly once), an unreachable or silent server.

Qt runs offscreen; every network call of the app runs on its worker threads, so the tests wait
with qtbot.waitUntil / waitSignal while the GUI event loop keeps running.
"""

from __future__ import annotations

import logging
import shutil
import socket
import time
from pathlib import Path

import pytest
from PyQt5.QtCore import Qt, QTimer

from client.connection import FramedClient, ServerError
from client.desktop import mark_queue
from client.desktop.rollcall import RollCallScreen
from client.desktop.roster_model import RosterModel, StateRole
from client.frame_source import SourceSpec
from db import clients
from db.connection import run_in_transaction
from server.app import AttendanceApp, ServerConfig
from testkit.databases import fresh_database
from testkit.desktop import main_windows
from testkit.servers import LECTURE, SMALL_LECTURE, add_client, running_server

WAIT = 60_000  # ms: generous, for a slow CI machine; the tests normally take a few seconds each


class Server:
    """The module's server, which a test may stop and start again on the same port."""

    def __init__(self, running, knowns: Path):
        self.running = running
        self.knowns = knowns
        self.port = running.port
        self.extra_app: AttendanceApp | None = None

    def query(self, sql, args=()):
        return self.running.query(sql, args)

    def stop(self) -> None:
        (self.extra_app or self.running.app).stop()

    def start(self) -> None:
        config = ServerConfig(
            db_url=self.running.db_url, knowns_dir=self.knowns, host="127.0.0.1", port=self.port, workers=1
        )
        self.extra_app = AttendanceApp(config).start()
        self.extra_app.serve_in_thread()


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1) as running:
            holder = Server(running, faces_dir / "knowns")
            yield holder
            if holder.extra_app is not None:
                holder.extra_app.stop()


@pytest.fixture(autouse=True)
def no_marks_yet(server):
    for table in ("mark_history", "attendance", "applied_batches", "class_sessions"):
        server.query(f"DELETE FROM {table}")


@pytest.fixture
def server_log(caplog):
    caplog.set_level(logging.INFO, logger="server.handlers")

    def requests(kind: str) -> list[str]:
        return [
            r.getMessage() for r in caplog.records if r.name == "server.handlers" and f" {kind} #" in r.getMessage()
        ]

    return requests


@pytest.fixture
def make_window(qtbot, tmp_path, server):
    with main_windows(tmp_path, server.running.token, dwell=0.05, result_hold=0.0) as make:
        yield make


def marks(server, lecture=LECTURE) -> dict[str, tuple]:
    rows = server.query(
        "SELECT a.student_id, a.status, a.source, a.distance FROM attendance a"
        " JOIN class_sessions s USING (session_id) JOIN lectures l USING (lecture_id) WHERE l.code = %s",
        (lecture,),
    )
    return {sid: (status, source, distance) for sid, status, source, distance in rows}


def queued_entries(tmp_path) -> list[dict]:
    return [mark_queue.entry_to_json(entry) for entry in mark_queue.stored_entries(tmp_path / "data")]


# -- face check-in --------------------------------------------------------------------------------


def test_checkin_over_the_probe_images_marks_the_recognized_students(qtbot, server, server_log, make_window, faces_dir):
    """Every probe photo once (one frame each), in the lecture with the first three students:
    the server accepts and marks those three itself; Kit Harington and Rose Leslie (not on this
    roster) are shown as unknown and never marked."""
    window = make_window(
        server.port, lecture=SMALL_LECTURE, source=SourceSpec("images", str(faces_dir / "probes"), loop=False)
    )
    screen = window.checkin
    with qtbot.waitSignal(screen.capture.sourceEnded, timeout=WAIT):
        pass
    qtbot.waitUntil(lambda: screen._in_flight is None, timeout=WAIT)

    saved = marks(server, SMALL_LECTURE)
    assert sorted(saved) == ["201911001", "201911002", "201911003"]
    for status, source, distance in saved.values():
        assert (status, source) == ("present", "checkin")
        assert distance is not None and 0 <= distance <= 0.6

    kinds = [outcome.kind for outcome in screen.outcomes]
    accepted = [o.reply for o in screen.outcomes if o.kind == "accepted"]
    assert {r.student_id for r in accepted} == {"201911001", "201911002", "201911003"}
    assert sum(not r.already_marked for r in accepted) == 3  # marked once each, then "already"
    unknown = [o.reply for o in screen.outcomes if o.kind == "unknown"]
    assert len(unknown) == 3 and all(r.student_id is None and r.candidates == () for r in unknown)
    assert set(kinds) == {"accepted", "unknown"}
    # one request per photo (each has exactly one face), no mark request
    assert len(server_log("CheckinRequest")) == len(screen.outcomes) == 17
    assert server_log("MarkRequest") == []
    assert all(r.frames == 1 for r in accepted + unknown)
    assert window.connection_state == "connected"
    assert queued_entries(Path(window.options.data_dir).parent) == []  # nothing goes through the queue


def test_checkin_from_video_collects_frames_of_one_face_and_is_marked(
    qtbot, server, server_log, make_window, faces_dir
):
    """The Hamilton clip at its own speed (looping): four frames of the one face in view go to the
    server in one request; Lin-Manuel Miranda is accepted and marked by the server. The clip's
    cuts and second faces restart collections; a face the server does not find is a new try."""
    window = make_window(
        server.port, lecture=LECTURE, source=SourceSpec("video", str(faces_dir / "video/short_hamilton_clip.mp4"))
    )
    screen = window.checkin
    requests = _record_requests(screen)
    qtbot.waitUntil(lambda: any(o.kind == "accepted" for o in screen.outcomes), timeout=WAIT)
    accepted = [o.kind for o in screen.outcomes].index("accepted")
    reply = screen.outcomes[accepted].reply
    sent = requests[accepted].frames
    assert len(sent) == 4  # the four frames went in one request
    # The reply counts the frames in which the server found the face: 4 as a rule, but which
    # moments of the clip are taken depends on the machine's speed (it plays in real time), and
    # under load the server's detector once missed the face in one of them.
    assert (reply.student_id, reply.frames, reply.already_marked) == (
        "201911006",
        _frames_with_a_face(server, sent),
        False,
    )
    assert reply.distance <= reply.threshold
    assert marks(server)["201911006"][:2] == ("present", "checkin")
    assert screen.student_id_label.text() == "201911006"
    assert not screen.crop.pixmap().isNull()
    assert "Checked in" in screen.headline.text() and "checked in ✓" in screen.history.item(0).text()
    assert server_log("MarkRequest") == []
    assert set(marks(server)) == {"201911006"}  # nobody else


def test_a_student_checking_in_again_is_told_so(qtbot, server, server_log, make_window, faces_dir, tmp_path):
    folder = tmp_path / "camera"
    folder.mkdir()
    shutil.copy(faces_dir / "probes/biden_2.jpg", folder / "1.jpg")
    shutil.copy(faces_dir / "negatives/dogs.jpg", folder / "2.jpg")  # no face: never sent
    shutil.copy(faces_dir / "probes/biden_2.jpg", folder / "3.jpg")
    window = make_window(server.port, lecture=LECTURE, source=SourceSpec("images", str(folder), loop=False))
    screen = window.checkin
    qtbot.waitUntil(lambda: len(screen.outcomes) == 2, timeout=WAIT)
    first, second = (o.reply for o in screen.outcomes)
    assert (first.student_id, first.already_marked) == ("201911002", False)
    assert (second.student_id, second.already_marked, second.status) == ("201911002", True, "present")
    assert "already checked in" in screen.headline.text()
    assert len(server_log("CheckinRequest")) == 2
    assert {sid: v[:2] for sid, v in marks(server).items()} == {"201911002": ("present", "checkin")}


def test_checkin_with_the_server_unreachable_marks_nothing_and_keeps_no_frame(qtbot, make_window, faces_dir, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once closed
    window = make_window(port, lecture=LECTURE, source=SourceSpec("images", str(faces_dir / "knowns")))
    screen = window.checkin
    with qtbot.waitSignal(screen.resultShown, timeout=WAIT) as shown:
        pass
    assert shown.args == ["failed", None]
    assert f"Cannot reach the attendance server at 127.0.0.1:{port}" in screen.headline.text()
    assert "Nothing was marked" in screen.headline.text()
    assert not screen.flow.retrying  # the frames are dropped, not kept for later
    assert queued_entries(tmp_path) == [] and not window.pending_label.isVisible()
    with qtbot.waitSignal(screen.resultShown, timeout=WAIT):  # tried again later
        pass


# -- roll call ------------------------------------------------------------------------------------


def test_rollcall_of_the_whole_roster_in_one_request(qtbot, server, server_log, make_window):
    with FramedClient("127.0.0.1", server.port, token=server.running.token) as client:  # a face check-in earlier today
        client.mark(LECTURE, "201911001", source="checkin", distance=0.31)
    window = make_window(server.port, lecture=LECTURE, screen="rollcall")
    screen = window.rollcall
    model = screen.model
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=WAIT)
    # the check-in shows in the table
    assert model.index(0, RosterModel.STATUS).data() == "Present"
    assert model.index(0, RosterModel.SOURCE).data() == "Face check-in"
    assert model.counts().marked == 1

    view = screen.view
    view.setFocus()
    assert view.currentIndex().row() == 0
    for key in (Qt.Key_L, Qt.Key_P, Qt.Key_E, Qt.Key_Down, Qt.Key_A):  # rows 0,1,2; skip 3; row 4
        qtbot.keyClick(view, key)
    assert [model.row(n).status for n in range(6)] == ["late", "present", "excused", None, "absent", None]
    assert "Marked 4 of 6" in screen.counter.text()
    qtbot.mouseClick(screen.absent_button, Qt.LeftButton)
    assert model.counts().unmarked == 0 and model.counts().changed == 6

    assert server_log("BatchMarkRequest") == []
    marks_before = len(server_log("MarkRequest"))  # the check-in above
    with qtbot.waitSignal(window.outbox.delivered, timeout=WAIT) as delivered:
        qtbot.mouseClick(screen.finish_button, Qt.LeftButton)
    entry, reply = delivered.args
    assert (reply.applied, reply.replayed) == (6, False)

    assert len(server_log("BatchMarkRequest")) == 1  # the whole roll call in one round trip
    assert len(server_log("MarkRequest")) == marks_before
    assert {sid: v[:2] for sid, v in marks(server).items()} == {
        "201911001": ("late", "rollcall"),
        "201911002": ("present", "rollcall"),
        "201911003": ("excused", "rollcall"),
        "201911004": ("absent", "rollcall"),
        "201911005": ("absent", "rollcall"),
        "201911006": ("absent", "rollcall"),
    }
    assert server.query("SELECT batch_id FROM applied_batches") == [(entry.batch_id,)]
    # the table reloads and shows what the server has
    qtbot.waitUntil(lambda: all(model.row(n).state == "saved" for n in range(6)), timeout=WAIT)
    assert not screen.finish_button.isEnabled()


def test_a_batch_applied_before_its_reply_was_lost_is_not_applied_again(
    qtbot, server, server_log, make_window, tmp_path, monkeypatch
):
    entry = mark_queue.batch_entry(LECTURE, [("201911002", "late")])
    with FramedClient(
        "127.0.0.1", server.port, token=server.running.token
    ) as client:  # the first send reached the server…
        assert client.batch_mark(LECTURE, entry.batch_id, [("201911002", "late")]).applied == 1
        client.mark(LECTURE, "201911002", status="absent", source="manual")  # …then someone changed it
    with mark_queue.MarkQueue(tmp_path / "data") as queue:  # …but the app never saw the reply
        queue.add(entry)

    deliveries = _record_deliveries(monkeypatch)
    make_window(server.port)
    qtbot.waitUntil(lambda: deliveries != [], timeout=WAIT)
    [(_, reply)] = deliveries
    assert reply.replayed is True
    qtbot.waitUntil(lambda: queued_entries(tmp_path) == [], timeout=WAIT)
    assert marks(server)["201911002"][:2] == ("absent", "manual")  # the resend changed nothing
    assert server.query("SELECT COUNT(*) FROM applied_batches") == [(1,)]


def test_a_refused_token_keeps_marks_queued_until_it_is_fixed(qtbot, server, make_window, tmp_path):
    entry = mark_queue.batch_entry(LECTURE, [("201911003", "late")])
    with mark_queue.MarkQueue(tmp_path / "data") as queue:
        queue.add(entry)
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", token="not-this-pcs-token")
    with qtbot.waitSignal(window.outbox.deliveryFailed, timeout=WAIT) as failed:
        pass
    assert failed.args[0] == "unauthorized"
    qtbot.waitUntil(lambda: "client token" in window.rollcall.banner.text(), timeout=WAIT)
    assert [e["batch_id"] for e in queued_entries(tmp_path)] == [entry.batch_id]  # kept
    assert marks(server) == {}

    with qtbot.waitSignal(window.outbox.delivered, timeout=WAIT):
        window.set_server("127.0.0.1", server.port, server.running.token)  # File > Connection settings
    qtbot.waitUntil(lambda: queued_entries(tmp_path) == [], timeout=WAIT)
    assert marks(server)["201911003"][:2] == ("late", "rollcall")


def test_a_token_whose_role_forbids_roll_calls_says_so_and_keeps_the_marks_until_its_role_is_fixed(
    qtbot, server, make_window, tmp_path
):
    kiosk_token = add_client(server.running.db_url, "door-pc", "kiosk", [LECTURE])
    entry = mark_queue.batch_entry(LECTURE, [("201911004", "present")])
    mark_queue.MarkQueue(tmp_path / "data").add(entry)
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", token=kiosk_token)
    with qtbot.waitSignal(window.outbox.deliveryFailed, timeout=WAIT) as failed:
        pass
    assert failed.args[0] == "forbidden"
    qtbot.waitUntil(lambda: "not allowed to do this" in window.rollcall.banner.text(), timeout=WAIT)
    assert "attendance-db set-role" in window.rollcall.banner.text()
    assert [e["batch_id"] for e in queued_entries(tmp_path)] == [entry.batch_id]  # kept, not rejected
    assert marks(server) == {}

    with qtbot.waitSignal(window.outbox.delivered, timeout=WAIT):  # the server rereads roles every 5 s
        run_in_transaction(
            server.running.db_url, lambda cur: clients.set_role(cur, "door-pc", role="professor", lectures=[LECTURE])
        )
    qtbot.waitUntil(lambda: queued_entries(tmp_path) == [], timeout=WAIT)
    assert marks(server)["201911004"][:2] == ("present", "rollcall")


# -- an unreachable or silent server ---------------------------------------------------------------


def test_unreachable_server_is_reported(qtbot, make_window):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once closed
    window = make_window(port, lecture=LECTURE, screen="rollcall")
    qtbot.waitUntil(lambda: window.rollcall.banner.isVisible(), timeout=WAIT)
    assert f"Cannot reach the attendance server at 127.0.0.1:{port}" in window.rollcall.banner.text()
    assert window.connection_state == "unreachable"
    assert "unreachable" in window.connection_label.text()


def test_gui_stays_responsive_while_the_server_does_not_answer(qtbot, make_window):
    """A server that accepts connections and never answers: the roster request waits on its
    worker thread; the GUI thread keeps running its timers; closing does not hang."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts connections; nobody ever reads or answers
        window = make_window(silent.getsockname()[1], lecture=LECTURE, screen="rollcall")
        ticks = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.monotonic()))
        timer.start(20)
        qtbot.wait(1500)
        timer.stop()
        assert window.rollcall._loading  # still waiting for the reply
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        assert len(ticks) > 40 and max(gaps) < 0.25
        started = time.monotonic()
        window.shutdown()  # interrupts the waiting call
        assert time.monotonic() - started < 3


def test_server_down_during_finish_marks_are_queued_then_delivered_once(
    qtbot, server, server_log, make_window, tmp_path, monkeypatch
):
    window = make_window(server.port, lecture=LECTURE, screen="rollcall")
    model = window.rollcall.model
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=WAIT)
    model.set_status([0], "present")
    qtbot.mouseClick(window.rollcall.absent_button, Qt.LeftButton)

    server.stop()
    with qtbot.waitSignal(window.outbox.deliveryFailed, timeout=WAIT):
        qtbot.mouseClick(window.rollcall.finish_button, Qt.LeftButton)
    # on disk before anything else, shown as pending
    queued = queued_entries(tmp_path)
    assert len(queued) == 1 and queued[0]["kind"] == "batch" and len(queued[0]["marks"]) == 6
    batch_id = queued[0]["batch_id"]
    assert window.pending_label.isVisible() and "Marks pending: 6" in window.pending_label.text()
    assert all(model.index(n, 0).data(StateRole) == "pending" for n in range(6))
    assert "saved on this PC" in window.rollcall.banner.text()

    # closing with pending marks asks first
    answers = []
    monkeypatch.setattr(window, "ask_close_with_pending", lambda n: answers.append(n) or False)
    window.close()
    assert answers == [6] and window.isVisible()
    monkeypatch.setattr(window, "ask_close_with_pending", lambda n: answers.append(n) or True)
    window.close()
    assert answers == [6, 6] and not window.isVisible()

    # the next start shows them pending, and sends them once the server is back
    again = make_window(server.port, lecture=LECTURE, screen="rollcall")
    qtbot.waitUntil(lambda: [e.batch_id for e in again.pending_entries] == [batch_id], timeout=WAIT)
    assert marks(server) == {}
    with qtbot.waitSignal(again.outbox.delivered, timeout=WAIT) as delivered:
        server.start()
    assert delivered.args[1].replayed is False and delivered.args[1].applied == 6
    qtbot.waitUntil(lambda: not again.pending_label.isVisible(), timeout=WAIT)
    assert queued_entries(tmp_path) == []
    saved = marks(server)
    assert len(saved) == 6 and saved["201911001"][:2] == ("present", "rollcall")
    assert all(saved[sid][:2] == ("absent", "rollcall") for sid in saved if sid != "201911001")
    assert server.query("SELECT batch_id FROM applied_batches") == [(batch_id,)]
    assert len(server_log("BatchMarkRequest")) == 1  # exactly once
    qtbot.waitUntil(lambda: all(model_row.state == "saved" for model_row in again.rollcall.model.rows()), timeout=WAIT)


def test_the_classroom_camera_tab_follows_the_lecture_and_uses_the_token(qtbot, server, make_window):
    window = make_window(server.port, lecture=SMALL_LECTURE, screen="rollcall")
    titles = [window.tabs.tabText(n) for n in range(window.tabs.count())]
    assert titles[-1] == "Classroom camera" and window.tabs.widget(len(titles) - 1) is window.watch
    assert window.watch.lecture == SMALL_LECTURE
    window.lecture_edit.setText(LECTURE)
    window.lecture_edit.editingFinished.emit()
    assert window.watch.lecture == LECTURE
    client = window.watch._new_connection()  # what the camera's worker thread uses
    try:
        assert len(client.roster(LECTURE).students) == 6
        assert client.call(lambda framed: framed.client_name) == "test-client"
    finally:
        client.close()


def _record_deliveries(monkeypatch) -> list:
    """(entry, reply) of each delivery the roll-call screens are told of, recorded from before the
    window exists: its outbox sends the queued entries as soon as it starts, in the window's
    constructor, so a qtbot.waitSignal entered afterwards can miss a delivery already made (the
    screen hears of it through the GUI thread's event loop, which only runs once the test waits)."""
    made: list = []
    mark_delivered = RollCallScreen.mark_delivered

    def recording(screen, entry, reply):
        made.append((entry, reply))
        return mark_delivered(screen, entry, reply)

    monkeypatch.setattr(RollCallScreen, "mark_delivered", recording)
    return made


def _record_requests(screen) -> list:
    """The check-in requests the screen's flow makes, in order (each still made by the flow)."""
    made: list = []
    request = screen.flow.request

    def recording(frames):
        made.append(request(frames))
        return made[-1]

    screen.flow.request = recording
    return made


def _frames_with_a_face(server, frames) -> int:
    """How many of these check-in frames the server finds a face in: each sent alone, unmarked
    and not queued (a frame without one is refused as bad_image)."""
    found = 0
    with server.running.client() as client:
        for frame in frames:
            try:
                client.checkin(LECTURE, [frame], mark=False, queue_uncertain=False)
            except ServerError as exc:
                assert exc.code == "bad_image", exc
                continue
            found += 1
    return found
