"""``make demo`` (scripts/demo.py) as a real process: it says which database server, account and
database it uses, prints the client token it made, runs end to end, and never touches a database
that holds data no demo wrote."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from db.connection import connect, transaction
from testkit.paths import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_database(server_db_url, database_name):
    """The demo's database: a name no other test uses, dropped afterwards."""
    return server_db_url.with_database(database_name)


def run_demo(url, faces_dir) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "ATTENDANCE_DB_URL": url.with_database("attendance").to_url(),
        "DEMO_DATABASE": url.database,
        "DEMO_PORT": str(free_port()),
        "ATTENDANCE_FACES_DIR": str(faces_dir),
    }
    return subprocess.run(
        [sys.executable, "scripts/demo.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_demo_runs_in_its_own_database_prints_its_token_and_starts_afresh(demo_database, faces_dir):
    url = demo_database
    for _ in range(2):  # the second run drops what the first wrote
        result = run_demo(url, faces_dir)
        assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert f"MySQL at {url.host}:{url.port} as {url.user}" in out and f"database {url.database}" in out
        assert f"created database {url.database}" in out
        assert re.search(r"^[0-9a-f]{64}$", out, re.MULTILINE)  # the token, after "Its token follows"
        assert "Its token follows" in result.stderr
        assert re.search(r"^201911001 +Obama +present", out, re.MULTILINE), out
    with connect(url) as conn, transaction(conn) as cur:
        cur.execute("SELECT name FROM clients")
        assert cur.fetchall() == (("demo",),)


def test_demo_leaves_a_database_with_other_data_alone(demo_database, faces_dir):
    url = demo_database
    admin = connect(url, database=False)
    with transaction(admin) as cur:
        cur.execute(f"CREATE DATABASE `{url.database}`")
        cur.execute(f"CREATE TABLE `{url.database}`.grades (student_id CHAR(9), grade CHAR(2))")
        cur.execute(f"INSERT INTO `{url.database}`.grades VALUES ('201911001', 'A+')")
    admin.close()
    result = run_demo(url, faces_dir)
    assert result.returncode == 1
    assert (
        f"database {url.database} on {url.host}:{url.port} holds tables other than the attendance tables"
        in result.stderr
    )
    assert "Traceback" not in result.stderr
    with connect(url) as conn, transaction(conn) as cur:
        cur.execute("SELECT grade FROM grades")
        assert cur.fetchall() == (("A+",),)
