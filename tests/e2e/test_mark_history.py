"""Marks with a history (issue 15), against a real server over sockets and a real MariaDB: a
history row for each kind of change (check-in, the 2019 payload, roll call, manual, camera and
a session's close, a confirmed uncertain check-in), read back through the framed ``history`` op
and ``attendance-db history``; a past session changed with a reason, flagged in the report."""

from __future__ import annotations

import datetime as dt

import pytest

from admin import cli
from client.connection import ServerError
from db import pending
from db.connection import run_in_transaction
from protocol.errors import ErrorCode
from reports import wire
from reports.render import render
from testkit.databases import fresh_database
from testkit.servers import LECTURE, SMALL_LECTURE, TEST_CLIENT, exchange, running_server


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1) as running:
            yield running


def history_rows(server, student_id, lecture=LECTURE):
    """(old_status, old_source, new_status, source, client, professor, reason) of the student's
    changes in the lecture, in order, straight from the table."""
    return server.query(
        "SELECT h.old_status, h.old_source, h.new_status, h.source, h.client_name, h.professor, h.reason"
        " FROM mark_history h JOIN class_sessions s USING (session_id) JOIN lectures l USING (lecture_id)"
        " WHERE l.code = %s AND h.student_id = %s ORDER BY h.history_id",
        (lecture, student_id),
    )


def test_every_kind_of_change_has_its_history_row_and_nothing_else_does(server):
    first, second, third, fourth, fifth, sixth = server.student_ids
    with server.client() as client:
        # a check-in by student ID (op mark), then the same again: one row, the second changes nothing
        assert not client.mark(LECTURE, first).already_marked
        assert client.mark(LECTURE, first).already_marked
        # a professor's manual mark over it, with a reason: old and new in one row
        client.mark(LECTURE, first, status="excused", source="manual", professor="Prof. Kim", reason="doctor's note")
        # a roll call: a new mark, a changed one, and one already as asked (no row)
        client.mark(LECTURE, second, status="late", source="rollcall")
        client.batch_mark(
            LECTURE, "hist-rc-1", [(second, "late"), (third, "absent"), (first, "present")], professor="김교수"
        )
        # the 2019 payload (legacy@127.0.0.1)
        assert exchange(server.host, server.port, f"{sixth}{LECTURE}".encode()) == b"success"
        # the camera: seen on time and to the end -> present; never seen -> absent at the close
        now = dt.datetime.now().replace(microsecond=0)
        client.presence(LECTURE, (now - dt.timedelta(minutes=1)).isoformat(), [fourth], 1)
        client.presence(LECTURE, now.isoformat(), [fourth], 1)
        closed = client.close_session(LECTURE)
    assert closed.present == 1 and closed.absent == 1 and closed.kept == 4
    # a 2019 check-in after the close marks nothing (the professor is told): no history row
    assert exchange(server.host, server.port, f"{fifth}{LECTURE}".encode()) == b"fail"

    # an uncertain check-in from a classroom PC, confirmed by the professor's app
    def queue(cur):
        cur.execute(
            "SELECT s.session_id FROM class_sessions s JOIN lectures l USING (lecture_id)"
            " WHERE l.code = %s AND s.session_date = CURRENT_DATE",
            (LECTURE,),
        )
        (session_id,) = cur.fetchone()
        return pending.add_pending(
            cur, session_id=session_id, client_name="room-e203", frames=3, candidates=[(fifth, 0.52)]
        )

    pending_id = run_in_transaction(server.db_url, queue)
    with server.client() as client:
        assert client.resolve_pending(pending_id, fifth, professor="Prof. Kim").status == "absent"  # closed: kept

    assert history_rows(server, first) == [
        (None, None, "present", "checkin", TEST_CLIENT, None, None),
        ("present", "checkin", "excused", "manual", TEST_CLIENT, "Prof. Kim", "doctor's note"),
        ("excused", "manual", "present", "rollcall", TEST_CLIENT, "김교수", None),
    ]
    assert history_rows(server, second) == [(None, None, "late", "rollcall", TEST_CLIENT, None, None)]
    assert history_rows(server, third) == [(None, None, "absent", "rollcall", TEST_CLIENT, "김교수", None)]
    assert history_rows(server, fourth) == [(None, None, "present", "camera", TEST_CLIENT, None, None)]
    assert history_rows(server, fifth) == [(None, None, "absent", "camera", TEST_CLIENT, None, None)]
    assert history_rows(server, sixth) == [(None, None, "present", "checkin", "legacy@127.0.0.1", None, None)]
    # every mark's latest history row is the mark as stored: no mark without its history
    stored = server.query(
        "SELECT a.student_id, a.status, a.source FROM attendance a JOIN class_sessions s USING (session_id)"
        " JOIN lectures l USING (lecture_id) WHERE l.code = %s ORDER BY a.student_id",
        (LECTURE,),
    )
    assert [(sid, *history_rows(server, sid)[-1][2:4]) for sid, _, _ in stored] == [tuple(row) for row in stored]


