"""A database that cannot be reached, or refuses the login, is one readable line in every command:
``cannot connect to MySQL at HOST:PORT: <reason>``, no pymysql tuple, no traceback, exit status 1.

The commands run as real processes (the venv's console scripts) against a port nothing listens on
(1) and against the real MariaDB with a wrong password or an unknown database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pymysql
import pytest

from db.connection import DatabaseConnectError, DatabaseUrl, connect, connect_error, describe_error
from testkit.paths import REPO
from testkit.processes import PrivateMariaDB
from testkit.tls import make_certificates

BIN = Path(sys.executable).parent
NOTHING_LISTENS = "mysql://root:s3cret@127.0.0.1:1/attendance"


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def assert_one_line(result: subprocess.CompletedProcess, expected: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1, result.stderr
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr and "(2003" not in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


def test_port_one_is_closed():
    """The tests below rely on nothing listening on 127.0.0.1:1."""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", 1), timeout=3)


@pytest.mark.parametrize(
    "command",
    [
        ["attendance-db", "--db-url", NOTHING_LISTENS, "list-clients"],
        ["attendance-db", "--db-url", NOTHING_LISTENS, "init"],
        ["attendance-report", "--db-url", NOTHING_LISTENS, "--lecture", "ea0017_1"],
    ],
)
def test_commands_say_cannot_connect_in_one_line(command):
    result = run([str(BIN / command[0]), *command[1:]])
    assert_one_line(result, f"{command[0]}: cannot connect to MySQL at 127.0.0.1:1: Connection refused")


def test_enroll_says_cannot_connect_before_loading_the_models(faces_dir):
    photo = faces_dir / "knowns" / "201911001_obama.jpg"
    result = run([str(BIN / "attendance-db"), "--db-url", NOTHING_LISTENS, "enroll", "201911001", str(photo)])
    assert_one_line(result, "attendance-db: cannot connect to MySQL at 127.0.0.1:1: Connection refused")


def test_server_says_cannot_connect_in_one_line(faces_dir):
    result = run(
        [
            str(BIN / "attendance-server"),
            "--db-url",
            NOTHING_LISTENS,
            "--port",
            "0",
            "--workers",
            "1",
            "--knowns",
            str(faces_dir / "knowns"),
        ]
    )
    assert_one_line(result, "cannot start: cannot connect to MySQL at 127.0.0.1:1: Connection refused")
    assert "listening" not in result.stderr


def test_demo_says_cannot_connect_in_one_line():
    result = run([sys.executable, "scripts/demo.py"], env={"ATTENDANCE_DB_URL": NOTHING_LISTENS})
    assert result.returncode == 1
    assert result.stderr.strip() == "demo: cannot connect to MySQL at 127.0.0.1:1: Connection refused"
    assert "s3cret" not in result.stderr + result.stdout


def test_wrong_password_is_cannot_log_in(server_db_url):
    url = DatabaseUrl(
        server_db_url.user,
        server_db_url.password + "-wrong",
        server_db_url.host,
        server_db_url.port,
        server_db_url.database,
        server_db_url.unix_socket,
    )
    result = run([str(BIN / "attendance-db"), "--db-url", url.to_url(), "list-clients"])
    where = url.unix_socket or f"{url.host}:{url.port}"
    assert_one_line(result, f"attendance-db: cannot log in to MySQL at {where} as {url.user}: Access denied")
    assert url.password not in result.stderr


def test_unknown_database_says_run_init(server_db_url):
    url = server_db_url.with_database(f"attendance_none{os.getpid()}")
    result = run([str(BIN / "attendance-db"), "--db-url", url.to_url(), "list-clients"])
    where = url.unix_socket or f"{url.host}:{url.port}"
    assert_one_line(
        result, f"database {url.database} does not exist on {where}; create it with: attendance-db --db-url URL init"
    )


def test_connect_raises_one_line_error_that_is_still_an_operational_error():
    with pytest.raises(DatabaseConnectError) as caught:
        connect(NOTHING_LISTENS, timeout=3)
    assert isinstance(caught.value, pymysql.err.OperationalError)  # the server's pool relies on it
    assert caught.value.args[0] == 2003
    assert (
        str(caught.value)
        == describe_error(caught.value)
        == "cannot connect to MySQL at 127.0.0.1:1: Connection refused"
    )


def test_connect_error_messages():
    url = DatabaseUrl.parse("mysql://kim:pw@db.example:3307/attendance")
    timeout = pymysql.err.OperationalError(2003, "Can't connect to MySQL server on 'db.example' (timed out)")
    timeout.original_exception = TimeoutError("timed out")
    assert str(connect_error(url, timeout)) == "cannot connect to MySQL at db.example:3307: timed out"
    denied = pymysql.err.OperationalError(1045, "Access denied for user 'kim'@'10.0.0.5' (using password: YES)")
    assert str(connect_error(url, denied)) == (
        "cannot log in to MySQL at db.example:3307 as kim: Access denied for user 'kim'@'10.0.0.5' "
        "(using password: YES)"
    )
    assert str(connect_error(url, pymysql.err.OperationalError(1049, "Unknown database 'attendance'"))) == (
        "database attendance does not exist on db.example:3307; create it with: attendance-db --db-url URL init"
    )
    lost = pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")
    assert str(connect_error(url, lost)) == (
        "cannot connect to MySQL at db.example:3307: Lost connection to MySQL server during query"
    )
    socket_url = DatabaseUrl.parse("mysql://kim@localhost/attendance?unix_socket=/run/mysqld/mysqld.sock")
    refused = ConnectionRefusedError(111, "Connection refused")
    assert str(connect_error(socket_url, refused)) == (
        "cannot connect to MySQL at /run/mysqld/mysqld.sock: Connection refused"
    )


def _cipher(conn: pymysql.connections.Connection) -> str:
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        return cur.fetchone()[1]


@pytest.fixture
def other_servers_table():
    """A file named like another MariaDB's temporary table in the default tmpdir (/tmp), removed
    afterwards whatever happened to it."""
    path = Path(tempfile.gettempdir()) / f"#sql-temptable-test-{os.getpid()}.MAI"
    path.touch()
    yield path
    path.unlink(missing_ok=True)


def test_connections_use_tls_when_the_server_offers_it_and_share_one_context(
    tmp_path, server_db_url, other_servers_table
):
    """No TLS option in the URL: TLS whenever the server offers it (PyMySQL's "preferred" mode),
    with one context built per process (building it loads the system's CA certificates)."""
    tls = make_certificates(tmp_path / "tls")
    options = (f"--ssl-cert={tls.server_cert}", f"--ssl-key={tls.server_key}")
    with PrivateMariaDB(tmp_path / "mariadb", options=options) as mariadb:
        # A MariaDB starting deletes every #sql* file in its tmpdir: a private one has its own, or
        # it would delete the temporary tables of the shared test server's queries.
        assert other_servers_table.exists()
        first, second = connect(mariadb.server_url, database=False), connect(mariadb.server_url, database=False)
        try:
            assert _cipher(first) and _cipher(second)  # encrypted, though no certificate is verified
            assert first.ctx is second.ctx
        finally:
            first.close()
            second.close()
    plain = connect(server_db_url, database=False)  # the tests' MariaDB: TLS as it is configured
    try:
        with plain.cursor() as cur:
            cur.execute("SHOW VARIABLES LIKE 'have_ssl'")
            offered = cur.fetchone()[1] == "YES"
        assert bool(_cipher(plain)) == offered  # without TLS on offer, a plain connection
        assert plain.ctx is first.ctx
    finally:
        plain.close()
