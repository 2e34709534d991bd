"""Schema versions and migrations (db/schema.py, db/migrations/) against a real MariaDB/MySQL:
databases of earlier releases upgraded with their rows, the runner's order and once-only rule,
and databases newer than the code refused."""

from __future__ import annotations

import pymysql
import pytest

from admin import cli
from db.connection import connect, transaction
from db.schema import MIGRATIONS_DIR, SchemaError, find_migrations, init_schema, read_status, recreate_database, upgrade
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
        assert "applying 0001_baseline.py" in out and "applying 0002_client_roles.py" in out
        assert f"schema version now {find_migrations()[-1].version}" in out

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


@pytest.mark.parametrize("release", ["0.1.0", "c78141b"])
def test_upgrade_makes_every_existing_client_an_admin_and_scopes_the_applied_batches(server_db_url, release, capsys):
    """Migration 2: clients made before roles keep doing what they did (admin, every lecture),
    and each applied batch is keyed by its client and the lecture of its session."""
    with empty_database(server_db_url) as url:
        load_old_schema(url, release)
        fill_every_table(url)  # room-e203 (active), old-pc (revoked); batches b-1, b-2 of prof-app
        assert cli.main(["--db-url", url.to_url(), "upgrade"]) == 0
        capsys.readouterr()
        with connect(url) as conn, transaction(conn) as cur:
            cur.execute("SELECT name, role FROM clients ORDER BY name")
            assert cur.fetchall() == (("old-pc", "admin"), ("room-e203", "admin"))
            cur.execute("SELECT COUNT(*) FROM client_lectures")
            assert cur.fetchone() == (0,)  # every lecture
            cur.execute("SELECT batch_id, client_name, lecture_id, request_sha256 FROM applied_batches ORDER BY 1")
            assert cur.fetchall() == (("b-1", "prof-app", 1, None), ("b-2", "prof-app", 1, None))
            # The new key: prof-app's b-1 for the other lecture is another batch.
            cur.execute(
                "INSERT INTO applied_batches (batch_id, lecture_id, session_id, client_name, reply)"
                " VALUES ('b-1', 2, 3, 'prof-app', '{}')"
            )
            # The column kept no default 'admin': a row inserted without a role is refused (MySQL 8,
            # strict) or gets the ENUM's first value, the least role (MariaDB).
            try:
                cur.execute("INSERT INTO clients (name, token_sha256) VALUES ('no-role', %s)", ("f" * 64,))
            except pymysql.err.MySQLError as exc:
                assert exc.args[0] == 1364, exc  # Field 'role' doesn't have a default value
            else:
                cur.execute("SELECT role FROM clients WHERE name = 'no-role'")
                assert cur.fetchone() == ("kiosk",)
                cur.execute("DELETE FROM clients WHERE name = 'no-role'")
        assert cli.main(["--db-url", url.to_url(), "list-clients"]) == 0
        listing = capsys.readouterr().out
        assert [line.split()[:2] for line in listing.splitlines()] == [["old-pc", "admin"], ["room-e203", "admin"]]
        assert "lectures: every lecture" in listing


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


def only_the_baseline(conn) -> None:
    """A database made by init records every migration of the code; the tests' own folders
    start from version 1: keep only that one recorded."""
    with transaction(conn) as cur:
        cur.execute("DELETE FROM schema_migrations WHERE version > 1")


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
        only_the_baseline(conn)
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
        only_the_baseline(conn)
        with transaction(conn) as cur:
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


def test_migration_5_is_safe_to_run_again_and_keeps_every_row(server_db_url):
    """0005_term_calendar.py (the term's calendar, late check-ins) on a database it was applied
    to already: nothing changes, every row stays."""
    [migration] = [m for m in find_migrations() if m.version == 5]
    with empty_database(server_db_url) as url:
        load_old_schema(url, "c78141b")
        fill_every_table(url)
        with connect(url) as conn:
            upgrade(conn, report=lines_ignored)
        before, schema = table_rows(url), describe_schema(url)
        with connect(url) as conn, transaction(conn) as cur:
            migration.apply(cur)
            for later in [m for m in find_migrations() if m.version > 5]:  # their views come after 5's
                later.apply(cur)
        assert table_rows(url) == before and describe_schema(url) == schema
        with connect(url) as conn, transaction(conn) as cur:
            cur.execute("SELECT COUNT(*), MIN(kind) FROM pending_checkins")
            count, kind = cur.fetchone()
            cur.execute("SELECT COUNT(*) FROM class_sessions WHERE scheduled = 0 AND cancelled_at IS NULL")
            (sessions,) = cur.fetchone()
        assert kind == "uncertain" or count == 0  # existing check-ins: uncertain ones
        assert sessions > 0  # existing sessions: made by marks, not cancelled


def test_migration_3_widens_the_identifiers_keeps_every_row_and_is_safe_to_run_again(server_db_url, tmp_path):
    version_1 = write_migrations(tmp_path / "v1", {})
    for name in ("0001_baseline.py", "schema_v1.sql"):
        (version_1 / name).write_text((MIGRATIONS_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    (third,) = [m for m in find_migrations() if m.version == 3]
    with empty_database(server_db_url) as url, empty_database(server_db_url) as fresh:
        load_old_schema(url, "c78141b")
        with connect(url) as conn:
            upgrade(conn, migrations_dir=version_1, report=lines_ignored)  # a database of version 1
        fill_every_table(url)
        old_columns = table_columns(url)
        before = table_rows(url)
        with connect(url) as conn:
            assert 3 in [m.version for m in upgrade(conn, report=lines_ignored)]
        after = table_rows(url, old_columns)
        del after["schema_migrations"], before["schema_migrations"]
        assert after == before  # every row as it was
        assert cli.main(["--db-url", fresh.to_url(), "init"]) == 0
        assert describe_schema(url) == describe_schema(fresh)

        with connect(url) as conn, transaction(conn) as cur:
            third.apply(cur)  # again: nothing changes but its views, which the later migrations replace
            cur.execute("ALTER TABLE attendance DROP FOREIGN KEY fk_attendance_student")  # as if it failed there
            third.apply(cur)
            for later in [m for m in find_migrations() if m.version > 3]:
                later.apply(cur)
        assert describe_schema(url) == describe_schema(fresh)

        with connect(url) as conn, transaction(conn) as cur:  # the university's identifiers fit now
            cur.execute(
                "INSERT INTO students (student_id, name) VALUES ('2020123490', 'Kim'), ('A-12345678901234567X', 'Lee')"
            )
            cur.execute("INSERT INTO lectures (code) VALUES ('COSE101-02')")
            cur.execute(
                "INSERT INTO enrollments (lecture_id, student_id) SELECT lecture_id, '2020123490' FROM lectures"
                " WHERE code = 'COSE101-02'"
            )
            cur.execute(
                "SELECT student_id, dropped_on FROM enrollments e JOIN lectures l USING (lecture_id) WHERE l.code = 'cose101-02'"
            )
            assert cur.fetchall() == (("2020123490", None),)
            with pytest.raises(pymysql.err.IntegrityError):  # the foreign keys hold again
                cur.execute(
                    "INSERT INTO attendance (session_id, student_id, status, source, client_name)"
                    " VALUES (1, '2099999999', 'present', 'manual', 'x')"
                )