def test_a_new_mark_from_a_2019_payload_and_a_confirmed_check_in_are_recorded(server):
    first, second, third = server.student_ids[:3]
    assert exchange(server.host, server.port, f"{first}{SMALL_LECTURE}".encode()) == b"success"

    def queue(cur):
        cur.execute(
            "INSERT INTO class_sessions (lecture_id, session_date)"
            " SELECT lecture_id, CURRENT_DATE FROM lectures WHERE code = %s"
            " ON DUPLICATE KEY UPDATE session_id = LAST_INSERT_ID(session_id)",
            (SMALL_LECTURE,),
        )
        return pending.add_pending(
            cur, session_id=cur.lastrowid, client_name="room-e203", frames=2, candidates=[(second, 0.5)]
        )

    pending_id = run_in_transaction(server.db_url, queue)
    with server.client() as client:
        reply = client.resolve_pending(pending_id, second, professor="Prof. Lee", reason="I know her")
        assert reply.status == "present" and not reply.already_marked
        rejected = run_in_transaction(
            server.db_url,
            lambda cur: pending.add_pending(
                cur, session_id=reply_session(cur), client_name="room-e203", frames=2, candidates=[(third, 0.5)]
            ),
        )
        client.resolve_pending(rejected, None)  # a rejection changes no mark: no row
    assert history_rows(server, first, SMALL_LECTURE) == [
        (None, None, "present", "checkin", "legacy@127.0.0.1", None, None)
    ]
    # the confirming client and professor, the check-in's origin in the reason
    assert history_rows(server, second, SMALL_LECTURE) == [
        (
            None,
            None,
            "present",
            "checkin",
            TEST_CLIENT,
            "Prof. Lee",
            f"uncertain check-in {pending_id} from room-e203 confirmed: I know her",
        )
    ]
    assert history_rows(server, third, SMALL_LECTURE) == []


def reply_session(cur) -> int:
    cur.execute(
        "SELECT s.session_id FROM class_sessions s JOIN lectures l USING (lecture_id)"
        " WHERE l.code = %s AND s.session_date = CURRENT_DATE",
        (SMALL_LECTURE,),
    )
    return cur.fetchone()[0]


