"""Socket fuzzer: random and mutated frames and 2019-style payloads against a real server.

Starts ``attendance-server`` on 127.0.0.1 (a fresh database on $ATTENDANCE_DB_URL's server, the
sample students enrolled, one client token), then for ``--seconds`` (60) runs ``--threads`` (4)
loops that each open connections of one of these kinds:

- framed, after a valid hello: valid requests, valid frames with bytes flipped, inserted, cut or
  the length fields changed, random JSON headers (quotes, NUL, Korean, deep nesting, huge
  numbers), random bytes, huge lengths, sent in random pieces;
- framed without hello or with a wrong token, and with a damaged preamble;
- 2019 payloads: marks and roster codes with bytes changed, JPEG/PNG sample images damaged or
  cut, a small PNG claiming 50,000 x 50,000 pixels, random bytes;
- plain garbage (any first byte).

Every byte the server sends back is checked: framed replies must decode (client side) into valid
messages, 2019 replies must be one of the documented replies. Every 5 s, and at the end, a
checker makes real requests (ping, roster, mark, recognize, a 2019 roster) and compares the
answers; the server's memory (its process, and its worker processes) is sampled.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.fuzz_server [--seconds 60]

Only ever connects to 127.0.0.1. Exit status 1 when a check fails. ``run_fuzz`` is also used by
tests/e2e/test_fuzz.py against an in-process server.
"""

from __future__ import annotations

import argparse
import sys
import threading

from db.connection import DatabaseUrl, url_from_env
from db.schema import recreate_database
from testkit.fuzz import HOST, check_server, run_fuzz, sample_images
from testkit.paths import FACES
from testkit.processes import ServerProcess, new_client
from testkit.servers import seed_roster


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    knowns = FACES / "knowns"
    url = recreate_database(DatabaseUrl.parse(url_from_env()), "attendance_bench_fuzz")
    student_ids = seed_roster(url, knowns)
    token = new_client(url, "fuzzer")
    probe = (FACES / "knowns/201911001_obama.jpg").read_bytes()
    with ServerProcess(url, knowns, "--rate", "500", "--burst", "1000", workers=args.workers) as server:
        problems = check_server(HOST, server.port, token, probe, "201911001")  # warms up too
        before = server.rss_kib()
        samples = [before]
        stop = threading.Event()

        def monitor() -> None:
            while not stop.wait(5):
                problems.extend(check_server(HOST, server.port, token, probe, "201911001"))
                samples.append(server.rss_kib())

        checker = threading.Thread(target=monitor, daemon=True)
        checker.start()
        stats = run_fuzz(
            HOST,
            server.port,
            token,
            seconds=args.seconds,
            seed=args.seed,
            threads=args.threads,
            student_ids=student_ids,
            images=sample_images(),
        )
        stop.set()
        checker.join()
        problems.extend(check_server(HOST, server.port, token, probe, "201911001"))
        after = server.rss_kib()
        alive = server.process.poll() is None

    print(
        f"fuzzed {args.seconds:g} s with {args.threads} threads (seed {args.seed}): {stats.tried} frames tried "
        f"({stats.frames} framed frames, {stats.legacy_payloads} 2019 payloads, {stats.garbage} garbage blobs) "
        f"over {stats.connections} connections"
    )
    print("replies seen: " + ", ".join(f"{k}: {v}" for k, v in stats.replies.most_common(25)))
    print(
        "client-side connection errors (resets by the server are allowed): "
        + (", ".join(f"{k}: {v}" for k, v in stats.client_errors.items()) or "none")
    )
    peak = max(main for main, _ in samples)
    print(
        f"server memory (RSS): {before[0] / 1024:.0f} MiB before, {peak / 1024:.0f} MiB peak, "
        f"{after[0] / 1024:.0f} MiB after; workers together: {before[1] / 1024:.0f} -> {after[1] / 1024:.0f} MiB"
    )
    print("server RSS every 5 s (MiB): " + " ".join(f"{main / 1024:.0f}" for main, _ in samples + [after]))
    print(f"invalid replies from the server: {len(stats.bad_replies)}")
    for what in stats.bad_replies[:10]:
        print("  ", what)
    print(f"checks with known answers: {len(samples)} rounds, problems: {len(problems)}")
    for what in problems[:10]:
        print("  ", what)
    grew = after[0] - before[0]
    ok = alive and not problems and not stats.bad_replies and grew < 100 * 1024
    print(
        f"server still running: {alive}; main process grew by {grew / 1024:.0f} MiB -> "
        + ("CHECKS PASSED" if ok else "CHECKS FAILED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
