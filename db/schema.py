"""The schema: creating it from db/schema.sql, its version, and the migrations that upgrade it.

db/schema.sql is always the latest schema. db/migrations/ holds the numbered migrations that
bring an older database there: ``NNNN_name.sql`` (statements, split like schema.sql) or, for a
change that needs a condition, ``NNNN_name.py`` (a module with ``apply(cursor)``). The table
schema_migrations records each migration applied; a database's version is the highest number
recorded there, and a database with the project's tables but no schema_migrations was made
before versioning (version 0: migration 1 brings it to version 1).

- :func:`init_schema`, on an empty database: runs schema.sql and records every migration as
  applied (the migrations are not run: schema.sql already is their result).
- :func:`upgrade`: applies, in order, each migration not recorded yet, and records it.

A migration that fails halfway: MySQL and MariaDB commit each DDL statement (CREATE, ALTER,
DROP) at once, so the statements before the failing one stay applied while the migration's
version is not recorded; its data changes since the last DDL statement are rolled back. The next
``upgrade`` runs that migration again from its first statement, which is why each migration must
be safe to re-run (IF NOT EXISTS, OR REPLACE, or a look-up first in a .py migration); when it
cannot be, restore the backup made before upgrading (docs/maintenance.md).
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from db.connection import DatabaseUrl, connect, transaction

SCHEMA_PATH = Path(__file__).with_name("schema.sql")
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "schema_migrations"

_MIGRATION_FILE = re.compile(r"(\d{4})_([a-z0-9_]+)\.(sql|py)\Z")
_SCHEMA_OBJECT = re.compile(r"CREATE (?:TABLE IF NOT EXISTS|OR REPLACE VIEW) (\w+)", re.IGNORECASE)
_SCHEMA_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)


class SchemaError(Exception):
    """The database's schema cannot be created or upgraded as asked; the message says why."""


def schema_statements(path: Path = SCHEMA_PATH) -> list[str]:
    """The statements of a .sql file: split at a ';' that ends a line, '--' comment lines dropped."""
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


def schema_objects(path: Path = SCHEMA_PATH) -> list[str]:
    """The tables and views schema.sql creates, in its order (the project's tables)."""
    return [match.group(1) for statement in schema_statements(path) if (match := _SCHEMA_OBJECT.match(statement))]


def schema_tables(path: Path = SCHEMA_PATH) -> list[str]:
    """The tables (not the views) schema.sql creates, in its order."""
    return [match.group(1) for statement in schema_statements(path) if (match := _SCHEMA_TABLE.match(statement))]


# -- migrations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def apply(self, cursor) -> None:
        if self.path.suffix == ".sql":
            for statement in schema_statements(self.path):
                cursor.execute(statement)
            return
        spec = importlib.util.spec_from_file_location(f"attendance_migration_{self.version:04d}", self.path)
        assert spec is not None and spec.loader is not None  # a .py path always has a loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.apply(cursor)


def find_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations of a folder, by version; ValueError for two files of one version."""
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        match = _MIGRATION_FILE.match(path.name)
        if not match:
            continue  # __init__.py, the frozen schema_v1.sql a migration reads, ...
        version = int(match.group(1))
        if version in migrations:
            raise ValueError(
                f"{directory}: two migrations numbered {version}: {migrations[version].path.name} and {path.name}"
            )
        migrations[version] = Migration(version, match.group(2), path)
    if not migrations:
        raise ValueError(f"{directory}: no migration (NNNN_name.sql or NNNN_name.py)")
    return [migrations[version] for version in sorted(migrations)]


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against the code's migrations."""

    version: int | None  # the highest migration recorded; None: no schema_migrations table
    has_tables: bool  # any of the project's tables (schema_migrations aside)
    latest: int  # the highest migration the code has
    #: The project's tables that are not there (views aside: the server's account cannot see them).
    missing: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        """'empty', 'unversioned' (made before versioning), 'older', 'current' or 'newer'."""
        if self.version is None:
            return "unversioned" if self.has_tables else "empty"
        if self.version < self.latest:
            return "older"
        return "current" if self.version == self.latest else "newer"

    def describe(self) -> str:
        if self.version is None:
            return "no schema version (made before versioning)" if self.has_tables else "no attendance tables"
        return f"schema version {self.version}"


def read_status(cursor, migrations_dir: Path = MIGRATIONS_DIR) -> SchemaStatus:
    cursor.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
    present = {name for (name,) in cursor.fetchall()}
    version = None
    if VERSION_TABLE in present:
        cursor.execute(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}")
        version = cursor.fetchone()[0]
    objects = schema_objects()
    has_tables = bool(present & (set(objects) - {VERSION_TABLE}))
    missing = tuple(name for name in schema_tables() if name not in present)
    return SchemaStatus(version, has_tables, find_migrations(migrations_dir)[-1].version, missing)


