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
        # The noise from OpenCV's generator (5x faster than numpy's normal for a frame), seeded
        # from rng; cv2.add saturates at 0 and 255.
        noise = np.empty(frame.shape, np.int16)
        cv2.setRNGSeed(int(rng.integers(2**31)))
        cv2.randn(noise, 0.0, rng.uniform(2, 8))
        out.append(cv2.add(frame, noise, dtype=cv2.CV_8U))
    return out


# -- frame sequences that answer a challenge, built from the annotated frames of the turns clip --

#: The student the turns clip shows, once enrolled (:func:`enrol_clip_student`).
CLIP_STUDENT = "201999001"
#: Frames of the turns clip enrolled as the student's photos (none of them is in a sequence).
ENROLLED_FRAMES = (40, 100, 135, 195, 245)
#: A still stretch: eyes open, the head in its usual pose.
STILL = range(20, 29, 2)
#: Per action, frames of the turns clip that show it: the blink of frames 153-158 (every other
#: frame), the far end of the right turn of 212-218 and back (every frame: the turn is small and
#: short); a left turn is those frames mirrored (the clip's own left turn, 183-188, happens
#: during a blink).
SEGMENTS = {"blink": range(145, 166, 2), "turn_right": range(213, 234)}


def action_frames(clip: list[np.ndarray], action: str) -> list[np.ndarray]:
    if action == "turn_left":
        return [np.ascontiguousarray(clip[i][:, ::-1]) for i in SEGMENTS["turn_right"]]
    return [clip[i] for i in SEGMENTS[action]]


def challenge_sequence(clip: list[np.ndarray], actions) -> list[np.ndarray]:
    """The frames of someone doing ``actions`` in that order: a still stretch before each action
    and after the last."""
    frames: list[np.ndarray] = []
    for action in actions:
        frames += [clip[i] for i in STILL] + action_frames(clip, action)
    return frames + [clip[i] for i in STILL]


def clip_for_challenges(faces_dir: Path) -> list[np.ndarray]:
    """The turns clip's frames, BGR, at most 640 pixels (as a PC sends them)."""
    _, frames = read_clip(faces_dir / "liveness" / TURNS_CLIP)
    return [cv2.cvtColor(fit(frame), cv2.COLOR_RGB2BGR) for frame in frames]


def enrol_clip_student(client, db_url, clip: list[np.ndarray], lecture: str) -> None:
    """Enrol the turns clip's person as :data:`CLIP_STUDENT` from :data:`ENROLLED_FRAMES` (op
    enroll, through the FramedClient ``client``) and put them on ``lecture``'s roster."""
    from db import lectures, students
    from db.connection import run_in_transaction

    photos = [cv2.imencode(".jpg", clip[i])[1].tobytes() for i in ENROLLED_FRAMES]
    enrolled = client.enroll(CLIP_STUDENT, photos, name="Liveness Clip", force=True)
    if enrolled.stored != len(photos):
        raise RuntimeError(f"the clip's student was not enrolled: {enrolled}")

    def put_on_roster(cur):
        found = lectures.get_lecture(cur, lecture)
        assert found is not None, lecture
        students.enroll(cur, found.lecture_id, CLIP_STUDENT)

    run_in_transaction(db_url, put_on_roster)
