"""One clock, end to end (issue 15): the server in UTC with the campus in Asia/Seoul, the
classroom camera's watcher in Asia/Seoul (a real ``attendance-watch`` process, the sample clip),
a real server and database.

- the samples land in exactly the session of the campus day, at campus times, and the session
  the professor opened is the one the camera's statuses go to (before issue 15 the samples were
  filed 9 hours off: in that session after its end, or in a session of the next day);
- a client clock too far from the server's is refused (``clock_skew``) and the watcher says so;
- a sample outside every session's window is stored with a warning (reply and log);
- a check-in after the session closed is refused with ``session_closed`` ("see the professor"),
  listed for the professor as a late check-in, who can then mark the student.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest

from admin import cli as db_cli
from client.connection import TOKEN_ENV, ServerError
from client.watch import cli as watch_cli
from db.campus_clock import CampusClock
from db.connection import ConnectionPool, run_in_transaction
from protocol.errors import ErrorCode
from server.presence import PresenceService
from server.service import AttendanceService, ServiceError
from testkit.databases import fresh_database
from testkit.paths import REPO
from testkit.servers import LECTURE, SMALL_LECTURE, running_server, seed_roster

SEOUL = ZoneInfo("Asia/Seoul")
OBAMA, LIN = "201911001", "201911006"


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    """A server whose process is in UTC (TZ=UTC), with the campus time zone Asia/Seoul."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        with fresh_database(server_db_url) as url:
            with running_server(
                url, faces_dir / "knowns", workers=1, timezone="Asia/Seoul", close_due_every=0
            ) as running:
                yield running
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


def seoul_now() -> dt.datetime:
    """Campus wall-clock time, without tzinfo (as the DATETIME columns hold it)."""
    return dt.datetime.now(SEOUL).replace(tzinfo=None)


def db(server, *args) -> int:
    return db_cli.main(["--db-url", server.db_url.to_url(), "--timezone", "Asia/Seoul", *map(str, args)])


def sessions_of(server, lecture: str) -> list[tuple]:
    return server.query(
        "SELECT s.session_id, s.session_date, s.starts_at, s.ends_at, s.closed_at FROM class_sessions s"
        " JOIN lectures l USING (lecture_id) WHERE l.code = %s ORDER BY s.session_date",
        (lecture,),
    )


