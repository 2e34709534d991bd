"""The server's database account (``attendance-db create-server-account``): everything the server
does works with it, and nothing beyond (no DDL, no other tables' writes, no other database)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pymysql
import pytest

from db import accounts
from db.connection import DatabaseUrl, connect, transaction
from server.app import AttendanceApp, ServerConfig
from testkit.paths import REPO
from testkit.servers import LECTURE, add_client, seed_roster


@pytest.fixture
def account(db_url):
    user = f"att_srv_{os.getpid()}"
    yield user
    admin = connect(db_url)
    with transaction(admin) as cur:
        accounts.drop_account(cur, user, "127.0.0.1")
    admin.close()


def create_account(db_url, user: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "admin",
            "--db-url",
            db_url.to_url(),
            "create-server-account",
            user,
            "--host",
            "127.0.0.1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_server_runs_with_least_privileges(db_url, account, faces_dir, tmp_path):
    result = create_account(db_url, account)
    assert result.returncode == 0, result.stderr
    server_url = DatabaseUrl.parse(result.stdout.strip())
    assert server_url.user == account and len(server_url.password) >= 32
    assert server_url.database == db_url.database
    grants = result.stderr
    for forbidden in ("ALL PRIVILEGES", "DROP", "CREATE", "ALTER", "GRANT OPTION", "SUPER"):
        assert forbidden not in grants
    again = create_account(db_url, account)
    assert again.returncode == 0 and "password unchanged" in again.stderr and again.stdout == ""

    knowns = tmp_path / "knowns"
    shutil.copytree(faces_dir / "knowns", knowns)
    seed_roster(db_url, knowns)  # as the administrator
    token = add_client(db_url, "room-1")
    config = ServerConfig(db_url=server_url, knowns_dir=knowns, host="127.0.0.1", port=0, workers=1)
    app = AttendanceApp(config).start()  # encodes the photos: INSERT into face_encodings
    app.serve_in_thread()
    try:
        from client.connection import FramedClient

        with FramedClient(*app.address, token=token) as client:  # SELECT on clients
            assert client.roster(LECTURE).students
            assert client.mark(LECTURE, "201911001").status == "present"
            assert client.batch_mark(LECTURE, "acct-1", [("201911002", "late")]).applied == 1
            image = (faces_dir / "probes/biden_2.jpg").read_bytes()
            assert [f.student_id for f in client.recognize(image, LECTURE).faces] == ["201911002"]
    finally:
        app.stop()
    (knowns / "201911006_lin_manuel_miranda.png").unlink()
    app = AttendanceApp(config).start()  # a removed photo: DELETE from face_encodings
    app.stop()

    restricted = connect(server_url)
    try:
        for statement in (
            "CREATE TABLE x (a INT)",
            "DROP TABLE attendance",
            "ALTER TABLE attendance ADD COLUMN x INT",
            "DELETE FROM attendance",
            "DELETE FROM mark_history",  # the history is written once, never changed
            "UPDATE mark_history SET reason = 'x'",
            "INSERT INTO clients (name, token_sha256) VALUES ('evil', REPEAT('0', 64))",
            "UPDATE lectures SET title = 'x'",
            "DELETE FROM enrollments",
            "SELECT * FROM mysql.user",
            "CREATE DATABASE evil",
        ):
            with pytest.raises(pymysql.err.MySQLError) as err:
                with transaction(restricted) as cur:
                    cur.execute(statement)
            assert err.value.args[0] in (1044, 1045, 1142, 1143, 1227), (statement, err.value)
    finally:
        restricted.close()


def test_account_names_are_checked(db_url):
    for user, host in (("x'; DROP USER root; --", "127.0.0.1"), ("ok", "bad host'")):
        with pytest.raises(ValueError):
            accounts.check_account(user, host)
    result = create_account(db_url, "bad name")
    assert result.returncode == 2 and "account name" in result.stderr
