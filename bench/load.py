"""Load and faults: many framed clients at once, and then the database or the server taken away.

Modes (the default runs the first):

- **load**: ``--clients`` (50) clients for ``--seconds`` (60), each with its own client token,
  mixing recognize (a sample photo of one student, at most 854 px: a webcam frame, 20 %), mark
  (60 %) and batch mark (10-60 students, 20 %) as fast as the server answers (no pause: the
  server is saturated, so latencies include queueing). A request that fails (db_unavailable, connection lost...) is
  retried until it is acknowledged or the time is up. At the end the database is compared with
  what the server acknowledged: every acknowledged mark must be stored, nothing may be stored
  that no client sent, no (session, student) twice and no batch applied twice.
  Prints p50/p99 latency per request kind.
- **--db-restart**: the same, against a private MariaDB this script starts; at a third of the
  time it is stopped for ``--down`` (5) seconds and started again. Prints the errors while it
  was down and how long the server took to serve marks again once it was back.
- **--sigkill**: ``--rounds`` (6) times, the server is killed with SIGKILL while a batch of
  ``--batch-size`` (300) marks is being applied (half the rounds with the server's transaction
  held open by a lock, so the kill surely lands inside it; half after a random delay). The
  batch must then be applied entirely or not at all, and the client's retry (same batch_id) on a
  new server applies it once.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.load
    .venv/bin/python -m bench.load --db-restart --seconds 60
    ATTENDANCE_DB_URL=... .venv/bin/python -m bench.load --sigkill

Exit status 1 when a check fails. The functions are also used by tests/e2e/test_faults.py.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from db.connection import DatabaseUrl, url_from_env
from testkit.load import kill_during_batch, report, run_load, run_with_db_restart, verify
from testkit.paths import FACES
from testkit.processes import LOOPBACK_CROWD, PrivateMariaDB, ServerProcess, new_client, seed_database

# -- command line ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="server recognition workers (default: 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="each client waits 0 to 2 x PAUSE s between requests (default 0: as fast as answered)",
    )
    parser.add_argument("--lectures", type=int, default=10, help="lectures in the load database (default: 10)")
    parser.add_argument(
        "--students",
        type=int,
        default=2000,
        help="made-up students enrolled in each lecture (default: 2000), so that the marks "
        "rarely hit the same (lecture, student) twice",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--db-restart", action="store_true", help="stop and start a private MariaDB during the load")
    mode.add_argument("--sigkill", action="store_true", help="SIGKILL the server during batches")
    parser.add_argument("--down", type=float, default=5.0, help="--db-restart: seconds the database stays down")
    parser.add_argument("--rounds", type=int, default=6, help="--sigkill: rounds")
    parser.add_argument("--batch-size", type=int, default=300, help="--sigkill: marks per batch")
    args = parser.parse_args()
    knowns = FACES / "knowns"

    if args.sigkill:
        seeded = seed_database(
            DatabaseUrl.parse(url_from_env()),
            "attendance_bench_kill",
            knowns,
            lectures=1,
            extra_students=args.batch_size,
        )
        token = new_client(seeded.url, "killer")
        rounds = kill_during_batch(
            seeded, knowns, token, rounds=args.rounds, batch_size=args.batch_size, seed=args.seed
        )
        for n, r in enumerate(rounds, 1):
            print(
                f"round {n} ({r.mode:6}): after SIGKILL {r.rows_after_kill:4d} rows, batch recorded: "
                f"{'yes' if r.applied_after_kill else 'no '}; retry: applied={r.retry_applied} "
                f"replayed={r.retry_replayed}; then {r.rows_after_retry} rows, {r.batches_after_retry} "
                f"applied_batches row -> {'ok' if r.ok else 'FAILED'}"
            )
        ok = all(r.ok for r in rounds)
        print("CHECKS PASSED" if ok else "CHECKS FAILED")
        return 0 if ok else 1

    if args.db_restart:
        with tempfile.TemporaryDirectory(prefix="attendance-mariadb-") as tmp, PrivateMariaDB(Path(tmp)) as mariadb:
            seeded = seed_database(
                mariadb.server_url, "attendance_load", knowns, lectures=args.lectures, extra_students=args.students
            )
            tokens = [new_client(seeded.url, f"load-{n}") for n in range(args.clients)]
            with ServerProcess(seeded.url, knowns, "--rate", "0", *LOOPBACK_CROWD, workers=args.workers) as server:
                outcome = run_with_db_restart(
                    mariadb, seeded, server, tokens, seconds=args.seconds, down=args.down, seed=args.seed
                )
            print(report(outcome.result, outcome.check))
            print(outcome.summary())
            return 0 if outcome.check.ok and outcome.recovered_after < 30 else 1

    seeded = seed_database(
        DatabaseUrl.parse(url_from_env()),
        "attendance_bench_load",
        knowns,
        lectures=args.lectures,
        extra_students=args.students,
    )
    tokens = [new_client(seeded.url, f"load-{n}") for n in range(args.clients)]
    with ServerProcess(seeded.url, knowns, "--rate", "0", *LOOPBACK_CROWD, workers=args.workers) as server:
        result = run_load(
            "127.0.0.1", server.port, tokens, seeded, seconds=args.seconds, seed=args.seed, pause=args.pause
        )
    check = verify(seeded.url, result)
    print(report(result, check))
    return 0 if check.ok and not result.wrong_answers else 1


if __name__ == "__main__":
    sys.exit(main())
