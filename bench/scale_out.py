"""Scale-out: two servers behind HAProxy on one database, and one of them SIGKILLed under load.

Real components only: one MariaDB database (a fresh ``attendance_bench_scale_out`` on the server
of ``$ATTENDANCE_DB_URL``, seeded by testkit.processes.seed_database), two ``attendance-server``
processes (``--workers 1 --rate 0``) sharing it, and one HAProxy (``mode tcp``, ``balance
leastconn``, a health check that speaks the framed protocol's preamble every 500 ms,
``retries`` with ``option redispatch``) started in the foreground from a configuration written
to a temporary directory, on a free port. The system's HAProxy service is never touched; when
the ``haproxy`` binary is missing it is installed with apt-get if we are root, otherwise the
script stops with a message.

After one warm-up recognition straight to each server (so that its worker has loaded the
models), ``--clients`` (20) clients, each with its own token, connect THROUGH HAProxy and run
bench/load.py's client loop for ``--seconds`` (30): recognize 20 %, mark 60 %, batch mark (10-60
students) 20 %, back to back (the server is saturated: latencies include queueing).
A request that fails (the connection broken by the kill, db_unavailable...) is retried, on a
new connection through HAProxy, until it is acknowledged; a batch keeps its batch_id, so a
retry of a batch the dead server had already committed is answered ``replayed``.
At ``--kill-at`` seconds (default: a third of the run) one server gets SIGKILL (its worker too).

At the end the database is compared with what the clients were told (bench/load.py ``verify``):
every acknowledged mark stored exactly once, nothing stored that no client sent, no batch applied
twice. Printed: acknowledged requests per kind before/after the kill, failed attempts around the
kill, the longest time any client went without an acknowledged reply across the kill (the
failover time; next to the same figure before the kill, which is queueing), split for the
clients the kill hit into: connection error, new connection through HAProxy, the retried
request; when HAProxy marked the server down, per-server connections/redispatches from HAProxy's
statistics, the peak number of database connections, p50/p99 latency per kind, requests/s with
two servers and with one. Other checks: recognize found the expected student, both servers got
connections, the kill broke some clients' connections, every client was acknowledged again.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.scale_out
    .venv/bin/python -m bench.scale_out --seconds 30 --clients 20 --kill-at 10

Exit status 1 when a check fails. The figures, the table and the HAProxy configuration used go
to bench/results.py ("scale_out"). docs/scaling.md discusses them.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import results
from client.connection import FramedClient
from db.connection import DatabaseUrl, url_from_env
from protocol import framed
from testkit.load import KINDS, LoadResult, _client_loop, sample_probes, verify
from testkit.paths import FACES
from testkit.processes import LOOPBACK_CROWD, ServerProcess, free_port, new_client, query, seed_database
from testkit.timing import percentile

DATABASE = "attendance_bench_scale_out"
SERVER_NAMES = ("s1", "s2")  # HAProxy's names of the two servers; s1 is the one killed

HAPROXY_CONFIG = """\
# Written by bench/scale_out.py; run as: haproxy -f {config} -db
global
    maxconn 2000
    stats socket {stats_socket} mode 600 level admin
    log stderr format raw local0 notice

defaults
    mode tcp
    log global
    option dontlognull
    timeout connect 1s       # a live server on the same network accepts in milliseconds
    timeout client 60s       # longer than the server's own --idle-timeout (10 s): the server decides
    timeout server 60s       # longer than the slowest request (a queued recognize, a large batch)
    timeout check 1s
    retries 3                # failed connection attempts to a server (refused, timed out)...
    option redispatch 1      # ...each retried on another server, not the same one

frontend attendance
    bind 127.0.0.1:{port}
    default_backend attendance_servers

