"""Migration 3: the university's identifiers and students who drop a lecture.

- Student IDs and lecture codes up to 20 characters: every ``CHAR(9)`` student ID column and
  ``lectures.code`` (``CHAR(8)``) become ``VARCHAR(20)``, rows kept. The foreign keys that
  reference ``students.student_id`` are dropped first and added again after (MySQL 8 refuses to
  change the type of a column a foreign key joins; MariaDB too, unless its checks are off).
- ``enrollments.dropped_on``: the day a student left the lecture's roster (``import-roster
  --sync``).
- The report views, which leave a dropped student's later sessions out (schema_v3_views.sql).

Python rather than SQL because each step looks first (MySQL 8 has no ``ADD COLUMN IF NOT
EXISTS`` nor ``DROP FOREIGN KEY IF EXISTS``): a failure halfway is mended by running
``attendance-db upgrade`` again, which does what is left.
"""

from __future__ import annotations

from pathlib import Path

from db.schema import schema_statements

VIEWS = Path(__file__).with_name("schema_v3_views.sql")

#: (table, column, its new definition): the identifier columns.
WIDENED = (
    ("students", "student_id", "VARCHAR(20) NOT NULL"),
    ("lectures", "code", "VARCHAR(20) NOT NULL"),
    ("enrollments", "student_id", "VARCHAR(20) NOT NULL"),
    ("attendance", "student_id", "VARCHAR(20) NOT NULL"),
    ("face_encodings", "student_id", "VARCHAR(20) NOT NULL"),
    ("presence_sightings", "student_id", "VARCHAR(20) NOT NULL"),
    ("pending_checkins", "resolved_student_id", "VARCHAR(20) NULL"),
    ("pending_candidates", "student_id", "VARCHAR(20) NOT NULL"),
)

#: (table, constraint, column): the foreign keys onto students.student_id, as db/schema.sql names them.
STUDENT_KEYS = (
    ("enrollments", "fk_enrollments_student", "student_id"),
    ("attendance", "fk_attendance_student", "student_id"),
    ("face_encodings", "fk_encodings_student", "student_id"),
    ("presence_sightings", "fk_sightings_student", "student_id"),
    ("pending_checkins", "fk_pending_student", "resolved_student_id"),
    ("pending_candidates", "fk_candidates_student", "student_id"),
)


def apply(cursor) -> None:
    pending = [
        (table, column, definition)
        for table, column, definition in WIDENED
        if _type(cursor, table, column) != "varchar(20)"
    ]
    if pending:
        for table, constraint in _keys_onto_student_ids(cursor):
            cursor.execute(f"ALTER TABLE {table} DROP FOREIGN KEY {constraint}")  # names from information_schema
        for table, column, definition in pending:
            cursor.execute(f"ALTER TABLE {table} MODIFY {column} {definition}")  # names from WIDENED only
    present = set(_keys_onto_student_ids(cursor))
    for table, constraint, column in STUDENT_KEYS:
        if (table, constraint) not in present:
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {constraint} FOREIGN KEY ({column}) REFERENCES students (student_id)"
            )
    if _type(cursor, "enrollments", "dropped_on") is None:
        cursor.execute("ALTER TABLE enrollments ADD COLUMN dropped_on DATE NULL AFTER enrolled_at")
    for statement in schema_statements(VIEWS):  # CREATE OR REPLACE VIEW
        cursor.execute(statement)


def _type(cursor, table: str, column: str) -> str | None:
    cursor.execute(
        "SELECT LOWER(COLUMN_TYPE) FROM information_schema.COLUMNS"
        " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
        (table, column),
    )
    row = cursor.fetchone()
    return None if row is None else row[0]


def _keys_onto_student_ids(cursor) -> list[tuple[str, str]]:
    """(table, constraint) of each foreign key that references students.student_id."""
    cursor.execute(
        "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.KEY_COLUMN_USAGE"
        " WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME = 'students'"
        " AND REFERENCED_COLUMN_NAME = 'student_id' ORDER BY 1, 2"
    )
    keys = [(table, constraint) for table, constraint in cursor.fetchall()]
    for table, constraint in keys:
        if not (table.replace("_", "").isalnum() and constraint.replace("_", "").isalnum()):
            raise ValueError(f"unexpected foreign key name {table}.{constraint}")
    return keys
