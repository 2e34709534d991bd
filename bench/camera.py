"""Classroom camera benchmark: what tracking saves, and what a whole-room frame costs.

Against a real ``attendance-server`` (separate process, ``--workers`` recognition processes,
fresh database enrolled from the sample knowns):

1. the sample clip (video/short_hamilton_clip.mp4, 9.2 s) watched at two sampling intervals,
   with tracking and without: samples, faces seen, faces the server encoded (identify), and the
   time per sample (detect + identify + presence round trips; median of ``--repeat`` passes);
2. one whole-room frame, median of ``--repeat`` runs: the 24-face collage (detection/bald_guys.jpg)
   and a 1920 x 1080 "classroom" of VOC group photos with 34 small faces: ``detect`` (whole room,
   every worker) + ``identify`` of every face, against the default ``recognize`` (800-px copy).

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.camera
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import cv2

from client.connection import FramedClient
from client.frame_source import VideoFileSource
from client.watch.watcher import Watcher, WatchSettings, watch
from db.connection import DatabaseUrl, url_from_env
from db.schema import recreate_database
from testkit.detection import classroom, score, truth_boxes
from testkit.paths import FACES
from testkit.processes import ServerProcess
from testkit.servers import LECTURE, add_client, seed_roster
from testkit.timing import median_seconds


def watch_clip(client: FramedClient, every: float, tracking: bool) -> tuple[int, int, int, float]:
    """(samples, faces seen, faces encoded, seconds per sample) for one pass over the clip."""
    reports = []
    with VideoFileSource(FACES / "video" / "short_hamilton_clip.mp4") as source:
        watcher = Watcher(client, LECTURE, settings=WatchSettings(tracking=tracking))
        started = time.perf_counter()
        watch(source, watcher, every=every, on_sample=reports.append)
        elapsed = time.perf_counter() - started
    faces = sum(len(r.faces) for r in reports)
    return len(reports), faces, watcher.encoded, elapsed / len(reports)


def whole_room(client: FramedClient, image: bytes) -> list:
    boxes = [(b.top, b.right, b.bottom, b.left) for b in client.detect(image).boxes]
    return list(client.identify(image, boxes, LECTURE).faces) if boxes else []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (default: 2)")
    args = parser.parse_args()

    url = recreate_database(DatabaseUrl.parse(url_from_env()), "attendance_bench_camera")
    seed_roster(url, FACES / "knowns")
    token = add_client(url, "bench-camera")
    server = ServerProcess(
        url,
        FACES / "knowns",
        "--rate",
        "0",
        "--close-due-every",
        "0",
        "--idle-timeout",
        "120",
        workers=args.workers,
        log_level="INFO",
    )
    with server, FramedClient("127.0.0.1", server.port, token=token, timeout=300) as client:
        print(f"Tracking on the clip ({args.workers} server workers)\n")
        print(
            f"{'every':>6} {'tracking':>8} {'samples':>7} {'faces':>5} {'encoded':>7} "
            f"{'enc/sample':>10} {'enc/face':>8} {'ms/sample':>9}"
        )
        for every in (1.0, 0.5):
            for tracking in (True, False):
                runs = [watch_clip(client, every, tracking) for _ in range(args.repeat)]
                samples, faces, encoded, _ = runs[0]  # the same in every run
                per_sample = statistics.median(run[3] for run in runs)
                print(
                    f"{every:5.1f}s {'yes' if tracking else 'no':>8} {samples:7d} {faces:5d} {encoded:7d} "
                    f"{encoded / samples:10.2f} {encoded / max(faces, 1):8.2f} {1000 * per_sample:9.0f}"
                )

        detection = FACES / "detection"
        frame, truth = classroom(detection, truth_boxes(detection))
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        pictures = {
            "bald_guys.jpg (1986x1545)": ((detection / "bald_guys.jpg").read_bytes(), None),
            "classroom (1920x1080)": (jpeg.tobytes(), truth),
        }
        print(
            f"\nOne whole-room frame, median of {args.repeat} (detect + identify every face, "
            f"vs. the default recognize)\n"
        )
        print(f"{'picture':28} {'way':>10} {'faces':>5} {'recall':>6} {'ms':>7}")
        for name, (data, boxes) in pictures.items():
            whole_room(client, data)  # warm up
            for way, call in (
                ("whole room", lambda data=data: whole_room(client, data)),
                ("recognize", lambda data=data: list(client.recognize(data, LECTURE).faces)),
            ):
                seconds = median_seconds(call, args.repeat)
                found = call()
                recall = (
                    ""
                    if boxes is None
                    else "%.2f" % (score([(f.top, f.right, f.bottom, f.left) for f in found], boxes)[0] / len(boxes))
                )
                print(f"{name:28} {way:>10} {len(found):5d} {recall:>6} {1000 * seconds:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