backend attendance_servers
    balance leastconn        # connections are long-lived and requests uneven (recognize vs mark)
    # Health check: send the framed protocol's preamble, expect the server's preamble back.
    # A process that accepts but does not answer (hung) fails it too; no hello, no token needed.
    option tcp-check
    tcp-check send-binary {preamble}
    tcp-check expect binary {preamble}
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
{servers}
"""


# -- HAProxy -----------------------------------------------------------------------------------


def haproxy_binary() -> str:
    """The haproxy binary; installed with apt-get when missing and we are root."""
    found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
    if found:
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("haproxy not found; installing it: apt-get install -y haproxy", file=sys.stderr)
        subprocess.run(
            ["apt-get", "install", "-y", "haproxy"],
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/usr/local/sbin")
        if found:
            return found
    raise SystemExit("bench/scale_out.py needs HAProxy: install it (apt-get install haproxy) and run again")


class HAProxy:
    """``haproxy -f <dir>/haproxy.cfg -db`` in front of ``backends`` ({name: port}), on a free
    port of 127.0.0.1. Its stderr (alerts, server state changes) goes to <dir>/haproxy.log."""

    def __init__(self, directory: Path, backends: dict[str, int]):
        self.directory = Path(directory)
        self.port = free_port()
        self.config_path = self.directory / "haproxy.cfg"
        self.stats_socket = self.directory / "haproxy.sock"
        self.log_path = self.directory / "haproxy.log"
        servers = "\n".join(f"    server {name} 127.0.0.1:{port} check" for name, port in backends.items())
        self.config = HAPROXY_CONFIG.format(
            config=self.config_path,
            stats_socket=self.stats_socket,
            port=self.port,
            preamble=framed.PREAMBLE.hex(),
            servers=servers,
        )
        self.backends = dict(backends)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30.0) -> HAProxy:
        binary = haproxy_binary()
        self.config_path.write_text(self.config)
        check = subprocess.run([binary, "-c", "-f", str(self.config_path)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refuses the configuration:\n{check.stdout}{check.stderr}")
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [binary, "-f", str(self.config_path), "-db"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("haproxy exited:\n" + self.log_text())
            try:
                if all(s["status"] == "UP" for s in self.servers().values()):
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("haproxy did not see both servers up:\n" + self.log_text())

    def command(self, line: str) -> str:
        """One command on the stats socket (e.g. ``show stat``), its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.stats_socket))
            sock.sendall(line.encode() + b"\n")
            chunks = []
            while data := sock.recv(65536):
                chunks.append(data)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """``show stat`` of the backend's servers: {name: {column: value}} (status, stot, wretr...)."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: r for r in rows if r["pxname"] == "attendance_servers" and r["svname"] in self.backends}

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if getattr(self, "_log", None) is not None:
            self._log.close()

    def __enter__(self) -> HAProxy:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class StateWatcher:
    """Polls HAProxy's view of one server every 50 ms and remembers when it first saw it not UP;
    every 0.5 s, counts the database connections the servers hold (peak kept)."""

    def __init__(self, haproxy: HAProxy, name: str, db_url: DatabaseUrl):
        self.haproxy = haproxy
        self.name = name
        self.db_url = db_url
        self.down_at: float | None = None
        self.peak_db_connections = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._watch_haproxy, daemon=True),
            threading.Thread(target=self._watch_database, daemon=True),
        ]

    def start(self) -> StateWatcher:
        for thread in self._threads:
            thread.start()
        return self

    def _watch_haproxy(self) -> None:
        while not self._stop.wait(0.05):
            try:
                status = self.haproxy.servers()[self.name]["status"]
            except (OSError, KeyError):
                continue
            if self.down_at is None and not status.startswith("UP"):
                self.down_at = time.monotonic()

    def _watch_database(self) -> None:
        while not self._stop.wait(0.5):
            try:
                count = query(
                    self.db_url,
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s AND ID <> CONNECTION_ID()",
                    (self.db_url.database,),
                )[0][0]
            except Exception:  # noqa: BLE001 - a missed sample only
                continue
            self.peak_db_connections = max(self.peak_db_connections, count)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)


# -- the load, with the time of every reply per client -----------------------------------------


class _PerThreadList(list):
    """A list that also remembers which thread appended each item (``threads[i]``)."""

    def __init__(self):
        super().__init__()
        self.threads: list[int] = []

    def append(self, item) -> None:
        super().append(item)
        self.threads.append(threading.get_ident())


@dataclass
class TimedLoadResult(LoadResult):
    """bench/load.py's LoadResult, plus which client (thread) got each reply and error."""

    successes: list = field(default_factory=_PerThreadList)  # (time, kind), .threads
    failures: list = field(default_factory=list)  # (time, thread, kind, code)

    def error(self, kind: str, code: str) -> None:
        super().error(kind, code)
        with self.lock:
            self.failures.append((time.monotonic(), threading.get_ident(), kind, code))


