"""The classroom camera end to end: real server, real database, real videos.

- the sample clip watched by ``attendance-watch``: the enrolled student in it ends present,
  the enrolled students never in it end absent;
- a synthetic 60-minute lecture built from the probe photos: left early and late; marks made
  by people are kept; a professor's override survives closing again;
- the server closes a session by itself after its scheduled end;
- ``attendance-db open-session`` / ``close-session [--due]`` without a server;
- the camera ops' errors, and the desktop camera screen against the server.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from admin import cli as db_cli
from client.connection import ServerError
from client.frame_source import VideoFileSource
from client.reconnecting import ReconnectingClient
from client.watch import cli as watch_cli
from client.watch.watcher import Watcher, watch
from db import attendance as db_attendance
from db.connection import connect, transaction
from protocol.errors import ErrorCode
from server import presence
from server.recognition import faces, images
from testkit.databases import fresh_database
from testkit.servers import LECTURE, SMALL_LECTURE, TEST_CLIENT, running_server, seed_roster

OBAMA, BIDEN, ALEX, KIT, ROSE, LIN = (f"20191100{n}" for n in range(1, 7))


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        # close_due_every: check for sessions past their scheduled end every 0.3 s.
        # idle_timeout: short, so that test_a_closed_connection_is_opened_again sees one closed.
        # trust_client_clocks: these lectures are replayed on 2019 dates (the clock check and the
        # server-decided session are tested in tests/e2e/test_campus_clock.py).
        with running_server(
            url, faces_dir / "knowns", workers=2, idle_timeout=2.0, close_due_every=0.3, trust_client_clocks=True
        ) as running:
            yield running


def marks(server, day: dt.date | str, lecture: str = LECTURE) -> dict[str, tuple[str, str]]:
    rows = server.query(
        "SELECT a.student_id, a.status, a.source FROM attendance a"
        " JOIN class_sessions s USING (session_id) JOIN lectures l USING (lecture_id)"
        " WHERE l.code = %s AND s.session_date = %s",
        (lecture, day),
    )
    return {student_id: (status, source) for student_id, status, source in rows}


def person_mark(server, day: dt.date, student_id: str, status: str, source: str) -> None:
    """A mark made by a person (check-in, roll call) in that day's session, as the server writes it."""
    conn = connect(server.db_url)
    try:
        with transaction(conn) as cur:
            cur.execute("SELECT lecture_id FROM lectures WHERE code = %s", (LECTURE,))
            session_id = db_attendance.ensure_session(cur, cur.fetchone()[0], day)
            db_attendance.mark(
                cur,
                session_id=session_id,
                student_id=student_id,
                status=status,
                source=source,
                client_name="a person",
                overwrite=True,
            )
    finally:
        conn.close()


# -- the sample clip, with attendance-watch ------------------------------------------------------


