"""Load and faults against a real server: many framed clients at once, and then the database or
the server taken away (bench/load.py runs them at full size; tests/e2e/test_faults.py in short).
bench/load.py's docstring describes the three modes."""

from __future__ import annotations

import collections
import datetime as dt
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from operator import methodcaller
from pathlib import Path

from client.connection import FramedClient, ServerError
from db.clients import token_hash
from db.connection import DatabaseUrl, connect
from protocol import framed
from testkit.paths import FACES
from testkit.processes import PrivateMariaDB, SeededDatabase, ServerProcess, query
from testkit.timing import percentile

KINDS = ("recognize", "mark", "batch_mark")
WEIGHTS = (2, 6, 2)
#: Errors after which a request is retried (the others are a bug in this script or the server).
RETRIED = {"db_unavailable", "timeout", "internal", "busy", "rate_limited", "connection"}


def sample_probes(max_side: int = 854) -> list[tuple[bytes, str]]:
    """(image bytes, expected student ID) of the single-face sample probes at most ``max_side``
    pixels wide and high: webcam-sized check-in frames (480p and smaller)."""
    import csv

    from PIL import Image

    with open(FACES / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "probe" and ";" not in r["student_ids"]]
    probes = []
    for row in rows:
        with Image.open(FACES / row["path"]) as image:
            if max(image.size) <= max_side:
                probes.append(((FACES / row["path"]).read_bytes(), row["student_ids"]))
    return probes


@dataclass
class LoadResult:
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    errors: collections.Counter = field(default_factory=collections.Counter)  # (kind, code)
    acked: set[tuple[str, str]] = field(default_factory=set)  # (lecture, student) acknowledged
    attempted: set[tuple[str, str]] = field(default_factory=set)  # sent at least once
    batch_acks: dict[str, list[bool]] = field(default_factory=lambda: collections.defaultdict(list))
    batches_sent: set[str] = field(default_factory=set)
    wrong_answers: int = 0  # recognize replies without the expected student
    successes: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, kind)
    error_times: list[float] = field(default_factory=list)  # monotonic time of each error
    gave_up: int = 0  # requests still failing when the time was up
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def error(self, kind: str, code: str) -> None:
        with self.lock:
            self.errors[(kind, code)] += 1
            self.error_times.append(time.monotonic())


def run_load(
    host: str,
    port: int,
    tokens: list[str],
    seeded: SeededDatabase,
    *,
    seconds: float,
    seed: int = 1,
    probes: list[tuple[bytes, str]] | None = None,
    pause: float = 0.0,
) -> LoadResult:
    """One thread per token, each a client making requests until ``seconds`` have passed,
    waiting 0 to 2 x ``pause`` seconds (random) between two requests."""
    probes = probes or sample_probes()
    result = LoadResult()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(host, port, token, seeded, probes, random.Random(seed * 1000 + n), deadline, result, n, pause),
            daemon=True,
        )
        for n, token in enumerate(tokens)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    result.seconds = time.monotonic() - started
    return result


def _client_loop(
    host, port, token, seeded, probes, rng, deadline, result: LoadResult, number: int, pause: float
) -> None:
    client: FramedClient | None = None
    batch_count = 0
    lectures = sorted(seeded.lectures)
    while time.monotonic() < deadline:
        if pause:
            time.sleep(rng.uniform(0, 2 * pause))
            if time.monotonic() >= deadline:
                break
        kind = rng.choices(KINDS, WEIGHTS)[0]
        lecture = rng.choice(lectures)
        if kind == "recognize":
            image, expected = rng.choice(probes)
            with_lecture = rng.random() < 0.5
            request = methodcaller("recognize", image, lecture if with_lecture else None)
            marks = []
        elif kind == "mark":
            student = rng.choice(seeded.lectures[lecture])
            request = methodcaller("mark", lecture, student)
            marks = [(lecture, student)]
        else:
            batch_count += 1
            batch_id = f"load-{number}-{batch_count}"
            chosen = rng.sample(seeded.lectures[lecture], rng.randint(10, 60))
            items = [(sid, rng.choice(("present", "late", "absent"))) for sid in chosen]
            request = methodcaller("batch_mark", lecture, batch_id, items)
            marks = [(lecture, sid) for sid in chosen]
            with result.lock:
                result.batches_sent.add(batch_id)
        with result.lock:
            result.attempted.update(marks)
        # Retry until acknowledged (or the time is up): a mark or batch may be applied by a try
        # whose reply was lost; the retry must then not apply it again.
        while True:
            if time.monotonic() >= deadline:
                with result.lock:
                    result.gave_up += 1
                break
            try:
                if client is None:
                    client = FramedClient(host, port, token=token, timeout=60)
                began = time.monotonic()
                reply = request(client)
                took = time.monotonic() - began
            except ServerError as exc:
                result.error(kind, exc.code)
                if exc.code not in RETRIED:
                    break
                if exc.code in ("busy", "unauthorized") and client is not None:
                    client.close()
                    client = None
                time.sleep(0.2)
                continue
            except (OSError, framed.RemoteProtocolError):
                result.error(kind, "connection")
                if client is not None:
                    client.close()
                client = None
                time.sleep(0.2)
                continue
            with result.lock:
                result.latencies[kind].append(took)
                result.successes.append((time.monotonic(), kind))
                result.acked.update(marks)
                if kind == "batch_mark":
                    result.batch_acks[reply.batch_id].append(reply.replayed)
                if kind == "recognize" and expected not in [f.student_id for f in reply.faces]:
                    result.wrong_answers += 1
            break
    if client is not None:
        client.close()


