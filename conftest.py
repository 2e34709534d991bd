"""The ``pure`` marker behind ``make test-fast``: pytest loads this file for every test run.

A test is pure when it needs none of the slow parts, whatever its file is called or where it
lives: it requests none of the fixtures in :data:`SLOW_FIXTURES` (directly or through other
fixtures), it is not marked ``slow``, and its module imports neither ``subprocess`` nor
``multiprocessing`` (commands and worker processes). New tests are sorted the same way, with
nothing to remember. ``make test`` runs every test, pure or not.
"""

from __future__ import annotations

import multiprocessing
import subprocess

import pytest

#: The database server (every database fixture depends on it), the sample photos, Qt widgets.
SLOW_FIXTURES = frozenset({"server_db_url", "faces_dir", "qtbot", "qapp"})


def is_pure(item: pytest.Item) -> bool:
    if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("slow"):
        return False
    module = getattr(item, "module", None)
    return module is None or not any(value is subprocess or value is multiprocessing for value in vars(module).values())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_pure(item):
            item.add_marker(pytest.mark.pure)
