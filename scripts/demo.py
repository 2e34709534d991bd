"""``make demo``: the whole system once, end to end, on the sample photos.

1. (re)creates its own database, ``attendance_demo``, with ``attendance-db init``; a roster for
   lecture ea0017_1 (``attendance-db import-roster``) with every student of the knowns folder; a
   client token (``attendance-db add-client demo --role admin``), printed;
2. starts ``attendance-server`` on port 9009 (enrolling the knowns photos);
3. sends the sample probes as a 2019 client would (image, then student ID + lecture code) and
   the group photos as a new client would (framed protocol, every face, then marks);
4. prints today's attendance for the lecture as a table, and stops the server. The database is
   left for a look (``attendance-report``); the next demo starts it afresh.

The database server and account come from ATTENDANCE_DB_URL (``make demo`` finds a server with
scripts/database.sh: root on 127.0.0.1:3306, or a private MariaDB); the database name in that URL
is not used. The demo refuses a database that holds anything a demo does not write.

Environment: ATTENDANCE_DB_URL (server and account), DEMO_DATABASE (default attendance_demo),
DEMO_PORT (the server's port, default 9009), ATTENDANCE_FACES_DIR (default ../shared/faces).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymysql

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from client.connection import FramedClient, legacy_request  # noqa: E402
from db.connection import (  # noqa: E402
    DatabaseConnectError,
    DatabaseUrl,
    DatabaseUrlError,
    connect,
    hide_password,
    transaction,
    url_from_env,
)
from db.schema import drop_database  # noqa: E402
from server.recognition.enrollment import scan_knowns  # noqa: E402

LECTURE = "ea0017_1"
CLIENT = "demo"
PORT = int(os.environ.get("DEMO_PORT", "9009"))
DATABASE = os.environ.get("DEMO_DATABASE", "attendance_demo")
FACES = Path(os.environ.get("ATTENDANCE_FACES_DIR", REPO.parent / "shared" / "faces"))


def knowns_dir() -> Path:
    """knowns/ when it holds photos, else the shared sample enrollment photos."""
    own = REPO / "knowns"
    if scan_knowns(own):
        return own
    if not (FACES / "knowns").is_dir():
        sys.exit(f"demo: no photos in {own} and no sample faces at {FACES} (set ATTENDANCE_FACES_DIR)")
    return FACES / "knowns"


def fresh_demo_database(url: DatabaseUrl, student_ids: set[str]) -> None:
    """Drop the demo's database when it holds only what a demo writes (lecture ea0017_1, the
    knowns students, client demo); refuse (exit) when it holds anything else."""
    try:
        conn = connect(url)
    except DatabaseConnectError as exc:
        if exc.args[0] == 1049:  # it does not exist: nothing to drop
            return
        sys.exit(f"demo: {exc}")
    try:
        with transaction(conn) as cur:
            cur.execute("SHOW TABLES")
            if cur.fetchall():
                foreign = _not_from_a_demo(cur, student_ids)
                if foreign:
                    sys.exit(
                        f"demo: database {url.database} on {url.host}:{url.port} holds {foreign}, which "
                        f"no demo wrote; the demo leaves it alone (set DEMO_DATABASE to another name)"
                    )
            drop_database(cur, url.database)
    finally:
        conn.close()


def _not_from_a_demo(cur, student_ids: set[str]) -> str:
    """What in this database a demo did not write ('' when nothing), e.g. 'lecture cs101_1'."""
    queries = (
        ("lecture", "SELECT code FROM lectures", {LECTURE}),
        ("client", "SELECT name FROM clients", {CLIENT}),
        ("student", "SELECT student_id FROM students", student_ids),
    )
    for what, query, allowed in queries:
        try:
            cur.execute(query)
        except pymysql.err.ProgrammingError:  # no such table: not an attendance database
            return "tables other than the attendance tables"
        others = sorted({value for (value,) in cur.fetchall()} - allowed)
        if others:
            return f"{what} {others[0]}" + (f" and {len(others) - 1} more" if len(others) > 1 else "")
    return ""


def attendance_db(*args: str, stdout=None) -> str:
    """Run attendance-db; on failure exit (it printed why, in one line)."""
    shown = ["URL" if arg.startswith("mysql://") else arg for arg in args]
    print("$ attendance-db", " ".join(shown), flush=True)
    result = subprocess.run([sys.executable, "-m", "admin", *args], cwd=REPO, stdout=stdout, text=True)
    if result.returncode != 0:
        sys.exit(result.returncode)
    return result.stdout or ""


def start_server(db_url: str, knowns: Path, token: str) -> subprocess.Popen:
    print(f"$ attendance-server --port {PORT} --knowns {knowns}", flush=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--db-url",
            db_url,
            "--knowns",
            str(knowns),
            "--log-level",
            "WARNING",
        ],
        cwd=REPO,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"demo: the server exited with status {proc.returncode}")
        try:
            with FramedClient("127.0.0.1", PORT, token=token, timeout=5) as client:
                client.ping()
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    sys.exit("demo: the server did not start within 180 s")


def probes() -> list[tuple[Path, str]]:
    with open(FACES / "manifest.csv", newline="", encoding="utf-8") as f:
        return [(FACES / row["path"], row["student_ids"]) for row in csv.DictReader(f) if row["kind"] == "probe"]


def legacy_client_round(host: str, port: int) -> None:
    print("\n== 2019 client: send a photo, then mark the student it names ==")
    for path, expected in probes()[::3]:
        started = time.monotonic()
        reply = legacy_request(host, port, path.read_bytes()).decode()
        marked = legacy_request(host, port, f"{reply}{LECTURE}".encode()).decode() if reply != "Unknown" else "-"
        print(
            f"{path.name:28} -> {reply:9} (expected {expected})  mark: {marked}"
            f"  {1000 * (time.monotonic() - started):.0f} ms"
        )


def framed_client_round(host: str, port: int, token: str) -> None:
    print("\n== new client: every face in a group photo, then a mark for each known face ==")
    with FramedClient(host, port, token=token) as client:
        for name in ("obama_biden_stranger.jpg", "kit_rose.jpg"):
            reply = client.recognize((FACES / "groups" / name).read_bytes(), LECTURE)
            for face in reply.faces:
                who = f"{face.student_id} {face.name}" if face.student_id else "unknown"
                print(f"{name:28} face at {face.left},{face.top}: {who} (distance {face.distance})")
                if face.student_id:
                    client.mark(LECTURE, face.student_id, distance=face.distance)


def print_attendance(host: str, port: int, token: str) -> None:
    with FramedClient(host, port, token=token) as client:
        roster = client.roster(LECTURE)
    print(f"\n== attendance of {roster.lecture} on {roster.session_date} ==")
    print(f"{'student ID':10}  {'name':22}  {'status':8}  {'source':8}  marked at")
    for s in roster.students:
        print(f"{s.student_id:10}  {s.name:22}  {s.status or '-':8}  {s.source or '-':8}  {s.marked_at or '-'}")


def main() -> int:
    try:
        url = DatabaseUrl.parse(url_from_env()).with_database(DATABASE)
    except DatabaseUrlError as exc:
        sys.exit(f"demo: ATTENDANCE_DB_URL: {hide_password(str(exc), url_from_env())}")
    knowns = knowns_dir()
    photos = scan_knowns(knowns)
    print(
        f"demo: MySQL at {url.unix_socket or f'{url.host}:{url.port}'} as {url.user} "
        f"(from ATTENDANCE_DB_URL), database {url.database} (made afresh; DEMO_DATABASE changes it), "
        f"server port {PORT} (DEMO_PORT), photos from {knowns}",
        flush=True,
    )
    try:
        fresh_demo_database(url, {photo.student_id for photo in photos})
    except ValueError as exc:  # DEMO_DATABASE is not a plain name
        sys.exit(f"demo: DEMO_DATABASE: {exc}")
    db_url = url.to_url()
    attendance_db("--db-url", db_url, "init")
    with tempfile.TemporaryDirectory() as tmp:
        roster_csv = Path(tmp) / "roster.csv"
        with open(roster_csv, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["lecture_code", "student_id", "student_name"])
            for photo in photos:
                writer.writerow([LECTURE, photo.student_id, re.sub(r"\s+", " ", photo.name).title()])
        attendance_db("--db-url", db_url, "import-roster", str(roster_csv))
    token = attendance_db("--db-url", db_url, "add-client", CLIENT, "--role", "admin", stdout=subprocess.PIPE).strip()
    print(token, flush=True)  # attendance-db printed "Its token follows" on stderr
    server = start_server(db_url, knowns, token)
    try:
        legacy_client_round("127.0.0.1", PORT)
        framed_client_round("127.0.0.1", PORT, token)
        print_attendance("127.0.0.1", PORT, token)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"\nThe demo's data stays in database {url.database} until the next demo, e.g.:\n"
        f"  attendance-report --db-url {url} --lecture {LECTURE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
