"""Creating the tables from schema.sql."""

from __future__ import annotations

from pathlib import Path

from db.connection import DatabaseUrl, connect, transaction

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.sql"


def schema_statements(path: Path = SCHEMA_PATH) -> list[str]:
    """The statements of schema.sql: split at a ';' that ends a line, '--' comment lines dropped."""
    statements, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().rstrip(";").strip()
            if statement:
                statements.append(statement)
            current = []
    if "".join(current).strip():
        raise ValueError(f"{path}: the last statement has no closing ';'")
    return statements


#: Columns added to tables after their first release: (table, column, the ALTER TABLE clause).
#: ``CREATE TABLE IF NOT EXISTS`` leaves an existing table as it was, so :func:`init_schema` adds
#: these to a database made by an earlier version (numbered migrations would replace this list).
ADDED_COLUMNS = (
    ("face_encodings", "source",
     "ADD COLUMN source ENUM('knowns', 'enrolled') NOT NULL DEFAULT 'knowns' AFTER encoding"),
    ("face_encodings", "photo", "ADD COLUMN photo MEDIUMBLOB NULL AFTER source"),
)


def init_schema(cursor) -> int:
    """Create every table that does not exist yet, and add the columns of :data:`ADDED_COLUMNS`
    that an older database lacks. Safe to run twice. Returns the statement count of schema.sql."""
    statements = schema_statements()
    for statement in statements:
        cursor.execute(statement)
    for table, column, clause in ADDED_COLUMNS:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = %s",
            (table, column),
        )
        if cursor.fetchone()[0] == 0:
            cursor.execute(f"ALTER TABLE {table} {clause}")  # names from the constant above only
    return len(statements)


def create_database(cursor, name: str) -> None:
    """CREATE DATABASE IF NOT EXISTS for a name that is a plain identifier (checked, then quoted)."""
    _check_identifier(name)
    cursor.execute(
        f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    )


def recreate_database(server_url: DatabaseUrl, name: str) -> DatabaseUrl:
    """Drop database ``name`` if it exists, create it with the schema, return its URL.

    For tests and benchmarks: never point it at a database whose data you want.
    """
    url = server_url.with_database(name)
    admin = connect(url, database=False)
    try:
        with transaction(admin) as cur:
            drop_database(cur, name)
            create_database(cur, name)
    finally:
        admin.close()
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            init_schema(cur)
    finally:
        conn.close()
    return url


def drop_database(cursor, name: str) -> None:
    """DROP DATABASE IF EXISTS for a plain identifier (checked, then quoted)."""
    _check_identifier(name)
    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def _check_identifier(name: str) -> None:
    if not name or not name.replace("_", "").isalnum() or not name.isascii():
        raise ValueError(f"database name must be letters, digits and '_': {name!r}")
