"""Shared fixtures: a real MariaDB/MySQL database per test, and the sample face photos.

The database server comes from ATTENDANCE_DB_URL (the Makefile sets it, starting a private
MariaDB when needed). Each test that asks for ``db_url`` gets a database of its own, created
from db/schema.sql and dropped afterwards; a test module whose tests only write rows can have
``cleared_db_url`` instead: one database per test process, emptied before each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# Qt's platform for every test that shows a window (and the commands they run): offscreen, no
# display needed. Set here, before any test module imports PyQt5; `make test` sets it too.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from db.connection import DatabaseUrl, connect, url_from_env
from testkit.databases import clear_database, dropped_afterwards, fresh_database, unique_database_name
from testkit.paths import FACES, FACES_ENV
from testkit.photos import SamplePhoto, read_manifest


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


@pytest.fixture(scope="session")
def shared_db_url(server_db_url: DatabaseUrl) -> Iterator[DatabaseUrl]:
    """One database with the schema loaded for the whole test process; dropped at the end."""
    with fresh_database(server_db_url) as url:
        yield url


@pytest.fixture
def cleared_db_url(shared_db_url: DatabaseUrl) -> DatabaseUrl:
    """shared_db_url with every row deleted (but the schema's version): as fresh as ``db_url``,
    for tests that only read and write rows (no DDL, no accounts)."""
    clear_database(shared_db_url)
    return shared_db_url


@pytest.fixture
def db_conn(db_url: DatabaseUrl):
    conn = connect(db_url)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """../shared/faces (or ATTENDANCE_FACES_DIR): real photos for the tests."""
    path = FACES
    if not (path / "manifest.csv").is_file():
        pytest.fail(f"sample faces not found at {path}: set {FACES_ENV} to the shared/faces folder")
    return path


@pytest.fixture(scope="session")
def manifest(faces_dir: Path) -> list[SamplePhoto]:
    return read_manifest(faces_dir)


def pytest_collection_modifyitems(items):
    """Test modules marked slow as a whole (``pytestmark = pytest.mark.slow``) run first, each
    keeping its own order: under `make test`'s several processes the longest file then starts at
    once instead of finishing alone at the end. (`make test` passes --no-loadscope-reorder: without
    it pytest-xdist hands out the files with the most tests first, whatever this order is.)"""

    def slow_module(item) -> bool:
        marks = getattr(getattr(item, "module", None), "pytestmark", [])
        return any(mark.name == "slow" for mark in (marks if isinstance(marks, list) else [marks]))

    items.sort(key=lambda item: not slow_module(item))
