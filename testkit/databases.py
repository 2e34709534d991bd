"""Test databases on the database server under test: uniquely named, created from db/schema.sql,
dropped afterwards."""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator

from db.connection import DatabaseUrl, connect, transaction
from db.schema import drop_database, recreate_database

_db_counter = itertools.count()


@contextlib.contextmanager
def dropped_afterwards(server_url: DatabaseUrl, name: str) -> Iterator[str]:
    """Drop database ``name`` (if it exists) on ``server_url`` when the block ends."""
    try:
        yield name
    finally:
        admin = connect(server_url, database=False)
        try:
            with transaction(admin) as cur:
                drop_database(cur, name)
        finally:
            admin.close()


def unique_database_name() -> str:
    """A database name no other test (nor another test process) uses."""
    return f"attendance_t{os.getpid()}_{next(_db_counter)}"


@contextlib.contextmanager
def fresh_database(server_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """Create a database with db/schema.sql loaded; drop it when the block ends."""
    url = recreate_database(server_url, unique_database_name())
    with dropped_afterwards(server_url, url.database):
        yield url


#: Tables whose rows come with the schema (its version): kept when a database is emptied.
SCHEMA_TABLES = ("schema_migrations",)


def clear_database(url: DatabaseUrl) -> None:
    """Delete every row of every table (except SCHEMA_TABLES) and start the AUTO_INCREMENT
    counters again at 1: the database is then as fresh_database made it, in a few milliseconds
    instead of the tenth of a second a new one costs."""
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            cur.execute(
                "SELECT table_name, auto_increment FROM information_schema.tables"
                " WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
            )
            tables = [(name, counter) for name, counter in cur.fetchall() if name not in SCHEMA_TABLES]
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for name, _ in tables:
                    cur.execute(f"DELETE FROM `{name}`")
            finally:
                cur.execute("SET FOREIGN_KEY_CHECKS = 1")
        for name, counter in tables:
            if counter is not None and counter > 1:
                with transaction(conn) as cur:
                    cur.execute(f"ALTER TABLE `{name}` AUTO_INCREMENT = 1")
    finally:
        conn.close()
