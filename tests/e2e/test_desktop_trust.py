"""The desktop app against a real server that speaks TLS (``tls_cert``/``tls_key``, as
``--tls-cert``/``--tls-key`` set them; certificates from testkit.tls): the screens and the outbox
over TLS with the server's CA, an untrusted certificate said as such, plain TCP refused; and the
queue of unsent marks: an entry that can never be sent goes to the rejected log while the others
are delivered."""

from __future__ import annotations

import json
import ssl

import pytest
from PyQt5.QtCore import Qt

from client.desktop import mark_queue
from client.desktop.workers import INVALID_ENTRY
from testkit.databases import fresh_database
from testkit.desktop import main_windows
from testkit.servers import LECTURE, running_server
from testkit.tls import make_certificates

WAIT = 60_000  # ms


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    return make_certificates(folder), make_certificates(folder, "other")


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir, tls):
    files, _ = tls
    with fresh_database(server_db_url) as url:
        with running_server(
            url, faces_dir / "knowns", workers=1, tls_cert=files.server_cert, tls_key=files.server_key
        ) as running:
            yield running


@pytest.fixture(autouse=True)
def no_marks_yet(server):
    for table in ("mark_history", "attendance", "applied_batches", "class_sessions"):
        server.query(f"DELETE FROM {table}")


@pytest.fixture
def make_window(qtbot, tmp_path, server):
    with main_windows(tmp_path, server.token) as make:
        yield make


def marks(server) -> dict[str, tuple]:
    rows = server.query(
        "SELECT a.student_id, a.status, a.source FROM attendance a"
        " JOIN class_sessions s USING (session_id) JOIN lectures l USING (lecture_id) WHERE l.code = %s",
        (LECTURE,),
    )
    return {sid: (status, source) for sid, status, source in rows}


def test_screens_and_outbox_speak_tls_with_the_servers_ca(qtbot, server, tls, make_window, tmp_path):
    files, _ = tls
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", cafile=files.ca_cert)
    model = window.rollcall.model
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=WAIT)
    assert window.connection_state == "connected"
    assert isinstance(window.rollcall.server.connection._client.sock, ssl.SSLSocket)
    # a roll call goes through the queue and the outbox's own TLS connection
    model.set_status(list(range(6)), "late")
    with qtbot.waitSignal(window.outbox.delivered, timeout=WAIT) as delivered:
        qtbot.mouseClick(window.rollcall.finish_button, Qt.LeftButton)
    assert delivered.args[1].applied == 6
    assert set(marks(server).values()) == {("late", "rollcall")}
    assert isinstance(window.outbox.connection._client.sock, ssl.SSLSocket)


def test_without_tls_the_server_refuses_and_turning_tls_on_delivers(qtbot, server, tls, make_window, tmp_path):
    files, _ = tls
    with mark_queue.MarkQueue(tmp_path / "data") as queue:
        entry = mark_queue.batch_entry(LECTURE, [("201911001", "excused")])
        queue.add(entry)
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", tls=False)
    with qtbot.waitSignal(window.outbox.deliveryFailed, timeout=WAIT) as failed:
        pass
    assert failed.args[0] == "unauthorized" and "TLS" in failed.args[1]
    qtbot.waitUntil(lambda: "encrypted connections only" in window.rollcall.banner.text(), timeout=WAIT)
    assert [e.id for e in mark_queue.stored_entries(tmp_path / "data")] == [entry.id]
    with qtbot.waitSignal(window.outbox.delivered, timeout=WAIT):
        window.set_server("127.0.0.1", server.port, tls=True, cafile=str(files.ca_cert))  # the dialog's OK
    assert marks(server) == {"201911001": ("excused", "rollcall")}
    qtbot.waitUntil(lambda: mark_queue.stored_entries(tmp_path / "data") == [], timeout=WAIT)


def test_a_certificate_another_ca_signed_is_not_trusted(qtbot, server, tls, make_window):
    _, other = tls
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", cafile=other.ca_cert)
    qtbot.waitUntil(lambda: window.connection_state == "tls", timeout=WAIT)
    assert "secure connection" in window.connection_label.text()
    assert marks(server) == {}


def test_an_entry_that_can_never_be_sent_is_rejected_and_the_others_flow(qtbot, server, tls, make_window, tmp_path):
    """Before: a malformed entry raised on every send (shown as "unreachable") and every later
    mark waited behind it forever."""
    files, _ = tls
    broken = mark_queue.BatchEntry("broken-1", "not a lecture!", "broken-1", (("201911002", "present"),))
    refused = mark_queue.batch_entry(LECTURE, [("209999999", "present")])  # not on the roster
    good = mark_queue.batch_entry(LECTURE, [("201911003", "late")])
    with mark_queue.MarkQueue(tmp_path / "data") as queue:
        for entry in (broken, refused, good):
            queue.add(entry)
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", cafile=files.ca_cert)
    qtbot.waitUntil(lambda: mark_queue.stored_entries(tmp_path / "data") == [], timeout=WAIT)
    assert marks(server) == {"201911003": ("late", "rollcall")}
    rejected = [json.loads(line) for line in (tmp_path / "data" / mark_queue.REJECTED_FILE).read_text().splitlines()]
    assert [(r["id"], r["rejected"]["code"]) for r in rejected] == [
        (broken.id, INVALID_ENTRY),
        (refused.id, "not_enrolled"),
    ]
    assert "lecture" in rejected[0]["rejected"]["message"]
    # Said in the status bar: the two rejections are told as they happen (the invalid entry is
    # found by a local check, the refused one by the server's reply: their order is not fixed).
    assert "rejected log" in window.last_rejection
    assert "not_enrolled" in window.last_rejection or "not a valid request" in window.last_rejection
    qtbot.waitUntil(lambda: not window.pending_label.isVisible(), timeout=WAIT)


def test_a_roll_call_that_can_never_be_sent_is_said_on_the_roll_call_screen(qtbot, server, tls, make_window, tmp_path):
    files, _ = tls
    broken = mark_queue.BatchEntry("broken-2", LECTURE, "broken-2", (("201911002", "asleep"),))  # no such status
    with mark_queue.MarkQueue(tmp_path / "data") as queue:
        queue.add(broken)
    window = make_window(server.port, lecture=LECTURE, screen="rollcall", cafile=files.ca_cert)
    qtbot.waitUntil(lambda: "can never be sent" in window.rollcall.banner.text(), timeout=WAIT)
    assert "status" in window.rollcall.banner.text()
    assert "not a valid request" in window.last_rejection and "other marks go on" in window.last_rejection
    assert mark_queue.stored_entries(tmp_path / "data") == [] and marks(server) == {}
