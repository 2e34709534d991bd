"""Roll call of 300 students: one framed batch request vs. 300 single marks of the 2019 client.

A fresh database with ``2 x --rounds`` lectures of 300 made-up students (the sample students
plus generated ones) and one ``attendance-server`` process. Each round, alternately:

- 2019: 300 one-shot payloads ``<student ID><lecture code>``, each on its own TCP connection
  (what the 2019 roll-call screen did), sequentially, each answered ``success``;
- batch: connect, ``hello`` with the client token, one ``batch_mark`` of all 300 students
  (what the desktop roll-call screen does), answered with 300 marks applied.

Each round uses lectures nobody has marked yet, and every mark is then counted in MariaDB.
Speed-up = median 2019 time / median batch time.

Target (issue 7): the batch >= 30x faster. Exit status 1 when missed or when a mark is missing.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.rollcall
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

from bench import results
from client.connection import FramedClient, legacy_request
from db.connection import DatabaseUrl, url_from_env
from protocol.legacy import SUCCESS
from testkit.paths import FACES
from testkit.processes import ServerProcess, new_client, query, seed_database

TARGET = 30.0
STUDENTS = 300


def legacy_roll_call(port: int, lecture: str, student_ids: list[str]) -> None:
    for student_id in student_ids:
        reply = legacy_request("127.0.0.1", port, (student_id + lecture).encode("ascii"))
        if reply != SUCCESS:
            raise SystemExit(f"2019 mark of {student_id} in {lecture}: {reply!r}")


def batch_roll_call(port: int, token: str, lecture: str, student_ids: list[str]) -> None:
    with FramedClient("127.0.0.1", port, token=token, timeout=60) as client:
        reply = client.batch_mark(lecture, uuid.uuid4().hex, [(sid, "present") for sid in student_ids])
    if reply.applied != len(student_ids):
        raise SystemExit(f"batch roll call of {lecture}: {reply.applied} of {len(student_ids)} applied")


def stored_marks(url: DatabaseUrl, lecture: str) -> int:
    rows = query(
        url,
        "SELECT COUNT(*) FROM attendance a JOIN class_sessions s ON s.session_id = a.session_id "
        "JOIN lectures l ON l.lecture_id = s.lecture_id WHERE l.code = %s",
        (lecture,),
    )
    return rows[0][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    knowns = FACES / "knowns"
    extra = STUDENTS - len(list(knowns.glob("*_*.*")))
    seeded = seed_database(
        DatabaseUrl.parse(url_from_env()),
        "attendance_bench_rollcall",
        knowns,
        lectures=2 * args.rounds,
        extra_students=extra,
    )
    token = new_client(seeded.url, "bench-rollcall")
    lectures = sorted(seeded.lectures)
    times = {"2019": [], "batch": []}
    with ServerProcess(seeded.url, knowns, "--rate", "0", "--close-due-every", "0") as server:
        warm = seeded.lectures[lectures[0]][:1]  # one mark of each kind first: connections, caches
        batch_roll_call(server.port, token, lectures[0], warm)
        legacy_roll_call(server.port, lectures[1], warm)
        for round_ in range(args.rounds):
            for way in ("2019", "batch"):
                lecture = lectures[2 * round_ + (way == "batch")]
                students = seeded.lectures[lecture][:STUDENTS]
                if round_ == 0:  # the warm-up marks above
                    students = [sid for sid in students if sid not in warm]
                started = time.perf_counter()
                if way == "2019":
                    legacy_roll_call(server.port, lecture, students)
                else:
                    batch_roll_call(server.port, token, lecture, students)
                times[way].append(time.perf_counter() - started)
                stored = stored_marks(seeded.url, lecture)
                expected = len(seeded.lectures[lecture][:STUDENTS])
                if stored != expected:
                    raise SystemExit(f"{lecture}: {stored} marks stored, {expected} expected")
                print(f"round {round_ + 1} {way:>5}: {len(students)} marks in {times[way][-1]:.3f} s, {stored} stored")

    legacy, batch = statistics.median(times["2019"]), statistics.median(times["batch"])
    speedup = legacy / batch
    met = speedup >= TARGET
    print(
        f"\n2019 client: {legacy:.3f} s ({1000 * legacy / STUDENTS:.1f} ms per mark); batch: {batch:.3f} s; "
        f"{speedup:.0f}x faster (target >= {TARGET:g}x)"
    )
    details = (
        f"| way | median of {args.rounds} rounds | per mark |\n|---|---|---|\n"
        f"| 300 single marks, one 2019 connection each | {results.seconds(legacy)} | {1000 * legacy / STUDENTS:.2f} ms |\n"
        f"| one framed batch_mark (connect + hello + batch) | {results.seconds(batch)} | {1000 * batch / STUDENTS:.3f} ms |"
    )
    results.save(
        "rollcall",
        [
            results.Row(
                f"roll call of {STUDENTS} students, one batch request",
                f"{results.seconds(batch)} ({speedup:.0f}x faster)",
                baseline=f"{STUDENTS} single 2019 marks: {results.seconds(legacy)}",
                target=f">= {TARGET:g}x faster",
                met=met,
            ),
        ],
        details=details,
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
