"""The query functions of db/ against a real MariaDB/MySQL (one database, emptied before each test).

The concurrency tests use one connection per thread, as the server does.
"""

from __future__ import annotations

import datetime
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pymysql
import pytest

from db import attendance, lectures, students
from db.connection import connect, retry_on_conflict, transaction
from db.roster_import import (
    ImportReport,
    RosterFormatError,
    RosterRow,
    import_roster,
    read_roster_csv,
)

DAY = datetime.date(2024, 3, 4)
KIM, LEE, PARK, UNKNOWN = "201900001", "201900002", "201900003", "201999999"
TRICKY_NAMES = [
    "홍길동",  # Korean: needs utf8mb4 end to end
    "O'Brien",
    'Robert"); DROP TABLE students; --',
    "a;b -- c",
    "Zoë 😀",  # a 4-byte UTF-8 character
]


def in_transaction(conn, function, *args, **kwargs):
    """Call function(cur, ...) in its own transaction and return its result."""
    with transaction(conn) as cur:
        return function(cur, *args, **kwargs)


def run_in_threads(*functions, timeout=60):
    """Run each function in its own thread; return their results in order (re-raising errors)."""
    with ThreadPoolExecutor(max_workers=len(functions)) as pool:
        futures = [pool.submit(function) for function in functions]
        return [future.result(timeout=timeout) for future in futures]


def row_count(conn, table: str) -> int:
    with transaction(conn) as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table}")  # table names are constants of these tests
        return cur.fetchone()[0]


@pytest.fixture
def db_url(cleared_db_url):
    """These tests only write rows: one database for the module, emptied before each test."""
    return cleared_db_url


@pytest.fixture
def lecture(db_conn) -> lectures.Lecture:
    """Lecture ea0017_1 with KIM, LEE and PARK enrolled."""
    with transaction(db_conn) as cur:
        lecture = lectures.ensure_lecture(cur, "ea0017_1", "Signals")
        for student_id, name in [(KIM, "Kim"), (LEE, "Lee"), (PARK, "Park")]:
            students.ensure_student(cur, student_id, name)
            students.enroll(cur, lecture.lecture_id, student_id)
    return lecture


@pytest.fixture
def session_id(db_conn, lecture) -> int:
    return in_transaction(db_conn, attendance.ensure_session, lecture.lecture_id, DAY)


# -- lectures ----------------------------------------------------------------------------------


def test_get_lecture_is_none_until_ensure_lecture_creates_it(db_conn):
    assert in_transaction(db_conn, lectures.get_lecture, "ea0017_1") is None
    created = in_transaction(db_conn, lectures.ensure_lecture, "ea0017_1", "Signals")
    assert created.code == "ea0017_1" and created.title == "Signals"
    assert (created.starts_at, created.duration_minutes) == (None, None)
    assert in_transaction(db_conn, lectures.get_lecture, "ea0017_1") == created


def test_ensure_lecture_twice_returns_the_existing_lecture_unchanged(db_conn):
    first, created = in_transaction(db_conn, lectures.insert_lecture_if_missing, "ea0017_1", "Signals")
    again, created_again = in_transaction(db_conn, lectures.insert_lecture_if_missing, "ea0017_1", "Other")
    assert (created, created_again) == (True, False)
    assert again == first  # the title is not replaced
    assert in_transaction(db_conn, lectures.ensure_lecture, "ea0017_1") == first
    assert row_count(db_conn, "lectures") == 1


def test_lecture_start_time_is_a_time_of_day(db_conn):
    lecture = in_transaction(db_conn, lectures.ensure_lecture, "cs1010_2")
    with transaction(db_conn) as cur:
        cur.execute(
            "UPDATE lectures SET starts_at = %s, duration_minutes = %s WHERE lecture_id = %s",
            ("09:30:00", 75, lecture.lecture_id),
        )
    stored = in_transaction(db_conn, lectures.get_lecture, "cs1010_2")
    assert stored.starts_at == datetime.time(9, 30)
    assert stored.duration_minutes == 75


