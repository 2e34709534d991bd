"""``attendance-db backup`` / ``restore`` (db/backup.py) with the real mariadb-dump/mysqldump and
client against a real MariaDB/MySQL: every row back after the database is destroyed."""

from __future__ import annotations

import stat

from admin import cli
from db.backup import HEADER_PREFIX
from db.connection import DatabaseUrl, connect, transaction
from db.schema import drop_database, find_migrations
from testkit.schemas import describe_schema, empty_database, fill_every_table, load_old_schema, table_rows


def run(capsys, url, *args) -> tuple[int, str, str]:
    code = cli.main(["--db-url", url.to_url(), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_backup_then_drop_the_database_then_restore_gives_every_row_back(db_url, tmp_path, capsys):
    fill_every_table(db_url)
    rows, schema = table_rows(db_url), describe_schema(db_url)
    file = tmp_path / "attendance.sql"

    code, out, err = run(capsys, db_url, "backup", str(file))
    assert code == 0, err
    assert f"to {file}" in out
    latest = find_migrations()[-1].version
    assert file.read_text(encoding="utf-8").startswith(
        f"{HEADER_PREFIX}schema version {latest}, database {db_url.database}, made "
    )
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # face encodings: readable by its owner only
    assert not list(tmp_path.glob(".*partial"))

    with connect(db_url, database=False) as admin, transaction(admin) as cur:
        drop_database(cur, db_url.database)
    code, out, err = run(capsys, db_url, "restore", str(file))
    assert code == 0, err
    assert f"schema version {latest}" in out
    assert table_rows(db_url) == rows
    assert describe_schema(db_url) == schema  # tables, views and the recorded versions


def test_restore_into_an_existing_database_replaces_the_projects_tables(db_url, tmp_path, capsys):
    fill_every_table(db_url)
    rows = table_rows(db_url)
    file = tmp_path / "attendance.sql"
    assert run(capsys, db_url, "backup", str(file))[0] == 0
    with connect(db_url) as conn, transaction(conn) as cur:
        cur.execute("INSERT INTO students (student_id, name) VALUES ('202000009', 'After the backup')")
        cur.execute("DELETE FROM attendance")
        cur.execute("CREATE TABLE staff_notes (note TEXT)")  # not the project's: left alone
    assert run(capsys, db_url, "restore", str(file))[0] == 0
    after = table_rows(db_url)
    assert after.pop("staff_notes") == ()
    assert after == rows


def test_a_backup_of_a_database_before_versioning_restores_as_such(server_db_url, tmp_path, capsys):
    """The upgrade procedure backs up the old database first: that backup must restore."""
    with empty_database(server_db_url) as url:
        load_old_schema(url, "c78141b")
        fill_every_table(url)
        rows = table_rows(url)
        file = tmp_path / "old.sql"
        code, out, err = run(capsys, url, "backup", str(file))
        assert code == 0, err
        assert "no schema version" in out
        assert file.read_text(encoding="utf-8").startswith(f"{HEADER_PREFIX}schema version 0, ")
        assert run(capsys, url, "upgrade")[0] == 0
        code, out, err = run(capsys, url, "restore", str(file))  # back to before the upgrade
        assert code == 0, err
        assert "attendance-db upgrade" in out
        assert table_rows(url) == rows  # pending_checkins & co., created by the upgrade, are gone


def test_restore_refuses_a_file_that_is_not_a_backup_or_is_newer_than_the_code(db_url, tmp_path, capsys):
    fill_every_table(db_url)
    rows = table_rows(db_url)
    plain = tmp_path / "plain.sql"
    plain.write_text("DROP TABLE students;\n", encoding="utf-8")
    code, _, err = run(capsys, db_url, "restore", str(plain))
    assert code == 2 and "is not an attendance-db backup" in err

    file = tmp_path / "attendance.sql"
    assert run(capsys, db_url, "backup", str(file))[0] == 0
    text = file.read_text(encoding="utf-8")
    newer = tmp_path / "newer.sql"
    latest = find_migrations()[-1].version
    newer.write_text(text.replace(f"schema version {latest},", "schema version 999,", 1), encoding="utf-8")
    code, _, err = run(capsys, db_url, "restore", str(newer))
    assert code == 2 and "schema version 999, newer than this code's" in err

    code, _, err = run(capsys, db_url, "restore", str(tmp_path / "missing.sql"))
    assert code == 2 and "cannot read" in err
    assert table_rows(db_url) == rows  # nothing touched


def test_a_missing_dump_tool_is_one_line_and_no_file(db_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # neither tool can be found
    file = tmp_path / "attendance.sql"
    code, _, err = run(capsys, db_url, "backup", str(file))
    assert code == 1
    assert err.strip() == (
        "attendance-db: neither mariadb-dump nor mysqldump is installed (Debian: apt install mariadb-client)"
    )
    assert not file.exists()
    file.write_text(f"{HEADER_PREFIX}schema version 1, database x, made 2026-01-01T00:00:00\n")
    code, _, err = run(capsys, db_url, "restore", str(file))
    assert code == 1 and "neither mariadb nor mysql is installed" in err


def test_a_failing_dump_is_one_line_and_leaves_no_file(db_url, tmp_path, capsys):
    """A view left pointing at a dropped table: the dump tool stops on it."""
    with connect(db_url) as conn, transaction(conn) as cur:
        cur.execute("CREATE TABLE scratch (x INT)")
        cur.execute("CREATE VIEW scratch_v AS SELECT x FROM scratch")
        cur.execute("DROP TABLE scratch")
    file = tmp_path / "attendance.sql"
    code, _, err = run(capsys, db_url, "backup", str(file))
    assert code == 1
    assert err.startswith(("attendance-db: mariadb-dump failed (exit 2): ", "attendance-db: mysqldump failed"))
    assert "scratch_v" in err and len(err.strip().splitlines()) == 1
    assert not file.exists() and not list(tmp_path.glob(".*partial"))


def test_an_account_that_cannot_see_every_table_is_refused(db_url, tmp_path, capsys):
    """The server's least-privilege account has no grant on the views: its dump would lack them."""
    with connect(db_url) as conn, transaction(conn) as cur:
        cur.execute("DROP USER IF EXISTS 'backup_test_acct'@'127.0.0.1'")
    code, out, err = run(capsys, db_url, "create-server-account", "backup_test_acct")
    assert code == 0, err
    server_url = DatabaseUrl.parse(out.strip())
    try:
        file = tmp_path / "attendance.sql"
        code, _, err = run(capsys, server_url, "backup", str(file))
        assert code == 1
        assert "backup_test_acct cannot see attendance_sessions_v, attendance_summary_v" in err, err
        assert server_url.password not in err and not file.exists()
    finally:
        with connect(db_url) as conn, transaction(conn) as cur:
            cur.execute("DROP USER IF EXISTS 'backup_test_acct'@'127.0.0.1'")


def test_an_unreachable_database_is_one_line_and_exit_1_for_backup_restore_and_upgrade(tmp_path, capsys):
    file = tmp_path / "attendance.sql"
    file.write_text(f"{HEADER_PREFIX}schema version 1, database x, made 2026-01-01T00:00:00\n")
    for command in (["backup", str(tmp_path / "new.sql")], ["restore", str(file)], ["upgrade"]):
        assert cli.main(["--db-url", "mysql://root:s3cret@127.0.0.1:1/attendance", *command]) == 1
        err = capsys.readouterr().err
        assert "cannot connect" in err and "s3cret" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "new.sql").exists()
