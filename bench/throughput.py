"""Recognition throughput: 4 clients sending webcam-sized images, 1 worker process vs. every core.

Two ``attendance-server`` processes on one fresh database, enrolled from the sample knowns: one
with ``--workers 1`` (the baseline), one with ``--workers N`` (default: one per core, as the
server starts by default). ``--clients`` (4) threads, each with its own connection and token,
send the single-face sample probes of at most 480p (``recognize``) back to back for
``--seconds`` (15) per run; the runs alternate (1 worker, N workers, 1 worker, ...) ``--rounds``
(2) times so that both servers see the same machine load. Images/s = answered requests / time,
summed over the rounds.

Target (issue 7): N workers >= 1.7x the images/s of 1 worker. Exit status 1 when missed.

Then, with ``--profile S`` (default 15; 0 skips), py-spy samples the N-worker server and its
workers for S seconds under the same load; the functions that take the most time (their own
samples, and with what they call) go into docs/benchmarks.md.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.throughput
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import results
from client.connection import FramedClient
from db.connection import DatabaseUrl, url_from_env
from db.schema import recreate_database
from testkit.load import sample_probes
from testkit.paths import FACES
from testkit.processes import ServerProcess, new_client

TARGET = 1.7


def send_images(
    port: int, tokens: list[str], probes: list[tuple[bytes, str]], seconds: float
) -> tuple[int, int, float]:
    """(answered, wrong, elapsed seconds): one thread per token sends probes until time is up."""
    answered = collections.Counter()
    wrong = collections.Counter()
    deadline = time.monotonic() + seconds

    def client_loop(number: int, token: str) -> None:
        with FramedClient("127.0.0.1", port, token=token, timeout=120) as client:
            n = number
            while time.monotonic() < deadline:
                image, student_id = probes[n % len(probes)]
                n += 1
                reply = client.recognize(image)
                answered[number] += 1
                if student_id not in {face.student_id for face in reply.faces}:
                    wrong[number] += 1

    threads = [threading.Thread(target=client_loop, args=(n, t), daemon=True) for n, t in enumerate(tokens)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered.values()), sum(wrong.values()), time.monotonic() - started


def profile(server: ServerProcess, port: int, tokens, probes, seconds: float) -> str:
    """py-spy's collapsed stacks of the server and its workers while ``tokens`` clients load it."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        return ""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "profile.txt"
        recorder = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(server.pid),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                "100",
                "--duration",
                str(int(seconds)),
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)
        send_images(port, tokens, probes, seconds + 1)
        _, err = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0 or not out.exists():
            print(f"py-spy failed: {err.strip()}", file=sys.stderr)
            return ""
        return out.read_text(encoding="utf-8", errors="replace")


def summarize_profile(collapsed: str, top: int = 12) -> str:
    """Markdown tables of the busiest functions, per process kind (server or worker): the share of
    samples where a function is running itself (own) and where it is on the stack (total)."""
    by_process: dict[str, tuple[collections.Counter, collections.Counter, list[int]]] = {}
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        kind = "worker processes" if "multiprocessing" in frames[0] or "spawn_main" in stack else "server process"
        own, total, samples = by_process.setdefault(kind, (collections.Counter(), collections.Counter(), [0]))
        samples[0] += int(count)
        functions = [_function(frame) for frame in frames[1:]] or ["(idle)"]
        own[functions[-1]] += int(count)
        for function in set(functions):
            total[function] += int(count)
    sections = []
    for kind, (own, total, samples) in sorted(by_process.items()):
        lines = [
            f"**{kind}** ({samples[0]} samples; idle threads are not sampled)\n",
            "| function | own | total |",
            "|---|---|---|",
        ]
        for function, count in own.most_common(top):
            lines.append(
                f"| `{function}` | {100 * count / samples[0]:.1f} % | {100 * total[function] / samples[0]:.1f} % |"
            )
        sections.append("\n".join(lines))
    return "\n\n".join(sections)


def _function(frame: str) -> str:
    """'detect_faces (server/recognition/faces.py:93)' -> 'detect_faces (faces.py)'."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({os.path.basename(path)})" if path else name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", type=float, default=15.0, metavar="S")
    args = parser.parse_args()

    url = recreate_database(DatabaseUrl.parse(url_from_env()), "attendance_bench_throughput")
    tokens = [new_client(url, f"bench-throughput-{n}") for n in range(args.clients)]
    probes = sample_probes()
    common = ("--rate", "0", "--close-due-every", "0", "--idle-timeout", "120")
    baseline = ServerProcess(url, FACES / "knowns", *common, workers=1)
    scaled = ServerProcess(url, FACES / "knowns", *common, workers=args.workers)
    totals = {1: [0, 0, 0.0], args.workers: [0, 0, 0.0]}  # answered, wrong, seconds
    collapsed = ""
    with baseline, scaled:
        for server in (baseline, scaled):  # warm up: every worker has seen each image size
            send_images(server.port, tokens, probes, 3)
        for round_ in range(args.rounds):
            for workers, server in ((1, baseline), (args.workers, scaled)):
                answered, wrong, elapsed = send_images(server.port, tokens, probes, args.seconds)
                totals[workers] = [a + b for a, b in zip(totals[workers], (answered, wrong, elapsed))]
                print(
                    f"round {round_ + 1}: {workers} worker(s): {answered} images in {elapsed:.1f} s "
                    f"= {answered / elapsed:.2f} images/s"
                )
        if args.profile > 0:
            collapsed = profile(scaled, scaled.port, tokens, probes, args.profile)

    rate = {workers: answered / elapsed for workers, (answered, _, elapsed) in totals.items()}
    ratio = rate[args.workers] / rate[1]
    wrong = sum(w for _, w, _ in totals.values())
    met = ratio >= TARGET and wrong == 0
    table = (
        f"| server | images/s | wrong answers |\n|---|---|---|\n"
        f"| 1 worker process | {rate[1]:.2f} | {totals[1][1]} |\n"
        f"| {args.workers} worker processes | {rate[args.workers]:.2f} | {totals[args.workers][1]} |\n"
        f"\n{args.clients} clients, {len(probes)} single-face probes of at most 480p in turn, "
        f"{args.rounds} alternating rounds of {args.seconds:g} s per server."
    )
    print(
        f"\n1 worker: {rate[1]:.2f} images/s; {args.workers} workers: {rate[args.workers]:.2f} images/s; "
        f"ratio {ratio:.2f} (target >= {TARGET}); wrong answers: {wrong}"
    )
    details = table
    if collapsed:
        summary = summarize_profile(collapsed)
        print("\nProfile under load (py-spy):\n" + summary)
        details += (
            f"\n\n#### Where the time goes ({args.workers} workers, {args.clients} clients, "
            f"py-spy {args.profile:g} s at 100 Hz)\n\n" + summary
        )
    results.save(
        "throughput",
        [
            results.Row(
                f"throughput, {args.clients} clients sending <= 480p images",
                f"{rate[args.workers]:.2f} images/s with {args.workers} workers ({ratio:.2f}x)",
                baseline=f"1 worker: {rate[1]:.2f} images/s",
                target=f">= {TARGET}x",
                met=met,
            ),
        ],
        details=details,
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