def init_schema(cursor, migrations_dir: Path = MIGRATIONS_DIR) -> int:
    """Create the latest schema in an empty database and record every migration as applied.

    Returns the number of statements run: 0 for a database already at the code's version (safe
    to run twice). At the code's version with tables or views missing (dropped by hand), it runs
    schema.sql again, whose statements create only what is missing. Raises :class:`SchemaError`
    for any other database: init never changes one.
    """
    status = read_status(cursor, migrations_dir)
    if status.state == "current" and not status.missing:
        return 0
    if status.state not in ("empty", "current"):
        raise SchemaError(_refusal(status, "init"))
    statements = schema_statements()
    for statement in statements:
        cursor.execute(statement)
    if status.state == "empty":  # a current database has its versions recorded already
        cursor.executemany(
            f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (%s, %s)",
            [(m.version, m.name) for m in find_migrations(migrations_dir)],
        )
    return len(statements)


def upgrade(
    conn, *, migrations_dir: Path = MIGRATIONS_DIR, dry_run: bool = False, report: Callable[[str], None] = print
) -> list[Migration]:
    """Apply, in order, each migration the database has not recorded; record each (one
    transaction per migration). ``report`` gets a line per migration. Returns those applied (or,
    with ``dry_run``, those that would be). Raises :class:`SchemaError` for an empty database, a
    newer one, a failing migration (see the module's docstring) or another upgrade running."""
    with transaction(conn) as cur:
        # One upgrade at a time on a database: a second one waits 10 s, then gives up.
        cur.execute("SELECT GET_LOCK(CONCAT('attendance-upgrade:', DATABASE()), 10)")
        row = cur.fetchone()
        assert row is not None  # a SELECT without FROM returns one row
        if row[0] != 1:
            raise SchemaError("another attendance-db upgrade is running on this database")
    try:
        return _upgrade_locked(conn, migrations_dir, dry_run, report)
    finally:
        with transaction(conn) as cur:
            cur.execute("SELECT RELEASE_LOCK(CONCAT('attendance-upgrade:', DATABASE()))")


def _upgrade_locked(conn, migrations_dir: Path, dry_run: bool, report: Callable[[str], None]) -> list[Migration]:
    migrations = find_migrations(migrations_dir)
    with transaction(conn) as cur:
        status = read_status(cur, migrations_dir)
        if status.state in ("empty", "newer"):
            raise SchemaError(_refusal(status, "upgrade"))
        applied = set()
        if status.version is not None:
            cur.execute(f"SELECT version FROM {VERSION_TABLE}")
            applied = {version for (version,) in cur.fetchall()}
    pending = [m for m in migrations if m.version not in applied]
    if applied and pending and pending[0].version < max(applied):
        raise SchemaError(
            f"migration {pending[0].path.name} is not recorded although the later version "
            f"{max(applied)} is: this database was not upgraded by these migrations"
        )
    report(f"{status.describe()}; this code has schema version {status.latest}")
    for migration in pending:
        if dry_run:
            report(f"would apply {migration.path.name}")
            continue
        report(f"applying {migration.path.name}")
        try:
            with transaction(conn) as cur:
                migration.apply(cur)
                cur.execute(
                    f"INSERT INTO {VERSION_TABLE} (version, name) VALUES (%s, %s)", (migration.version, migration.name)
                )
        except Exception as exc:  # any failure: say which migration, and what now
            raise SchemaError(
                f"migration {migration.path.name} failed ({exc}); its statements before the "
                f"failure that change tables are committed, its version is not recorded: fix "
                f"the cause, then run attendance-db upgrade again (it runs this migration again), "
                f"or restore the backup"
            ) from exc
    if not pending:
        report("up to date: nothing to apply")
    elif not dry_run:
        report(f"schema version now {migrations[-1].version}")
    return pending


def _refusal(status: SchemaStatus, command: str) -> str:
    """Why ``attendance-db COMMAND`` leaves this database alone, and what to do instead."""
    state = status.state
    if state == "newer":
        return (
            f"the database has schema version {status.version}, newer than this code's "
            f"{status.latest}: use the attendance release that upgraded it"
        )
    if state == "empty":
        return "the database has no attendance tables: create them with attendance-db init"
    return (
        f"the database has {status.describe()}, this code schema version {status.latest}: "
        f"back it up (attendance-db backup FILE), then run attendance-db upgrade"
    )


# -- databases ---------------------------------------------------------------------------------


def create_database(cursor, name: str) -> None:
    """CREATE DATABASE IF NOT EXISTS for a name that is a plain identifier (checked, then quoted)."""
    _check_identifier(name)
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


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