def run_load_with_kill(
    host: str, port: int, tokens: list[str], seeded, *, seconds: float, kill_at: float, kill, seed: int = 1
) -> tuple[TimedLoadResult, float, float, float, float]:
    """bench/load.py's client loop, one thread per token, against host:port for ``seconds``;
    ``kill()`` is called ``kill_at`` seconds in. Returns (result, start, kill time, deadline
    (no request started after it), end (the last reply))."""
    probes = sample_probes()
    result = TimedLoadResult()
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(host, port, token, seeded, probes, random.Random(seed * 1000 + n), deadline, result, n, 0.0),
            daemon=True,
        )
        for n, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, started + kill_at - time.monotonic()))
    killed_at = time.monotonic()
    kill()
    for thread in threads:
        thread.join(seconds + 120)
    result.seconds = time.monotonic() - started
    return result, started, killed_at, deadline, time.monotonic()


# -- what the run showed -----------------------------------------------------------------------


@dataclass
class Failover:
    acks_before: collections.Counter
    acks_after: collections.Counter
    latencies_before: dict[str, list[float]]
    latencies_after: dict[str, list[float]]
    seconds_before: float  # from the start of the load to the kill (two servers)
    seconds_after: float  # from the kill to the end of the load (one server, the failover included)
    window_acks_after: collections.Counter  # acks from the kill to the end of the load (for rates;
    #                                         acks_after also has the replies that came after it)
    errors_before: collections.Counter  # code -> failed attempts
    errors_after: collections.Counter
    interrupted: collections.Counter  # kind -> requests whose first failure came after the kill
    clients_hit: int  # clients with a failed attempt after the kill
    longest_gap_before: float  # longest time a client went without an ack before the kill
    failover_gap: float  # longest time a client went without an ack, across or after the kill
    detected: list[float]  # per client hit: seconds from the kill to its first failed attempt
    reconnected: list[float]  # per client hit: from its last failed attempt to sending the retry
    #                           that was acknowledged (client's 0.2 s pause, connect, hello)
    retry_took: list[float]  # per client hit: latency of that acknowledged retry
    first_ack_after_kill: list[float]  # per client hit: seconds from the kill to its next ack
    clients_without_ack_after: int  # clients with no ack after the kill at all
    down_after: float | None  # seconds from the kill until HAProxy marked the server down

    def rate(self, kind: str | None = None, after: bool = False) -> float:
        """Acknowledged requests/s (of one kind, or all) before or after the kill."""
        acks = self.window_acks_after if after else self.acks_before
        count = acks[kind] if kind else sum(acks.values())
        return count / max(self.seconds_after if after else self.seconds_before, 1e-9)


