"""db/history.py and the mark writers that record it (db/attendance.py, db/presence.py,
db/privacy.py) against a real MariaDB/MySQL: a history row for each change and none without
one, in the mark's own transaction."""

from __future__ import annotations

import datetime

import pymysql
import pytest

from db import attendance, history, lectures, presence, privacy, students
from db.connection import connect, transaction
from db.roster_import import RosterRow, import_roster

DAY = datetime.date(2024, 3, 4)
KIM, LEE, PARK = "201900001", "201900002", "201900003"


@pytest.fixture
def conn(cleared_db_url):
    conn = connect(cleared_db_url)
    with transaction(conn) as cur:
        import_roster(
            cur,
            [
                RosterRow("ea0017_1", sid, name, n)
                for n, (sid, name) in enumerate([(KIM, "김철수"), (LEE, "Lee"), (PARK, "Park")], 2)
            ],
        )
    yield conn
    conn.close()


def session(conn, day=DAY) -> int:
    with transaction(conn) as cur:
        lecture = lectures.get_lecture(cur, "ea0017_1")
        return attendance.ensure_session(cur, lecture.lecture_id, day)


def changes(conn):
    """(student, old_status, old_source, new_status, source, client, professor, reason), in order."""
    with transaction(conn) as cur:
        cur.execute(
            "SELECT student_id, old_status, old_source, new_status, source, client_name, professor, reason"
            " FROM mark_history ORDER BY history_id"
        )
        return list(cur.fetchall())


def test_a_check_in_is_recorded_once_and_an_overwrite_with_old_and_new(conn):
    sid = session(conn)
    with transaction(conn) as cur:
        first = attendance.mark(
            cur,
            session_id=sid,
            student_id=KIM,
            status="present",
            source="checkin",
            client_name="room-e203",
            distance=0.31,
        )
        again = attendance.mark(
            cur, session_id=sid, student_id=KIM, status="late", source="checkin", client_name="room-e203"
        )
    assert not first.already_marked and again.already_marked and again.status == "present"
    with transaction(conn) as cur:
        same = attendance.mark(
            cur,
            session_id=sid,
            student_id=KIM,
            status="present",
            source="checkin",
            client_name="room-e203",
            overwrite=True,
        )
        changed = attendance.mark(
            cur,
            session_id=sid,
            student_id=KIM,
            status="excused",
            source="manual",
            client_name="prof",
            overwrite=True,
            professor=" Prof. Kim ",
            reason="  ",
        )
    assert same.already_marked and changed.status == "excused"
    assert changes(conn) == [
        (KIM, None, None, "present", "checkin", "room-e203", None, None),
        (KIM, "present", "checkin", "excused", "manual", "prof", "Prof. Kim", None),  # blank reason: none
    ]
    with transaction(conn) as cur:
        assert attendance.session_marks(cur, sid)[KIM].status == "excused"


def test_a_roll_call_records_new_and_changed_marks_only_and_leaves_no_sentinel(conn):
    sid = session(conn)
    with transaction(conn) as cur:
        attendance.mark(
            cur,
            session_id=sid,
            student_id=KIM,
            status="present",
            source="checkin",
            client_name="room-e203",
            distance=0.4,
        )
        attendance.mark(cur, session_id=sid, student_id=LEE, status="late", source="rollcall", client_name="prof-app")
    with transaction(conn) as cur:
        written = attendance.mark_many(
            cur,
            session_id=sid,
            marks=[(PARK, "absent"), (KIM, "late"), (LEE, "late")],
            source="rollcall",
            client_name="prof-app",
            reason="bus strike",
        )
    assert written == 3
    assert sorted(changes(conn)[2:]) == [
        (KIM, "present", "checkin", "late", "rollcall", "prof-app", None, "bus strike"),
        (PARK, None, None, "absent", "rollcall", "prof-app", None, "bus strike"),
    ]
    with transaction(conn) as cur:
        marks = attendance.session_marks(cur, sid)
    assert {s: (m.status, m.source, m.distance) for s, m in marks.items()} == {
        KIM: ("late", "rollcall", None),
        LEE: ("late", "rollcall", None),  # already as asked: left as it was
        PARK: ("absent", "rollcall", None),  # inserted with the sentinel distance, set back to NULL
    }
    assert marks[LEE].client_name == "prof-app"
    with transaction(conn) as cur:  # the same mark from another professor's app: it names that one now
        attendance.mark_many(cur, session_id=sid, marks=[(LEE, "late")], source="rollcall", client_name="prof-2")
    assert changes(conn)[-1] == (LEE, "late", "rollcall", "late", "rollcall", "prof-2", None, None)


