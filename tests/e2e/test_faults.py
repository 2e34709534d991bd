"""Load and faults, short versions of bench/load.py: nothing acknowledged is lost, nothing is
applied twice, when the database is stopped and started, or the server SIGKILLed mid-batch."""

from __future__ import annotations

import math

import pytest

from testkit.load import kill_during_batch, report, run_load, run_with_db_restart, verify
from testkit.processes import LOOPBACK_CROWD, PrivateMariaDB, ServerProcess, new_client, seed_database


@pytest.fixture(scope="module")
def knowns(faces_dir):
    return faces_dir / "knowns"


def test_short_load_loses_nothing_and_duplicates_nothing(server_db_url, knowns, database_name):
    seeded = seed_database(server_db_url, database_name, knowns, lectures=2, extra_students=400)
    tokens = [new_client(seeded.url, f"load-{n}") for n in range(8)]
    with ServerProcess(seeded.url, knowns, "--rate", "0", *LOOPBACK_CROWD) as server:
        result = run_load("127.0.0.1", server.port, tokens, seeded, seconds=4, seed=5)
    check = verify(seeded.url, result)
    print(report(result, check))
    assert check.ok, check
    assert 20 < check.acknowledged < 700  # far from every (lecture, student) pair: the check means something
    assert check.stored >= check.acknowledged
    assert result.wrong_answers == 0 and result.gave_up == 0
    assert all(result.latencies[kind] for kind in ("recognize", "mark", "batch_mark"))


def test_database_stopped_and_started_during_load(tmp_path, knowns):
    with PrivateMariaDB(tmp_path / "mariadb") as mariadb:
        seeded = seed_database(mariadb.server_url, "attendance_restart", knowns, lectures=2, extra_students=400)
        tokens = [new_client(seeded.url, f"load-{n}") for n in range(8)]
        with ServerProcess(seeded.url, knowns, "--rate", "0", *LOOPBACK_CROWD) as server:
            outcome = run_with_db_restart(mariadb, seeded, server, tokens, seconds=6, down=1.5, seed=7)
            assert server.process.poll() is None  # the server never stopped
        print(report(outcome.result, outcome.check))
        print(outcome.summary())
        assert outcome.check.ok, outcome.check
        assert outcome.errors_while_down > 0  # it answered errors while the database was down
        assert any(code == "db_unavailable" for _, code in outcome.result.errors)
        assert math.isfinite(outcome.recovered_after) and outcome.recovered_after < 5  # by itself


def test_server_sigkilled_during_a_300_mark_batch_applies_it_whole_or_not_and_the_retry_once(
    server_db_url, knowns, database_name
):
    seeded = seed_database(server_db_url, database_name, knowns, lectures=1, extra_students=300)
    token = new_client(seeded.url, "killer")
    (round_,) = kill_during_batch(seeded, knowns, token, rounds=1, batch_size=300, locked_only=True)
    # Killed while its transaction held all 300 marks, uncommitted: nothing of it is stored...
    assert (round_.rows_after_kill, round_.applied_after_kill) == (0, False)
    # ...and the client's retry on the restarted server applies it once.
    assert (round_.retry_applied, round_.retry_replayed) == (300, False)
    assert (round_.rows_after_retry, round_.batches_after_retry) == (300, 1)
    assert round_.ok