# -- students ----------------------------------------------------------------------------------


def test_get_student_and_ensure_student_keeps_the_first_name(db_conn):
    assert in_transaction(db_conn, students.get_student, KIM) is None
    assert in_transaction(db_conn, students.ensure_student, KIM, "Kim") is True
    assert in_transaction(db_conn, students.ensure_student, KIM, "Someone else") is False
    assert in_transaction(db_conn, students.get_student, KIM) == students.Student(KIM, "Kim")


def test_rename_student_reports_a_change_even_of_case_only(db_conn):
    in_transaction(db_conn, students.ensure_student, KIM, "kim minsu")
    assert in_transaction(db_conn, students.rename_student, KIM, "kim minsu") is False
    assert in_transaction(db_conn, students.rename_student, KIM, "Kim Minsu") is True
    assert in_transaction(db_conn, students.get_student, KIM).name == "Kim Minsu"
    assert in_transaction(db_conn, students.rename_student, UNKNOWN, "Nobody") is False


@pytest.mark.parametrize("name", TRICKY_NAMES)
def test_names_round_trip_exactly(db_conn, name):
    lecture = in_transaction(db_conn, lectures.ensure_lecture, "ea0017_1")
    with transaction(db_conn) as cur:
        students.ensure_student(cur, KIM, name)
        students.enroll(cur, lecture.lecture_id, KIM)
    assert in_transaction(db_conn, students.get_student, KIM).name == name
    assert in_transaction(db_conn, students.roster, lecture.lecture_id) == [students.Student(KIM, name)]
    assert row_count(db_conn, "students") == 1


def test_enroll_is_idempotent_and_roster_is_ordered_by_student_id(db_conn):
    lecture = in_transaction(db_conn, lectures.ensure_lecture, "ea0017_1")
    other = in_transaction(db_conn, lectures.ensure_lecture, "ea0017_2")
    with transaction(db_conn) as cur:
        for student_id, name in [(PARK, "Park"), (KIM, "Kim"), (LEE, "Lee")]:
            students.ensure_student(cur, student_id, name)
        assert students.enroll(cur, lecture.lecture_id, PARK) is True
        assert students.enroll(cur, lecture.lecture_id, KIM) is True
        assert students.enroll(cur, lecture.lecture_id, KIM) is False
        assert students.enroll(cur, other.lecture_id, LEE) is True
    with transaction(db_conn) as cur:
        assert students.roster(cur, lecture.lecture_id) == [
            students.Student(KIM, "Kim"),
            students.Student(PARK, "Park"),
        ]
        assert students.is_enrolled(cur, lecture.lecture_id, KIM) is True
        assert students.is_enrolled(cur, lecture.lecture_id, LEE) is False
        assert students.is_enrolled(cur, other.lecture_id, LEE) is True
        assert students.roster(cur, 12345) == []


def test_enrolling_an_unknown_student_is_a_foreign_key_error(db_conn):
    lecture = in_transaction(db_conn, lectures.ensure_lecture, "ea0017_1")
    with pytest.raises(pymysql.err.IntegrityError):
        in_transaction(db_conn, students.enroll, lecture.lecture_id, UNKNOWN)
    assert row_count(db_conn, "enrollments") == 0


# -- sessions ----------------------------------------------------------------------------------


def test_ensure_session_creates_one_session_per_lecture_and_day(db_conn, lecture):
    assert in_transaction(db_conn, attendance.find_session, lecture.lecture_id, DAY) is None
    first = in_transaction(db_conn, attendance.ensure_session, lecture.lecture_id, DAY)
    assert in_transaction(db_conn, attendance.ensure_session, lecture.lecture_id, DAY) == first
    assert in_transaction(db_conn, attendance.find_session, lecture.lecture_id, DAY) == first
    next_day = in_transaction(db_conn, attendance.ensure_session, lecture.lecture_id, DAY + datetime.timedelta(1))
    assert next_day != first
    assert row_count(db_conn, "class_sessions") == 2


