"""``attendance-server`` and ``attendance-client`` as real processes: start, serve, stop on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from db.connection import connect, transaction
from testkit.paths import REPO
from testkit.servers import LECTURE, TEST_CLIENT, add_client, seed_roster


def run_client(port: int, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    """attendance-client; ``token`` goes in ATTENDANCE_TOKEN."""
    env = {k: v for k, v in os.environ.items() if k != "ATTENDANCE_TOKEN"}
    if token is not None:
        env["ATTENDANCE_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "client.cli", "--server", f"127.0.0.1:{port}", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def server_process(db_url, faces_dir):
    seed_roster(db_url, faces_dir / "knowns")
    token = add_client(db_url, TEST_CLIENT)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "1",
            "--db-url",
            db_url.to_url(),
            "--knowns",
            str(faces_dir / "knowns"),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    deadline = time.monotonic() + 120
    port = None
    while port is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"listening on [\d.]+:(\d+)", line)
        port = int(found.group(1)) if found else None
    if port is None:
        proc.kill()
        pytest.fail("server did not start:\n" + "".join(lines))
    yield proc, port, lines, token
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_server_serves_clients_and_stops_on_sigterm(server_process):
    proc, port, lines, token = server_process
    assert any("enrollment" in line for line in lines)

    legacy = run_client(port, "--legacy", "mark", LECTURE, "201911001")
    assert json.loads(legacy.stdout) == {"reply": "success"}

    roster = run_client(port, "roster", LECTURE, token=token)
    assert roster.returncode == 0, roster.stderr
    students = {s["student_id"]: s for s in json.loads(roster.stdout)["students"]}
    assert students["201911001"]["status"] == "present"

    unknown = run_client(port, "--token", token, "roster", "zz9999_9")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "not_found"

    no_token = run_client(port, "roster", LECTURE)
    assert no_token.returncode == 1
    assert json.loads(no_token.stdout)["error"]["code"] == "unauthorized"

    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "SIGTERM received" in err and "stopped" in err


def test_client_reports_an_unreachable_server():
    result = run_client(1, "roster", LECTURE)
    assert result.returncode == 3
    assert "cannot reach" in result.stderr and "Traceback" not in result.stderr


def test_server_refuses_to_start_on_a_database_without_tables(db_url, faces_dir):
    conn = connect(db_url)
    with transaction(conn) as cur:
        cur.execute("DROP TABLE attendance, applied_batches, face_encodings")
    conn.close()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "server",
            "--port",
            "0",
            "--workers",
            "1",
            "--db-url",
            db_url.to_url(),
            "--knowns",
            str(faces_dir / "knowns"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "attendance-db --db-url URL init" in result.stderr
    assert "Traceback" not in result.stderr
