"""``attendance-db``, run as a real command (``python -m admin``) against a real MariaDB/MySQL."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import quote

import pytest

from admin.cli import main
from db import students
from db.connection import DatabaseUrl, connect, transaction
from db.schema import find_migrations, schema_statements
from testkit.paths import REPO

HEADER = "lecture_code,student_id,student_name\n"


def url_text(url: DatabaseUrl) -> str:
    """The URL as a command-line argument, password included (str(url) leaves it out)."""
    password = f":{quote(url.password, safe='')}" if url.password else ""
    socket = f"?unix_socket={quote(url.unix_socket)}" if url.unix_socket else ""
    return f"mysql://{quote(url.user, safe='')}{password}@{url.host}:{url.port}/{url.database}{socket}"


def attendance_db(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "admin", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.fixture
def new_database_url(server_db_url):
    """A database name that does not exist yet; dropped afterwards."""
    name = f"attendance_cli{os.getpid()}"
    admin = connect(server_db_url, database=False)
    try:
        with transaction(admin) as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        yield server_db_url.with_database(name)
    finally:
        with transaction(admin) as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def test_init_creates_the_database_and_tables_and_is_safe_to_repeat(new_database_url, tmp_path):
    url = url_text(new_database_url)
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "ea0017_1,201900001,Kim\n", encoding="utf-8")

    before = attendance_db("--db-url", url, "import-roster", str(roster))  # no database yet
    assert before.returncode == 1
    assert f"database {new_database_url.database} does not exist" in before.stderr and "init" in before.stderr

    first = attendance_db("--db-url", url, "init")
    assert first.returncode == 0, first.stderr
    assert f"created database {new_database_url.database}" in first.stdout
    expected = len(schema_statements())  # every statement creates one table or view
    assert f"created {expected} tables" in first.stdout

    latest = find_migrations()[-1].version
    assert f"schema version {latest}" in first.stdout

    second = attendance_db("--db-url", url, "init")
    assert second.returncode == 0, second.stderr
    assert f"database {new_database_url.database} already exists" in second.stdout
    assert f"schema version {latest}: up to date, nothing to do" in second.stdout

    with connect(new_database_url) as conn, transaction(conn) as cur:
        cur.execute("SHOW TABLES")
        assert len(cur.fetchall()) == expected


def test_import_roster_twice_second_time_changes_nothing(db_url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(
        b"\xef\xbb\xbf" + (HEADER + "EA0017_1,201900001,홍길동\nea0017_1,201900002,O'Brien\n").encode("utf-8")
    )
    first = attendance_db("--db-url", url_text(db_url), "import-roster", str(roster))
    assert first.returncode == 0, first.stderr
    assert "lectures created: 1" in first.stdout
    assert "students created: 2" in first.stdout
    assert "enrollments created: 2" in first.stdout

    second = attendance_db("--db-url", url_text(db_url), "import-roster", str(roster))
    assert second.returncode == 0, second.stderr
    counts = [line for line in second.stdout.splitlines() if "created" in line or "renamed" in line]
    assert len(counts) == 4 and all(line.endswith(": 0") for line in counts), second.stdout

    with connect(db_url) as conn, transaction(conn) as cur:
        assert students.get_student(cur, "201900001").name == "홍길동"


def test_import_roster_of_a_malformed_file_exits_2_naming_the_line(db_url, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(HEADER + "ea0017_1,201900001,Kim\nea0017_1,12345,Lee\n", encoding="utf-8")
    result = attendance_db("--db-url", url_text(db_url), "import-roster", str(roster))
    assert result.returncode == 2
    assert f"{roster}:3:" in result.stderr
    assert "Traceback" not in result.stderr
    with connect(db_url) as conn, transaction(conn) as cur:  # the file is checked before importing
        cur.execute("SELECT COUNT(*) FROM students")
        assert cur.fetchone()[0] == 0


def test_import_roster_of_a_missing_file_exits_2(db_url, tmp_path):
    result = attendance_db("--db-url", url_text(db_url), "import-roster", str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["init"], ["import-roster", "whatever.csv"], ["history", "ea0017_1"]])
def test_unreachable_database_is_one_line_and_exit_1(command, tmp_path):
    roster = tmp_path / "whatever.csv"
    roster.write_text(HEADER, encoding="utf-8")
    command = [str(roster) if arg == "whatever.csv" else arg for arg in command]
    result = attendance_db("--db-url", "mysql://root:s3cret@127.0.0.1:1/attendance", *command)
    assert result.returncode == 1
    assert result.stderr.startswith("attendance-db: cannot connect to MySQL at 127.0.0.1:1: Connection refused")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr


def test_bad_database_url_exits_2_without_showing_the_password(capsys):
    assert main(["--db-url", "postgres://u:s3cret@host/db", "init"]) == 2
    err = capsys.readouterr().err
    assert "mysql://" in err and "s3cret" not in err