def test_the_clip_watched_by_attendance_watch(server, faces_dir, capsys):
    clip = faces_dir / "video" / "short_hamilton_clip.mp4"
    code = watch_cli.main(
        [
            "--server",
            f"{server.host}:{server.port}",
            f"--token={server.token}",
            "--lecture",
            LECTURE.upper(),
            "--video",
            str(clip),
            "--every",
            "1",
            "--close",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith("#")]
    assert len(lines) == 10  # 275 frames at 29.97 fps: 9.2 s, a sample each second from 0 s
    assert sum(LIN in line for line in lines) >= 6  # he is off screen for a few seconds
    assert "closed ea0017_1" in out and "present 1" in out and "absent 5" in out
    assert marks(server, dt.date.today()) == {
        OBAMA: ("absent", "camera"),
        BIDEN: ("absent", "camera"),
        ALEX: ("absent", "camera"),
        KIT: ("absent", "camera"),
        ROSE: ("absent", "camera"),
        LIN: ("present", "camera"),
    }
    samples = server.query("SELECT COUNT(*), MAX(client_name) FROM presence_samples")
    assert samples == [(10, TEST_CLIENT)]
    refused = watch_cli.main(
        ["--server", f"{server.host}:{server.port}", "--token=not-a-token", "--lecture", LECTURE, "--video", str(clip)]
    )
    assert refused == 1 and "unauthorized" in capsys.readouterr().err


# -- a synthetic lecture ---------------------------------------------------------------------------

#: One frame every 200 s (the slowest frame rate a video file can store exactly), 0 to 3600 s.
FRAME_SECONDS = 200
FRAMES = 19
SEATS = [(40, 170), (270, 170), (500, 170), (730, 170)]  # (x, y) of each student's picture


def face_picture(path: Path, face_px: int = 90) -> np.ndarray:
    """The face of a probe photo with some margin, scaled so the face is ``face_px`` wide (BGR)."""
    image = images.load_image_file(path)
    top, right, bottom, left = faces.largest_box(faces.detect_faces(image))
    cx, cy, half = (left + right) / 2, (top + bottom) / 2, (right - left) * 1.1
    crop = image[max(0, int(cy - half)) : int(cy + half), max(0, int(cx - half)) : int(cx + half)]
    scale = face_px / (right - left)
    return cv2.cvtColor(cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2BGR)


def build_lecture(faces_dir: Path, path: Path) -> Path:
    """A 60-minute lecture as an MJPG video (960 x 540, one frame every 200 s):

    seat 0: Obama, all along (but hidden in frame 5: a missed sample costs nothing);
    seat 1: Biden, frames 0-9 only (until 30 min): left early;
    seat 2: Kit Harington, from frame 4 (13 min 20 s, after the 10-minute grace): late.
    Rose, Alex and Lin are never seen.
    """
    people = {
        0: (face_picture(faces_dir / "probes/obama_2.jpg"), lambda k: k != 5),
        1: (face_picture(faces_dir / "probes/biden_2.jpg"), lambda k: k <= 9),
        2: (face_picture(faces_dir / "probes/kit_harington_2.jpg"), lambda k: k >= 4),
    }
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 1 / FRAME_SECONDS, (960, 540))
    assert writer.isOpened()
    for k in range(FRAMES):
        frame = np.full((540, 960, 3), 120, np.uint8)
        for seat, (picture, present) in people.items():
            if present(k):
                x, y = SEATS[seat]
                frame[y : y + picture.shape[0], x : x + picture.shape[1]] = picture
        writer.write(frame)
    writer.release()
    return path


def test_a_synthetic_lecture_ends_with_late_left_early_and_absent(server, faces_dir, tmp_path):
    day = dt.date(2019, 11, 1)
    video = build_lecture(faces_dir, tmp_path / "lecture.avi")
    reports = []
    with ReconnectingClient(server.host, server.port, token=server.token) as client, VideoFileSource(video) as source:
        watcher = Watcher(client, LECTURE, start=dt.datetime.combine(day, dt.time(9, 0)))
        assert watch(source, watcher, every=FRAME_SECONDS, on_sample=reports.append) == FRAMES
        assert [r.media_seconds for r in reports] == pytest.approx([k * FRAME_SECONDS for k in range(FRAMES)], abs=0.01)
        seen = [set(r.students) for r in reports]
        assert seen[0] == {OBAMA, BIDEN} and seen[5] == {BIDEN, KIT} and seen[-1] == {OBAMA, KIT}
        assert all(len(r.faces) == len(r.students) for r in reports)  # every face found and known
        assert watcher.encoded < sum(len(r.faces) for r in reports) / 2  # tracking saves encodings

        # People decided for two students meanwhile: a face check-in and a roll-call "excused".
        person_mark(server, day, ROSE, "present", "checkin")
        person_mark(server, day, ALEX, "excused", "rollcall")
        closed = client.close_session(LECTURE, day.isoformat())
        assert (closed.samples, closed.present, closed.late, closed.left_early, closed.absent, closed.kept) == (
            FRAMES,
            1,
            1,
            1,
            1,
            2,
        )
        assert marks(server, day) == {
            OBAMA: ("present", "camera"),
            BIDEN: ("left_early", "camera"),
            KIT: ("late", "camera"),
            LIN: ("absent", "camera"),
            ROSE: ("present", "checkin"),
            ALEX: ("excused", "rollcall"),
        }
        first_close = server.query("SELECT closed_at FROM class_sessions WHERE session_date = %s", (day,))

        # The professor overrides the camera; closing again keeps that and changes nothing else.
        person_mark(server, day, BIDEN, "present", "rollcall")
        again = client.close_session(LECTURE, day.isoformat())
        assert (again.present, again.late, again.left_early, again.absent, again.kept) == (1, 1, 0, 1, 3)
        assert marks(server, day)[BIDEN] == ("present", "rollcall")
        assert server.query("SELECT closed_at FROM class_sessions WHERE session_date = %s", (day,)) == first_close
        marked_at = server.query(
            "SELECT a.marked_at FROM attendance a JOIN class_sessions s USING (session_id)"
            " WHERE s.session_date = %s AND a.student_id = %s",
            (day, KIT),
        )
        assert marked_at == [(dt.datetime(2019, 11, 1, 9, 13, 20),)]  # when first seen


