"""A check-in from several frames costs about one recognize: ``checkin`` of 3 frames vs.
``recognize`` of one frame of the same size, through the running server.

The frames are three frames 0.5 s apart of the sample clip (``video/short_hamilton_clip.mp4``,
640 x 360, the enrolled student 201911006), as the desktop check-in collects them; the server is
started here (``--workers``, default one per core) on a fresh database enrolled from the sample
knowns. Timed alternately (recognize, checkin, recognize, ...), ``--repeat`` times each; medians.
The check-in is sent with ``mark`` false (decide only), so every repetition does the same work.

Target (issue "Never mark the wrong student"): a 3-frame check-in answers in at most 1.5x the
time of one recognize of the same image size (frames encoded on every worker). Exit status 1
when it is missed.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.checkin
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import cv2

from bench import results
from client.connection import FramedClient
from db.connection import DatabaseUrl, url_from_env
from db.schema import recreate_database
from testkit.paths import FACES
from testkit.processes import ServerProcess, new_client
from testkit.servers import LECTURE, seed_roster

TARGET = 1.5
CLIP = FACES / "video" / "short_hamilton_clip.mp4"
#: Seconds into the clip of the three frames (the enrolled student faces the camera there).
FRAME_TIMES = (4.0, 4.5, 5.0)


def clip_frames(times=FRAME_TIMES) -> list[bytes]:
    """JPEG frames of the sample clip at these media times (seconds)."""
    capture = cv2.VideoCapture(str(CLIP))
    frames = []
    try:
        for seconds in times:
            capture.set(cv2.CAP_PROP_POS_MSEC, 1000 * seconds)
            ok, image = capture.read()
            if not ok:
                raise RuntimeError(f"cannot read {CLIP} at {seconds} s")
            frames.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    finally:
        capture.release()
    return frames


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    url = recreate_database(DatabaseUrl.parse(url_from_env()), "attendance_bench_checkin")
    seed_roster(url, FACES / "knowns")
    token = new_client(url, "bench")
    frames = clip_frames()
    with (
        ServerProcess(url, FACES / "knowns", workers=args.workers) as server,
        FramedClient("127.0.0.1", server.port, token=token, timeout=120) as client,
    ):
        recognize = lambda: client.recognize(frames[1], LECTURE)  # noqa: E731
        checkin = lambda: client.checkin(LECTURE, frames, mark=False)  # noqa: E731
        first = checkin()  # warm-up; and what it decides
        recognize()
        times = {recognize: [], checkin: []}
        for _ in range(args.repeat):
            for call in (recognize, checkin):
                started = time.perf_counter()
                call()
                times[call].append(time.perf_counter() - started)
    one, three = statistics.median(times[recognize]), statistics.median(times[checkin])
    ratio = three / one
    met = ratio <= TARGET
    print(f"recognize, 1 frame 640x360:  {1000 * one:6.0f} ms (median of {args.repeat})")
    print(f"checkin, 3 frames 640x360:   {1000 * three:6.0f} ms -> {first.decision} {first.student_id}")
    print(f"ratio {ratio:.2f} (target <= {TARGET}): {'met' if met else 'MISSED'}; {args.workers} workers")
    results.save(
        "checkin",
        [
            results.Row(
                f"3-frame check-in vs one recognize, 640x360, {args.workers} workers",
                f"{1000 * three:.0f} ms vs {1000 * one:.0f} ms: {ratio:.2f}x",
                baseline="one recognize of one frame, same run",
                target=f"<= {TARGET}x",
                met=met,
            ),
        ],
        details=(
            f"Medians of {args.repeat} alternating round trips; the check-in decided "
            f"`{first.decision}` ({first.student_id}, distance {first.distance}, threshold {first.threshold})."
        ),
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