@dataclass
class Verification:
    acknowledged: int
    stored: int
    missing: int  # acknowledged but not stored: must be 0
    unexpected: int  # stored but never sent: must be 0
    duplicate_rows: int  # (session, student) more than once: must be 0
    batches_applied_twice: int  # two non-replayed acknowledgements, or two rows: must be 0
    batches_missing: int  # acknowledged batch without its applied_batches row: must be 0

    @property
    def ok(self) -> bool:
        return not (
            self.missing or self.unexpected or self.duplicate_rows or self.batches_applied_twice or self.batches_missing
        )


def verify(url: DatabaseUrl, result: LoadResult, day: dt.date | None = None) -> Verification:
    day = day or dt.date.today()
    rows = query(
        url,
        "SELECT l.code, a.student_id FROM attendance a JOIN class_sessions s ON s.session_id = a.session_id"
        " JOIN lectures l ON l.lecture_id = s.lecture_id WHERE s.session_date = %s AND l.code LIKE 'ld%%'",
        (day,),
    )
    stored = collections.Counter(rows)
    duplicates = query(
        url,
        "SELECT COUNT(*) FROM (SELECT session_id, student_id FROM attendance"
        " GROUP BY session_id, student_id HAVING COUNT(*) > 1) d",
    )[0][0]
    applied = collections.Counter(
        batch_id for (batch_id,) in query(url, "SELECT batch_id FROM applied_batches WHERE batch_id LIKE 'load-%%'")
    )
    twice = sum(1 for acks in result.batch_acks.values() if acks.count(False) > 1)
    twice += sum(1 for n in applied.values() if n > 1)
    twice += sum(1 for batch_id in applied if batch_id not in result.batches_sent)
    return Verification(
        acknowledged=len(result.acked),
        stored=len(stored),
        missing=len(result.acked - set(stored)),
        unexpected=len(set(stored) - result.attempted),
        duplicate_rows=duplicates,
        batches_applied_twice=twice,
        batches_missing=sum(1 for batch_id in result.batch_acks if batch_id not in applied),
    )


