"""Test databases on the database server under test: uniquely named, created from db/schema.sql,
dropped afterwards."""

from __future__ import annotations

import contextlib
import itertools
import os
from typing import Iterator

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
