"""Migration 1: bring a database made before schema versioning (release 0.1.0 or earlier) to
version 1, the schema of release 0.1.0 plus the schema_migrations table.

Python rather than SQL for one condition: releases before 0.1.0 made face_encodings without two
columns, and ``CREATE TABLE IF NOT EXISTS`` leaves an existing table as it is. MariaDB has
``ADD COLUMN IF NOT EXISTS``, MySQL 8 has not, so the columns are looked up first. Every step
is safe to re-run (a failure halfway is mended by running ``attendance-db upgrade`` again).
"""

from __future__ import annotations

from pathlib import Path

from db.schema import schema_statements

#: The schema of version 1, frozen (db/schema.sql moves on with later migrations).
SCHEMA_V1 = Path(__file__).with_name("schema_v1.sql")

#: Columns added to tables after their first release: (table, column, the ALTER TABLE clause).
ADDED_COLUMNS = (
    (
        "face_encodings",
        "source",
        "ADD COLUMN source ENUM('knowns', 'enrolled') NOT NULL DEFAULT 'knowns' AFTER encoding",
    ),
    ("face_encodings", "photo", "ADD COLUMN photo MEDIUMBLOB NULL AFTER source"),
)


def apply(cursor) -> None:
    for statement in schema_statements(SCHEMA_V1):  # CREATE TABLE IF NOT EXISTS, OR REPLACE VIEW
        cursor.execute(statement)
    for table, column, clause in ADDED_COLUMNS:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
            (table, column),
        )
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"ALTER TABLE {table} {clause}")  # names from the constant above only
