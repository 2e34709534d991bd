"""One hostile machine against the server (issue 13, point 1), while 4 honest clients check in.

Starts ``attendance-server`` on 127.0.0.1 with its default limits and 2 workers (a fresh
database on $ATTENDANCE_DB_URL's server, the sample students enrolled), then 4 honest clients
(each its own token, from 127.0.0.1) that send ``recognize`` with a webcam-sized probe photo
every ``--pause`` (0.5) s. Phases of ``--seconds`` (15) alternate: the honest clients alone
(idle; the idle figures pool these phases), then one attacking process (``python -m bench.attack
--attacker``, every connection from 127.0.0.66: a second machine) runs the next attack:

- ``slowloris``: 64 connections that each send one byte every 4 s (a framed preamble and hello);
- ``slow_2019_jpeg``: 16 connections that each send a 2019 JPEG that never ends, 1 KiB a second;
- ``huge_headers``: 16 connections that each send a 16 MiB JSON header ``[{},{},...]`` before hello;
- ``scan_jpeg_2019``: 2 connections at a time sending a 1.2 MB progressive JPEG of 100,000 scans
  as 2019 payloads (no token);
- and with a client token (a kiosk's, stolen): ``identify_500_boxes`` (2 connections),
  ``tiled_faces`` (``recognize`` of an image tiled with 235 faces, 2 connections) and
  ``recognize_flood`` (60 connections sending ``recognize`` as fast as answered).

Prints, per phase: the honest ``recognize`` latencies (p50, p95 and p95 against the idle p95),
the honest requests refused (any error or lost connection), the server's CPU time (main process
and workers), its peak memory (RSS, main process + workers), and what the attacker got back.
Targets: p95 <= 2x idle during every attack, no honest request refused, RSS <= 1 GiB. Only
loopback; bounded: 14 phases of ``--seconds`` (about 5 minutes in all).

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.attack [--seconds 15]

Exit status 1 when a target is missed. The figures are saved for docs/benchmarks.md
(bench/results.py). The same attacks, small, are tests/e2e/test_attacks.py.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time

from bench import results
from client.connection import FramedClient, ServerError
from db.connection import DatabaseUrl, url_from_env
from db.schema import recreate_database
from protocol import framed
from testkit import attacks
from testkit.load import sample_probes
from testkit.paths import FACES, REPO
from testkit.processes import ServerProcess, cpu_seconds, descendants, new_client
from testkit.servers import LECTURE, seed_roster

ATTACKS = (
    "slowloris",
    "slow_2019_jpeg",
    "huge_headers",
    "scan_jpeg_2019",
    "identify_500_boxes",
    "tiled_faces",
    "recognize_flood",
)
HONEST_CLIENTS = 4
RSS_TARGET_KIB = 1024 * 1024


# -- the attacking process ----------------------------------------------------------------------


def attacker(host: str, port: int, token: str, seconds: float) -> int:
    """Read attack names from stdin; run each for ``seconds``; print one JSON line per attack."""
    # Every connection of this process comes from the attacker's address, FramedClient's too.
    socket.create_connection = functools.partial(socket.create_connection, source_address=(attacks.ATTACKER, 0))
    probe = (FACES / "probes/obama_small.jpg").read_bytes()
    payloads = {
        "scan_jpeg": attacks.many_scan_jpeg(6000, 100_000),
        "crowd": attacks.tiled_faces(FACES / "probes/obama_small.jpg", 235, columns=20),
        "endless": attacks.endless_jpeg(64),
        "header": attacks.huge_header_frame(16 * 2**20),
    }
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        replies: collections.Counter = collections.Counter()
        started = time.monotonic()
        print(json.dumps({"started": name}), flush=True)
        _run_attack(name, host, port, token, seconds, probe, payloads, replies)
        print(json.dumps({"attack": name, "seconds": time.monotonic() - started, "replies": replies}), flush=True)
    return 0


def _run_attack(name, host, port, token, seconds, probe, payloads, replies) -> None:
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def count(what: str) -> None:
        with lock:
            replies[what] += 1

    def loop(body) -> None:
        while time.monotonic() < stop_at:
            try:
                body()
            except ServerError as exc:
                count(exc.code)
            except OSError as exc:
                count(f"connection: {type(exc).__name__}")
                time.sleep(0.05)

    def threads(count_: int, body) -> None:
        running = [threading.Thread(target=loop, args=(body,), daemon=True) for _ in range(count_)]
        for thread in running:
            thread.start()
        for thread in running:
            thread.join(timeout=max(0.0, stop_at - time.monotonic()) + 15)

    if name in ("slowloris", "slow_2019_jpeg"):
        if name == "slowloris":
            payload = framed.PREAMBLE + framed.encode(framed.HelloRequest(1, token))
            trickle = attacks.Trickle(host, port, payload, connections=64, interval=4.0)
        else:
            trickle = attacks.Trickle(host, port, payloads["endless"], connections=16, interval=1.0, chunk=1024)
        trickle.start()
        time.sleep(max(0.0, stop_at - time.monotonic()))
        trickle.stop()
        replies["connections opened"] += trickle.opened
        replies["connections ended by the server"] += trickle.ended
        return

    def huge_header() -> None:
        with attacks.connect_from(host, port, timeout=30) as sock:
            try:
                sock.sendall(payloads["header"])
            except OSError:
                count("cut off while sending")
            reply = attacks.closed_within(sock, 30)
            count("frame_too_large" if reply and b"frame_too_large" in reply else "other reply")

    def scan_jpeg() -> None:
        count(attacks.send_legacy(host, port, payloads["scan_jpeg"]).decode("ascii", "replace") or "no reply")

    def with_client(request):
        def body() -> None:
            with FramedClient(host, port, token=token, timeout=10) as client:
                while time.monotonic() < stop_at:
                    try:
                        request(client)
                        count("answered")
                    except ServerError as exc:
                        count(exc.code)
                        if exc.code in framed.ErrorCode.FATAL:
                            return

        return body

    # 500 boxes (top, right, bottom, left) of 18 x 18 pixels, 25 to a row
    boxes = [(20 * (n // 25), 20 * (n % 25) + 18, 20 * (n // 25) + 18, 20 * (n % 25)) for n in range(500)]
    bodies = {
        "huge_headers": (16, huge_header),
        "scan_jpeg_2019": (2, scan_jpeg),
        "identify_500_boxes": (2, with_client(lambda client: client.identify(probe, boxes))),
        "tiled_faces": (2, with_client(lambda client: client.recognize(payloads["crowd"]))),
        "recognize_flood": (60, with_client(lambda client: client.recognize(probe))),
    }
    threads(*bodies[name])


# -- the honest clients and the measurements ----------------------------------------------------


class Honest:
    """4 clients checking in (recognize) every ``pause`` s; each latency and refusal is kept with
    its time, so that the phases can be told apart afterwards."""

    def __init__(self, port: int, tokens: list[str], probes: list[bytes], pause: float):
        self.port, self.tokens, self.probes, self.pause = port, tokens, probes, pause
        self.latencies: list[tuple[float, float]] = []  # (time, seconds)
        self.refusals: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(len(tokens))]

    def start(self) -> Honest:
        for thread in self.threads:
            thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _client(self, index: int) -> None:
        client = None
        n = index
        while not self.stop.is_set():
            image = self.probes[n % len(self.probes)]
            n += 1
            started = time.monotonic()
            try:
                if client is None:
                    client = FramedClient("127.0.0.1", self.port, token=self.tokens[index], timeout=60)
                client.recognize(image, LECTURE)
                with self.lock:
                    self.latencies.append((started, time.monotonic() - started))
            except ServerError as exc:
                with self.lock:
                    self.refusals.append((started, exc.code))
            except OSError as exc:
                with self.lock:
                    self.refusals.append((started, f"connection: {type(exc).__name__}"))
                if client is not None:
                    client.close()
                client = None
            self.stop.wait(self.pause)
        if client is not None:
            client.close()

    def between(self, start: float, end: float) -> tuple[list[float], list[str]]:
        with self.lock:
            return (
                sorted(seconds for at, seconds in self.latencies if start <= at < end),
                [code for at, code in self.refusals if start <= at < end],
            )


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the process and its children now alive."""
    total = 0.0
    for each in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):  # ended meanwhile
            total += cpu_seconds(each)
    return total


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(fraction * (len(values) - 1))))]


