"""Write conflicts (deadlocks) on a real MariaDB: told apart from an outage, and run again.

Under concurrency InnoDB (and Galera's certification) roll back one of two conflicting
transactions with error 1213. That is not the database going away: the server keeps the
connection and runs the transaction again (AttendanceService.write_transaction).
"""

from __future__ import annotations

import threading
import time

import pymysql
import pytest

from db import students
from db.connection import ConnectionPool, connect, is_conflict, transaction
from server.service import WRITE_ATTEMPTS, AttendanceService, ServiceError

VICTIM, OTHER = "201900001", "201900002"
BULK = [str(201900100 + n) for n in range(50)]


@pytest.fixture
def db_url(cleared_db_url):
    """These tests only write rows: one database for the module, emptied before each test."""
    return cleared_db_url


@pytest.fixture
def seeded(db_url):
    conn = connect(db_url)
    with transaction(conn) as cur:
        for student_id in [VICTIM, OTHER, *BULK]:
            students.ensure_student(cur, student_id, "before")
    conn.close()
    return db_url


def rename(cur, student_id: str, name: str) -> None:
    cur.execute("UPDATE students SET name = %s WHERE student_id = %s", (name, student_id))


def names(url) -> dict[str, str]:
    conn = connect(url)
    with transaction(conn) as cur:
        cur.execute("SELECT student_id, name FROM students WHERE student_id IN (%s, %s)", (VICTIM, OTHER))
        found = dict(cur.fetchall())
    conn.close()
    return found


def bigger_transaction(url, holding: threading.Event, done: threading.Event) -> None:
    """Lock OTHER and 50 more rows, then ask for VICTIM: whoever holds VICTIM and waits for
    OTHER deadlocks with us, and InnoDB rolls back the smaller transaction: theirs."""
    conn = connect(url)
    name = f"bulk {time.monotonic_ns()}"  # a new value: every UPDATE changes its row
    try:
        with transaction(conn) as cur:
            rename(cur, OTHER, name)
            for student_id in BULK:
                rename(cur, student_id, name)
            holding.set()
            time.sleep(0.5)  # the other side is waiting for OTHER by now
            rename(cur, VICTIM, name)
    finally:
        conn.close()
        done.set()


def test_a_deadlock_is_a_conflict_and_the_pool_keeps_the_connection(seeded):
    pool = ConnectionPool(seeded)
    holding, done = threading.Event(), threading.Event()
    with pytest.raises(pymysql.err.OperationalError) as caught:
        with pool.connection() as conn, transaction(conn) as cur:
            rename(cur, VICTIM, "ours")
            threading.Thread(target=bigger_transaction, args=(seeded, holding, done), daemon=True).start()
            assert holding.wait(10)
            rename(cur, OTHER, "ours")  # waits, then loses the deadlock
    assert caught.value.args[0] == 1213 and is_conflict(caught.value)
    assert done.wait(10)
    with pool.connection() as again:  # the same connection, lent again and still working
        assert again is conn
        with transaction(again) as cur:
            cur.execute("SELECT 1")
    assert "ours" not in names(seeded).values()  # ours was rolled back whole
    pool.close()


def test_write_transaction_runs_a_transaction_again_after_losing_a_deadlock(seeded):
    service = AttendanceService(ConnectionPool(seeded), recognizer=None)
    attempts = []

    def work(cur):
        attempts.append(len(attempts) + 1)
        rename(cur, VICTIM, "ours")
        if len(attempts) == 1:  # the first attempt meets a bigger concurrent transaction
            holding, done = threading.Event(), threading.Event()
            threading.Thread(target=bigger_transaction, args=(seeded, holding, done), daemon=True).start()
            assert holding.wait(10)
        rename(cur, OTHER, "ours")
        return "written"

    assert service.write_transaction(work) == "written"
    assert attempts == [1, 2]
    assert names(seeded) == {VICTIM: "ours", OTHER: "ours"}  # the second attempt committed


def test_write_transaction_gives_up_when_every_attempt_loses(seeded):
    service = AttendanceService(ConnectionPool(seeded), recognizer=None)
    attempts = []

    def work(cur):
        attempts.append(1)
        rename(cur, VICTIM, "ours")
        holding, done = threading.Event(), threading.Event()
        threading.Thread(target=bigger_transaction, args=(seeded, holding, done), daemon=True).start()
        assert holding.wait(10)
        rename(cur, OTHER, "ours")

    with pytest.raises(ServiceError) as caught:
        service.write_transaction(work)
    assert caught.value.code == "db_unavailable" and "concurrent" in caught.value.message
    assert len(attempts) == WRITE_ATTEMPTS
    assert "ours" not in names(seeded).values()
