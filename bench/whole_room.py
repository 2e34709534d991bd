"""One whole-room frame end to end: detection/bald_guys.jpg (24 faces, 1986x1545).

Baseline (same run, alternating): the plain calls on one core in this process, as a 2019-style
server did it: ``load_image_file`` + ``face_locations`` + ``face_encodings`` + ``face_distance``
against the enrolled encodings.

Ours: an ``attendance-server`` (one worker process per core) on a fresh database enrolled from
the sample knowns, over a framed connection, in its two ways of handling a classroom frame:

- camera: ``detect`` (whole room: every face down to 40 px, on every worker) + ``identify`` of
  every face (encoded on every worker), as ``attendance-watch`` does for a frame of new faces;
- recognize: the single ``recognize`` request (detection on the 800-px copy; many faces are
  encoded on every worker).

Each server is run with every dlib build found by bench/dlib_builds.py (dlib-bin, and dlib with
OpenBLAS when ``make fast-dlib`` has built it), alternating with the baseline, ``--repeat`` times.

Target (issue 7): <= 1.5 s end to end. Exit status 1 when no build meets it in either way.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.whole_room
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from bench import results
from bench.dlib_builds import available_builds, build_env
from bench.recognition import known_encodings, plain_recognize
from client.connection import FramedClient
from db.connection import DatabaseUrl, url_from_env
from db.schema import recreate_database
from testkit.paths import FACES
from testkit.processes import ServerProcess, new_client
from testkit.servers import LECTURE, seed_roster

TARGET = 1.5
PICTURE = FACES / "detection" / "bald_guys.jpg"


def camera_way(client: FramedClient, data: bytes) -> int:
    boxes = [(b.top, b.right, b.bottom, b.left) for b in client.detect(data).boxes]
    return len(client.identify(data, boxes, LECTURE).faces) if boxes else 0


def recognize_way(client: FramedClient, data: bytes) -> int:
    return len(client.recognize(data, LECTURE).faces)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    known = known_encodings()
    url = recreate_database(DatabaseUrl.parse(url_from_env()), "attendance_bench_whole_room")
    seed_roster(url, FACES / "knowns")
    token = new_client(url, "bench-whole-room")
    data = PICTURE.read_bytes()
    ways = {"camera": camera_way, "recognize": recognize_way}
    plain_times: list[float] = []
    measured: dict[tuple[str, str], tuple[float, int]] = {}
    for build, folder in available_builds().items():
        env = build_env(folder, threads=1)
        with (
            ServerProcess(
                url,
                FACES / "knowns",
                "--rate",
                "0",
                "--close-due-every",
                "0",
                "--idle-timeout",
                "120",
                workers=os.cpu_count() or 2,
                env=env,
            ) as server,
            FramedClient("127.0.0.1", server.port, token=token, timeout=300) as client,
        ):
            for way, call in ways.items():
                call(client, data)  # warm up
                times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    faces = plain_recognize(PICTURE, known)
                    plain_times.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    found = call(client, data)
                    times.append(time.perf_counter() - started)
                measured[(build, way)] = (statistics.median(times), found)
                print(
                    f"{build:>9} {way:>9}: {found} faces, {statistics.median(times):.2f} s "
                    f"(plain {statistics.median(plain_times):.2f} s, {faces} faces)"
                )

    baseline = statistics.median(plain_times)
    lines = ["| dlib build | way | faces | end to end | vs. plain |", "|---|---|---|---|---|"]
    for (build, way), (seconds, found) in measured.items():
        lines.append(f"| {build} | {way} | {found} | {results.seconds(seconds)} | {seconds / baseline:.2f}x |")
    lines.append(
        f"\nPlain calls on one core (dlib-bin, this process): {results.seconds(baseline)}, median of "
        f"{len(plain_times)} runs alternating with the server's. The server uses one worker process "
        "per core; OPENBLAS_NUM_THREADS=1 in each worker."
    )
    table = "\n".join(lines)
    print("\n" + table)
    rows = []
    for way in ways:
        best_build, (best, found) = min(((b, m) for (b, w), m in measured.items() if w == way), key=lambda x: x[1][0])
        others = ", ".join(
            f"{b}: {results.seconds(m[0])}" for (b, w), m in measured.items() if w == way and b != best_build
        )
        rows.append(
            results.Row(
                f"whole-room frame bald_guys.jpg ({found} faces), {way}",
                f"{results.seconds(best)} with {best_build}" + (f" ({others})" if others else ""),
                baseline=f"plain calls, one core: {results.seconds(baseline)}",
                target=f"<= {TARGET:g} s",
                met=best <= TARGET and found == 24,
            )
        )
    results.save("whole_room", rows, details=table)
    return 0 if any(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
