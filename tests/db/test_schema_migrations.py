"""Schema versions and migrations (db/schema.py, db/migrations/) against a real MariaDB/MySQL:
databases of earlier releases upgraded with their rows, the runner's order and once-only rule,
and databases newer than the code refused."""

from __future__ import annotations

import pytest

from admin import cli
from db.connection import connect, transaction
from db.schema import SchemaError, find_migrations, init_schema, read_status, recreate_database, upgrade
from testkit.schemas import (
    describe_schema,
    empty_database,
    fill_every_table,
    load_old_schema,
    table_columns,
    table_rows,
)


@pytest.mark.parametrize("release", ["0.1.0", "c78141b"])
def test_upgrade_of_a_release_before_versioning_keeps_every_row_and_gives_a_fresh_init_schema(
    server_db_url, release, capsys
):
    with empty_database(server_db_url) as url, empty_database(server_db_url) as fresh:
        load_old_schema(url, release)
        fill_every_table(url)
        old_columns = table_columns(url)
        before = table_rows(url)

        assert cli.main(["--db-url", url.to_url(), "init"]) == 1  # init never changes an old database
        assert "no schema version" in capsys.readouterr().err and table_columns(url) == old_columns

        assert cli.main(["--db-url", url.to_url(), "upgrade"]) == 0
        out = capsys.readouterr().out
        assert "no schema version (made before versioning)" in out
        assert "applying 0001_baseline.py" in out and f"schema version now {find_migrations()[-1].version}" in out

        assert table_rows(url, old_columns) == before  # every row of every table, as it was
        marks, history = marks_and_their_history(url)
        assert len(marks) == 3 and history == marks  # migration 4: one history row per earlier mark
        assert cli.main(["--db-url", fresh.to_url(), "init"]) == 0
        upgraded, initialized = describe_schema(url), describe_schema(fresh)
        for part in initialized:
            assert upgraded[part] == initialized[part], part

        with connect(url) as conn, transaction(conn) as cur:
            cur.execute("SELECT version, name, applied_at FROM schema_migrations")
            recorded = cur.fetchall()
        assert cli.main(["--db-url", url.to_url(), "upgrade"]) == 0  # twice: nothing to do
        assert "up to date: nothing to apply" in capsys.readouterr().out
        with connect(url) as conn, transaction(conn) as cur:
            cur.execute("SELECT version, name, applied_at FROM schema_migrations")
            assert cur.fetchall() == recorded


def marks_and_their_history(url) -> tuple[list, list]:
    """The marks, and the history rows migration 4 gave them (made again: must not add any)."""
    with connect(url) as conn, transaction(conn) as cur:
        migration = next(m for m in find_migrations() if m.name == "mark_history")
        migration.apply(cur)  # safe to re-run: no second history row for a mark
        cur.execute(
            "SELECT session_id, student_id, status, source, client_name, marked_at FROM attendance ORDER BY 1, 2"
        )
        marks = list(cur.fetchall())
        cur.execute(
            "SELECT session_id, student_id, new_status, source, client_name, changed_at FROM mark_history"
            " WHERE old_status IS NULL ORDER BY 1, 2"
        )
        return marks, list(cur.fetchall())


def test_dry_run_prints_the_migrations_and_changes_nothing(server_db_url, capsys):
    with empty_database(server_db_url) as url:
        load_old_schema(url, "c78141b")
        columns = table_columns(url)
        assert cli.main(["--db-url", url.to_url(), "upgrade", "--dry-run"]) == 0
        assert "would apply 0001_baseline.py" in capsys.readouterr().out
        assert table_columns(url) == columns
        with connect(url) as conn, transaction(conn) as cur:
            assert read_status(cur).state == "unversioned"


def test_init_on_an_empty_database_records_every_migration_and_upgrade_refuses_an_empty_one(server_db_url):
    with empty_database(server_db_url) as url, connect(url) as conn:
        with pytest.raises(SchemaError, match="no attendance tables.*attendance-db init"):
            upgrade(conn, report=lambda line: None)
        with transaction(conn) as cur:
            assert init_schema(cur) > 0
            cur.execute("SELECT version, name FROM schema_migrations ORDER BY version")
            assert cur.fetchall() == tuple((m.version, m.name) for m in find_migrations())
            assert init_schema(cur) == 0  # twice: nothing to do
            assert read_status(cur).state == "current"


