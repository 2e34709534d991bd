"""Load and faults, short versions of bench/load.py: nothing acknowledged is lost, nothing is
applied twice, when the database is stopped and started, or the server SIGKILLed mid-batch."""

from __future__ import annotations

import logging
import math
import time

import pytest

from client.connection import FramedClient, ServerError
from db import clients
from db.connection import run_in_transaction
from db.schema import recreate_database
from protocol.errors import ErrorCode
from testkit.load import kill_during_batch, report, run_load, run_with_db_restart, verify
from testkit.processes import LOOPBACK_CROWD, PrivateMariaDB, ServerProcess, new_client, seed_database
from testkit.servers import add_client, running_server


@pytest.fixture(scope="module")
def knowns(faces_dir):
    return faces_dir / "knowns"


def test_short_load_loses_nothing_and_duplicates_nothing(server_db_url, knowns, database_name):
    seeded = seed_database(server_db_url, database_name, knowns, lectures=2, extra_students=4000)
    pairs = sum(len(students) for students in seeded.lectures.values())
    tokens = [new_client(seeded.url, f"load-{n}") for n in range(8)]
    with ServerProcess(seeded.url, knowns, "--rate", "0", *LOOPBACK_CROWD) as server:
        result = run_load("127.0.0.1", server.port, tokens, seeded, seconds=4, seed=5)
    check = verify(seeded.url, result)
    print(report(result, check))
    assert check.ok, check
    # Far from every (lecture, student) pair, however fast the machine: the check means something.
    assert 20 < check.acknowledged < pairs / 2, (check.acknowledged, pairs)
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


def test_a_revoked_token_is_refused_while_the_database_is_down(tmp_path, knowns, caplog):
    """The server reads the whole clients table every few seconds and keeps revoked clients as
    revoked: once it has seen a revocation, neither a new hello nor an open connection of that
    client gets in from memory while the database is down. An active client still does (the
    reason for answering from memory: classroom PCs reconnect while the database restarts)."""
    with PrivateMariaDB(tmp_path / "mariadb") as mariadb:
        url = recreate_database(mariadb.server_url, "attendance_revoked")
        with running_server(url, knowns, workers=1, token_recheck=0.3) as server:
            revoked_token = add_client(url, "room-revoked", "kiosk")
            kept_token = add_client(url, "room-kept", "kiosk")
            revoked_open = FramedClient(server.host, server.port, token=revoked_token)
            kept_open = FramedClient(server.host, server.port, token=kept_token)
            with FramedClient(server.host, server.port, token=revoked_token) as client:
                assert client.client_name == "room-revoked"  # checked a moment ago: the old cache's case
            run_in_transaction(url, lambda cur: clients.revoke_client(cur, "room-revoked"))
            time.sleep(1.0)  # the server rereads the table every 0.3 s
            mariadb.stop()
            with caplog.at_level(logging.WARNING, logger="server"):
                with pytest.raises(ServerError) as err:
                    FramedClient(server.host, server.port, token=revoked_token)
                assert err.value.code == ErrorCode.UNAUTHORIZED and "revoked" in err.value.message
                with pytest.raises(ServerError) as err:
                    revoked_open.ping()
                assert err.value.code == ErrorCode.UNAUTHORIZED
                with FramedClient(server.host, server.port, token=kept_token) as client:
                    assert client.client_name == "room-kept"  # from memory, the database being down
                assert kept_open.ping()
            assert any("room-revoked refused: its token is revoked" in r.getMessage() for r in caplog.records)
            revoked_open.close()
            kept_open.close()
            mariadb.start()