def test_a_failed_batch_leaves_neither_marks_nor_history(conn):
    sid = session(conn)
    with pytest.raises(pymysql.err.IntegrityError), transaction(conn) as cur:
        attendance.mark_many(
            cur,
            session_id=sid,
            marks=[(KIM, "present"), ("201999999", "present")],
            source="rollcall",
            client_name="prof",
        )
    assert changes(conn) == []
    with transaction(conn) as cur:
        assert attendance.session_marks(cur, sid) == {}


def test_the_camera_records_new_and_changed_statuses_and_never_touches_a_persons_mark(conn):
    sid = session(conn)
    at = datetime.datetime(2024, 3, 4, 9, 5)
    with transaction(conn) as cur:
        attendance.mark(cur, session_id=sid, student_id=LEE, status="present", source="rollcall", client_name="prof")
        for status in ("absent", "absent", "late"):  # closed three times: absent, the same, then late
            presence.write_camera_mark(
                cur, session_id=sid, student_id=KIM, status=status, marked_at=at, client_name="scheduled-close"
            )
        presence.write_camera_mark(
            cur, session_id=sid, student_id=LEE, status="absent", marked_at=at, client_name="scheduled-close"
        )
    assert changes(conn)[1:] == [
        (KIM, None, None, "absent", "camera", "scheduled-close", None, None),
        (KIM, "absent", "camera", "late", "camera", "scheduled-close", None, None),
    ]
    with transaction(conn) as cur:
        marks = attendance.session_marks(cur, sid)
    assert (marks[KIM].status, marks[LEE].status, marks[LEE].source) == ("late", "present", "rollcall")


def test_history_lists_by_session_and_student_and_flags_later_days(conn):
    monday, wednesday = session(conn, DAY), session(conn, DAY + datetime.timedelta(days=2))
    with transaction(conn) as cur:
        attendance.mark(cur, session_id=wednesday, student_id=LEE, status="present", source="checkin", client_name="pc")
        attendance.mark(cur, session_id=monday, student_id=KIM, status="present", source="checkin", client_name="pc")
        cur.execute("UPDATE mark_history SET changed_at = %s", (datetime.datetime(2024, 3, 4, 9, 0),))
        attendance.mark(
            cur,
            session_id=monday,
            student_id=KIM,
            status="excused",
            source="manual",
            client_name="prof",
            overwrite=True,
            reason="note",
        )  # now: years after the session
        lecture = lectures.get_lecture(cur, "ea0017_1")
        everything = history.lecture_history(cur, lecture.lecture_id)
        kim = history.lecture_history(cur, lecture.lecture_id, student_id=KIM)
        wednesday_rows = history.lecture_history(cur, lecture.lecture_id, session_date=DAY + datetime.timedelta(2))
        flagged = history.changed_after_session(cur, lecture.lecture_id)
        none_in_range = history.changed_after_session(cur, lecture.lecture_id, DAY + datetime.timedelta(1))
    assert [(r.session_date, r.student_id, r.new_status) for r in everything] == [
        (DAY, KIM, "present"),
        (DAY, KIM, "excused"),
        (DAY + datetime.timedelta(2), LEE, "present"),
    ]
    assert [r.name for r in kim] == ["김철수", "김철수"] and [r.after_session for r in kim] == [False, True]
    assert [r.student_id for r in wednesday_rows] == [LEE]
    assert flagged == {(monday, KIM)} and none_in_range == set()


def test_forget_with_history_deletes_the_history_too(conn):
    sid = session(conn)
    with transaction(conn) as cur:
        attendance.mark(cur, session_id=sid, student_id=KIM, status="present", source="checkin", client_name="pc")
        attendance.mark(cur, session_id=sid, student_id=LEE, status="present", source="checkin", client_name="pc")
        privacy.forget_student(cur, KIM, with_history=True)
        assert students.get_student(cur, KIM) is None
    assert [row[0] for row in changes(conn)] == [LEE]


def test_a_reason_too_long_is_refused_before_anything_is_written(conn):
    sid = session(conn)
    with pytest.raises(ValueError, match="longer than 500"), transaction(conn) as cur:
        attendance.mark(
            cur,
            session_id=sid,
            student_id=KIM,
            status="present",
            source="manual",
            client_name="prof",
            overwrite=True,
            reason="x" * 501,
        )
    assert changes(conn) == []