def test_ensure_session_for_a_row_another_connection_is_creating(db_url, lecture):
    """The second caller cannot see the first one's row (its snapshot is older, and the row is
    not committed yet): it must wait for it, then get its ID, not create a second session."""
    snapshot_taken, first_created = threading.Event(), threading.Event()

    def first():
        with connect(db_url) as conn, transaction(conn) as cur:
            snapshot_taken.wait(10)
            session_id = attendance.ensure_session(cur, lecture.lecture_id, DAY)
            first_created.set()
            time.sleep(0.5)  # the second caller is now waiting for this transaction
        return session_id

    def second():
        with connect(db_url) as conn, transaction(conn) as cur:
            assert attendance.find_session(cur, lecture.lecture_id, DAY) is None  # starts a snapshot
            snapshot_taken.set()
            first_created.wait(10)
            return attendance.ensure_session(cur, lecture.lecture_id, DAY)

    first_id, second_id = run_in_threads(first, second)
    assert first_id == second_id


def test_ensure_session_from_many_connections_at_once(db_url, db_conn, lecture):
    start = threading.Barrier(8)

    def call():
        with connect(db_url) as conn, transaction(conn) as cur:
            start.wait(10)
            return attendance.ensure_session(cur, lecture.lecture_id, DAY)

    assert len(set(run_in_threads(*[call] * 8))) == 1
    assert row_count(db_conn, "class_sessions") == 1


# -- marks -------------------------------------------------------------------------------------


def mark_kim(conn, session_id, **overrides):
    values = dict(
        session_id=session_id,
        student_id=KIM,
        status="present",
        source="checkin",
        client_name="room-101",
        distance=0.35,
    )
    values.update(overrides)
    return in_transaction(conn, attendance.mark, **values)


def test_first_mark_is_stored(db_conn, session_id):
    assert mark_kim(db_conn, session_id) == attendance.MarkResult("present", already_marked=False)
    marks = in_transaction(db_conn, attendance.session_marks, session_id)
    assert list(marks) == [KIM]
    stored = marks[KIM]
    assert (stored.student_id, stored.status, stored.source, stored.client_name) == (
        KIM,
        "present",
        "checkin",
        "room-101",
    )
    assert stored.distance == pytest.approx(0.35, abs=1e-6)
    assert isinstance(stored.marked_at, datetime.datetime)


def test_marking_again_without_overwrite_changes_nothing(db_conn, session_id):
    mark_kim(db_conn, session_id, status="late")
    before = in_transaction(db_conn, attendance.session_marks, session_id)
    again = mark_kim(db_conn, session_id, status="present", source="camera", client_name="cam", distance=0.1)
    assert again == attendance.MarkResult("late", already_marked=True)  # the stored status
    assert in_transaction(db_conn, attendance.session_marks, session_id) == before
    assert row_count(db_conn, "attendance") == 1


def test_marking_again_with_overwrite_replaces_the_mark(db_conn, session_id):
    mark_kim(db_conn, session_id)
    before = in_transaction(db_conn, attendance.session_marks, session_id)[KIM]
    time.sleep(0.01)  # marked_at has millisecond precision
    result = mark_kim(
        db_conn, session_id, status="excused", source="rollcall", client_name="prof", distance=None, overwrite=True
    )
    assert result == attendance.MarkResult("excused", already_marked=True)
    after = in_transaction(db_conn, attendance.session_marks, session_id)[KIM]
    assert (after.status, after.source, after.client_name, after.distance) == ("excused", "rollcall", "prof", None)
    assert after.marked_at > before.marked_at
    assert row_count(db_conn, "attendance") == 1
    # overwrite on a student with no mark yet is a plain first mark
    fresh = in_transaction(
        db_conn,
        attendance.mark,
        session_id=session_id,
        student_id=LEE,
        status="absent",
        source="rollcall",
        client_name="prof",
        overwrite=True,
    )
    assert fresh == attendance.MarkResult("absent", already_marked=False)


