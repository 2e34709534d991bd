"""``make demo``: the whole system once, end to end, on the sample photos.

1. creates the tables (``attendance-db init``), a roster for lecture ea0017_1
   (``attendance-db import-roster``) with every student of the knowns folder, and a client token
   (``attendance-db add-client demo``);
2. starts ``attendance-server`` on port 9009 (enrolling the knowns photos);
3. sends the sample probes as a 2019 client would (image, then student ID + lecture code) and
   the group photos as a new client would (framed protocol, every face, then marks);
4. prints today's attendance for the lecture as a table, and stops the server.

The database comes from ATTENDANCE_DB_URL (the Makefile finds or starts one).
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from client.connection import FramedClient, legacy_request  # noqa: E402
from db.connection import url_from_env  # noqa: E402
from server.recognition.enrollment import scan_knowns  # noqa: E402

LECTURE = "ea0017_1"
PORT = int(os.environ.get("DEMO_PORT", "9009"))
FACES = Path(os.environ.get("ATTENDANCE_FACES_DIR", REPO.parent / "shared" / "faces"))


def knowns_dir() -> Path:
    """knowns/ when it holds photos, else the shared sample enrollment photos."""
    own = REPO / "knowns"
    if scan_knowns(own):
        return own
    if not (FACES / "knowns").is_dir():
        sys.exit(f"demo: no photos in {own} and no sample faces at {FACES} (set ATTENDANCE_FACES_DIR)")
    return FACES / "knowns"


def attendance_db(*args: str) -> None:
    print("$ attendance-db", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "db", *args], cwd=REPO, check=True)


def demo_token(db_url: str) -> str:
    """A new token for client "demo" (an earlier demo's token is revoked first)."""
    subprocess.run([sys.executable, "-m", "db", "--db-url", db_url, "revoke-client", "demo"],
                   cwd=REPO, capture_output=True)
    print("$ attendance-db --db-url URL add-client demo", flush=True)
    result = subprocess.run([sys.executable, "-m", "db", "--db-url", db_url, "add-client", "demo"],
                            cwd=REPO, check=True, stdout=subprocess.PIPE, text=True)
    return result.stdout.strip()


def start_server(db_url: str, knowns: Path, token: str) -> subprocess.Popen:
    print(f"$ attendance-server --port {PORT} --knowns {knowns}", flush=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(PORT),
         "--db-url", db_url, "--knowns", str(knowns), "--log-level", "WARNING"],
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
        print(f"{path.name:28} -> {reply:9} (expected {expected})  mark: {marked}"
              f"  {1000 * (time.monotonic() - started):.0f} ms")


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
    db_url = url_from_env()
    knowns = knowns_dir()
    attendance_db("--db-url", db_url, "init")
    with tempfile.TemporaryDirectory() as tmp:
        roster_csv = Path(tmp) / "roster.csv"
        with open(roster_csv, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["lecture_code", "student_id", "student_name"])
            for photo in scan_knowns(knowns):
                writer.writerow([LECTURE, photo.student_id, re.sub(r"\s+", " ", photo.name).title()])
        attendance_db("--db-url", db_url, "import-roster", str(roster_csv))
    token = demo_token(db_url)
    server = start_server(db_url, knowns, token)
    try:
        legacy_client_round("127.0.0.1", PORT)
        framed_client_round("127.0.0.1", PORT, token)
        print_attendance("127.0.0.1", PORT, token)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