# -- scheduled end -----------------------------------------------------------------------------------


def test_the_server_closes_a_session_after_its_scheduled_end(server):
    day = "2019-11-04"
    with server.client() as client:
        for minute in range(0, 60, 5):
            seen = [OBAMA] + ([BIDEN] if minute <= 20 else []) + ([KIT] if minute >= 30 else [])
            reply = client.presence(LECTURE, f"{day}T09:{minute:02d}:00", seen, len(seen))
            assert not reply.closed
    # No schedule yet (the lecture has none): not due. Give the session its times, ended long ago.
    assert (
        db_cli.main(
            [
                "--db-url",
                server.db_url.to_url(),
                "open-session",
                LECTURE,
                "--date",
                day,
                "--start",
                "09:00",
                "--minutes",
                "60",
            ]
        )
        == 0
    )
    for _ in range(100):
        if server.query("SELECT closed_at FROM class_sessions WHERE session_date = %s", (day,))[0][0]:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the server did not close the session")
    assert marks(server, day) == {
        OBAMA: ("present", "camera"),
        BIDEN: ("left_early", "camera"),
        KIT: ("late", "camera"),
        ALEX: ("absent", "camera"),
        ROSE: ("absent", "camera"),
        LIN: ("absent", "camera"),
    }
    with server.client() as client:  # a late sample is kept, and says the session is closed
        assert client.presence(LECTURE, f"{day}T09:59:00", [ALEX], 1).closed


# -- attendance-db, without a server -----------------------------------------------------------------


def test_attendance_db_open_and_close_session(db_url, faces_dir, capsys):
    seed_roster(db_url, faces_dir / "knowns")
    url = db_url.to_url()
    conn = connect(db_url)
    try:
        with transaction(conn) as cur:
            for minute in (0, 30, 58):
                presence.record_sample(cur, LECTURE, dt.datetime(2019, 11, 5, 10, minute), [OBAMA], 1, "room-e203")
            presence.record_sample(cur, LECTURE, dt.datetime(2019, 11, 5, 10, 40), [KIT], 1, "room-e203")
    finally:
        conn.close()
    assert db_cli.main(["--db-url", url, "close-session", "--due"]) == 0  # no scheduled end yet
    assert "no session is due" in capsys.readouterr().out
    assert (
        db_cli.main(
            ["--db-url", url, "open-session", LECTURE, "--date", "2019-11-05", "--start", "10:00", "--minutes", "60"]
        )
        == 0
    )
    assert "from 10:00 to 11:00" in capsys.readouterr().out
    assert db_cli.main(["--db-url", url, "close-session", "--due", "--late-after", "45"]) == 0
    out = capsys.readouterr().out
    assert "closed ea0017_1 on 2019-11-05: 4 samples; present 1, late 0, left_early 1, absent 4" in out
    assert db_cli.main(["--db-url", url, "close-session", "--due"]) == 0
    assert "no session is due" in capsys.readouterr().out
    assert db_cli.main(["--db-url", url, "close-session", LECTURE, "--date", "2019-11-05"]) == 0
    # Default grace (10 minutes): Kit, seen at 10:40 only, is now late (late wins over left early).
    assert "present 1, late 1, left_early 0, absent 4" in capsys.readouterr().out
    assert db_cli.main(["--db-url", url, "close-session", LECTURE, "--date", "2019-11-06"]) == 2
    assert "no session on 2019-11-06" in capsys.readouterr().err
    assert db_cli.main(["--db-url", url, "close-session"]) == 2
    assert db_cli.main(["--db-url", url, "open-session", "zz9999_9", "--start", "09:00", "--minutes", "50"]) == 2
    assert "no lecture zz9999_9" in capsys.readouterr().err