def test_mark_many_writes_new_marks_and_replaces_existing_ones(db_conn, session_id):
    mark_kim(db_conn, session_id, status="present", source="checkin", client_name="room-101", distance=0.3)
    before = in_transaction(db_conn, attendance.session_marks, session_id)[KIM]
    time.sleep(0.01)  # marked_at has millisecond precision
    written = in_transaction(
        db_conn,
        attendance.mark_many,
        session_id=session_id,
        marks=[(PARK, "absent"), (KIM, "late"), (LEE, "present")],
        source="rollcall",
        client_name="prof",
    )
    assert written == 3
    marks = in_transaction(db_conn, attendance.session_marks, session_id)
    assert {sid: (m.status, m.source, m.client_name, m.distance) for sid, m in marks.items()} == {
        KIM: ("late", "rollcall", "prof", None),  # the check-in was replaced
        LEE: ("present", "rollcall", "prof", None),
        PARK: ("absent", "rollcall", "prof", None),
    }
    assert marks[KIM].marked_at > before.marked_at
    assert row_count(db_conn, "attendance") == 3
    # the same marks again: nothing new, nothing doubled
    assert (
        in_transaction(
            db_conn,
            attendance.mark_many,
            session_id=session_id,
            marks=[(KIM, "late"), (LEE, "present")],
            source="rollcall",
            client_name="prof",
        )
        == 2
    )
    assert row_count(db_conn, "attendance") == 3
    assert (
        in_transaction(
            db_conn, attendance.mark_many, session_id=session_id, marks=[], source="rollcall", client_name="prof"
        )
        == 0
    )


def test_mark_many_refuses_bad_marks_and_unknown_students_whole(db_conn, session_id):
    for marks, error in [
        ([(KIM, "here")], ValueError),
        ([(KIM, "late"), (KIM, "absent")], ValueError),
        ([(LEE, "present"), (UNKNOWN, "present")], pymysql.err.IntegrityError),
    ]:
        with pytest.raises(error):
            in_transaction(
                db_conn, attendance.mark_many, session_id=session_id, marks=marks, source="rollcall", client_name="prof"
            )
    assert row_count(db_conn, "attendance") == 0  # the transaction rolled back LEE's mark too


def test_marks_are_per_session(db_conn, lecture, session_id):
    other_day = in_transaction(db_conn, attendance.ensure_session, lecture.lecture_id, DAY + datetime.timedelta(7))
    mark_kim(db_conn, session_id)
    assert mark_kim(db_conn, other_day).already_marked is False
    assert list(in_transaction(db_conn, attendance.session_marks, other_day)) == [KIM]
    assert in_transaction(db_conn, attendance.session_marks, 987654) == {}


@pytest.mark.parametrize("field, value", [("status", "here"), ("source", "phone")])
def test_unknown_status_or_source_is_refused(db_conn, session_id, field, value):
    with pytest.raises(ValueError, match=value):
        mark_kim(db_conn, session_id, **{field: value})
    assert row_count(db_conn, "attendance") == 0


def test_mark_for_an_unknown_student_or_session_writes_nothing(db_conn, session_id):
    with pytest.raises(pymysql.err.IntegrityError):
        with transaction(db_conn) as cur:
            attendance.mark(
                cur, session_id=session_id, student_id=KIM, status="present", source="rollcall", client_name="prof"
            )
            attendance.mark(
                cur, session_id=session_id, student_id=UNKNOWN, status="present", source="rollcall", client_name="prof"
            )
    with pytest.raises(pymysql.err.IntegrityError):
        mark_kim(db_conn, 987654)
    assert row_count(db_conn, "attendance") == 0  # KIM's mark was rolled back with the rest


