"""The framed protocol against a running server over real sockets; bad input; the database going
away in the middle of a batch. (Client tokens, TLS and limits: tests/server/test_auth.py, test_limits.py and tests/e2e/.)"""

from __future__ import annotations

import datetime as dt
import json
import socket
import struct
import threading

import pytest

from client.connection import ServerError
from db.connection import connect
from protocol import framed
from protocol.errors import ErrorCode
from testkit.databases import fresh_database
from testkit.servers import LECTURE, SMALL_LECTURE, TEST_CLIENT, exchange, read_until_closed, running_server


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=2, idle_timeout=3.0) as running:
            yield running


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c


def marks_in_db(server, lecture=LECTURE):
    return dict(
        (sid, (status, source))
        for sid, status, source in server.query(
            "SELECT a.student_id, a.status, a.source FROM attendance a"
            " JOIN class_sessions s USING (session_id) JOIN lectures l USING (lecture_id)"
            " WHERE l.code = %s",
            (lecture,),
        )
    )


def test_many_requests_on_one_connection(client):
    assert client.ping().server_version.startswith("attendance-server")
    roster = client.roster(LECTURE.upper())
    assert roster.lecture == LECTURE
    assert len(roster.students) == 6
    assert client.ping().request_id > roster.request_id


def test_recognize_group_with_stranger(client, faces_dir):
    reply = client.recognize((faces_dir / "groups/obama_biden_stranger.jpg").read_bytes(), LECTURE)
    assert len(reply.faces) == 3
    named = sorted(face.student_id for face in reply.faces if face.student_id)
    assert named == ["201911001", "201911002"]
    stranger = [face for face in reply.faces if face.student_id is None]
    assert len(stranger) == 1 and stranger[0].name is None
    for face in reply.faces:
        assert face.bottom > face.top and face.right > face.left
        assert face.distance is not None
    assert all(face.distance <= 0.6 for face in reply.faces if face.student_id)
    assert stranger[0].distance > 0.6


def test_recognize_matches_only_the_lectures_roster(client, faces_dir):
    # Kit Harington (201911004) is not enrolled in SMALL_LECTURE: unknown there.
    image = (faces_dir / "probes/kit_harington_2.jpg").read_bytes()
    assert [f.student_id for f in client.recognize(image, LECTURE).faces] == ["201911004"]
    assert [f.student_id for f in client.recognize(image, SMALL_LECTURE).faces] == [None]


def test_recognize_negative_and_bad_image(client, faces_dir):
    assert client.recognize((faces_dir / "negatives/dogs.jpg").read_bytes()).faces == ()
    with pytest.raises(ServerError) as err:
        client.recognize(b"\xff\xd8\xff\xe0 this is not a JPEG")
    assert err.value.code == ErrorCode.BAD_IMAGE
    assert client.ping()  # the connection carries on


def test_mark_twice_and_errors(server, client):
    first = client.mark(LECTURE, "201911005")
    again = client.mark(LECTURE, "201911005")
    assert (first.already_marked, again.already_marked) == (False, True)
    assert marks_in_db(server)["201911005"] == ("present", "checkin")
    with pytest.raises(ServerError) as err:
        client.mark("zz9999_9", "201911005")
    assert err.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(ServerError) as err:
        client.mark(SMALL_LECTURE, "201911006")
    assert err.value.code == ErrorCode.NOT_ENROLLED


def test_batch_is_applied_once_and_retry_is_replayed(server, client):
    marks = [
        ("201911001", "present"),
        ("201911002", "late"),
        ("201911003", "absent"),
        ("201911004", "excused"),
        ("201911005", "late"),
        ("201911006", "present"),
    ]
    first = client.batch_mark(LECTURE, "rollcall-test-1", marks)
    assert (first.applied, first.replayed) == (6, False)
    retry = client.batch_mark(LECTURE, "rollcall-test-1", marks)
    assert (retry.applied, retry.replayed) == (6, True)
    in_db = marks_in_db(server)
    assert {sid: status for sid, (status, _) in in_db.items()} == dict(marks)
    assert {source for _, source in in_db.values()} == {"rollcall"}  # roll call overrides check-in
    count = server.query("SELECT COUNT(*) FROM applied_batches WHERE batch_id = %s", ("rollcall-test-1",))
    assert count == [(1,)]