def analyse(
    result: TimedLoadResult, started: float, killed_at: float, deadline: float, ended: float, down_at: float | None
) -> Failover:
    """``deadline``: when the clients stopped starting requests; ``ended``: when the last one finished."""
    # latencies[kind][j] and the j-th success of that kind were appended under one lock.
    acks: dict[int, list[tuple[float, str, float]]] = collections.defaultdict(list)  # thread -> (time, kind, took)
    acks_before, acks_after, window_after = collections.Counter(), collections.Counter(), collections.Counter()
    latencies_before, latencies_after = collections.defaultdict(list), collections.defaultdict(list)
    seen = collections.Counter()
    for (when, kind), thread in zip(result.successes, result.successes.threads):
        took = result.latencies[kind][seen[kind]]
        seen[kind] += 1
        acks[thread].append((when, kind, took))
        (acks_before if when < killed_at else acks_after)[kind] += 1
        if killed_at <= when <= deadline:
            window_after[kind] += 1
        (latencies_before if when < killed_at else latencies_after)[kind].append(took)
    failures: dict[int, list[tuple[float, str, str]]] = collections.defaultdict(list)
    for when, thread, kind, code in result.failures:
        failures[thread].append((when, kind, code))
    errors_before = collections.Counter(code for when, _, _, code in result.failures if when < killed_at)
    errors_after = collections.Counter(code for when, _, _, code in result.failures if when >= killed_at)

    gap_before = gap_after = 0.0
    detected, reconnected, retry_took, first_after = [], [], [], []
    interrupted = collections.Counter()
    hit = without_ack_after = 0
    for thread in set(acks) | set(failures):
        times = sorted(acks.get(thread, []))
        points = [started] + [when for when, _, _ in times]  # the first gap runs from the start
        for a, b in zip(points, points[1:]):
            if b < killed_at:
                gap_before = max(gap_before, b - a)
            else:
                gap_after = max(gap_after, b - a)
        after = [ack for ack in times if ack[0] >= killed_at]
        if not after:
            without_ack_after += 1
            gap_after = max(gap_after, ended - points[-1])
        failed_after = sorted(f for f in failures.get(thread, []) if f[0] >= killed_at)
        if failed_after:
            hit += 1
            interrupted[failed_after[0][1]] += 1
            detected.append(failed_after[0][0] - killed_at)
            if after:
                when, _, took = after[0]
                last_failure = max((f[0] for f in failed_after if f[0] <= when), default=failed_after[0][0])
                reconnected.append(when - took - last_failure)
                retry_took.append(took)
                first_after.append(when - killed_at)
    return Failover(
        acks_before,
        acks_after,
        latencies_before,
        latencies_after,
        killed_at - started,
        deadline - killed_at,
        window_after,
        errors_before,
        errors_after,
        interrupted,
        hit,
        gap_before,
        gap_after,
        sorted(detected),
        sorted(reconnected),
        sorted(retry_took),
        sorted(first_after),
        without_ack_after,
        None if down_at is None else down_at - killed_at,
    )


def _codes(counter: collections.Counter) -> str:
    return ", ".join(f"{code} {n}" for code, n in counter.most_common()) or "none"


def _ms(values: list[float], fraction: float) -> str:
    return f"{1000 * percentile(values, fraction):.0f}" if values else "-"


def table(f: Failover, result: TimedLoadResult, check, stats: dict[str, dict[str, str]], args) -> str:
    lines = [
        f"{'kind':11} | {'before: acked':>13} {'/s':>5} {'p50 ms':>7} {'p99 ms':>7} | {'after: acked':>12} {'/s':>5} "
        f"{'p50 ms':>7} {'p99 ms':>7} | {'all p50':>7} {'all p99':>7}",
        "-" * 108,
    ]
    for kind in KINDS:
        before, after = f.latencies_before.get(kind, []), f.latencies_after.get(kind, [])
        every = result.latencies.get(kind, [])
        lines.append(
            f"{kind:11} | {f.acks_before[kind]:13d} {f.rate(kind):5.1f} {_ms(before, 0.5):>7} {_ms(before, 0.99):>7} | "
            f"{f.acks_after[kind]:12d} {f.rate(kind, True):5.1f} {_ms(after, 0.5):>7} {_ms(after, 0.99):>7} | "
            f"{_ms(every, 0.5):>7} {_ms(every, 0.99):>7}"
        )
    lines.append("-" * 108)
    lines.append(
        f"{'all':11} | {sum(f.acks_before.values()):13d} {f.rate():5.1f} {'':>15} | "
        f"{sum(f.acks_after.values()):12d} {f.rate(after=True):5.1f}"
    )
    lines += [
        f"(before: 2 servers, {f.seconds_before:.1f} s; after: 1 server, {f.seconds_after:.1f} s with the "
        f"failover, plus the replies to the requests still in flight at the end, not counted in /s)",
        "",
        f"throughput: {f.rate():.1f} requests/s ({f.rate('recognize'):.1f} recognize/s) with 2 servers; "
        f"{f.rate(after=True):.1f} requests/s ({f.rate('recognize', True):.1f} recognize/s) with 1 server "
        f"after the kill",
        f"HAProxy marked s1 down {f'{f.down_after:.2f} s' if f.down_after is not None else 'never (!)'} "
        f"after the SIGKILL",
        f"failed attempts (each retried): before the kill: {_codes(f.errors_before)}; "
        f"after it: {_codes(f.errors_after)}; {f.clients_hit} of {args.clients} clients hit, "
        f"their requests in flight: {_codes(f.interrupted)}",
        f"clients hit: connection error {_spread(f.detected)} after the kill; retry sent on a new connection through "
        f"HAProxy {_spread(f.reconnected)} after the error (0.2 s pause, connect, hello); the retry took "
        f"{_spread(f.retry_took)}; next acknowledged reply {_spread(f.first_ack_after_kill)} after the kill",
        f"failover: longest time a client went without an acknowledged reply across/after the kill: "
        f"{f.failover_gap:.2f} s (before the kill: {f.longest_gap_before:.2f} s, queueing for recognition)",
        "HAProxy per server: "
        + "; ".join(
            f"{name} {s['status']}, {s['stot']} connections, {s['wretr']} retries, {s['wredis']} redispatches"
            for name, s in stats.items()
        ),
        f"recognize answers without the expected student: {result.wrong_answers}; "
        f"requests still failing when the time was up: {result.gave_up}",
        f"marks: {check.acknowledged} acknowledged (lecture, student) pairs, {check.stored} stored, "
        f"{check.missing} acknowledged but missing, {check.unexpected} stored but never sent, "
        f"{check.duplicate_rows} duplicate rows",
        f"batches: {len(result.batch_acks)} acknowledged "
        f"({sum(a.count(True) for a in result.batch_acks.values())} replayed replies), "
        f"{check.batches_applied_twice} applied twice, {check.batches_missing} missing",
    ]
    return "\n".join(lines)