def test_mark_while_another_connection_is_marking_the_same_student(db_url, db_conn, session_id):
    """The second check-in waits for the first, then reports the first one's mark."""
    snapshot_taken, first_marked = threading.Event(), threading.Event()

    def first():
        with connect(db_url) as conn, transaction(conn) as cur:
            snapshot_taken.wait(10)
            result = attendance.mark(
                cur, session_id=session_id, student_id=KIM, status="late", source="checkin", client_name="first"
            )
            first_marked.set()
            time.sleep(0.5)
        return result

    def second():
        with connect(db_url) as conn, transaction(conn) as cur:
            assert attendance.session_marks(cur, session_id) == {}  # starts a snapshot
            snapshot_taken.set()
            first_marked.wait(10)
            return attendance.mark(
                cur, session_id=session_id, student_id=KIM, status="present", source="checkin", client_name="second"
            )

    first_result, second_result = run_in_threads(first, second)
    assert first_result == attendance.MarkResult("late", already_marked=False)
    assert second_result == attendance.MarkResult("late", already_marked=True)
    assert in_transaction(db_conn, attendance.session_marks, session_id)[KIM].client_name == "first"


def test_mark_from_many_connections_at_once_leaves_one_row(db_url, db_conn, session_id):
    start = threading.Barrier(8)

    def call(client_name):
        with connect(db_url) as conn, transaction(conn) as cur:
            start.wait(10)
            return attendance.mark(
                cur, session_id=session_id, student_id=KIM, status="present", source="checkin", client_name=client_name
            )

    results = run_in_threads(*[lambda n=n: call(f"client-{n}") for n in range(8)])
    assert sorted(result.already_marked for result in results) == [False] + [True] * 7
    assert {result.status for result in results} == {"present"}
    assert row_count(db_conn, "attendance") == 1


# -- batches -----------------------------------------------------------------------------------


def test_record_batch_then_find_applied_batch(db_conn, lecture, session_id):
    scope = {"client_name": "prof", "lecture_id": lecture.lecture_id}
    assert in_transaction(db_conn, attendance.find_applied_batch, batch_id="batch-1", **scope) is None
    reply = json.dumps({"batch_id": "batch-1", "applied": 2, "name": "홍길동"}, ensure_ascii=False)
    in_transaction(
        db_conn,
        attendance.record_batch,
        batch_id="batch-1",
        session_id=session_id,
        reply_json=reply,
        request_sha256="ab" * 32,
        **scope,
    )
    stored = in_transaction(db_conn, attendance.find_applied_batch, batch_id="batch-1", **scope)
    assert stored == attendance.AppliedBatch(reply, "ab" * 32, DAY)
    with pytest.raises(pymysql.err.IntegrityError):  # a batch ID is recorded once per client and lecture
        in_transaction(
            db_conn, attendance.record_batch, batch_id="batch-1", session_id=session_id, reply_json="{}", **scope
        )
    # Another client's batch-1 is its own batch: not found, and recorded beside the first.
    other = {"client_name": "room-e203", "lecture_id": lecture.lecture_id}
    assert in_transaction(db_conn, attendance.find_applied_batch, batch_id="batch-1", **other) is None
    in_transaction(
        db_conn, attendance.record_batch, batch_id="batch-1", session_id=session_id, reply_json="{}", **other
    )
    assert row_count(db_conn, "applied_batches") == 2


