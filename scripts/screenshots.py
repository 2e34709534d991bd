"""``make screenshots``: PNGs of the desktop screens, for the README (docs/screenshot-*.png).

Runs the real thing: a scratch database (``attendance_screenshots``, dropped and created again)
on the server of ATTENDANCE_DB_URL, the attendance server in this process on a free port, and the
desktop app fed with sample photos (``--images``), offscreen unless QT_QPA_PLATFORM says otherwise
(e.g. ``xcb`` under Xvfb). For the Report tab, a term of past sessions with marks is generated;
for the roll call's list of uncertain check-ins, a classroom PC sends frames of the sample clip in
which the enrolled person is far away (the server is not sure); the Classroom camera tab watches
that clip. Only the Western sample photos are used.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x python scripts/screenshots.py [--lang ko]
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
from PyQt5.QtCore import QSettings, Qt  # noqa: E402
from PyQt5.QtWidgets import QApplication  # noqa: E402

from client.connection import FramedClient  # noqa: E402
from client.desktop.app import MainWindow, Options, install_translators  # noqa: E402
from client.desktop.roster_model import RosterModel  # noqa: E402
from client.frame_source import SourceSpec  # noqa: E402
from db import clients  # noqa: E402
from db.connection import DatabaseUrl, connect, run_in_transaction, transaction, url_from_env  # noqa: E402
from db.roster_import import RosterRow, import_roster  # noqa: E402
from db.schema import recreate_database  # noqa: E402
from server.app import AttendanceApp, ServerConfig  # noqa: E402
from server.recognition.enrollment import scan_knowns  # noqa: E402

LECTURE = "ea0017_1"
DATABASE = "attendance_screenshots"
FACES = Path(os.environ.get("ATTENDANCE_FACES_DIR", REPO.parent / "shared" / "faces"))
SIZE = (1200, 780)
#: The photos the classroom "camera" sees, in order: three students check in.
CAMERA = ["probes/alex_lacamoire_2.png", "probes/kit_harington_2.jpg", "probes/obama_2.jpg"]
#: The staff PC's "camera" for the Enrol screen: Obama straight and turned to his left, enrolled
#: again under a new student ID (the server refuses: he looks like student 201911001).
ENROL_CAMERA = ["probes/obama_720p.jpg", "probes/obama_3.jpg"]
ENROL_STUDENT = ("202012347", "Barack Obama")
#: Frames of the sample clip (Lin-Manuel Miranda far away on the stage) for an uncertain
#: check-in: a first try and a second one, as a classroom PC sends them.
CLIP = "video/short_hamilton_clip.mp4"
UNCERTAIN_FRAMES = [0, 4, 8, 12, 2, 6, 10, 14]
CLASSROOM_PC = "room-301-pc"


def wait_until(app: QApplication, condition, timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def settle(app: QApplication, seconds: float = 0.3) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def seed(url: DatabaseUrl, knowns: Path) -> None:
    photos = sorted(scan_knowns(knowns), key=lambda p: p.student_id)
    rows = [
        RosterRow(LECTURE, p.student_id, re.sub(r"[\s_]+", " ", p.name).title(), n) for n, p in enumerate(photos, 2)
    ]
    run_in_transaction(url, lambda cur: import_roster(cur, rows))


#: How often each sample student is in class in the generated term (by roster order); the fourth
#: is below the 75 % warning line, the fifth enrolls in the fourth week.
DILIGENCE = [0.97, 0.9, 0.86, 0.4, 0.8, 0.93]
TERM_WEEKS = 10


def seed_term(url: DatabaseUrl) -> None:
    """Weekly sessions before today (the first half closed), with reproducible marks."""
    rng = random.Random(2019)
    today = datetime.date.today()
    days = [today - datetime.timedelta(weeks=k) for k in range(TERM_WEEKS, 0, -1)]
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            cur.execute("SELECT lecture_id FROM lectures WHERE code = %s", (LECTURE,))
            (lecture_id,) = cur.fetchone()
            cur.execute("SELECT student_id FROM enrollments WHERE lecture_id = %s ORDER BY student_id", (lecture_id,))
            students = [row[0] for row in cur.fetchall()]
            enrolled = {sid: days[3 if n == 4 else 0] - datetime.timedelta(days=3) for n, sid in enumerate(students)}
            for sid, day in enrolled.items():
                cur.execute(
                    "UPDATE enrollments SET enrolled_at = %s WHERE lecture_id = %s AND student_id = %s",
                    (datetime.datetime.combine(day, datetime.time(10)), lecture_id, sid),
                )
            for k, day in enumerate(days):
                closed = datetime.datetime.combine(day, datetime.time(12)) if k < TERM_WEEKS // 2 else None
                cur.execute(
                    "INSERT INTO class_sessions (lecture_id, session_date, closed_at) VALUES (%s, %s, %s)",
                    (lecture_id, day, closed),
                )
                session_id = cur.lastrowid
                for n, sid in enumerate(students):
                    if day < enrolled[sid]:
                        continue
                    roll = rng.random()
                    if roll < DILIGENCE[n % len(DILIGENCE)]:
                        status = "present" if rng.random() < 0.85 else rng.choice(["late", "left_early"])
                    elif roll < 0.97:
                        status = rng.choice(["absent", "absent", "excused"])
                    else:
                        continue  # never marked: counts as absent
                    cur.execute(
                        "INSERT INTO attendance (session_id, student_id, status, source, client_name)"
                        " VALUES (%s, %s, %s, 'rollcall', 'screenshots')",
                        (session_id, sid, status),
                    )
    finally:
        conn.close()


def clip_frames(numbers: list[int]) -> list[bytes]:
    """Frames of the sample clip as JPEG, as the capture worker sends them."""
    capture = cv2.VideoCapture(str(FACES / CLIP))
    frames, number = {}, 0
    while number <= max(numbers):
        ok, frame = capture.read()
        if not ok:
            break
        if number in numbers:
            frames[number] = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
        number += 1
    capture.release()
    return [frames[n] for n in numbers]


def queue_uncertain_checkin(address: tuple[str, int], token: str) -> None:
    """What a classroom PC sends for a face the server is not sure of: a first try, then a
    second one with more frames (queued for the professor)."""
    frames = clip_frames(UNCERTAIN_FRAMES)
    with FramedClient(*address, token=token) as client:
        first = client.checkin(LECTURE, frames[:4], queue_uncertain=False)
        second = client.checkin(LECTURE, frames, queue_uncertain=True)
    if (first.decision, second.decision) != ("uncertain", "uncertain") or second.pending_id is None:
        sys.exit(f"screenshots: the clip's frames were expected to be uncertain: {first} {second}")


def photo_folder(folder: Path, names: list[str]) -> SourceSpec:
    folder.mkdir()
    for n, name in enumerate(names):
        shutil.copy(FACES / name, folder / f"{n}{Path(name).suffix}")
    return SourceSpec("images", str(folder), loop=False)


def save(window: MainWindow, path: Path) -> Path:
    window.grab().save(str(path))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="en", help="user interface language (ko needs a Korean font)")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    suffix = "" if args.lang == "en" else f"-{args.lang}"
    args.out.mkdir(parents=True, exist_ok=True)

    knowns = FACES / "knowns"
    if not knowns.is_dir():
        sys.exit(f"screenshots: no sample faces at {FACES} (set ATTENDANCE_FACES_DIR)")
    url = recreate_database(DatabaseUrl.parse(url_from_env()), DATABASE)
    seed(url, knowns)
    seed_term(url)
    token, classroom_token = clients.new_token(), clients.new_token()
    run_in_transaction(url, lambda cur: clients.add_client(cur, "screenshots", token, role=clients.ADMIN))
    run_in_transaction(url, lambda cur: clients.add_client(cur, CLASSROOM_PC, classroom_token, role=clients.ADMIN))
    server = AttendanceApp(ServerConfig(db_url=url, knowns_dir=knowns, host="127.0.0.1", port=0, workers=1)).start()
    server.serve_in_thread()
    tmp = Path(tempfile.mkdtemp(prefix="attendance-screens-"))
    app = QApplication([sys.argv[0]])
    install_translators(app, args.lang)
    shots = []
    try:
        options = Options(
            server="{}:{}".format(*server.address),
            lecture=LECTURE,
            dwell=0.1,
            result_hold=0.2,
            source=photo_folder(tmp / "camera", CAMERA),
            data_dir=tmp / "data",
            retry_interval=1.0,
            token=token,
        )
        window = MainWindow(options, QSettings(str(tmp / "settings.ini"), QSettings.IniFormat))
        window.resize(*SIZE)
        window.show()

        # Face check-in: three students are accepted and marked by the server, one after the other.
        screen = window.checkin
        wait_until(app, lambda: len(screen.outcomes) == len(CAMERA), what="the check-ins")
        settle(app)
        shots.append(save(window, args.out / f"screenshot-checkin{suffix}.png"))

        # Roll call: the check-ins are in the table, an uncertain check-in waits under it, and the
        # professor has marked two more students (not sent yet).
        queue_uncertain_checkin(server.address, classroom_token)
        window.tabs.setCurrentWidget(window.rollcall)
        rollcall, model = window.rollcall, window.rollcall.model
        wait_until(
            app,
            lambda: model.rowCount() == 6 and model.counts().marked == 3 and rollcall.pending_model.rowCount() == 1,
            what="the roster",
        )
        model.set_status([model.find("201911002")], "late")
        model.set_status([model.find("201911005")], "excused")
        rollcall.view.setFocus()
        rollcall.view.setCurrentIndex(model.index(model.find("201911006"), RosterModel.STATUS))
        settle(app)
        shots.append(save(window, args.out / f"screenshot-rollcall{suffix}.png"))

        # Report: the term so far, today's check-ins in the last (open) column, the chart below.
        report = window.report
        window.tabs.setCurrentWidget(report)
        wait_until(app, lambda: report.model.rowCount() == 6 and report.chart.has_chart(), what="the report")
        report.view.setCurrentIndex(report.model.index(0, 0))
        report.view.clearSelection()
        settle(app, 0.5)
        shots.append(save(window, args.out / f"screenshot-report{suffix}.png"))

        # Classroom camera: the sample clip watched as the room's camera (its first sample, at
        # 09:00 today, recognizes the student on the stage), then the session closed: the sample's
        # boxes on the feed, who was seen when, and the statuses written.
        watch = window.watch
        window.tabs.setCurrentWidget(watch)
        watch.source_kind.setCurrentIndex(1)
        watch.video_path.setText(str(FACES / CLIP))
        watch.start(start=datetime.datetime.combine(datetime.date.today(), datetime.time(9, 0)))
        # Stopped after the first sample, from the watcher's own thread (a stop queued to this
        # thread would come a few preview frames later, by chance).
        watch._worker.sampled.connect(lambda _report: watch.stop(), Qt.DirectConnection)
        wait_until(app, lambda: not watch.running, what="the classroom camera")
        finished = watch.status.text()
        watch.close_session()
        wait_until(app, lambda: watch.status.text() != finished, what="closing the session")
        settle(app, 1.0)  # the roster is read again, with the statuses
        shots.append(save(window, args.out / f"screenshot-camera{suffix}.png"))
        window.shutdown()

        # Enrol, on a staff PC: two poses taken, three skipped, sent: the server refuses them.
        staff = MainWindow(
            Options(
                server="{}:{}".format(*server.address),
                lecture=LECTURE,
                dwell=0.1,
                enrol=True,
                screen="enrol",
                source=photo_folder(tmp / "staff-camera", ENROL_CAMERA),
                data_dir=tmp / "staff-data",
                token=token,
            ),
            QSettings(str(tmp / "staff-settings.ini"), QSettings.IniFormat),
        )
        staff.resize(*SIZE)
        staff.show()
        enrol = staff.enrol
        wait_until(app, lambda: enrol.model.current() == len(ENROL_CAMERA), what="the enrolment photos")
        while enrol.model.current() is not None:
            enrol.skip_current()
        enrol.student_id_edit.setText(ENROL_STUDENT[0])
        enrol.name_edit.setText(ENROL_STUDENT[1])
        replies = []
        enrol.enrolFinished.connect(replies.append)
        enrol.send()
        wait_until(app, lambda: replies, what="the enrolment")
        settle(app)
        shots.append(save(staff, args.out / f"screenshot-enrol{suffix}.png"))
        staff.shutdown()
        for png in shots:
            print(png.relative_to(REPO) if png.is_relative_to(REPO) else png)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
