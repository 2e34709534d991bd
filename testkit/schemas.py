"""Helpers for the schema version and backup tests: databases of earlier releases, rows in every
table, and snapshots of rows and schema to compare.

tests/data/schema_0.1.0.sql is schema.sql of release 0.1.0 (the last before schema versioning) and
tests/data/schema_c78141b.sql the one before issue 11 (no enrolled encodings, no uncertain
check-ins): frozen copies, never edited.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator

from db.connection import DatabaseUrl, connect, transaction
from db.schema import create_database, drop_database, schema_statements
from testkit.paths import REPO

DATA = REPO / "tests" / "data"
OLD_SCHEMAS = {"0.1.0": DATA / "schema_0.1.0.sql", "c78141b": DATA / "schema_c78141b.sql"}
_counter = itertools.count()


@contextlib.contextmanager
def empty_database(server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """A new database with no table, dropped when the block ends."""
    url = server_url.with_database(f"attendance_m{os.getpid()}_{next(_counter)}")
    admin = connect(url, database=False)
    try:
        with transaction(admin) as cur:
            drop_database(cur, url.database)
            create_database(cur, url.database)
        yield url
    finally:
        with transaction(admin) as cur:
            drop_database(cur, url.database)
        admin.close()


def load_old_schema(url: DatabaseUrl, release: str) -> None:
    with connect(url) as conn, transaction(conn) as cur:
        for statement in schema_statements(OLD_SCHEMAS[release]):
            cur.execute(statement)


def fill_every_table(url: DatabaseUrl) -> None:
    """Rows in every table of the project, in whichever version the database is: the columns
    and tables an earlier version lacks are left out. Binary, Korean and quoted text included."""
    with connect(url) as conn, transaction(conn) as cur:
        columns = _columns(cur)
        cur.execute(
            "INSERT INTO students (student_id, name) VALUES"
            " ('201900001', '김철수'), ('201900002', 'O''Brien'), ('201900003', 'Lee')"
        )
        cur.execute(
            "INSERT INTO lectures (code, title, starts_at, duration_minutes) VALUES"
            " ('ea0017_1', '자료구조', '09:00', 75), ('ea0018_2', NULL, NULL, NULL)"
        )
        cur.execute(
            "INSERT INTO enrollments (lecture_id, student_id) SELECT l.lecture_id, s.student_id"
            " FROM lectures l CROSS JOIN students s"
        )
        cur.execute(
            "INSERT INTO class_sessions (lecture_id, session_date, starts_at, ends_at, closed_at)"
            " VALUES (1, '2026-03-02', '2026-03-02 09:00', '2026-03-02 10:15', '2026-03-02 10:30'),"
            " (1, '2026-03-04', NULL, NULL, NULL), (2, '2026-03-03', NULL, NULL, NULL)"
        )
        cur.execute(
            "INSERT INTO attendance (session_id, student_id, status, source, distance, client_name)"
            " VALUES (1, '201900001', 'present', 'checkin', 0.3125, 'room-e203'),"
            " (1, '201900002', 'late', 'camera', NULL, 'cam-1'), (2, '201900003', 'excused', 'manual', NULL, 'staff')"
        )
        if "lecture_id" in columns["applied_batches"]:  # schema version 2: scoped to client and lecture
            cur.execute(
                "INSERT INTO applied_batches (batch_id, lecture_id, session_id, client_name, reply, request_sha256)"
                " VALUES ('b-1', 1, 1, 'prof-app', '{\"ok\": true}', NULL), ('b-2', 1, 2, 'prof-app', '{}', %s)",
                ("e" * 64,),
            )
        else:
            cur.execute(
                "INSERT INTO applied_batches (batch_id, session_id, client_name, reply) VALUES"
                " ('b-1', 1, 'prof-app', '{\"ok\": true}'), ('b-2', 2, 'prof-app', '{}')"
            )
        encoding = bytes(range(256)) * 4  # every byte value, 1024 bytes
        if "source" in columns["face_encodings"]:
            cur.execute(
                "INSERT INTO face_encodings (student_id, photo_path, photo_sha256, model, face_count,"
                " encoding, source, photo) VALUES (%s, %s, %s, 'hog', 1, %s, 'enrolled', %s),"
                " ('201900002', 'lee/1.jpg', %s, 'hog', 0, NULL, 'knowns', NULL)",
                ("201900001", "enrolled:201900001:" + "a" * 64, "a" * 64, encoding, b"\xff\xd8\x00jpeg", "b" * 64),
            )
        else:
            cur.execute(
                "INSERT INTO face_encodings (student_id, photo_path, photo_sha256, model, face_count,"
                " encoding) VALUES ('201900001', 'kim/1.jpg', %s, 'hog', 1, %s),"
                " ('201900002', 'lee/1.jpg', %s, 'hog', 0, NULL)",
                ("a" * 64, encoding, "b" * 64),
            )
        if "role" in columns["clients"]:  # schema version 2
            cur.execute(
                "INSERT INTO clients (name, token_sha256, revoked_at, role) VALUES"
                " ('room-e203', %s, NULL, 'kiosk'), ('old-pc', %s, '2026-03-01 12:00', 'admin')",
                ("c" * 64, "d" * 64),
            )
            cur.execute("INSERT INTO client_lectures (client_id, lecture_id) VALUES (1, 1), (1, 2)")
        else:
            cur.execute(
                "INSERT INTO clients (name, token_sha256, revoked_at) VALUES"
                " ('room-e203', %s, NULL), ('old-pc', %s, '2026-03-01 12:00')",
                ("c" * 64, "d" * 64),
            )
        cur.execute(
            "INSERT INTO presence_samples (session_id, sampled_at, faces, client_name) VALUES"
            " (1, '2026-03-02 09:05:00.250', 2, 'cam-1'), (1, '2026-03-02 09:10:00', 1, 'cam-1')"
        )
        cur.execute(
            "INSERT INTO presence_sightings (sample_id, student_id) VALUES"
            " (1, '201900001'), (1, '201900002'), (2, '201900001')"
        )
        if "pending_checkins" in columns:
            cur.execute(
                "INSERT INTO pending_checkins (session_id, client_name, frames, resolution,"
                " resolved_student_id, resolved_by, resolved_at) VALUES"
                " (1, 'room-e203', 2, NULL, NULL, NULL, NULL),"
                " (1, 'room-e203', 3, 'confirmed', '201900003', 'prof-app', '2026-03-02 09:20')"
            )
            cur.execute(
                "INSERT INTO pending_candidates (pending_id, student_id, distance) VALUES"
                " (1, '201900001', 0.5), (1, '201900003', 0.52), (2, '201900003', 0.49)"
            )
        if "mark_history" in columns:
            cur.execute(
                "INSERT INTO mark_history (session_id, student_id, old_status, old_source, new_status, source,"
                " client_name, professor, reason, changed_at) VALUES"
                " (1, '201900001', NULL, NULL, 'absent', 'camera', 'cam-1', NULL, NULL, '2026-03-02 10:30'),"
                " (1, '201900001', 'absent', 'camera', 'present', 'rollcall', 'prof-app', '김교수',"
                " 'came late, said \"sorry\"', '2026-03-05 14:00:00.125')"
            )
        empty = [table for table in base_tables(cur) if table != "schema_migrations" and _count(cur, table) == 0]
        assert not empty, f"fill_every_table does not fill {empty}: add rows for them"


def base_tables(cur) -> list[str]:
    cur.execute(
        "SELECT TABLE_NAME FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
    )
    return [name for (name,) in cur.fetchall()]


def table_rows(url: DatabaseUrl, columns: dict[str, list[str]] | None = None) -> dict[str, tuple]:
    """Every row of every base table (or of the given tables' columns), in a stable order."""
    with connect(url) as conn, transaction(conn) as cur:
        columns = columns or {table: cols for table, cols in _columns(cur).items() if table in base_tables(cur)}
        rows = {}
        for table, cols in columns.items():
            names = ", ".join(f"`{col}`" for col in cols)  # names from information_schema
            cur.execute(f"SELECT {names} FROM `{table}` ORDER BY {', '.join(str(i + 1) for i in range(len(cols)))}")
            rows[table] = cur.fetchall()
    return rows


def table_columns(url: DatabaseUrl) -> dict[str, list[str]]:
    with connect(url) as conn, transaction(conn) as cur:
        return {table: cols for table, cols in _columns(cur).items() if table in base_tables(cur)}


def describe_schema(url: DatabaseUrl) -> dict[str, tuple]:
    """The schema as information_schema shows it: tables, columns, indexes, foreign keys, views."""
    queries = {
        "tables": "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION FROM information_schema.TABLES"
        " WHERE TABLE_SCHEMA = %s ORDER BY 1",
        "columns": "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE,"
        " COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, EXTRA FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = %s ORDER BY 1, 3",
        "indexes": "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE"
        " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s ORDER BY 1, 2, 3",
        "foreign_keys": "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,"
        " k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE"
        " FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
        " ON r.CONSTRAINT_SCHEMA = k.TABLE_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME"
        " AND r.TABLE_NAME = k.TABLE_NAME WHERE k.TABLE_SCHEMA = %s ORDER BY 1, 2, k.ORDINAL_POSITION",
        "views": "SELECT TABLE_NAME, REPLACE(VIEW_DEFINITION, CONCAT('`', TABLE_SCHEMA, '`.'), '')"
        " FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s ORDER BY 1",
    }
    with connect(url) as conn, transaction(conn) as cur:
        described = {}
        for what, query in queries.items():
            cur.execute(query, (url.database,))
            described[what] = cur.fetchall()
        cur.execute("SELECT version, name FROM schema_migrations ORDER BY version")
        described["versions"] = cur.fetchall()
    return described


def _columns(cur) -> dict[str, list[str]]:
    cur.execute(
        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
    )
    columns: dict[str, list[str]] = {}
    for table, column in cur.fetchall():
        columns.setdefault(table, []).append(column)
    return columns


def _count(cur, table: str) -> int:
    cur.execute(f"SELECT COUNT(*) FROM `{table}`")  # a name from information_schema
    return cur.fetchone()[0]