def write_migrations(folder, files: dict[str, str]):
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_migrations_apply_in_order_each_once_and_a_failed_one_runs_again_once_fixed(db_url, tmp_path):
    folder = write_migrations(
        tmp_path / "migrations",
        {
            "0001_baseline.sql": "-- recorded by init, never run here\n",
            "0002_notes.sql": "CREATE TABLE IF NOT EXISTS notes (note_id INT NOT NULL PRIMARY KEY);\n",
            "0003_note_body.sql": "ALTER TABLE notes ADD COLUMN body VARCHAR(20) NULL;\n",  # needs 0002 first
            "0004_first_note.py": "def apply(cursor):\n"
            "    cursor.execute(\"INSERT INTO notes (note_id, body) VALUES (1, 'hello')\")\n",
            "README.txt": "not a migration",
        },
    )
    lines: list[str] = []
    with connect(db_url) as conn:
        with transaction(conn) as cur:  # a database of version 1, whatever the code's latest is
            cur.execute("DELETE FROM schema_migrations WHERE version > 1")
        applied = upgrade(conn, migrations_dir=folder, report=lines.append)
        assert [m.path.name for m in applied] == ["0002_notes.sql", "0003_note_body.sql", "0004_first_note.py"]
        assert lines[1:4] == ["applying 0002_notes.sql", "applying 0003_note_body.sql", "applying 0004_first_note.py"]
        assert upgrade(conn, migrations_dir=folder, report=lines.append) == []  # each once
        with transaction(conn) as cur:
            cur.execute("SELECT note_id, body FROM notes")
            assert cur.fetchall() == ((1, "hello"),)
            cur.execute("SELECT version, name FROM schema_migrations ORDER BY version")
            assert cur.fetchall() == ((1, "baseline"), (2, "notes"), (3, "note_body"), (4, "first_note"))

        # A migration failing halfway: its DDL before the failure stays, its version is not recorded.
        broken = "CREATE TABLE IF NOT EXISTS tags (tag_id INT NOT NULL PRIMARY KEY);\nINSERT INTO nowhere VALUES (1);\n"
        write_migrations(folder, {"0005_tags.sql": broken})
        with pytest.raises(SchemaError, match="0005_tags.sql failed.*run attendance-db upgrade again"):
            upgrade(conn, migrations_dir=folder, report=lines.append)
        with transaction(conn) as cur:
            assert read_status(cur, folder).version == 4
            cur.execute("SHOW TABLES LIKE 'tags'")
            assert cur.fetchall() == (("tags",),)
        write_migrations(folder, {"0005_tags.sql": broken.replace("nowhere", "tags")})
        assert [m.version for m in upgrade(conn, migrations_dir=folder, report=lines.append)] == [5]
        with transaction(conn) as cur:
            cur.execute("SELECT COUNT(*) FROM tags")
            assert cur.fetchone() == (1,)

        # Recorded versions with a hole below the highest: not upgraded by these migrations.
        with transaction(conn) as cur:
            cur.execute("DELETE FROM schema_migrations WHERE version = 3")
        with pytest.raises(SchemaError, match="0003_note_body.sql is not recorded although the later version 5"):
            upgrade(conn, migrations_dir=folder, report=lines.append)


def test_a_database_newer_than_the_code_is_refused(db_url, tmp_path, capsys):
    folder = write_migrations(tmp_path / "migrations", {"0001_baseline.sql": "-- only this one\n"})
    with connect(db_url) as conn:
        with transaction(conn) as cur:  # version 1, then one from a later release
            cur.execute("DELETE FROM schema_migrations WHERE version > 1")
            cur.execute("INSERT INTO schema_migrations (version, name) VALUES (2, 'from_a_later_release')")
        with pytest.raises(SchemaError, match="schema version 2, newer than this code's 1"):
            upgrade(conn, migrations_dir=folder, report=lines_ignored)
        with transaction(conn) as cur:
            with pytest.raises(SchemaError, match="newer than this code's 1"):
                init_schema(cur, folder)

    with connect(db_url) as conn, transaction(conn) as cur:  # the real migrations, through the command
        cur.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'from_the_future')")
    for command in ("init", "upgrade"):
        assert cli.main(["--db-url", db_url.to_url(), command]) == 1
        err = capsys.readouterr().err
        assert "schema version 999, newer than this code's" in err and len(err.splitlines()) == 1


def test_two_migrations_of_one_version_are_an_error(tmp_path):
    folder = write_migrations(tmp_path / "migrations", {"0001_a.sql": "", "0001_b.py": ""})
    with pytest.raises(ValueError, match="two migrations numbered 1: 0001_a.sql and 0001_b.py"):
        find_migrations(folder)


def test_recreate_database_gives_the_current_version(server_db_url):
    url = recreate_database(server_db_url, "attendance_recreate_check")
    try:
        with connect(url) as conn, transaction(conn) as cur:
            assert read_status(cur).state == "current"
    finally:
        with connect(url) as conn, transaction(conn) as cur:
            cur.execute("DROP DATABASE attendance_recreate_check")


def lines_ignored(line: str) -> None:
    pass