def _spread(values: list[float]) -> str:
    """min-max (median) in seconds."""
    if not values:
        return "(none)"
    return f"{min(values):.2f}-{max(values):.2f} s (median {percentile(values, 0.5):.2f})"


def warm_up(port: int, token: str, seeded, probe: bytes) -> None:
    """One recognize (with and without a lecture) straight to a server, so that its worker has
    loaded the models before the timed load starts (no marks: verify() must not see them)."""
    with FramedClient("127.0.0.1", port, token=token, timeout=120) as client:
        client.recognize(probe)
        client.recognize(probe, sorted(seeded.lectures)[0])


# -- command line ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the load (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=20, help="client threads (default: %(default)s)")
    parser.add_argument(
        "--kill-at",
        type=float,
        default=None,
        help="seconds into the load when server s1 is SIGKILLed (default: a third of --seconds)",
    )
    parser.add_argument("--lectures", type=int, default=10, help="lectures in the database (default: %(default)s)")
    parser.add_argument(
        "--students", type=int, default=1000, help="made-up students enrolled in each lecture (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.kill_at is None:
        args.kill_at = args.seconds / 3
    if not 0 < args.kill_at < args.seconds:
        parser.error("--kill-at must be inside the run (0 < KILL_AT < SECONDS)")
    haproxy_binary()  # fail early, before seeding anything
    knowns = FACES / "knowns"

    seeded = seed_database(
        DatabaseUrl.parse(url_from_env()), DATABASE, knowns, lectures=args.lectures, extra_students=args.students
    )
    tokens = [new_client(seeded.url, f"load-{n}") for n in range(args.clients)]
    # One after the other: the first enrolls knowns/ (encodes the photos), the second finds them.
    # (server/cli.py has no --gallery-refresh option: the gallery reloads every 60 s.)
    servers = {
        name: ServerProcess(seeded.url, knowns, "--rate", "0", *LOOPBACK_CROWD, workers=1) for name in SERVER_NAMES
    }
    with tempfile.TemporaryDirectory(prefix="attendance-scale-out-") as tmp:
        try:
            for server in servers.values():
                server.start()
            probe = sample_probes()[0][0]
            for server in servers.values():
                warm_up(server.port, tokens[0], seeded, probe)
            load_average = os.getloadavg()
            with HAProxy(Path(tmp), {name: s.port for name, s in servers.items()}) as haproxy:
                watcher = StateWatcher(haproxy, "s1", seeded.url).start()
                print(
                    f"2 servers (ports {', '.join(str(s.port) for s in servers.values())}) behind HAProxy on "
                    f"127.0.0.1:{haproxy.port}; {args.clients} clients for {args.seconds:g} s, "
                    f"SIGKILL to s1 at {args.kill_at:g} s",
                    flush=True,
                )
                result, started, killed_at, deadline, ended = run_load_with_kill(
                    "127.0.0.1",
                    haproxy.port,
                    tokens,
                    seeded,
                    seconds=args.seconds,
                    kill_at=args.kill_at,
                    kill=servers["s1"].kill,
                    seed=args.seed,
                )
                watcher.stop()
                survivor_alive = servers["s2"].process.poll() is None
                stats = haproxy.servers()
                haproxy_log = haproxy.log_text()
                config = haproxy.config
        finally:
            for server in servers.values():
                server.stop()

    check = verify(seeded.url, result)
    failover = analyse(result, started, killed_at, deadline, ended, watcher.down_at)
    text = table(failover, result, check, stats, args)
    text += f"\npeak database connections held by the servers (sampled every 0.5 s): {watcher.peak_db_connections}"
    both_used = all(int(s["stot"]) > 0 for s in stats.values())
    carried_on = failover.clients_without_ack_after == 0
    checks = {
        "every acknowledged mark stored exactly once, nothing unexpected, no batch twice": check.ok,
        "recognize found the expected student every time": result.wrong_answers == 0,
        "HAProxy sent connections to both servers": both_used,
        "the kill hit clients (their connections broke and were retried)": failover.clients_hit > 0,
        "every client got acknowledged replies after the kill": carried_on,
        "HAProxy marked the killed server down": failover.down_after is not None,
        "the surviving server kept running": survivor_alive,
    }
    ok = all(checks.values())
    text += "\n" + "\n".join(f"check: {what}: {'ok' if good else 'FAILED'}" for what, good in checks.items())
    print(text)
    if not ok:
        print("haproxy log:\n" + haproxy_log[-3000:])
        for name, server in servers.items():
            print(f"server {name} log (last lines):\n" + "".join(list(server.lines)[-30:]))
    print("CHECKS PASSED" if ok else "CHECKS FAILED")

    acked_marks = check.acknowledged
    gap = failover.failover_gap
    reconnect = max(failover.reconnected, default=float("nan"))
    rows = [
        results.Row(
            f"scale-out: {args.clients} clients via HAProxy, 2 servers, one SIGKILLed "
            f"at {args.kill_at:g} s of {args.seconds:g} s",
            f"{acked_marks} acked marks, {check.stored} stored, {check.missing} missing, "
            f"{check.duplicate_rows} duplicates, {check.batches_applied_twice} batches twice",
            target="every acked mark exactly once",
            met=check.ok and carried_on,
        ),
        results.Row(
            "scale-out: failover (longest time a client went without an acknowledged reply across the SIGKILL)",
            f"{results.seconds(gap)}; broken connections replaced through HAProxy within "
            f"{results.seconds(reconnect)} (0.2 s client pause included); HAProxy marked the server down after "
            f"{results.seconds(failover.down_after) if failover.down_after is not None else 'never'}; "
            f"{sum(failover.errors_after.values())} failed attempts retried, {failover.clients_hit} clients hit",
            baseline=f"before the kill: {results.seconds(failover.longest_gap_before)} (queueing)",
        ),
        results.Row(
            "scale-out: throughput through HAProxy (recognize/mark/batch mix)",
            f"1 server after the kill: {failover.rate(after=True):.1f} requests/s, "
            f"{failover.rate('recognize', True):.1f} recognize/s",
            baseline=f"2 servers: {failover.rate():.1f} requests/s, {failover.rate('recognize'):.1f} recognize/s",
        ),
    ]
    details = (
        f"{os.cpu_count()} cores shared by MariaDB, HAProxy, both servers (1 recognition worker each) and the "
        f"{args.clients} client threads (load average when the load started: "
        f"{' '.join(f'{v:.2f}' for v in load_average)}).\n\n```\n{text}\n```\n\n"
        f"HAProxy configuration used:\n\n```\n{config}```\n"
    )
    results.save("scale_out", rows, details=details)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
