"""Migration 5: the term's calendar and one clock (issue 15).

- class_sessions: ``scheduled`` (made by ``attendance-db schedule``), ``cancelled_at`` and
  ``cancel_reason`` (``attendance-db cancel-session``: the session counts for nobody);
- pending_checkins: ``kind``, 'uncertain' (every existing row) or 'late' (a check-in after the
  session closed, shown to the professor);
- the report views leave cancelled sessions out (db/migrations/views_v5.sql).

Python for one condition: MariaDB has ``ADD COLUMN IF NOT EXISTS``, MySQL 8 has not, so each
column is looked up first. Safe to re-run; existing rows keep their data (the new columns get
their defaults).
"""

from __future__ import annotations

from pathlib import Path

from db.schema import schema_statements

#: The views of version 5, frozen (db/schema.sql moves on with later migrations).
VIEWS_V5 = Path(__file__).with_name("views_v5.sql")

#: (table, column, the ALTER TABLE clause): constants only go into the SQL text.
ADDED_COLUMNS = (
    ("class_sessions", "scheduled", "ADD COLUMN scheduled TINYINT(1) NOT NULL DEFAULT 0 AFTER closed_at"),
    ("class_sessions", "cancelled_at", "ADD COLUMN cancelled_at DATETIME NULL AFTER scheduled"),
    ("class_sessions", "cancel_reason", "ADD COLUMN cancel_reason VARCHAR(255) NULL AFTER cancelled_at"),
    (
        "pending_checkins",
        "kind",
        "ADD COLUMN kind ENUM('uncertain', 'late') NOT NULL DEFAULT 'uncertain' AFTER frames",
    ),
)


def apply(cursor) -> None:
    for table, column, clause in ADDED_COLUMNS:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
            (table, column),
        )
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"ALTER TABLE {table} {clause}")  # names from the constant above only
    for statement in schema_statements(VIEWS_V5):  # CREATE OR REPLACE VIEW
        cursor.execute(statement)
