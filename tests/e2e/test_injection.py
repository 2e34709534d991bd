"""Quotes, ';', '--', NUL bytes and Korean text in lecture codes, student IDs and names, through
every command and message: refused or stored as given, and no other row changes."""

from __future__ import annotations

import dataclasses
import json
import socket
import struct

import pytest

from admin.cli import main as attendance_db
from client.cli import main as attendance_client
from db.connection import connect, transaction
from protocol import framed, legacy
from protocol.errors import ErrorCode
from testkit.databases import fresh_database
from testkit.paths import REPO
from testkit.servers import LECTURE, exchange, read_until_closed, running_server

NASTY = [
    "'",
    '"',
    ";",
    "--",
    "\x00",
    "\\",
    "`",
    "ea0017_1'; DROP TABLE students; --",
    "201911001' OR '1'='1",
    "201911001\x00",
    "ea0017_1\x00",
    "강의0017_1",
    "김철수",
    "' UNION SELECT token_sha256 FROM clients --",
    "%s %(x)s {0}",
]
#: Fields of the attendance ops whose value is any text (the mark history's): stored as given.
FREE_TEXT = ("reason", "professor")
#: Students whose names need care, added to the roster next to the sample students.
NAMES = {
    "201900001": "O'Brien; DROP TABLE students; --",
    "201900002": 'Robert"); DELETE FROM attendance; --',
    "201900003": "김철수 \\ `x` %s",
    "201900004": "NUL\x00inside",
    "201900005": "이영희 -- 주석",
}


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1, rate=0) as running:
            conn = connect(url)
            with transaction(conn) as cur:
                cur.execute("SELECT lecture_id FROM lectures WHERE code = %s", (LECTURE,))
                (lecture_id,) = cur.fetchone()
                for student_id, name in NAMES.items():
                    cur.execute("INSERT INTO students (student_id, name) VALUES (%s, %s)", (student_id, name))
                    cur.execute(
                        "INSERT INTO enrollments (lecture_id, student_id) VALUES (%s, %s)", (lecture_id, student_id)
                    )
            conn.close()
            yield running


def snapshot(server) -> dict[str, list[tuple]]:
    """Every row of every table (the views left out)."""
    tables = [
        name
        for (name,) in server.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            " AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
        )
    ]
    return {table: sorted(server.query(f"SELECT * FROM `{table}`"), key=repr) for table in tables}


def changed_tables(before: dict, after: dict) -> dict[str, int]:
    """Table -> rows added (rows removed or changed count as a failure)."""
    changes = {}
    for table in before:
        old, new = set(before[table]), set(after[table])
        assert old <= new, f"rows of {table} changed or disappeared: {old - new}"
        if new - old:
            changes[table] = len(new - old)
    return changes


