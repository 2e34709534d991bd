"""The 2019 clients' payloads against a running server over real sockets, sent without closing."""

from __future__ import annotations

import dataclasses
import logging
import socket
import threading
import time

import pytest

from protocol import legacy
from server.handlers import legacy_image_reply
from server.matching import FaceResult
from testkit.databases import fresh_database
from testkit.servers import LECTURE, SMALL_LECTURE, exchange, running_server


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=2, idle_timeout=3.0) as running:
            yield running


def attendance_rows(server, student_id):
    return server.query(
        "SELECT a.status, a.source, a.client_name FROM attendance a"
        " JOIN class_sessions s ON s.session_id = a.session_id"
        " JOIN lectures l ON l.lecture_id = s.lecture_id"
        " WHERE l.code = %s AND a.student_id = %s",
        (LECTURE, student_id),
    )


def test_mark_replies_success_and_writes_one_row(server):
    assert exchange(server.host, server.port, b"201911002ea0017_1") == b"success"
    assert attendance_rows(server, "201911002") == [("present", "checkin", "legacy@127.0.0.1")]
    # Again, in another case, byte by byte: success again and still one row.
    assert exchange(server.host, server.port, b"201911002EA0017_1", chunk=1) == b"success"
    assert len(attendance_rows(server, "201911002")) == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"201911006" + SMALL_LECTURE.encode(),  # not on that lecture's roster
        b"201911001zz9999_9",  # no such lecture
        b"199999999ea0017_1",  # ID below the accepted range
        b"300000000ea0017_1",  # ID above it
    ],
)
def test_mark_that_cannot_be_made_replies_fail(server, payload):
    assert exchange(server.host, server.port, payload) == b"fail"


def test_roster_lists_every_student_with_todays_marks(server):
    exchange(server.host, server.port, b"201911003ea0017_1")
    reply = exchange(server.host, server.port, LECTURE.encode())
    lines = reply.decode("utf-8").splitlines()
    by_id = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert sorted(by_id) == server.student_ids
    assert by_id["201911003"][2] == "present"
    assert by_id["201911003"][3] != "-"
    unmarked = [fields for fields in by_id.values() if fields[2] == "-"]
    assert unmarked and all(fields[3] == "-" for fields in unmarked)


def test_roster_names_stay_out_of_the_log(server, caplog):
    with caplog.at_level(logging.DEBUG, logger="server"):
        reply = exchange(server.host, server.port, LECTURE.encode())
        deadline = time.monotonic() + 5  # the handler logs after sending
        while not any("LegacyRoster" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    names = [line.split("\t")[1] for line in reply.decode("utf-8").splitlines()]
    assert len(names) == 6 and all(names)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not [name for name in names if name in logged], logged
    assert "LegacyRoster -> roster of 6 students" in logged


def test_unknown_lecture_roster_replies_fail(server):
    assert exchange(server.host, server.port, b"zz9999_9") == b"fail"


@pytest.mark.slow
def test_every_probe_is_recognized_as_its_student(server, manifest):
    wrong = {}
    for photo in manifest:
        if photo.kind != "probe":
            continue
        reply = exchange(server.host, server.port, photo.path.read_bytes())
        if reply.decode() != photo.student_ids[0]:
            wrong[photo.path.name] = reply
    assert wrong == {}


def test_group_photo_answers_one_of_its_students(server, faces_dir):
    reply = exchange(server.host, server.port, (faces_dir / "groups/obama_biden_stranger.jpg").read_bytes())
    assert reply in (b"201911001", b"201911002")


def test_photo_without_a_face_answers_unknown(server, faces_dir):
    assert exchange(server.host, server.port, (faces_dir / "negatives/dogs.jpg").read_bytes()) == legacy.UNKNOWN


def test_image_sent_in_small_pieces_is_read_to_its_end(server, faces_dir):
    data = (faces_dir / "probes/obama_small.jpg").read_bytes()
    assert exchange(server.host, server.port, data, chunk=700) == b"201911001"


def test_image_with_broken_structure_fails_after_one_second_of_silence(server):
    # A JPEG signature followed by bytes that are no JPEG segment: undecodable.
    started = time.monotonic()
    assert exchange(server.host, server.port, b"\xff\xd8\xff\xe0" + b"\x00\x01garbage" * 50) == b"fail"
    assert time.monotonic() - started < 2.9  # the 1 s fallback, not the 3 s idle timeout


@pytest.mark.parametrize(
    "payload",
    [b"hello world", b"GET / HTTP/1.1\r\n\r\n", b"ea0017_1'; DROP TABLE attendance; --", b"\x07\x08\x09"],
)
def test_garbage_replies_fail_at_once(server, payload):
    started = time.monotonic()
    assert exchange(server.host, server.port, payload) == b"fail"
    assert time.monotonic() - started < 2.0  # refused as soon as the bytes cannot be a payload
    assert server.query("SELECT COUNT(*) FROM students")[0][0] == len(server.student_ids)


def test_silent_client_is_dropped_while_others_are_served(server):
    silent = socket.create_connection((server.host, server.port))
    try:
        # While the silent client holds its connection, others are answered.
        assert exchange(server.host, server.port, b"201911004ea0017_1") == b"success"
        silent.settimeout(10)
        started = time.monotonic()
        assert silent.recv(100) == b""  # closed by the server after its idle timeout (3 s)
        assert time.monotonic() - started < 6
    finally:
        silent.close()


def test_incomplete_text_payload_fails_after_the_idle_timeout(server):
    assert exchange(server.host, server.port, b"2019110") == b"fail"


def test_many_clients_at_once_each_get_their_answer(server):
    replies = {}

    def check_in(student_id):
        replies[student_id] = exchange(server.host, server.port, f"{student_id}{LECTURE}".encode())

    threads = [threading.Thread(target=check_in, args=(sid,)) for sid in server.student_ids * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(replies.values()) == {b"success"}
    rows = server.query(
        "SELECT a.student_id, COUNT(*) FROM attendance a JOIN class_sessions s USING (session_id)"
        " JOIN lectures l USING (lecture_id) WHERE l.code = %s GROUP BY a.student_id",
        (LECTURE,),
    )
    assert {count for _, count in rows} == {1}
    assert sorted(sid for sid, _ in rows) == server.student_ids


def test_the_image_reply_names_only_a_student_a_2019_client_can_take():
    """A 2019 client reads 9 digits: the largest recognized face whose ID fits is named, a
    larger one with a 10-digit ID is passed over, and only such faces give Unknown."""
    small = FaceResult((0, 50, 50, 0), "201911001", "Obama", 0.3, "accepted")
    large = FaceResult((0, 400, 400, 0), "2020123490", "Kim", 0.3, "accepted")
    assert legacy_image_reply([small, large]) == b"201911001"
    assert legacy_image_reply([large]) == legacy.UNKNOWN
    assert legacy_image_reply([dataclasses.replace(large, student_id="201911002"), small]) == b"201911002"