def test_the_same_batch_applied_by_two_connections_at_once_is_applied_once(db_url, db_conn, lecture, session_id):
    """Both transactions see the batch as new; the one that commits second fails on the
    applied_batches primary key and is rolled back whole, its marks included."""
    both_checked = threading.Barrier(2)

    def apply(status):
        try:
            with connect(db_url) as conn, transaction(conn) as cur:
                stored = attendance.find_applied_batch(
                    cur, client_name="prof", lecture_id=lecture.lecture_id, batch_id="batch-7"
                )
                both_checked.wait(10)  # neither has recorded the batch yet
                assert stored is None
                for student_id in (KIM, LEE, PARK):  # sorted, as every batch should be
                    attendance.mark(
                        cur,
                        session_id=session_id,
                        student_id=student_id,
                        status=status,
                        source="rollcall",
                        client_name=status,
                        overwrite=True,
                    )
                attendance.record_batch(
                    cur,
                    batch_id="batch-7",
                    lecture_id=lecture.lecture_id,
                    session_id=session_id,
                    client_name="prof",
                    reply_json=json.dumps({"status": status}),
                )
            return status
        except pymysql.err.IntegrityError:
            return None

    outcomes = run_in_threads(lambda: apply("present"), lambda: apply("late"))
    winners = [status for status in outcomes if status is not None]
    assert len(winners) == 1, outcomes
    winner = winners[0]
    stored = in_transaction(
        db_conn, attendance.find_applied_batch, client_name="prof", lecture_id=lecture.lecture_id, batch_id="batch-7"
    )
    assert stored.reply_json == json.dumps({"status": winner})
    marks = in_transaction(db_conn, attendance.session_marks, session_id)
    assert {mark.status for mark in marks.values()} == {winner}  # nothing left of the loser
    assert {mark.client_name for mark in marks.values()} == {winner}
    assert row_count(db_conn, "applied_batches") == 1


# -- roster import -----------------------------------------------------------------------------


