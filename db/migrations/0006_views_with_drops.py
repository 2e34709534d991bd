"""Migration 6: the report views with both rules of the releases before it: a session on or
after the day a student dropped the lecture does not count for them (migration 3), and a
cancelled session counts for nobody (migration 5). Migration 5 replaced the views of migration
3 with its own, which knew nothing of drops; this puts the two together (views_v6.sql).

Safe to re-run: CREATE OR REPLACE VIEW.
"""

from __future__ import annotations

from pathlib import Path

from db.schema import schema_statements

#: The views of version 6, frozen (db/schema.sql moves on with later migrations).
VIEWS_V6 = Path(__file__).with_name("views_v6.sql")


def apply(cursor) -> None:
    for statement in schema_statements(VIEWS_V6):  # CREATE OR REPLACE VIEW
        cursor.execute(statement)