def report(result: LoadResult, check: Verification) -> str:
    lines = [
        f"{result.requests()} requests acknowledged in {result.seconds:.1f} s "
        f"({result.requests() / max(result.seconds, 1e-9):.0f}/s)"
    ]
    lines.append(f"{'kind':12} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind in KINDS:
        values = result.latencies.get(kind, [])
        lines.append(
            f"{kind:12} {len(values):7d} {1000 * percentile(values, 0.5):8.1f} "
            f"{1000 * percentile(values, 0.99):8.1f} {1000 * max(values, default=float('nan')):8.1f}"
        )
    errors = ", ".join(f"{kind} {code}: {n}" for (kind, code), n in sorted(result.errors.items())) or "none"
    lines.append(f"error replies (retried): {errors}")
    lines.append(f"recognize answers without the expected student: {result.wrong_answers}")
    lines.append(
        f"marks: {check.acknowledged} acknowledged (lecture, student) pairs, {check.stored} stored, "
        f"{check.missing} acknowledged but missing, {check.unexpected} stored but never sent, "
        f"{check.duplicate_rows} duplicate rows"
    )
    lines.append(
        f"batches: {len(result.batch_acks)} acknowledged ({sum(a.count(True) for a in result.batch_acks.values())} "
        f"replayed replies), {check.batches_applied_twice} applied twice, {check.batches_missing} missing; "
        f"requests still failing at the end: {result.gave_up}"
    )
    lines.append("CHECKS PASSED" if check.ok and not result.wrong_answers else "CHECKS FAILED")
    return "\n".join(lines)


# -- the database stopped and started during the load ----------------------------------------


@dataclass
class RestartOutcome:
    result: LoadResult
    check: Verification
    down_at: float
    up_at: float
    errors_while_down: int  # errors from the stop until the first acknowledged mark after it
    first_error_after: float  # seconds from the stop to the first error
    recovered_after: float  # seconds from "database accepts connections" to the next ack'd mark

    def summary(self) -> str:
        return (
            f"database stopped; it accepted connections again {self.up_at - self.down_at:.1f} s later; "
            f"{self.errors_while_down} error replies from the stop until the first acknowledged mark after "
            f"the restart (the first one {self.first_error_after:.3f} s after the stop); first acknowledged "
            f"mark {self.recovered_after:.3f} s after the database accepted connections again"
        )


def run_with_db_restart(
    mariadb: PrivateMariaDB,
    seeded: SeededDatabase,
    server: ServerProcess,
    tokens: list[str],
    *,
    seconds: float,
    down: float,
    seed: int = 1,
) -> RestartOutcome:
    holder: dict = {}
    runner = threading.Thread(
        target=lambda: holder.update(
            result=run_load("127.0.0.1", server.port, tokens, seeded, seconds=seconds, seed=seed)
        )
    )
    runner.start()
    time.sleep(min(seconds / 3, max(seconds - down - 3, 0.5)))
    down_at = time.monotonic()
    mariadb.stop()
    time.sleep(down)
    mariadb.start()
    up_at = time.monotonic()
    runner.join()
    result = holder["result"]
    after = [t for t, kind in result.successes if t >= up_at and kind in ("mark", "batch_mark")]
    back_at = min(after, default=float("inf"))
    errors = [t for t in result.error_times if down_at <= t <= back_at]
    return RestartOutcome(
        result,
        verify(seeded.url, result),
        down_at,
        up_at,
        len(errors),
        (min(errors) - down_at) if errors else float("nan"),
        back_at - up_at,
    )


# -- SIGKILL during a batch --------------------------------------------------------------------


@dataclass
class KillRound:
    mode: str  # "locked" (killed inside the transaction) or "timed" (after a random delay)
    rows_after_kill: int
    applied_after_kill: bool
    retry_applied: int
    retry_replayed: bool
    rows_after_retry: int
    batches_after_retry: int

    @property
    def ok(self) -> bool:
        whole_or_nothing = self.rows_after_kill in (0, self.retry_applied) and (
            (self.rows_after_kill > 0) == self.applied_after_kill
        )
        return (
            whole_or_nothing
            and self.retry_replayed == self.applied_after_kill
            and self.rows_after_retry == self.retry_applied
            and self.batches_after_retry == 1
        )


def kill_during_batch(
    seeded: SeededDatabase,
    knowns: Path,
    token: str,
    *,
    rounds: int,
    batch_size: int = 300,
    seed: int = 1,
    locked_only: bool = False,
) -> list[KillRound]:
    """Each round: a batch for a new lecture is sent, the server is SIGKILLed mid-way, a new
    server is started and the client retries the batch."""
    rng = random.Random(seed)
    students = seeded.lectures[sorted(seeded.lectures)[0]]
    if len(students) < batch_size:
        raise ValueError(f"the seeded lectures have {len(students)} students, fewer than {batch_size}")
    outcomes = []
    ((client_name,),) = query(seeded.url, "SELECT name FROM clients WHERE token_sha256 = %s", (token_hash(token),))
    batch_seconds = 0.4  # how long a batch takes; measured on each retry
    server = ServerProcess(seeded.url, knowns, "--rate", "0").start()
    try:
        for n in range(rounds):
            mode = "locked" if locked_only or n % 2 == 0 else "timed"
            lecture = f"sk{n + 1:04d}_1"
            _enroll(seeded.url, lecture, students[:batch_size])
            batch_id = f"kill-{seed}-{n}"
            marks = tuple(framed.BatchMark(sid, "late") for sid in students[:batch_size])
            request = framed.BatchMarkRequest(2, lecture, batch_id, marks)
            blocker = _hold_batch_id(seeded.url, lecture, batch_id, client_name) if mode == "locked" else None
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                sock.sendall(framed.PREAMBLE + framed.encode(framed.HelloRequest(1, token)) + framed.encode(request))
                if blocker is not None:
                    _wait_for_blocked_insert(blocker, seeded.url.database)
                else:
                    time.sleep(rng.uniform(0.0, 2 * batch_seconds))  # before, during or after
                server.kill()
            if blocker is not None:
                blocker.rollback()
                blocker.close()
            _wait_for_no_connections(seeded.url)
            rows_after_kill = _rows_of(seeded.url, lecture)
            applied = (
                query(seeded.url, "SELECT COUNT(*) FROM applied_batches WHERE batch_id = %s", (batch_id,))[0][0] == 1
            )
            server = ServerProcess(seeded.url, knowns, "--rate", "0").start()
            with FramedClient("127.0.0.1", server.port, token=token, timeout=60) as client:
                began = time.monotonic()
                retry = client.batch_mark(lecture, batch_id, [(m.student_id, m.status) for m in marks])
                if not retry.replayed:
                    batch_seconds = time.monotonic() - began
            outcomes.append(
                KillRound(
                    mode,
                    rows_after_kill,
                    applied,
                    retry.applied,
                    retry.replayed,
                    _rows_of(seeded.url, lecture),
                    query(seeded.url, "SELECT COUNT(*) FROM applied_batches WHERE batch_id = %s", (batch_id,))[0][0],
                )
            )
    finally:
        server.stop()
    return outcomes


def _enroll(url: DatabaseUrl, lecture: str, student_ids: list[str]) -> None:
    from db.connection import transaction
    from db.roster_import import RosterRow, import_roster

    names = dict(query(url, "SELECT student_id, name FROM students"))
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            import_roster(cur, [RosterRow(lecture, sid, names[sid], n) for n, sid in enumerate(student_ids, 2)])
    finally:
        conn.close()


def _hold_batch_id(url: DatabaseUrl, lecture: str, batch_id: str, client_name: str):
    """A connection holding an uncommitted applied_batches row for the client's batch_id (the
    key is per client and lecture): the server's batch writes its marks, then waits on this
    row's lock, inside its transaction."""
    conn = connect(url)
    cur = conn.cursor()
    cur.execute(
        "INSERT INTO class_sessions (lecture_id, session_date)"
        " SELECT lecture_id, CURRENT_DATE FROM lectures WHERE code = %s"
        " ON DUPLICATE KEY UPDATE session_id = session_id",
        (lecture,),
    )
    conn.commit()
    cur.execute(
        "INSERT INTO applied_batches (batch_id, lecture_id, session_id, client_name, reply)"
        " SELECT %s, l.lecture_id, s.session_id, %s, '{}' FROM class_sessions s JOIN lectures l USING (lecture_id)"
        " WHERE l.code = %s AND s.session_date = CURRENT_DATE",
        (batch_id, client_name, lecture),
    )
    return conn


def _wait_for_blocked_insert(blocker, database: str, timeout: float = 30.0) -> None:
    cur = blocker.cursor()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s"
            " AND INFO LIKE 'INSERT INTO applied_batches%%' AND ID <> CONNECTION_ID()",
            (database,),
        )
        if cur.fetchone()[0]:
            return
        time.sleep(0.02)
    raise TimeoutError("the server's batch never reached its applied_batches insert")


def _wait_for_no_connections(url: DatabaseUrl, timeout: float = 60.0) -> None:
    """Until the killed server's database connections are gone (their transactions rolled back)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = query(
            url,
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID()",
            (url.database,),
        )[0][0]
        if not left:
            return
        time.sleep(0.05)
    raise TimeoutError("the killed server's database connections did not go away")


def _rows_of(url: DatabaseUrl, lecture: str) -> int:
    return query(
        url,
        "SELECT COUNT(*) FROM attendance a JOIN class_sessions s ON s.session_id = a.session_id"
        " JOIN lectures l ON l.lecture_id = s.lecture_id WHERE l.code = %s",
        (lecture,),
    )[0][0]