def test_a_watcher_in_seoul_and_a_server_in_utc_land_in_the_right_session(server, faces_dir, capsys):
    assert time.localtime().tm_gmtoff == 0  # the server's process is in UTC
    now = seoul_now()
    start = max(dt.datetime.combine(now.date(), dt.time(0, 0)), now - dt.timedelta(minutes=5))
    # The professor opens today's session (campus today: no --date), from a few minutes ago.
    assert db(server, "open-session", LECTURE, "--start", f"{start:%H:%M}", "--minutes", 120) == 0
    assert f"{LECTURE} on {now.date()}: from {start:%H:%M}" in capsys.readouterr().out
    [(session_id, day, starts_at, ends_at, _closed)] = sessions_of(server, LECTURE)

    # The classroom PC is in Seoul: attendance-watch there, on the sample clip, closing at its end.
    watcher = subprocess.run(
        [sys.executable, "-m", "client.watch.cli", "--server", f"{server.host}:{server.port}", "--lecture", LECTURE]
        + ["--video", str(faces_dir / "video" / "short_hamilton_clip.mp4"), "--every", "3", "--close"],
        env={**os.environ, "TZ": "Asia/Seoul", TOKEN_ENV: server.token, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert watcher.returncode == 0, watcher.stderr
    assert f"closed {LECTURE} on {day}: present 1" in watcher.stdout and "warning" not in watcher.stdout

    # Exactly the professor's session: no other one, the samples at campus times within it.
    assert sessions_of(server, LECTURE)[0][:4] == (session_id, now.date(), starts_at, ends_at)
    assert len(sessions_of(server, LECTURE)) == 1
    samples = server.query("SELECT session_id, sampled_at FROM presence_samples ORDER BY sampled_at")
    assert len(samples) == 4  # 0, 3, 6, 9 s of a 9.2 s clip
    assert {sid for sid, _ in samples} == {session_id}
    for _sid, sampled_at in samples:
        assert abs(sampled_at - seoul_now()) < dt.timedelta(minutes=5)
        assert starts_at <= sampled_at <= ends_at
    statuses = dict(
        server.query(
            "SELECT student_id, status FROM attendance WHERE session_id = %s AND source = 'camera'", (session_id,)
        )
    )
    assert statuses[LIN] == "present" and statuses[OBAMA] == "absent"
    # The database's own clock (marks' marked_at, CURRENT_TIMESTAMP) is campus time as well.
    [(closed_at,)] = server.query("SELECT closed_at FROM class_sessions WHERE session_id = %s", (session_id,))
    assert abs(closed_at - seoul_now()) < dt.timedelta(minutes=5)


def test_a_check_in_after_the_close_is_sent_to_the_professor(server, faces_dir):
    [(session_id, day, *_times, closed_at)] = sessions_of(server, LECTURE)
    assert closed_at is not None  # by the test above
    photo = (faces_dir / "probes" / "obama_2.jpg").read_bytes()
    with server.client() as client:
        with pytest.raises(ServerError) as refused:
            client.checkin(LECTURE, [photo])
        assert refused.value.code == ErrorCode.SESSION_CLOSED
        assert f"closed at {closed_at:%H:%M}" in refused.value.message and "see the professor" in refused.value.message
        with pytest.raises(ServerError) as again:  # by student ID this time: listed once
            client.mark(LECTURE, OBAMA)
        assert again.value.code == ErrorCode.SESSION_CLOSED
        # A student the camera saw is simply marked already.
        seen = client.mark(LECTURE, LIN)
        assert (seen.status, seen.already_marked) == ("present", True)

        listed = client.pending(LECTURE)
        assert listed.session_date == day.isoformat()
        [late] = listed.checkins
        assert late.kind == "late" and [c.student_id for c in late.candidates] == [OBAMA]
        resolved = client.resolve_pending(late.pending_id, OBAMA, status="late")
        assert (resolved.resolution, resolved.status) == ("confirmed", "late")
        assert client.pending(LECTURE).checkins == ()
    [(status, source, marked_at)] = server.query(
        "SELECT status, source, marked_at FROM attendance WHERE session_id = %s AND student_id = %s",
        (session_id, OBAMA),
    )
    assert (status, source) == ("late", "checkin")  # the professor's decision replaced the camera's absent
    assert abs(marked_at - seoul_now()) < dt.timedelta(minutes=5)  # campus time, from the database's clock


def test_a_client_clock_far_from_the_servers_is_refused(server, faces_dir, capsys):
    before = server.query("SELECT COUNT(*) FROM presence_samples")
    utc_wall_clock = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # a PC in UTC, sending no offset
    with server.client() as client:
        with pytest.raises(ServerError) as refused:
            client.presence(LECTURE, utc_wall_clock.isoformat(timespec="seconds"), [LIN], 1)
        assert refused.value.code == ErrorCode.CLOCK_SKEW
        assert "9 h 0 min behind the server's clock" in refused.value.message
        assert (
            "Asia/Seoul" in refused.value.message and "set this computer's clock and time zone" in refused.value.message
        )
        # Within the tolerance (5 minutes), in any zone: accepted.
        nearly = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).isoformat(timespec="seconds")
        assert client.presence(LECTURE, nearly, [LIN], 1).session_date == seoul_now().date().isoformat()
    # attendance-watch says what is wrong.
    an_hour_ahead = (dt.datetime.now().astimezone() + dt.timedelta(hours=1)).isoformat(timespec="seconds")
    code = watch_cli.main(
        [
            "--server",
            f"{server.host}:{server.port}",
            f"--token={server.token}",
            "--lecture",
            SMALL_LECTURE,
            "--video",
            str(faces_dir / "video" / "short_hamilton_clip.mp4"),
            "--start",
            an_hour_ahead,
        ]
    )
    assert code == watch_cli.EXIT_REFUSED
    err = capsys.readouterr().err
    assert "this computer's clock or time zone is wrong" in err and "ahead of the server's clock" in err
    assert server.query("SELECT COUNT(*) FROM presence_samples") == [(before[0][0] + 1,)]  # only the one within


def test_a_sample_outside_every_session_is_warned_about(server, caplog, capsys):
    now = seoul_now()
    today, weekday = now.date(), f"{now:%a}".upper()
    # Today's session of the small lecture ended long ago (or starts much later, just after midnight).
    window = "00:00-00:30" if now.hour >= 1 else "23:00-23:30"
    week_on = today + dt.timedelta(days=7)
    assert (
        db(server, "schedule", SMALL_LECTURE, "--weekly", f"{weekday} {window}", "--from", today, "--to", week_on) == 0
    )
    capsys.readouterr()
    caplog.set_level(logging.WARNING, logger="server.presence")
    sent = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    with server.client() as client:
        reply = client.presence(SMALL_LECTURE, sent, [], 0)
        assert reply.session_date == today.isoformat()
        expected = "after the end of" if now.hour >= 1 else "is before"
        assert expected in reply.warning and f"{SMALL_LECTURE}'s session of {today}" in reply.warning
        assert expected in caplog.text
        # The session made by mistake goes (it holds no person's mark); the next sample opens
        # a session on a day the term's calendar does not have: warned too.
        assert db(server, "delete-session", SMALL_LECTURE, today) == 0
        again = client.presence(SMALL_LECTURE, sent, [], 0)
        assert f"{SMALL_LECTURE} has no session on {today} in its term calendar" in again.warning
        # Cancelled: counts for nobody, and the camera is told.
        assert db(server, "cancel-session", SMALL_LECTURE, today, "--reason", "holiday") == 0
        cancelled = client.presence(SMALL_LECTURE, sent, [], 0)
        assert "is cancelled" in cancelled.warning
    with server.client() as client:  # a lecture with a session in its window: no warning
        assert client.presence(LECTURE, sent, [], 0).warning is None


def test_just_after_midnight_in_seoul_everything_lands_in_the_new_days_session(db_url, faces_dir):
    """The issue's case at the day boundary, with a fixed clock: 15:30 UTC on 2 March is 00:30 on
    3 March in Seoul. A camera sample (sent with +09:00, or in UTC), a check-in and the session's
    close all concern the session of 3 March; before issue 15 a server in UTC put them on 2 March
    (the check-in) and, for a naive Seoul time, on 3 March at a time 9 hours off (the sample)."""
    seed_roster(db_url, faces_dir / "knowns")
    clock = CampusClock("Asia/Seoul", utc_now=lambda: dt.datetime(2027, 3, 2, 15, 30, tzinfo=dt.UTC))
    pool = ConnectionPool(db_url, time_zone=clock.utc_offset)
    try:
        camera = PresenceService(pool, clock=clock)
        attendance = AttendanceService(pool, recognizer=None, clock=clock)
        seoul = dt.timezone(dt.timedelta(hours=9))
        first = camera.record_sample(LECTURE, dt.datetime(2027, 3, 3, 0, 29, tzinfo=seoul), [LIN], 1, client_name="pc")
        second = camera.record_sample(
            LECTURE, dt.datetime(2027, 3, 2, 15, 31, tzinfo=dt.UTC), [LIN], 1, client_name="pc"
        )
        marked = attendance.mark(LECTURE, OBAMA, client_name="desk")
        assert (first.session_date, second.session_date) == (dt.date(2027, 3, 3), dt.date(2027, 3, 3))
        assert attendance.roster(LECTURE).session_date == dt.date(2027, 3, 3) and not marked.already_marked
        closed = camera.close_session(LECTURE, client_name="pc")
        assert closed.session_date == dt.date(2027, 3, 3) and closed.samples == 2
        with pytest.raises(ServiceError) as refused:
            camera.record_sample(
                LECTURE, dt.datetime(2027, 3, 3, 0, 30), [LIN], 1, client_name="pc"
            )  # campus time: fine
            camera.record_sample(LECTURE, dt.datetime(2027, 3, 2, 15, 30), [LIN], 1, client_name="pc")  # 9 h behind
        assert refused.value.code == ErrorCode.CLOCK_SKEW
    finally:
        pool.close()
    rows = query_all(db_url, "SELECT session_id, session_date FROM class_sessions")
    assert [day for _sid, day in rows] == [dt.date(2027, 3, 3)]  # one session, of the campus day
    samples = query_all(db_url, "SELECT sampled_at FROM presence_samples ORDER BY sampled_at")
    assert samples == [
        (dt.datetime(2027, 3, 3, 0, 29),),
        (dt.datetime(2027, 3, 3, 0, 30),),
        (dt.datetime(2027, 3, 3, 0, 31),),
    ]


def query_all(url, sql):
    def fetch(cur):
        cur.execute(sql)
        return list(cur.fetchall())

    return run_in_transaction(url, fetch)
