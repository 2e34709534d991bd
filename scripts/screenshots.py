"""``make screenshots``: PNGs of the desktop screens, for the README (docs/screenshot-*.png).

Runs the real thing: a scratch database (``attendance_screenshots``, dropped and created again)
on the server of ATTENDANCE_DB_URL, the attendance server in this process on a free port, and the
desktop app fed with sample photos (``--images``), offscreen unless QT_QPA_PLATFORM says otherwise
(e.g. ``xcb`` under Xvfb). For the Report tab, a term of past sessions with marks is generated.

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

from PyQt5.QtCore import QSettings  # noqa: E402
from PyQt5.QtWidgets import QApplication  # noqa: E402

from client.desktop.app import MainWindow, Options, install_translators  # noqa: E402
from client.desktop.capture import SourceSpec  # noqa: E402
from client.desktop.roster_model import RosterModel  # noqa: E402
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
#: The photos the "camera" sees, in order: two students check in, the third is being asked.
CAMERA = ["probes/alex_lacamoire_2.png", "probes/kit_harington_2.jpg", "probes/obama_2.jpg"]


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
    rows = [RosterRow(LECTURE, p.student_id, re.sub(r"[\s_]+", " ", p.name).title(), n)
            for n, p in enumerate(photos, 2)]
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
            cur.execute("SELECT student_id FROM enrollments WHERE lecture_id = %s ORDER BY student_id",
                        (lecture_id,))
            students = [row[0] for row in cur.fetchall()]
            enrolled = {sid: days[3 if n == 4 else 0] - datetime.timedelta(days=3)
                        for n, sid in enumerate(students)}
            for sid, day in enrolled.items():
                cur.execute("UPDATE enrollments SET enrolled_at = %s WHERE lecture_id = %s AND student_id = %s",
                            (datetime.datetime.combine(day, datetime.time(10)), lecture_id, sid))
            for k, day in enumerate(days):
                closed = datetime.datetime.combine(day, datetime.time(12)) if k < TERM_WEEKS // 2 else None
                cur.execute("INSERT INTO class_sessions (lecture_id, session_date, closed_at) VALUES (%s, %s, %s)",
                            (lecture_id, day, closed))
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
                    cur.execute("INSERT INTO attendance (session_id, student_id, status, source, client_name)"
                                " VALUES (%s, %s, %s, 'rollcall', 'screenshots')", (session_id, sid, status))
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="en", help="user interface language (ko needs a Korean font)")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    args = parser.parse_args()
    suffix = "" if args.lang == "en" else f"-{args.lang}"

    knowns = FACES / "knowns"
    if not knowns.is_dir():
        sys.exit(f"screenshots: no sample faces at {FACES} (set ATTENDANCE_FACES_DIR)")
    url = recreate_database(DatabaseUrl.parse(url_from_env()), DATABASE)
    seed(url, knowns)
    seed_term(url)
    token = clients.new_token()
    run_in_transaction(url, lambda cur: clients.add_client(cur, "screenshots", token))
    server = AttendanceApp(ServerConfig(db_url=url, knowns_dir=knowns, host="127.0.0.1", port=0, workers=1)).start()
    server.serve_in_thread()
    tmp = Path(tempfile.mkdtemp(prefix="attendance-screens-"))
    app = QApplication([sys.argv[0]])
    install_translators(app, args.lang)
    try:
        camera = tmp / "camera"
        camera.mkdir()
        for n, name in enumerate(CAMERA):
            shutil.copy(FACES / name, camera / f"{n}{Path(name).suffix}")
        options = Options(server="%s:%d" % server.address, lecture=LECTURE, auto=0, dwell=0.1, send_gap=0.0,
                          source=SourceSpec("images", str(camera), loop=False), data_dir=tmp / "data",
                          retry_interval=1.0, token=token)
        window = MainWindow(options, QSettings(str(tmp / "settings.ini"), QSettings.IniFormat))
        window.resize(*SIZE)
        window.show()

        # Face check-in: the first two students say Yes; the third is being asked.
        screen = window.checkin
        for step in range(len(CAMERA)):
            wait_until(app, lambda: screen._confirming is not None, what=f"recognition {step + 1}")
            if step < len(CAMERA) - 1:
                screen.confirm_yes()
        wait_until(app, lambda: not window.pending_entries and "✓" in screen.history.item(0).text(),
                   what="the check-ins to be saved")
        settle(app)
        args.out.mkdir(parents=True, exist_ok=True)
        checkin_png = args.out / f"screenshot-checkin{suffix}.png"
        window.grab().save(str(checkin_png))

        # Roll call: the check-ins are in the table; the professor has marked two more (not sent).
        window.tabs.setCurrentWidget(window.rollcall)
        model = window.rollcall.model
        wait_until(app, lambda: model.rowCount() == 6 and model.counts().marked == 2, what="the roster")
        model.set_status([model.find("201911002")], "late")
        model.set_status([model.find("201911005")], "excused")
        window.rollcall.view.setFocus()
        window.rollcall.view.setCurrentIndex(model.index(model.find("201911006"), RosterModel.STATUS))
        settle(app)
        rollcall_png = args.out / f"screenshot-rollcall{suffix}.png"
        window.grab().save(str(rollcall_png))

        # Report: the term so far, today's check-ins in the last (open) column, the chart below.
        report = window.report
        window.tabs.setCurrentWidget(report)
        wait_until(app, lambda: report.model.rowCount() == 6 and report.chart.has_chart(), what="the report")
        report.view.setCurrentIndex(report.model.index(0, 0))
        report.view.clearSelection()
        settle(app, 0.5)
        report_png = args.out / f"screenshot-report{suffix}.png"
        window.grab().save(str(report_png))
        for png in (checkin_png, rollcall_png, report_png):
            print(png.relative_to(REPO) if png.is_relative_to(REPO) else png)
        window.shutdown()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
