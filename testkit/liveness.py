"""The liveness samples (../shared/faces/liveness) for tests and benchmarks: the live clips'
frames with their times, the events annotated in them (tests/data/liveness_annotations.json),
and still photos made into a hand-held "video"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from testkit.paths import REPO

ANNOTATIONS = REPO / "tests" / "data" / "liveness_annotations.json"
#: The two live clips, relative to shared/faces/liveness.
TURNS_CLIP = "live/blinks_head_turns.mp4"
BLINKS_CLIP = "live/selfie_blinks.mp4"
#: The still photos, live and attacks (relative to shared/faces/liveness).
PHOTOS = (
    "live/vm_true_001.jpg",
    "live/vm_true_002.jpg",
    "live/vm_true_003.png",
    "spoof/vm_fake_001.jpg",
    "spoof/vm_fake_002.jpg",
    "spoof/vm_fake_003.jpg",
)


@dataclass(frozen=True)
class Span:
    """An annotated event (or a thing that is not one): ``action``, frames first..last included."""

    action: str
    first: int
    last: int

    def holds(self, index: int, slack: int = 1) -> bool:
        return self.first - slack <= index <= self.last + slack


def annotations(clip: str) -> tuple[list[Span], list[Span]]:
    """(events, not_events) annotated in a clip."""
    data = json.loads(ANNOTATIONS.read_text(encoding="utf-8"))["clips"][clip]
    events = [Span(e["action"], e["first"], e["last"]) for e in data["events"]]
    others = [Span(e["what"], e["first"], e["last"]) for e in data["not_events"]]
    return events, others


def read_clip(path: Path, every: int = 1) -> tuple[list[float], list[np.ndarray]]:
    """(times in seconds, RGB frames) of a video file, every ``every``-th frame from the first."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot read the video {path}")
    times, frames, index = [], [], 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % every == 0:
                times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
                frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
            index += 1
    finally:
        capture.release()
    return times, frames


def fit(image: np.ndarray, max_side: int = 640) -> np.ndarray:
    """The image scaled down so that its longest side is at most ``max_side`` (a webcam's frame)."""
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image
    return cv2.resize(
        image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA
    )


def handheld(image: np.ndarray, frames: int, seed: int) -> list[np.ndarray]:
    """``frames`` copies of a photo as a hand-held phone shows it to a camera: drifting shifts
    (a few percent of the width), a slow zoom in and out (±5%), a degree or two of rotation,
    a Gaussian blur of 0-2 px and sensor noise of 2-8 grey levels, all from ``seed``."""
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    position = np.zeros(2)
    out = []
    for k in range(frames):
        position = 0.8 * position + rng.normal(0, 0.01, 2)
        scale = 1 + 0.05 * np.sin(3 * np.pi * k / frames) + rng.normal(0, 0.005)
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), rng.normal(0, 1.5), scale)
        matrix[:, 2] += position * [width, height]
        frame = cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        sigma = rng.uniform(0, 2.0)
        if sigma > 0.3:
            frame = cv2.GaussianBlur(frame, (0, 0), sigma)
        noisy = frame + rng.normal(0, rng.uniform(2, 8), frame.shape)
        out.append(np.clip(noisy, 0, 255).astype(np.uint8))
    return out
