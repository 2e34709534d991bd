"""Recognition latency: each sample image through the running server vs. plain face_recognition.

In one run, alternating, for every probe/group/negative image in the sample manifest:
- plain: ``face_recognition.load_image_file`` + ``face_locations`` + ``face_encodings`` +
  ``face_distance`` against the enrolled encodings, in this process (one core);
- server: a framed ``recognize`` round trip to ``attendance-server`` (separate process, started
  here on a fresh database, enrolled from the sample knowns).
Each is timed ``--repeat`` times, alternately; the medians are kept. Ratio = server / plain.

Targets (issue 2): <= 1.10x for single-face images up to 480p (longest side <= 854 px);
<= 0.5x for images over 1500 px. Exit status 1 when a target is missed.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.recognition
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import face_recognition
import numpy as np
from PIL import Image

from bench import results
from client.connection import FramedClient
from db.connection import DatabaseUrl, url_from_env
from db.schema import recreate_database
from testkit.paths import FACES
from testkit.processes import ServerProcess
from testkit.servers import add_client

SMALL_MAX_SIDE = 854  # 480p (853x480 and smaller)
LARGE_MIN_SIDE = 1500


def plain_recognize(path: Path, known: np.ndarray) -> int:
    image = face_recognition.load_image_file(str(path))
    boxes = face_recognition.face_locations(image)
    encodings = face_recognition.face_encodings(image, boxes)
    for encoding in encodings:
        face_recognition.face_distance(known, encoding)
    return len(boxes)


def known_encodings() -> np.ndarray:
    rows = []
    for path in sorted((FACES / "knowns").iterdir()):
        image = face_recognition.load_image_file(str(path))
        rows.extend(face_recognition.face_encodings(image)[:1])
    return np.array(rows)


def sample_images() -> list[Path]:
    with open(FACES / "manifest.csv", newline="", encoding="utf-8") as f:
        return [FACES / r["path"] for r in csv.DictReader(f) if r["kind"] in ("probe", "group", "negative")]


def interleaved_medians(plain, server, repeat: int) -> tuple[float, float]:
    """Median seconds of each, timed alternately (plain, server, plain, ...) so that both see
    the same machine load."""
    times = {plain: [], server: []}
    for _ in range(repeat):
        for fn in (plain, server):
            started = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - started)
    return statistics.median(times[plain]), statistics.median(times[server])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1: one core each)")
    args = parser.parse_args()

    url = recreate_database(DatabaseUrl.parse(url_from_env()), "attendance_bench_recognition")
    known = known_encodings()
    token = add_client(url, "bench")
    rows = []
    with (
        ServerProcess(url, FACES / "knowns", workers=args.workers, log_level="INFO") as server,
        FramedClient("127.0.0.1", server.port, token=token, timeout=120) as client,
    ):
        for path in sample_images():
            data = path.read_bytes()
            client.recognize(data)  # warm the worker's caches for this size
            plain, served = interleaved_medians(
                lambda path=path: plain_recognize(path, known), lambda data=data: client.recognize(data), args.repeat
            )
            faces = len(client.recognize(data).faces)
            with Image.open(path) as im:
                size = im.size
            rows.append((path, size, faces, plain, served))

    print(f"{'image':34} {'size':>10} {'faces':>5} {'plain ms':>9} {'server ms':>9} {'ratio':>6}  target")
    missed = []
    for path, size, faces, plain, server in rows:
        ratio = server / plain
        side = max(size)
        target = None
        if side <= SMALL_MAX_SIDE and faces == 1:
            target = 1.10
        elif side > LARGE_MIN_SIDE:
            target = 0.5
        verdict = "" if target is None else f"<= {target:.2f} {'ok' if ratio <= target else 'MISSED'}"
        if target is not None and ratio > target:
            missed.append(path.name)
        name = f"{path.parent.name}/{path.name}"
        print(
            f"{name:34} {size[0]:>5}x{size[1]:<4} {faces:>5} {1000 * plain:9.0f} {1000 * server:9.0f} {ratio:6.2f}  {verdict}"
        )
    small = [s / p for _, size, f, p, s in rows if max(size) <= SMALL_MAX_SIDE and f == 1]
    large = [s / p for _, size, f, p, s in rows if max(size) > LARGE_MIN_SIDE]
    print(
        f"\nsingle-face <= 480p: {len(small)} images, ratio max {max(small):.2f}, "
        f"median {statistics.median(small):.2f} (target <= 1.10)"
    )
    print(
        f"over {LARGE_MIN_SIDE} px: {len(large)} images, ratio max {max(large):.2f}, "
        f"median {statistics.median(large):.2f} (target <= 0.50)"
    )
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    save_results(rows, small, large, args)
    return 1 if missed else 0


def save_results(rows, small: list[float], large: list[float], args) -> None:
    lines = ["| image | size | faces | plain ms | server ms | ratio |", "|---|---|---|---|---|---|"]
    for path, size, faces, plain, server in rows:
        lines.append(
            f"| {path.parent.name}/{path.name} | {size[0]}x{size[1]} | {faces} | {1000 * plain:.0f} | "
            f"{1000 * server:.0f} | {server / plain:.2f} |"
        )
    lines.append(
        f"\nServer with {args.workers} worker process(es); medians of {args.repeat} alternating runs. "
        "Plain = `load_image_file` + `face_locations` + `face_encodings` + `face_distance` in one process."
    )
    results.save(
        "recognition",
        [
            results.Row(
                f"one single-face image up to 480p, server round trip ({len(small)} images)",
                f"ratio max {max(small):.2f}, median {statistics.median(small):.2f}",
                baseline="plain face_recognition calls",
                target="<= 1.10x",
                met=max(small) <= 1.10,
            ),
            results.Row(
                f"one image over {LARGE_MIN_SIDE} px ({len(large)} images)",
                f"ratio max {max(large):.2f}, median {statistics.median(large):.2f}",
                baseline="plain face_recognition calls",
                target="<= 0.5x",
                met=max(large) <= 0.5,
            ),
        ],
        details="\n".join(lines),
    )


if __name__ == "__main__":
    sys.exit(main())