def test_batch_with_a_student_not_on_the_roster_writes_nothing(server, client):
    before = marks_in_db(server, SMALL_LECTURE)
    with pytest.raises(ServerError) as err:
        client.batch_mark(SMALL_LECTURE, "bad-batch", [("201911001", "late"), ("201911006", "late")])
    assert err.value.code == ErrorCode.NOT_ENROLLED
    assert marks_in_db(server, SMALL_LECTURE) == before
    assert server.query("SELECT COUNT(*) FROM applied_batches WHERE batch_id = 'bad-batch'") == [(0,)]


def raw_framed(server) -> socket.socket:
    """A socket that sent the preamble and hello (request 1): the server's replies start with
    its preamble and a welcome."""
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(framed.PREAMBLE + framed.encode(framed.HelloRequest(1, server.token)))
    return sock


def decode_all(data: bytes):
    return framed.FramedDecoder("client").feed(data)


def test_frame_over_the_size_limit_is_refused_and_closed(server):
    with raw_framed(server) as sock:
        sock.sendall(struct.pack(">I", framed.DEFAULT_MAX_FRAME_BYTES + 1))
        events = decode_all(read_until_closed(sock))
    assert isinstance(events[-1], framed.ErrorResponse)
    assert events[-1].code == ErrorCode.FRAME_TOO_LARGE


def test_invalid_request_gets_an_error_and_the_connection_goes_on(server):
    header = b'{"op": "mark", "lecture": "ea0017_1\'; DROP TABLE students; --", "student_id": "201911001"}'
    bad = struct.pack(">III", 8 + len(header), 77, len(header)) + header
    with raw_framed(server) as sock:
        sock.sendall(bad + framed.encode(framed.PingRequest(78)))
        sock.shutdown(socket.SHUT_WR)
        events = decode_all(read_until_closed(sock))
    assert [type(e) for e in events] == [framed.WelcomeResponse, framed.ErrorResponse, framed.PongResponse]
    assert (events[1].request_id, events[1].code) == (77, ErrorCode.BAD_REQUEST)
    assert server.query("SELECT COUNT(*) FROM students")[0][0] == 6


def _raw_request(request_id: int, header: dict) -> bytes:
    data = json.dumps(header).encode()
    return struct.pack(">III", 8 + len(data), request_id, len(data)) + data


def test_values_the_database_cannot_store_are_bad_requests_not_internal_errors(server):
    presence = {
        "op": "presence",
        "lecture": LECTURE,
        "sampled_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "student_ids": ["201911001"],
        "face_count": 3,
    }
    mark = {"op": "mark", "lecture": LECTURE, "student_id": "201911001"}
    requests = [
        {**mark, "distance": 1e39},
        {**presence, "face_count": 2**31},
        {**presence, "sampled_at": "0001-01-01T00:30:00+09:00"},
        {**presence, "sampled_at": "9999-12-31T23:30:00-09:00"},
    ]
    before = server.query("SELECT (SELECT COUNT(*) FROM presence_samples), (SELECT COUNT(*) FROM attendance)")
    with raw_framed(server) as sock:
        sock.sendall(b"".join(_raw_request(10 + n, r) for n, r in enumerate(requests)))
        sock.sendall(framed.encode(framed.PingRequest(99)))
        sock.shutdown(socket.SHUT_WR)
        events = decode_all(read_until_closed(sock))
    errors = events[1:-1]
    assert [(e.request_id, e.code) for e in errors] == [(10 + n, ErrorCode.BAD_REQUEST) for n in range(4)]
    assert "distance" in errors[0].message and "face_count" in errors[1].message and "sampled_at" in errors[2].message
    assert isinstance(events[-1], framed.PongResponse)
    after = server.query("SELECT (SELECT COUNT(*) FROM presence_samples), (SELECT COUNT(*) FROM attendance)")
    assert after == before  # nothing written