# -- errors -----------------------------------------------------------------------------------------


def test_camera_ops_errors(server, faces_dir):
    group = (faces_dir / "groups" / "obama_biden_stranger.jpg").read_bytes()
    with server.client() as client:
        boxes = [(b.top, b.right, b.bottom, b.left) for b in client.detect(group).boxes]
        assert len(boxes) == 3
        named = client.identify(group, boxes, LECTURE).faces
        assert [(f.top, f.right, f.bottom, f.left) for f in named] == boxes  # one per box, in order
        assert sorted(filter(None, (f.student_id for f in named))) == [OBAMA, BIDEN]
        with pytest.raises(ServerError) as err:
            client.identify(group, [(5000, 5100, 5100, 5000)], LECTURE)
        assert err.value.code == ErrorCode.BAD_REQUEST
        with pytest.raises(ServerError) as err:
            client.detect(b"\xff\xd8\xff not a picture")
        assert err.value.code == ErrorCode.BAD_IMAGE
        with pytest.raises(ServerError) as err:
            client.presence(SMALL_LECTURE, "2019-11-01T09:00:00", [LIN], 1)
        assert err.value.code == ErrorCode.NOT_ENROLLED
        with pytest.raises(ServerError) as err:
            client.close_session("zz9999_9")
        assert err.value.code == ErrorCode.NOT_FOUND
        with pytest.raises(ServerError) as err:
            client.close_session(SMALL_LECTURE, "2001-01-01")
        assert err.value.code == ErrorCode.NOT_FOUND
        assert client.ping()


def test_a_connection_the_server_closed_is_opened_again(server):
    with ReconnectingClient(server.host, server.port, token=server.token) as client:
        first = client.presence(LECTURE, "2019-11-07T09:00:00", [OBAMA], 1)
        time.sleep(2.5)  # the server closes connections idle for 2 s (a camera samples every minute)
        again = client.presence(LECTURE, "2019-11-07T09:00:00", [OBAMA], 1)  # the same sample, resent
    assert client.connections_opened == 2
    assert again.sample_id == first.sample_id  # stored once
    assert server.query("SELECT COUNT(*) FROM presence_samples WHERE sampled_at = '2019-11-07 09:00:00'") == [(1,)]


# -- the desktop screen -------------------------------------------------------------------------


def test_the_camera_screen_watches_a_video_and_closes_the_session(server, faces_dir, qtbot):
    from client.watch.qt_screen import COL_SEEN, WatchScreen

    screen = WatchScreen(server.host, server.port, token=server.token, lecture=LECTURE)
    qtbot.addWidget(screen)
    screen.every.setValue(2)
    clip = faces_dir / "video" / "short_hamilton_clip.mp4"
    with qtbot.waitSignal(screen.table.model().rowsInserted, timeout=10000):
        screen.load_roster()
    screen.start(lambda: VideoFileSource(clip), start=dt.datetime(2019, 11, 6, 14, 0))
    assert screen.running
    qtbot.waitUntil(lambda: not screen.running, timeout=60000)
    assert "Finished after 5 samples" in screen.status.text()  # 0, 2, 4, 6, 8 s
    pixmap = screen.feed.pixmap()
    assert pixmap is not None and not pixmap.isNull()  # the feed was shown
    assert screen.table.item(screen._rows[LIN], COL_SEEN).text().startswith("14:00")
    obama_seen = screen.table.item(screen._rows[OBAMA], COL_SEEN)
    assert obama_seen is None or not obama_seen.text()
    screen.close_session()
    qtbot.waitUntil(lambda: "Session closed" in screen.status.text(), timeout=10000)
    assert "present 1" in screen.status.text() and "absent 5" in screen.status.text()
    assert marks(server, "2019-11-06")[LIN] == ("present", "camera")
    screen.shutdown()