def write(tmp_path, content: str | bytes, name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_read_roster_csv_with_bom_spaces_blank_and_repeated_lines(tmp_path):
    path = write(
        tmp_path,
        "\ufeff lecture_code , student_id ,student_name\r\n"
        "EA0017_1, 201900001 , 홍길동\r\n"
        "\r\n"
        'ea0017_1,201900002,"O\'Brien, Pat"\r\n'
        "EA0017_1,201900001,홍길동\r\n",
    )
    assert read_roster_csv(path) == [
        RosterRow("ea0017_1", KIM, "홍길동", 2),
        RosterRow("ea0017_1", LEE, "O'Brien, Pat", 4),
        RosterRow("ea0017_1", KIM, "홍길동", 5),
    ]


def test_read_roster_csv_without_bom_and_header_only(tmp_path):
    assert read_roster_csv(write(tmp_path, "lecture_code,student_id,student_name\nea0017_1,201900001,Kim\n")) == [
        RosterRow("ea0017_1", KIM, "Kim", 2)
    ]
    assert read_roster_csv(write(tmp_path, "lecture_code,student_id,student_name\n", "empty.csv")) == []


HEADER = "lecture_code,student_id,student_name\n"
GOOD = "ea0017_1,201900001,Kim\n"


@pytest.mark.parametrize(
    "content, line, words",
    [
        ("", 1, "first line"),
        ("code,id,name\n" + GOOD, 1, "first line"),
        ("lecture_code,student_id\n" + GOOD, 1, "first line"),
        (HEADER + GOOD + "ea17_1,201900002,Lee\n", 3, "lecture code"),
        (HEADER + GOOD + "ea0017_1,20190002,Lee\n", 3, "student ID"),
        (HEADER + GOOD + "ea0017_1,101900002,Lee\n", 3, "student ID"),
        (HEADER + GOOD + "ea0017_1,201900002,  \n", 3, "empty"),
        (HEADER + GOOD + "ea0017_1,201900002," + "x" * 101 + "\n", 3, "longer than 100"),
        (HEADER + GOOD + "ea0017_1,201900002\n", 3, "expected 3 fields"),
        (HEADER + GOOD + "ea0017_1,201900002,Lee,extra\n", 3, "expected 3 fields"),
        (HEADER + GOOD + 'ea0017_1,201900002,"Lee\nJi"\n', 4, "control character"),
        (HEADER + GOOD + 'ea0017_1,201900002,"Lee"x\n', 3, "bad CSV"),
        (HEADER + GOOD + "ea0017_2,201900001,Kim Minsu\n", 3, "on line 2"),
        (HEADER.encode() + GOOD.encode() + b"ea0017_1,201900002,\xff\xfe\n", 3, "neither UTF-8 nor CP949"),
    ],
)
def test_read_roster_csv_errors_name_the_file_and_line(tmp_path, content, line, words):
    path = write(tmp_path, content)
    with pytest.raises(RosterFormatError, match=words) as caught:
        read_roster_csv(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert caught.value.line == line
    assert isinstance(caught.value, ValueError)


def test_a_name_of_exactly_100_characters_is_fine(tmp_path):
    rows = read_roster_csv(write(tmp_path, HEADER + "ea0017_1,201900001," + "가" * 100 + "\n"))
    assert rows[0].student_name == "가" * 100


def test_import_roster_creates_then_changes_nothing(db_conn):
    rows = [
        RosterRow("ea0017_1", KIM, "홍길동", 2),
        RosterRow("ea0017_1", LEE, 'Robert"); DROP TABLE students; --', 3),
        RosterRow("cs1010_2", KIM, "홍길동", 4),
        RosterRow("cs1010_2", KIM, "홍길동", 5),  # repeated line
    ]
    assert in_transaction(db_conn, import_roster, rows) == ImportReport(
        lectures_created=2, students_created=2, enrollments_created=3, students_renamed=0
    )
    assert in_transaction(db_conn, import_roster, rows) == ImportReport(0, 0, 0, 0)
    with transaction(db_conn) as cur:
        first = lectures.get_lecture(cur, "ea0017_1")
        assert students.roster(cur, first.lecture_id) == [
            students.Student(KIM, "홍길동"),
            students.Student(LEE, 'Robert"); DROP TABLE students; --'),
        ]
        assert [s.student_id for s in students.roster(cur, lectures.get_lecture(cur, "cs1010_2").lecture_id)] == [KIM]


def test_import_roster_renames_students_and_adds_to_existing_lectures(db_conn, lecture):
    rows = [RosterRow("ea0017_1", KIM, "Kim Minsu", 2), RosterRow("ea0017_1", "201900004", "Choi", 3)]
    assert in_transaction(db_conn, import_roster, rows) == ImportReport(
        lectures_created=0, students_created=1, enrollments_created=1, students_renamed=1
    )
    with transaction(db_conn) as cur:
        assert students.get_student(cur, KIM).name == "Kim Minsu"
        # nobody is removed from the roster: LEE and PARK were not in the file
        assert [s.student_id for s in students.roster(cur, lecture.lecture_id)] == [KIM, LEE, PARK, "201900004"]


def test_import_roster_of_a_file_is_all_or_nothing(db_conn, tmp_path):
    rows = read_roster_csv(write(tmp_path, HEADER + "ea0017_1,201900001,홍길동\n"))
    with pytest.raises(RuntimeError):
        with transaction(db_conn) as cur:
            import_roster(cur, rows)
            raise RuntimeError("interrupted")
    assert row_count(db_conn, "lectures") == row_count(db_conn, "students") == 0


def test_import_roster_sync_drops_the_unlisted_and_a_later_import_readmits_them(db_conn, lecture):
    day = datetime.date(2027, 4, 1)
    synced = in_transaction(
        db_conn, import_roster, [RosterRow("ea0017_1", KIM, "Kim", 2)], sync=["ea0017_1"], today=day
    )
    assert (synced.students_dropped, synced.enrollments_created) == (2, 0)
    assert f"drop {LEE} " in " ".join(synced.changes) and f"drop {PARK} " in " ".join(synced.changes)
    with transaction(db_conn) as cur:
        assert [s.student_id for s in students.roster(cur, lecture.lecture_id)] == [KIM]
        assert not students.is_enrolled(cur, lecture.lecture_id, LEE)
        cur.execute("SELECT student_id, dropped_on FROM enrollments ORDER BY student_id")
        assert cur.fetchall() == ((KIM, None), (LEE, day), (PARK, day))  # the rows stay
    again = in_transaction(db_conn, import_roster, [RosterRow("ea0017_1", KIM, "Kim", 2)], sync=["ea0017_1"], today=day)
    assert again == ImportReport(0, 0, 0, 0)  # nothing left to drop
    back = in_transaction(db_conn, import_roster, [RosterRow("ea0017_1", LEE, "Lee", 2)])  # without --sync
    assert (back.students_readmitted, back.students_dropped, back.enrollments_created) == (1, 0, 0)
    with transaction(db_conn) as cur:
        assert [s.student_id for s in students.roster(cur, lecture.lecture_id)] == [KIM, LEE]


# -- every mark written under contention ----------------------------------------------------------


def test_every_mark_returned_by_mark_and_mark_many_is_stored_under_contention(db_url, db_conn):
    """16 connections mark random students of 3 sessions for a few seconds, single marks and
    batches at once, with deadlocks retried as the server retries them. Every call that
    returned must have its rows stored, with their history. MariaDB 10.11 dropped a few rows of
    the batches' multi-row INSERT here (about 1 in 1,000) before mark_many read its rows back."""
    ids = [str(202100000 + n) for n in range(1500)]
    with transaction(db_conn) as cur:
        lecture = lectures.ensure_lecture(cur, "ea0018_1", "Load")
        cur.executemany("INSERT INTO students (student_id, name) VALUES (%s, %s)", [(i, f"S {i}") for i in ids])
        cur.executemany(
            "INSERT INTO enrollments (lecture_id, student_id) VALUES (%s, %s)", [(lecture.lecture_id, i) for i in ids]
        )
        sessions = [attendance.ensure_session(cur, lecture.lecture_id, DAY + datetime.timedelta(n)) for n in range(3)]
    returned: set[tuple[int, str]] = set()
    lock = threading.Lock()
    deadline = time.monotonic() + 6

    def client(number: int) -> int:
        rng = random.Random(number)
        conflicts = 0
        with connect(db_url) as conn:
            while time.monotonic() < deadline:
                session = rng.choice(sessions)
                if rng.random() < 0.3:
                    marks = [
                        (s, rng.choice(("present", "late", "absent"))) for s in rng.sample(ids, rng.randint(10, 60))
                    ]
                else:
                    marks = [(rng.choice(ids), "present")]

                def work(marks=marks, session=session):
                    with transaction(conn) as cur:
                        if len(marks) == 1:
                            attendance.mark(
                                cur, session_id=session, student_id=marks[0][0], status="present",
                                source="checkin", client_name=f"c{number}",
                            )  # fmt: skip
                        else:
                            attendance.mark_many(
                                cur, session_id=session, marks=marks, source="rollcall", client_name=f"c{number}"
                            )

                try:
                    retry_on_conflict(work, 3)
                except pymysql.err.OperationalError:
                    conflicts += 1  # given up, as the server answers db_unavailable: nothing returned
                    continue
                with lock:
                    returned.update((session, student_id) for student_id, _ in marks)
        return conflicts

    run_in_threads(*[lambda n=n: client(n) for n in range(16)], timeout=120)
    with transaction(db_conn) as cur:
        cur.execute("SELECT session_id, student_id FROM attendance")
        stored = set(cur.fetchall())
        cur.execute("SELECT DISTINCT session_id, student_id FROM mark_history")
        recorded = set(cur.fetchall())
    assert len(returned) > 2000  # enough contention to have meant something
    assert sorted(returned - stored)[:10] == []
    assert stored == returned and recorded == stored