def raw_frame(request_id: int, header: dict, blob: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    body = struct.pack(">II", request_id, len(raw)) + raw + blob
    return struct.pack(">I", len(body)) + body


def send_frames(server, frames: list[bytes], hello: bool = True) -> list:
    data = framed.PREAMBLE + (framed.encode(framed.HelloRequest(1, server.token)) if hello else b"") + b"".join(frames)
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        events = framed.FramedDecoder("client").feed(read_until_closed(sock))
    return events[1:] if hello else events


def test_nasty_values_in_every_field_of_every_request_are_refused(server):
    before = snapshot(server)
    frames, request_id = [], 10
    baselines = {
        "roster": {"lecture": LECTURE},
        "mark": {"lecture": LECTURE, "student_id": "201911001"},
        "batch_mark": {"lecture": LECTURE, "batch_id": "b1", "marks": [{"student_id": "201911001", "status": "late"}]},
        "recognize": {"lecture": LECTURE},
    }
    for op, cls in framed.REQUEST_TYPES.items():
        fields = [f.name for f in dataclasses.fields(cls) if f.name not in ("request_id", "image")]
        for value in NASTY:
            # every field at once, and (for the attendance ops) one field at a time
            frames.append(raw_frame(request_id, {"op": op, **{name: value for name in fields}}, b"\xff\xd8\xff"))
            request_id += 1
            for name in fields if op in baselines else []:
                if name == "batch_id" and framed.checks.BATCH_ID.fullmatch(value):
                    continue  # "--" is a valid batch ID: see the test below
                if name in FREE_TEXT and value.strip():
                    continue  # any text is a reason: kept exactly, see the tests below
                frames.append(raw_frame(request_id, {"op": op, **baselines[op], name: value}))
                request_id += 1
            if op == "batch_mark":
                for key in ("student_id", "status"):
                    item = {"student_id": "201911001", "status": "late", key: value}
                    frames.append(raw_frame(request_id, {"op": op, **baselines[op], "marks": [item]}))
                    request_id += 1
    replies = send_frames(server, frames)
    assert len(replies) == len(frames)
    assert {type(r) for r in replies} == {framed.ErrorResponse}
    assert {r.code for r in replies} <= {ErrorCode.BAD_REQUEST}
    assert changed_tables(before, snapshot(server)) == {}


def test_a_batch_id_of_dashes_is_just_a_batch_id(server):
    with server.client() as client:
        before = snapshot(server)
        assert client.batch_mark(LECTURE, "--", [("201900005", "excused")]).applied == 1
        assert changed_tables(before, snapshot(server)) in (
            {"attendance": 1, "applied_batches": 1, "mark_history": 1},
            {"attendance": 1, "applied_batches": 1, "mark_history": 1, "class_sessions": 1},
        )
    assert server.query("SELECT client_name FROM applied_batches WHERE batch_id = '--'") == [("test-client",)]


def test_nasty_tokens_in_hello_are_unauthorized(server):
    before = snapshot(server)
    for value in NASTY:
        replies = send_frames(server, [raw_frame(1, {"op": "hello", "token": value})], hello=False)
        assert [r.code for r in replies] == [ErrorCode.UNAUTHORIZED]
    assert changed_tables(before, snapshot(server)) == {}


def test_nasty_2019_payloads_get_fail_and_change_nothing(server):
    before = snapshot(server)
    for value in NASTY:
        for payload in (
            value.encode(),
            ("201911001" + value).encode(),
            (value + LECTURE).encode(),
            b"201911001" + LECTURE.encode() + value.encode(),
        ):
            if payload.startswith(b"\x00"):
                continue  # the framed protocol's first byte: tested above
            assert exchange(server.host, server.port, payload) == legacy.FAIL, payload
    assert changed_tables(before, snapshot(server)) == {}


def test_names_come_back_exactly_and_a_mark_adds_exactly_one_row(server):
    with server.client() as client:
        roster = {s.student_id: s.name for s in client.roster(LECTURE).students}
        for student_id, name in NAMES.items():
            assert roster[student_id] == name
        before = snapshot(server)
        client.mark(LECTURE, "201900001")
        assert changed_tables(before, snapshot(server)) in (
            {"attendance": 1, "mark_history": 1},
            {"attendance": 1, "mark_history": 1, "class_sessions": 1},
        )
        before = snapshot(server)
        client.batch_mark(LECTURE, "names-1", [("201900002", "late"), ("201900004", "absent")])
        assert changed_tables(before, snapshot(server)) == {"attendance": 2, "applied_batches": 1, "mark_history": 2}
    lines = exchange(server.host, server.port, LECTURE.encode()).decode("utf-8").split("\n")
    by_id = {line.split("\t")[0]: line.split("\t") for line in lines if line}
    for student_id, name in NAMES.items():
        assert by_id[student_id][1] == name  # NUL, quotes, Korean: unchanged (no tab or line break)
    assert by_id["201900001"][2] == "present" and by_id["201900002"][2] == "late"


def test_the_command_line_tools_refuse_or_store_exactly(server, tmp_path, capsys):
    url = server.db_url.to_url()
    before = snapshot(server)
    for value in NASTY:
        # "--" before the value, as a shell user would type it (a value may start with '-')
        assert attendance_db(["--db-url", url, "forget", "--", value]) == 2
        assert attendance_db(["--db-url", url, "add-client", "--role", "kiosk", "--", value]) == 2
        assert attendance_db(["--db-url", url, "add-client", "room-x", "--role", "kiosk", f"--lecture={value}"]) == 2
        assert attendance_db(["--db-url", url, "set-role", "--role", "kiosk", "--", value]) == 2
        assert attendance_db(["--db-url", url, "revoke-client", "--", value]) == 2
        assert attendance_db(["--db-url", url, "create-server-account", "--", value]) == 2
        roster = tmp_path / "roster.csv"
        for row in ([value, "201900009", "x"], [LECTURE, value, "x"], [LECTURE, "201900009", value]):
            roster.write_text(
                "lecture_code,student_id,student_name\n"
                + ",".join('"' + field.replace('"', '""') + '"' for field in row)
                + "\n",
                encoding="utf-8",
            )
            code = attendance_db(["--db-url", url, "import-roster", str(roster)])
            if row[2] == value and code == 0:  # a name is data: stored exactly, nothing else changes
                stored = server.query("SELECT name FROM students WHERE student_id = '201900009'")
                assert stored == [(value,)]
                conn = connect(server.db_url)
                with transaction(conn) as cur:
                    cur.execute("DELETE FROM enrollments WHERE student_id = '201900009'")
                    cur.execute("DELETE FROM students WHERE student_id = '201900009'")
                conn.close()
            else:
                assert code == 2, row
    capsys.readouterr()
    assert changed_tables(before, snapshot(server)) == {}

    for value in NASTY:  # attendance-client refuses them before connecting
        for args in (
            ["mark", value, "201911001"],
            ["mark", LECTURE, value],
            ["roster", value],
            ["recognize", f"--lecture={value}", str(REPO / "README.md")],
        ):
            try:
                code = attendance_client(["--server", f"{server.host}:{server.port}", "--token", server.token, *args])
            except SystemExit as exc:  # argparse: a value such as "--" reads as an option
                code = exc.code
            assert code == 2, args
    capsys.readouterr()
    assert changed_tables(before, snapshot(server)) == {}


def test_forget_of_a_student_with_a_nasty_name_touches_only_that_student(server):
    before = snapshot(server)
    assert attendance_db(["--db-url", server.db_url.to_url(), "forget", "201900003"]) == 0
    after = snapshot(server)
    removed = set(before["enrollments"]) - set(after["enrollments"])
    assert {row[1] for row in removed} == {"201900003"} and len(removed) == 1
    for table in before:
        if table != "enrollments":
            assert before[table] == after[table], table


def test_nasty_reasons_and_professor_names_are_kept_exactly(server):
    texts = [value for value in NASTY if value.strip() and "\x00" not in value]
    (last,) = server.query("SELECT COALESCE(MAX(history_id), 0) FROM mark_history")[0]
    with server.client() as client:
        for n, value in enumerate(texts):  # each a change: late, excused, late...
            status = ("late", "excused")[n % 2]
            client.mark(LECTURE, "201911006", status=status, source="manual", reason=value, professor=value[:100])
    kept = server.query("SELECT reason, professor FROM mark_history WHERE history_id > %s ORDER BY history_id", (last,))
    assert kept == [(value, value) for value in texts]
