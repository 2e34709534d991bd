"""Shared fixtures: a real MariaDB/MySQL database per test, and the sample face photos.

The database server comes from ATTENDANCE_DB_URL (the Makefile sets it, starting a private
MariaDB when needed). Each test that asks for ``db_url`` gets a database of its own, created
from db/schema.sql and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from db.connection import DatabaseUrl, connect, transaction, url_from_env
from db.schema import drop_database, recreate_database

REPO = Path(__file__).resolve().parent.parent
FACES_ENV = "ATTENDANCE_FACES_DIR"
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def server_db_url() -> DatabaseUrl:
    """The database server under test; fails (not skips) when it does not answer."""
    url = DatabaseUrl.parse(url_from_env())
    try:
        connect(url, database=False, timeout=3).close()
    except Exception as exc:  # noqa: BLE001 - any failure here means "no database"
        pytest.fail(
            f"no MySQL/MariaDB at {url} ({exc}); run the tests with `make test`, "
            "which starts one, or set ATTENDANCE_DB_URL"
        )
    return url


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


@pytest.fixture
def database_name(server_db_url: DatabaseUrl) -> Iterator[str]:
    """The name of a database that does not exist yet (the test creates it); dropped afterwards."""
    with dropped_afterwards(server_db_url, unique_database_name()) as name:
        yield name


@pytest.fixture
def db_url(server_db_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """A fresh database with the schema loaded; dropped after the test."""
    with fresh_database(server_db_url) as url:
        yield url


@pytest.fixture
def db_conn(db_url: DatabaseUrl):
    conn = connect(db_url)
    yield conn
    conn.close()


@dataclass(frozen=True)
class SamplePhoto:
    path: Path
    kind: str
    student_ids: tuple[str, ...]
    note: str


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """../shared/faces (or ATTENDANCE_FACES_DIR): real photos for the tests."""
    path = Path(os.environ.get(FACES_ENV, REPO.parent / "shared" / "faces"))
    if not (path / "manifest.csv").is_file():
        pytest.fail(f"sample faces not found at {path}: set {FACES_ENV} to the shared/faces folder")
    return path


@pytest.fixture(scope="session")
def manifest(faces_dir: Path) -> list[SamplePhoto]:
    with open(faces_dir / "manifest.csv", newline="", encoding="utf-8") as f:
        return [
            SamplePhoto(
                path=faces_dir / row["path"],
                kind=row["kind"],
                student_ids=tuple(filter(None, row["student_ids"].split(";"))),
                note=row["note"],
            )
            for row in csv.DictReader(f)
        ]
