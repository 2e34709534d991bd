"""A video file played as the camera of a liveness challenge (``attendance-client checkin
--video``), and what the server's liveness rules see in a video (``attendance-client liveness``).

The video is read at its own timestamps (:class:`client.frame_source.VideoFileSource`), sampled
at ``fps`` frames a second of media time, each frame reduced to at most :data:`SEND_MAX_SIDE`
pixels. For a challenge the frames are sent as the video would show them live: a frame is not
sent before its media time has passed since the challenge was given, so a recording passes only
if it happens to show the asked actions in the asked order in time (docs/liveness.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from client.connection import FramedClient
from client.frame_source import VideoFileSource, limit_size

#: Frames sampled per second of media time. At 10 a second, 2 of the 6 short blinks (0.1-0.2 s)
#: of the sample selfie clip fall between frames; at 15, 1; at 24 (every frame), none.
DEFAULT_FPS = 15.0
#: Frames are sent at most this many pixels on their longest side (a webcam's VGA frame).
SEND_MAX_SIDE = 640
#: Frames sent per challenge_frames request (about half a second at 10 frames a second).
BATCH = 5


def video_frames(path: str | Path, fps: float = DEFAULT_FPS) -> Iterator[tuple[float, np.ndarray]]:
    """(media time in seconds, BGR frame at most SEND_MAX_SIDE pixels) of a video file, about
    ``fps`` a second (every frame when the file has fewer)."""
    step = 1.0 / fps
    with VideoFileSource(path) as source:
        next_at = 0.0
        while (at := source.grab()) is not None:
            if at + 1e-6 < next_at:
                continue
            next_at = next_at + step if next_at + step > at else at + step
            yield at, limit_size(source.retrieve(), SEND_MAX_SIDE)


def jpeg(frame: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("a frame cannot be encoded as JPEG")
    return data.tobytes()


def play_challenge(
    client: FramedClient,
    lecture: str,
    path: str | Path,
    *,
    fps: float = DEFAULT_FPS,
    mark: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[object], None] | None = None,
):
    """Ask for a challenge, send the video's frames at their own times until every asked
    action was seen, the deadline passed or the video ended, then ask for the decision.
    Returns (the challenge, the CheckinResponse); an error reply raises ServerError."""
    challenge = client.challenge(lecture)
    given = clock()
    batch: list[tuple[float, bytes]] = []

    def send() -> bool:
        """Send the batch (unless the deadline passed meanwhile: a busy server); True: go on."""
        if not batch or clock() - given > challenge.deadline:
            return False
        progress = client.challenge_frames(challenge.challenge_id, [b for _, b in batch], [t for t, _ in batch])
        batch.clear()
        if on_progress is not None:
            on_progress(progress)
        return progress.next_action is not None

    sent = 0
    for at, frame in video_frames(path, fps):
        if at > challenge.deadline or sent == challenge.max_frames:
            break
        sent += 1
        wait = at - (clock() - given)
        if wait > 0:
            sleep(wait)
        batch.append((at, jpeg(frame)))
        if len(batch) >= BATCH and not send():
            break
    send()
    return challenge, client.challenge_finish(challenge.challenge_id, mark=mark)


def analyze_video(path: str | Path, fps: float = DEFAULT_FPS) -> Iterator[dict]:
    """One dict per sampled frame: ``time`` (s), ``box`` (top, right, bottom, left; None without
    a face), ``eye_aspect_ratio``, ``yaw``, ``pitch`` (degrees) and ``events`` (the actions
    found at that frame), by the server's own rules (server/recognition/liveness.py) run here.
    The largest face of each frame is the one measured."""
    from server.recognition import liveness  # dlib and the 68-point model, loaded only here

    times, measures = [], []
    for at, frame in video_frames(path, fps):
        times.append(at)
        measures.append(liveness.measure_largest_face(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
    events: dict[int, list[str]] = {}
    for event in liveness.find_events(times, measures):
        events.setdefault(event.index, []).append(event.action)
    for index, (at, measure) in enumerate(zip(times, measures)):
        yield {
            "time": round(at, 3),
            "box": None if measure is None else list(measure.box),
            "eye_aspect_ratio": None if measure is None else round(measure.eye_aspect_ratio, 4),
            "yaw": None if measure is None else round(measure.yaw, 2),
            "pitch": None if measure is None else round(measure.pitch, 2),
            "events": events.get(index, []),
        }