def test_a_past_session_is_changed_with_a_reason_listed_and_flagged_in_the_report(server, capsys):
    student = server.student_ids[1]
    yesterday = dt.date.today() - dt.timedelta(days=1)
    # yesterday's session, closed by the camera the same day: the student absent
    server.query(
        "INSERT INTO class_sessions (lecture_id, session_date, closed_at)"
        " SELECT lecture_id, %s, %s FROM lectures WHERE code = %s",
        (yesterday, dt.datetime.combine(yesterday, dt.time(10, 30)), LECTURE),
    )
    (session_id,) = server.query(
        "SELECT session_id FROM class_sessions s JOIN lectures l USING (lecture_id) WHERE l.code = %s"
        " AND session_date = %s",
        (LECTURE, yesterday),
    )[0]
    server.query(
        "INSERT INTO attendance (session_id, student_id, status, source, marked_at, client_name)"
        " VALUES (%s, %s, 'absent', 'camera', %s, 'cam-1')",
        (session_id, student, dt.datetime.combine(yesterday, dt.time(10, 30))),
    )
    server.query(
        "INSERT INTO mark_history (session_id, student_id, new_status, source, client_name, changed_at)"
        " VALUES (%s, %s, 'absent', 'camera', 'cam-1', %s)",
        (session_id, student, dt.datetime.combine(yesterday, dt.time(10, 30))),
    )

    with server.client() as client:
        roster = client.roster(LECTURE, yesterday)
        assert roster.session_date == yesterday.isoformat()
        assert {e.student_id: e.status for e in roster.students}[student] == "absent"
        for kwargs, code, said in [
            ({}, ErrorCode.BAD_REQUEST, "needs a reason"),
            ({"reason": "x", "session_date": yesterday + dt.timedelta(days=2)}, ErrorCode.BAD_REQUEST, "future"),
            ({"reason": "x", "session_date": yesterday - dt.timedelta(days=30)}, ErrorCode.NOT_FOUND, "no session"),
        ]:
            kwargs.setdefault("session_date", yesterday)
            with pytest.raises(ServerError) as err:
                client.batch_mark(LECTURE, f"hist-past-{len(said)}", [(student, "excused")], **kwargs)
            assert err.value.code == code and said in err.value.message
        with pytest.raises(ServerError) as err:  # a check-in happens now, never in a past session
            client.mark(LECTURE, student, session_date=yesterday, reason="x")
        assert err.value.code == ErrorCode.BAD_REQUEST
        assert history_rows(server, student)[-1:] == [(None, None, "absent", "camera", "cam-1", None, None)]

        reply = client.batch_mark(
            LECTURE, "hist-past-ok", [(student, "excused")], session_date=yesterday, reason="hospital, note seen"
        )
        assert reply.applied == 1
        assert {e.student_id: e.status for e in client.roster(LECTURE, yesterday).students}[student] == "excused"

        listed = client.history(LECTURE, student_id=student, session_date=yesterday)
        assert [(e.old_status, e.new_status, e.source, e.client_name, e.reason) for e in listed.entries] == [
            (None, "absent", "camera", "cam-1", None),
            ("absent", "excused", "rollcall", TEST_CLIENT, "hospital, note seen"),
        ]
        assert {e.session_date for e in listed.entries} == {yesterday.isoformat()}
        everything = client.history(LECTURE.upper())
        assert len(everything.entries) > len(listed.entries) and everything.lecture == LECTURE
        with pytest.raises(ServerError) as err:
            client.history("zz9999_9")
        assert err.value.code == ErrorCode.NOT_FOUND

        report = wire.from_response(client.report(LECTURE))
    column = [s.date for s in report.sessions].index(yesterday)
    rows = {row.student_id: row for row in report.students}
    assert rows[student].changed_after == (column,)
    assert all(not row.changed_after for sid, row in rows.items() if sid != student)  # changed the same day
    text = render(report, "table").decode()
    assert "E*" in text and "mark changed after its session" in text

    assert cli.main(["--db-url", server.db_url.to_url(), "history", LECTURE, "--student", student]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "hospital, note seen" in line)
    assert yesterday.isoformat() in line and "absent -> excused" in line and TEST_CLIENT in line and " *" in line
    assert cli.main(["--db-url", server.db_url.to_url(), "history", LECTURE, "--date", "2001-01-01"]) == 0
    assert "no mark changes recorded" in capsys.readouterr().out
    assert cli.main(["--db-url", server.db_url.to_url(), "history", "zz9999_9"]) == 2
    assert capsys.readouterr().err.strip().endswith("no lecture zz9999_9")
    assert cli.main(["--db-url", server.db_url.to_url(), "history", LECTURE, "--student", "12"]) == 2
    assert "not a student ID" in capsys.readouterr().err