def test_wrong_version_and_truncated_frames_leave_the_server_serving(server):
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(framed.MAGIC + bytes([99]))
        events = decode_all(read_until_closed(sock))
    assert events[-1].code == ErrorCode.UNSUPPORTED_VERSION
    with raw_framed(server) as sock:  # half a frame, then the client closes
        sock.sendall(framed.encode(framed.PingRequest(1))[:7])
    with server.client() as c:
        assert c.ping()


def test_legacy_and_framed_clients_share_the_port(server):
    assert exchange(server.host, server.port, b"zz9999_9") == b"fail"
    with server.client() as c:
        assert c.roster(LECTURE).lecture == LECTURE


def test_database_connection_lost_mid_batch_writes_nothing_and_recovers(server, client):
    """The server's DB connection is killed while its batch transaction waits on a lock: the
    client gets db_unavailable, nothing of the batch is written, and the retry applies it once."""
    batch_id = "killed-batch"
    marks = [("201911001", "excused"), ("201911002", "excused")]
    before = marks_in_db(server)
    blocker = connect(server.db_url)
    cur = blocker.cursor()
    # Hold the batch ID's key: the server's INSERT into applied_batches will wait on it after
    # its marks are written inside its (uncommitted) transaction.
    # (The key is the client's, per lecture: the blocker takes the test client's key for LECTURE.)
    cur.execute(
        "SELECT s.session_id, s.lecture_id FROM class_sessions s JOIN lectures l USING (lecture_id)"
        " WHERE l.code = %s LIMIT 1",
        (LECTURE,),
    )
    session_id, lecture_id = cur.fetchone()
    cur.execute(
        "INSERT INTO applied_batches (batch_id, lecture_id, session_id, client_name, reply)"
        " VALUES (%s, %s, %s, %s, '{}')",
        (batch_id, lecture_id, session_id, TEST_CLIENT),
    )
    result = {}

    def send_batch():
        try:
            result["reply"] = client.batch_mark(LECTURE, batch_id, marks)
        except ServerError as exc:
            result["error"] = exc

    sender = threading.Thread(target=send_batch)
    sender.start()
    victim = None
    for _ in range(100):  # find the server's connection waiting on our lock
        cur.execute(
            "SELECT id FROM information_schema.PROCESSLIST"
            " WHERE DB = %s AND INFO LIKE 'INSERT INTO applied_batches%%' AND ID <> CONNECTION_ID()",
            (server.db_url.database,),
        )
        row = cur.fetchone()
        if row:
            victim = row[0]
            break
        threading.Event().wait(0.05)
    assert victim is not None, "the server's batch never reached the blocked insert"
    cur.execute(f"KILL CONNECTION {int(victim)}")
    sender.join(15)
    blocker.rollback()
    blocker.close()
    assert result["error"].code == ErrorCode.DB_UNAVAILABLE
    assert marks_in_db(server) == before  # nothing half-written
    retry = client.batch_mark(LECTURE, batch_id, marks)  # the server reconnected by itself
    assert (retry.applied, retry.replayed) == (2, False)
    assert client.batch_mark(LECTURE, batch_id, marks).replayed
    after = marks_in_db(server)
    assert after["201911001"] == ("excused", "rollcall") and after["201911002"] == ("excused", "rollcall")


def test_the_default_pattern_keeps_the_2019_formats_and_refuses_others_with_a_clear_error(server, client):
    """A server left at its defaults accepts today's identifiers only: a 10-digit ID or a code
    like COSE101-02 passes the protocol's form check, then the server's pattern refuses it."""
    for call, words in (
        (lambda: client.mark(LECTURE, "2020123490"), "student_id: not a student ID of the pattern 2[0-9]{8}"),
        (lambda: client.roster("COSE101-02"), "lecture: not a lecture code of the pattern"),
        (
            lambda: client.batch_mark(LECTURE, "pattern-1", [("201911001", "present"), ("2020123490", "late")]),
            "marks: item 1: student_id: not a student ID",
        ),
    ):
        with pytest.raises(ServerError) as refused:
            call()
        assert refused.value.code == ErrorCode.BAD_REQUEST and words in refused.value.message
    assert client.ping()  # the connection goes on
    assert server.query("SELECT 1 FROM applied_batches WHERE batch_id = 'pattern-1'") == []  # nothing applied