class MemoryWatch:
    """The server's RSS (main process + workers) every 0.25 s; :meth:`peak_since` per phase."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.samples: list[tuple[float, int, int]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> MemoryWatch:
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            main, workers = self.server.rss_kib()
            self.samples.append((time.monotonic(), main, workers))

    def peak(self, start: float, end: float) -> tuple[int, int]:
        inside = [(main, workers) for at, main, workers in self.samples if start <= at <= end] or [(0, 0)]
        return max(main + workers for main, workers in inside), max(main for main, _ in inside)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of each phase (default: 15)")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between an honest client's requests")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", action="append", choices=ATTACKS, help="run only this attack (repeatable)")
    parser.add_argument("--attacker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attacker:
        return attacker("127.0.0.1", args.port, args.token, args.seconds)

    knowns = FACES / "knowns"
    url = recreate_database(DatabaseUrl.parse(url_from_env()), "attendance_bench_attack")
    seed_roster(url, knowns)
    tokens = [new_client(url, f"kiosk-{n}") for n in range(1, HONEST_CLIENTS + 1)]
    stolen = new_client(url, "kiosk-stolen")
    probes = [image for image, _ in sample_probes()]
    attacks_run = list(args.only or ATTACKS)
    # Idle and attack phases alternate (the machine's load drifts); the idle figures pool them.
    phases = [phase for attack in attacks_run for phase in (f"idle {attack}", attack)]
    rows_text = []
    figures: dict[str, dict] = {}
    with ServerProcess(url, knowns, workers=args.workers) as server:
        for token in tokens:  # warm up: the first request of each worker loads its caches
            with FramedClient("127.0.0.1", server.port, token=token) as client:
                client.recognize(probes[0], LECTURE)
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        attacking = subprocess.Popen(
            [sys.executable, "-m", "bench.attack", "--attacker", "--port", str(server.port), "--token", stolen]
            + ["--seconds", str(args.seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        assert attacking.stdin is not None and attacking.stdout is not None
        json.loads(attacking.stdout.readline())  # ready: its payloads are built
        memory = MemoryWatch(server).start()
        honest = Honest(server.port, tokens, probes, args.pause).start()
        try:
            for phase in phases:
                cpu_before = tree_cpu_seconds(server.pid)
                if phase.startswith("idle"):
                    start = time.monotonic()
                    time.sleep(args.seconds)
                    attacker_replies: dict = {}
                else:
                    attacking.stdin.write(phase + "\n")
                    attacking.stdin.flush()
                    json.loads(attacking.stdout.readline())  # started
                    start = time.monotonic()
                    time.sleep(args.seconds)
                end = time.monotonic()
                cpu = tree_cpu_seconds(server.pid) - cpu_before
                if not phase.startswith("idle"):  # the attack's last connections end (not counted)
                    attacker_replies = json.loads(attacking.stdout.readline())["replies"]
                latencies, refused = honest.between(start, end)
                peak_total, peak_main = memory.peak(start, end)
                figures[phase] = dict(
                    latencies=latencies,
                    n=len(latencies),
                    p50=percentile(latencies, 0.5),
                    p95=percentile(latencies, 0.95),
                    refused=refused,
                    cpu=cpu,
                    seconds=end - start,
                    rss=peak_total,
                    rss_main=peak_main,
                    replies=attacker_replies,
                )
                print(_line(phase, figures[phase], figures[phases[0]]["p95"]), flush=True)
                time.sleep(2.0)  # the attack's connections drain before the next phase
        finally:
            honest.finish()
            memory.stop.set()
            attacking.stdin.close()
            attacking.wait(60)

    idle_phases = [figures[phase] for phase in phases if phase.startswith("idle")]
    pooled = sorted(seconds for got in idle_phases for seconds in got["latencies"])
    idle = dict(
        latencies=pooled,
        n=len(pooled),
        p50=percentile(pooled, 0.5),
        p95=percentile(pooled, 0.95),
        refused=[code for got in idle_phases for code in got["refused"]],
        cpu=sum(got["cpu"] for got in idle_phases) / len(idle_phases),
        seconds=sum(got["seconds"] for got in idle_phases) / len(idle_phases),
        rss=max(got["rss"] for got in idle_phases),
        rss_main=max(got["rss_main"] for got in idle_phases),
        replies={},
    )
    rows = [
        results.Row(
            "honest recognize, idle (4 clients)", f"p50 {idle['p50'] * 1000:.0f} ms, p95 {idle['p95'] * 1000:.0f} ms"
        )
    ]
    ok = not idle["refused"]
    for phase in attacks_run:
        got = figures[phase]
        ratio = got["p95"] / idle["p95"]
        met = ratio <= 2.0 and not got["refused"] and got["rss"] <= RSS_TARGET_KIB
        ok = ok and met
        rows.append(
            results.Row(
                f"honest recognize during {phase}",
                f"p95 {got['p95'] * 1000:.0f} ms ({ratio:.2f}x), {len(got['refused'])} refused, "
                f"RSS {got['rss'] / 1024:.0f} MiB",
                baseline=f"idle p95 {idle['p95'] * 1000:.0f} ms",
                target="p95 <= 2x idle, 0 refused, RSS <= 1 GiB",
                met=met,
            )
        )
    rows_text.append(_table_row(f"idle ({len(idle_phases)} phases pooled; CPU per phase)", idle, idle["p95"]))
    for phase in attacks_run:
        rows_text.append(_table_row(phase, figures[phase], idle["p95"]))
    details = "\n".join(
        [
            f"{HONEST_CLIENTS} honest clients (recognize of a webcam-sized probe every {args.pause:g} s, from "
            f"127.0.0.1); one attacking process (from {attacks.ATTACKER}); {args.workers} recognition workers; "
            f"the server's default limits; {args.seconds:g} s per phase. CPU: the server's (main process and "
            "workers) during the phase, the honest clients' share included (see the idle row). Idle and attack "
            "phases alternate; the idle figures pool every idle phase.",
            "",
            "| phase | honest n | p50 | p95 | p95 / idle | honest refused | server CPU s | peak RSS (main) | "
            "what the attacker got |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows_text,
        ]
    )
    results.save("attack", rows, details=details)
    print(results.text_table([dataclasses.asdict(row) for row in rows]))
    print("TARGETS MET" if ok else "TARGETS MISSED")
    return 0 if ok else 1


def _line(phase: str, got: dict, idle_p95: float) -> str:
    return (
        f"{phase:20} honest n={got['n']:3d} p50 {got['p50'] * 1000:5.0f} ms p95 {got['p95'] * 1000:5.0f} ms "
        f"({got['p95'] / idle_p95:.2f}x idle) refused {len(got['refused'])} {collections.Counter(got['refused'])}; "
        f"server CPU {got['cpu']:.1f} s; peak RSS {got['rss'] / 1024:.0f} MiB (main {got['rss_main'] / 1024:.0f}); "
        f"attacker got {dict(got['replies'])}"
    )


def _table_row(phase: str, got: dict, idle_p95: float) -> str:
    replies = ", ".join(f"{key} {value}" for key, value in sorted(got["replies"].items())) or "-"
    refused = ", ".join(f"{k} {v}" for k, v in collections.Counter(got["refused"]).items()) or "0"
    return (
        f"| {phase} | {got['n']} | {got['p50'] * 1000:.0f} ms | {got['p95'] * 1000:.0f} ms | "
        f"{got['p95'] / idle_p95:.2f}x | {refused} | {got['cpu']:.1f} | {got['rss'] / 1024:.0f} MiB "
        f"({got['rss_main'] / 1024:.0f}) | {replies} |"
    )


if __name__ == "__main__":
    sys.exit(main())
