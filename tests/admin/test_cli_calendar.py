"""The term's calendar with attendance-db (schedule, cancel-session, delete-session) against a
real database: a term with a holiday, a cancelled session out of every rate (reports, views),
a session made by mistake deleted, and one holding a person's mark kept."""

from __future__ import annotations

import datetime as dt

import pytest

from admin import cli
from db import attendance
from db.connection import connect, run_in_transaction, transaction
from db.reports import build_report
from db.roster_import import RosterRow, import_roster
from reports import cli as report_cli
from server import presence
from server.presence import PresenceSettings

LECTURE = "ea0017_1"
ALICE, BOB = "201911001", "201911002"


@pytest.fixture
def url(cleared_db_url):
    rows = [RosterRow(LECTURE, ALICE, "Alice", 2), RosterRow(LECTURE, BOB, "Bob", 3)]

    def enrol(cur):
        import_roster(cur, rows)
        cur.execute("UPDATE enrollments SET enrolled_at = '2026-01-01 00:00:00'")

    run_in_transaction(cleared_db_url, enrol)
    return cleared_db_url


def query(url, sql, args=()):
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())
    finally:
        conn.close()


def db(url, *args: str) -> int:
    return cli.main(["--db-url", url.to_url(), *map(str, args)])


def sessions(url):
    return query(
        url,
        "SELECT session_date, TIME(starts_at), TIME(ends_at), scheduled, cancelled_at IS NOT NULL"
        " FROM class_sessions ORDER BY session_date",
    )


def test_a_term_with_a_holiday(url, tmp_path, capsys):
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("# spring 2027\n2027-03-03 대체공휴일\n2027-04-19..2027-04-23 midterm week\n", encoding="utf-8")

    # A session that exists before the schedule (a first check-in made it, without times).
    def check_in(cur):
        session_id = attendance.ensure_session(cur, 1, dt.date(2027, 3, 8))
        attendance.mark(
            cur, session_id=session_id, student_id=ALICE, status="present", source="checkin", client_name="t"
        )

    run_in_transaction(url, check_in)
    weekly = "MON 09:00-10:15, WED 09:00-10:15"
    args = ["schedule", LECTURE.upper(), "--weekly", weekly, "--from", "2027-03-02", "--to", "2027-06-19"]
    assert db(url, *args, "--holidays", holidays, "--skip", "2027-05-05") == 0
    out = capsys.readouterr().out
    assert "skipped 2027-03-03 (Wed): 대체공휴일" in out
    assert "skipped 2027-04-19 (Mon): midterm week" in out and "skipped 2027-04-21 (Wed): midterm week" in out
    assert "skipped 2027-05-05 (Wed): --skip" in out
    rows = sessions(url)
    days = [row[0] for row in rows]
    # 2 March to 19 June 2027: 15 Mondays and 16 Wednesdays, less 3 March, 19 and 21 April, 5 May.
    assert len(days) == 31 - 4
    assert all(day.weekday() in (0, 2) for day in days)
    assert not {dt.date(2027, 3, 3), dt.date(2027, 4, 19), dt.date(2027, 4, 21), dt.date(2027, 5, 5)} & set(days)
    assert days[0] == dt.date(2027, 3, 8) and days[-1] == dt.date(2027, 6, 16)
    assert {row[1:] for row in rows} == {(dt.timedelta(hours=9), dt.timedelta(hours=10, minutes=15), 1, 0)}
    assert "created: 26" in out and "times set: 1 (2027-03-08)" in out  # the check-in's session kept
    assert query(url, "SELECT COUNT(*) FROM attendance") == [(1,)]

    # Safe to repeat: nothing new, nothing changed.
    ids = query(url, "SELECT session_id FROM class_sessions ORDER BY session_id")
    assert db(url, *args, "--holidays", holidays, "--skip", "2027-05-05") == 0
    assert "unchanged: 27" in capsys.readouterr().out
    assert query(url, "SELECT session_id FROM class_sessions ORDER BY session_id") == ids

    # A dry run of a longer term writes nothing.
    assert (
        db(url, "schedule", LECTURE, "--weekly", weekly, "--from", "2027-03-02", "--to", "2027-06-30", "--dry-run") == 0
    )
    out = capsys.readouterr().out
    assert "already there: 27" in out and "would be created: 8" in out and "dry run: nothing written" in out
    assert query(url, "SELECT session_id FROM class_sessions ORDER BY session_id") == ids


@pytest.mark.parametrize(
    "args, problem",
    [
        (["zz9999_9", "--weekly", "MON 09:00-10:00"], "no lecture zz9999_9"),
        ([LECTURE, "--weekly", "MON 09:00-10:00, MON 11:00-12:00"], "at most one session a day"),
        ([LECTURE, "--weekly", "MON 9h"], "is not 'DAY HH:MM-HH:MM'"),
        ([LECTURE, "--weekly", "MON 09:00-10:00", "--holidays", "/nonexistent/holidays.txt"], "cannot read"),
    ],
)
def test_schedule_refuses_bad_input_in_one_line(url, capsys, args, problem):
    assert db(url, "schedule", *args, "--from", "2027-03-02", "--to", "2027-06-19") == 2
    err = capsys.readouterr().err
    assert problem in err and len(err.strip().splitlines()) == 1
    assert query(url, "SELECT COUNT(*) FROM class_sessions") == [(0,)]


def mark(url, day: dt.date, student_id: str, status: str) -> None:
    def write(cur):
        session_id = attendance.find_session(cur, 1, day)
        attendance.mark(
            cur,
            session_id=session_id,
            student_id=student_id,
            status=status,
            source="rollcall",
            client_name="prof",
            overwrite=True,
        )

    run_in_transaction(url, write)


def rates(url):
    report = run_in_transaction(url, lambda cur: build_report(cur, LECTURE))
    return (
        [s.date for s in report.sessions],
        {s.student_id: (s.cells, s.tally.rate) for s in report.students},
    )


def test_a_cancelled_session_is_out_of_every_rate(url, capsys):
    days = [dt.date(2026, 9, 7), dt.date(2026, 9, 9), dt.date(2026, 9, 14)]  # past: Mon, Wed, Mon
    assert (
        db(
            url,
            "schedule",
            LECTURE,
            "--weekly",
            "MON 09:00-10:15, WED 09:00-10:15",
            "--from",
            days[0],
            "--to",
            days[-1],
        )
        == 0
    )
    for day in days:
        mark(url, day, ALICE, "present")
    mark(url, days[0], BOB, "present")
    mark(url, days[1], BOB, "absent")  # days[2]: not marked, the session is past: absent
    assert rates(url) == (days, {ALICE: (("P", "P", "P"), 100.0), BOB: (("P", "A", "A"), 33.3)})
    assert query(
        url,
        "SELECT student_id, sessions, CAST(attendance_rate AS DOUBLE) FROM attendance_summary_v ORDER BY student_id",
    ) == [
        (ALICE, 3, 100.0),
        (BOB, 3, 33.3),
    ]

    assert db(url, "cancel-session", LECTURE, days[1], "--reason", "typhoon  warning") == 0
    assert "cancelled ea0017_1 on 2026-09-09 (typhoon warning): it counts for nobody" in capsys.readouterr().out
    # Out of the report (its sessions, cells and rates) and of the views; its marks stay.
    assert rates(url) == ([days[0], days[2]], {ALICE: (("P", "P"), 100.0), BOB: (("P", "A"), 50.0)})
    assert query(
        url,
        "SELECT student_id, sessions, CAST(attendance_rate AS DOUBLE) FROM attendance_summary_v ORDER BY student_id",
    ) == [
        (ALICE, 2, 100.0),
        (BOB, 2, 50.0),
    ]
    assert query(url, "SELECT COUNT(*) FROM attendance_sessions_v WHERE session_date = %s", (days[1],)) == [(0,)]
    assert query(
        url,
        "SELECT COUNT(*) FROM attendance a JOIN class_sessions s USING (session_id) WHERE s.session_date = %s",
        (days[1],),
    ) == [(2,)]
    assert query(url, "SELECT cancel_reason FROM class_sessions WHERE session_date = %s", (days[1],)) == [
        ("typhoon warning",)
    ]
    # attendance-report, the command, shows the same.
    assert report_cli.main(["--db-url", url.to_url(), "--lecture", LECTURE, "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert "2026-09-09" not in csv and "2026-09-07" in csv and "50.0" in csv

    # The scheduled close leaves a cancelled session alone: no camera statuses written into it.
    conn = connect(url)
    try:
        due = presence.close_due_sessions(lambda: transaction(conn), PresenceSettings(), dt.datetime(2026, 9, 20))
    finally:
        conn.close()
    assert {(o.session_date) for o in due} == {days[0], days[2]}
    assert query(url, "SELECT closed_at FROM class_sessions WHERE session_date = %s", (days[1],)) == [(None,)]

    assert db(url, "cancel-session", LECTURE, days[1]) == 0
    assert "cancelled already" in capsys.readouterr().out
    assert db(url, "cancel-session", LECTURE, "2026-09-08") == 2
    assert "ea0017_1 has no session on 2026-09-08" in capsys.readouterr().err


def test_a_session_made_by_mistake_is_deleted_but_not_one_with_a_persons_mark(url, capsys):
    # The camera opened a session on a wrong day: samples, sightings, camera marks at its close.
    wrong = dt.date(2026, 9, 10)
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            presence.record_sample(cur, LECTURE, dt.datetime(2026, 9, 10, 9, 5), [ALICE], 1, "room-e203")
            presence.close_session(
                cur, LECTURE, wrong, settings=PresenceSettings(), now=dt.datetime(2026, 9, 10, 11, 0), client_name="t"
            )
    finally:
        conn.close()
    assert query(url, "SELECT source, COUNT(*) FROM attendance GROUP BY source") == [("camera", 2)]
    assert db(url, "delete-session", LECTURE, wrong) == 0
    assert "deleted ea0017_1 on 2026-09-10, with 2 camera marks, 1 presence sample" in capsys.readouterr().out
    for table in ("class_sessions", "attendance", "presence_samples", "presence_sightings"):
        assert query(url, f"SELECT COUNT(*) FROM {table}") == [(0,)], table

    # A session holding a person's mark is refused, clearly, and left as it was.
    assert (
        db(url, "schedule", LECTURE, "--weekly", "MON 09:00-10:15", "--from", "2026-09-07", "--to", "2026-09-07") == 0
    )
    mark(url, dt.date(2026, 9, 7), BOB, "excused")
    assert db(url, "delete-session", LECTURE, "2026-09-07") == 2
    err = capsys.readouterr().err
    assert "holds 1 marks made by people: not deleted" in err and "cancel-session" in err
    assert query(url, "SELECT COUNT(*) FROM attendance") == [(1,)]
    assert db(url, "delete-session", LECTURE, "2026-09-08") == 2
