"""Is a live person doing what a liveness challenge asks? Eye blinks and head turns over timed frames.

Small functions over numpy arrays, in the style of face_recognition's api.py; no dlib object
leaves this module (docs/liveness.md explains the rules and how their numbers were chosen):

- :func:`face_landmarks`: dlib's 68 landmarks of one face, shape (68, 2), pixels of the image;
- :func:`eye_aspect_ratio`: how open the eyes are (no unit: height over width, mean of both
  eyes; about 0.3 open, below 0.15 closed);
- :func:`head_pose`: (yaw, pitch) in degrees, from six landmarks fitted to a generic 3-D face
  with ``cv2.solvePnP``. Yaw is positive when the person turned to **their own left** (the nose
  points to the right of an unmirrored camera image); pitch is positive looking up;
- :func:`measure_face` / :func:`measure_largest_face`: those three for a face box, or for the
  largest face of an image (:class:`FaceMeasure`);
- :func:`find_events`: the actions (:data:`BLINK`, :data:`TURN_LEFT`, :data:`TURN_RIGHT`) seen in
  a sequence of timed measures, and :func:`first_action_missing`: which asked action (in the
  asked order) was not seen.

The rules look at a whole sequence (a challenge of ~5 s, or a clip), relative to its own
medians, so that the person's own eye shape, the camera's height and angle cancel out:

- a **blink**: the eye aspect ratio falls to :attr:`Thresholds.closed_ratio` of the sequence's
  median or below, and comes back to :attr:`Thresholds.open_ratio` of it within
  :attr:`Thresholds.max_blink_seconds`, with open eyes before and after (eyes kept shut longer
  are not a blink). The event is the frame where the eyes are most closed;
- a **turn**: the yaw goes :attr:`Thresholds.turn_degrees` or more to one side of the
  sequence's median yaw; the event is the frame turned farthest, and another turn to the same
  side counts only after the head came back within :attr:`Thresholds.return_degrees`.

Images are (height, width, 3) uint8 RGB arrays and boxes (top, right, bottom, left), as in
:mod:`server.recognition.faces`. The 68-point model (about 100 MB, 1 s) is loaded on first use,
or by :func:`load_landmark_model`; it was trained on the iBUG 300-W data set, whose terms exclude
commercial use (docs/liveness.md). Not thread-safe (dlib): one thread per process, as faces.py.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from server.recognition import faces
from server.recognition.faces import Box, ModelsUnavailableError

#: The actions of a challenge, as sent on the wire.
BLINK = "blink"
TURN_LEFT = "turn_left"
TURN_RIGHT = "turn_right"
ACTIONS = (BLINK, TURN_LEFT, TURN_RIGHT)

#: The landmark model of face_recognition_models (what face_recognition uses with model="large").
LANDMARKS_68_FILE = "shape_predictor_68_face_landmarks.dat"

#: A generic face in millimetres, x to the image's right, y down, z away from the camera, for the
#: landmarks of :data:`POSE_POINTS` (the client's enrolment checks use the same one).
FACE_MODEL = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip
        (0.0, 330.0, 65.0),  # chin
        (-225.0, -170.0, 135.0),  # outer corner of the eye on the image's left
        (225.0, -170.0, 135.0),  # outer corner of the eye on the image's right
        (-150.0, 150.0, 125.0),  # mouth corner on the image's left
        (150.0, 150.0, 125.0),  # mouth corner on the image's right
    ]
)
#: Their numbers among dlib's 68 landmarks.
POSE_POINTS = [30, 8, 36, 45, 48, 54]
#: The landmarks of each eye, from the outer corner round: p0 p1 p2 (top) p3 p4 p5 (bottom).
EYES = (slice(36, 42), slice(42, 48))
#: Millimetres between the outer eye corners of :data:`FACE_MODEL` (for solvePnP's first guess).
_MODEL_EYE_SPAN = 450.0

_predictor: Any = None
_predictor_lock = threading.Lock()


@dataclass(frozen=True)
class Thresholds:
    """The numbers of the rules (docs/liveness.md: settled on one live clip, checked on the other
    and on still photos).

    ``closed_ratio``, ``open_ratio``: eye aspect ratio of closed and of open eyes, as fractions
    of the sequence's median. ``max_blink_seconds``: longer closures are not blinks.
    ``turn_degrees``: yaw from the sequence's median that counts as a turn; ``return_degrees``:
    back within this much, the next turn to that side may count.
    """

    closed_ratio: float = 0.60
    open_ratio: float = 0.75
    max_blink_seconds: float = 1.0
    turn_degrees: float = 9.0
    return_degrees: float = 5.0


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class FaceMeasure:
    """One face in one frame: its box (top, right, bottom, left, pixels), its eye aspect ratio
    (no unit) and its head pose in degrees (see the module docstring for the signs)."""

    box: Box
    eye_aspect_ratio: float
    yaw: float
    pitch: float


@dataclass(frozen=True)
class Event:
    """An action seen: which (:data:`ACTIONS`), at which frame of the sequence (``index``) and
    time (seconds, the sequence's clock)."""

    action: str
    index: int
    time: float


def load_landmark_model() -> None:
    """Load the 68-point landmark model now (about 1 s); later calls are free.

    :raises ModelsUnavailableError: dlib or the model file is missing.
    """
    _loaded_predictor()


def _loaded_predictor():
    global _predictor
    with _predictor_lock:
        if _predictor is None:
            _predictor = _load_predictor()
        return _predictor


def _load_predictor():
    try:
        import dlib
    except ImportError as exc:
        raise ModelsUnavailableError(f"face recognition is not installed ({exc}); run `make venv`") from exc
    try:  # found without importing the package (see faces._load)
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    path = next((Path(f) / "models" / LANDMARKS_68_FILE for f in folders), None)
    if path is None or not path.is_file():
        raise ModelsUnavailableError(f"no {LANDMARKS_68_FILE} in face_recognition_models; run `make venv`")
    try:
        return dlib.shape_predictor(str(path)), dlib.rectangle
    except RuntimeError as exc:
        raise ModelsUnavailableError(f"cannot load {path}: {exc}") from exc


def face_landmarks(image: np.ndarray, box: Box) -> np.ndarray:
    """dlib's 68 landmarks of the face in ``box``: float64 array of shape (68, 2), (x, y) pixels.

    :param image: (height, width, 3) uint8 RGB (or (height, width) uint8 gray).
    :param box: (top, right, bottom, left), e.g. from :func:`server.recognition.faces.detect_faces`.
    """
    predictor, rectangle = _loaded_predictor()
    top, right, bottom, left = (int(v) for v in box)
    shape = predictor(np.ascontiguousarray(image), rectangle(left, top, right, bottom))
    return np.array([(point.x, point.y) for point in shape.parts()], dtype=np.float64)


def eye_aspect_ratio(points: np.ndarray) -> float:
    """Mean over both eyes of (|p1 - p5| + |p2 - p4|) / (2 |p0 - p3|) (Soukupová and Čech, 2016).

    :param points: the 68 landmarks, shape (68, 2).
    """

    def ratio(eye: np.ndarray) -> float:
        width = float(np.linalg.norm(eye[0] - eye[3]))
        if width == 0:
            return 0.0
        return float((np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / (2 * width))

    return (ratio(points[EYES[0]]) + ratio(points[EYES[1]])) / 2


def head_pose(points: np.ndarray, image_shape: tuple[int, ...]) -> tuple[float, float]:
    """(yaw, pitch) in degrees of the face with these 68 landmarks in an image of this shape.

    The camera is taken to have a focal length of the image's longest side and its centre in
    the middle. solvePnP starts from a face looking straight at the camera at the distance its
    eye span gives: without that guess it sometimes lands on the mirror solution (a yaw of +30
    for a face at -20).
    """
    height, width = image_shape[:2]
    focal = float(max(height, width))
    camera = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    image_points = np.ascontiguousarray(points[POSE_POINTS], dtype=np.float64)
    eye_span = max(1.0, float(np.linalg.norm(points[45] - points[36])))
    distance = focal * _MODEL_EYE_SPAN / eye_span
    nose_x, nose_y = image_points[0]
    translation = np.array(
        [[(nose_x - width / 2) * distance / focal], [(nose_y - height / 2) * distance / focal], [distance]]
    )
    _, rotation_vector, _ = cv2.solvePnP(
        FACE_MODEL,
        image_points,
        camera,
        np.zeros(4),
        np.zeros((3, 1)),
        translation,
        useExtrinsicGuess=True,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    rotation, _ = cv2.Rodrigues(rotation_vector)
    facing = rotation @ np.array([0.0, 0.0, -1.0])  # where the nose points, in camera axes
    yaw = math.degrees(math.atan2(facing[0], -facing[2]))
    pitch = math.degrees(math.atan2(-facing[1], -facing[2]))
    return yaw, pitch


def measure_face(image: np.ndarray, box: Box) -> FaceMeasure:
    """Eye aspect ratio and head pose of the face in ``box`` of ``image`` (RGB)."""
    points = face_landmarks(image, box)
    yaw, pitch = head_pose(points, image.shape)
    return FaceMeasure(cast(Box, tuple(int(v) for v in box)), eye_aspect_ratio(points), yaw, pitch)


def measure_largest_face(
    image: np.ndarray, *, detect_max_side: int | None = faces.DEFAULT_DETECT_MAX_SIDE
) -> FaceMeasure | None:
    """:func:`measure_face` of the largest face found (first without upsampling, as a check-in
    frame: a person close to the camera), or None when there is no face."""
    boxes = faces.detect_faces(image, detect_max_side=detect_max_side, upsample=0) or faces.detect_faces(
        image, detect_max_side=detect_max_side, upsample=1
    )
    box = faces.largest_box(boxes)
    return None if box is None else measure_face(image, box)


# -- events over a sequence ------------------------------------------------------------------


def find_events(
    times: Sequence[float], measures: Sequence[FaceMeasure | None], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[Event]:
    """The blinks and turns in a sequence of frames, in the order they happened.

    :param times: each frame's time in seconds, not decreasing.
    :param measures: each frame's face (None: no face in that frame; it is left out).
    """
    if len(times) != len(measures):
        raise ValueError(f"{len(times)} times for {len(measures)} frames")
    if np.any(np.diff(np.asarray(times, dtype=np.float64)) < 0):
        raise ValueError("frame times must not decrease")
    present = [(i, measure) for i, measure in enumerate(measures) if measure is not None]
    if len(present) < 3:
        return []
    seen = [i for i, _ in present]
    t = np.array([float(times[i]) for i in seen])
    ear = np.array([measure.eye_aspect_ratio for _, measure in present])
    yaw = np.array([measure.yaw for _, measure in present])
    found = [Event(action, seen[k], float(t[k])) for action, k in _blinks(t, ear, thresholds) + _turns(yaw, thresholds)]
    return sorted(found, key=lambda event: (event.index, event.action))


def _blinks(t: np.ndarray, ear: np.ndarray, thresholds: Thresholds) -> list[tuple[str, int]]:
    """(BLINK, position) of each blink: a run that starts at or below the closed level, lasts
    while below the open level, is bounded by open eyes on both sides and is short enough."""
    median = float(np.median(ear))
    closed, opened = thresholds.closed_ratio * median, thresholds.open_ratio * median
    found = []
    k, last_open = 0, None  # last_open: the latest position with open eyes
    while k < len(ear):
        if ear[k] >= opened:
            last_open = k
        if ear[k] > closed or last_open is None:
            k += 1
            continue
        end = k
        while end < len(ear) and ear[end] < opened:
            end += 1
        if end == len(ear):  # still shut when the sequence ends
            break
        if t[end - 1] - t[last_open + 1] <= thresholds.max_blink_seconds:
            found.append((BLINK, k + int(np.argmin(ear[k:end]))))
        k = end
    return found


def _turns(yaw: np.ndarray, thresholds: Thresholds) -> list[tuple[str, int]]:
    """(TURN_LEFT or TURN_RIGHT, position of the farthest yaw) of each excursion beyond the turn
    threshold from the median yaw; an excursion ends when the head is back within the return
    threshold."""
    relative = yaw - float(np.median(yaw))
    found = []
    for action, sign in ((TURN_LEFT, 1.0), (TURN_RIGHT, -1.0)):
        side = sign * relative
        k = 0
        while k < len(side):
            if side[k] < thresholds.turn_degrees:
                k += 1
                continue
            end = k
            while end < len(side) and side[end] > thresholds.return_degrees:
                end += 1
            found.append((action, k + int(np.argmax(side[k:end]))))
            k = end
    return found


def first_action_missing(events: Sequence[Event], asked: Sequence[str]) -> str | None:
    """The first asked action not seen after the ones before it (the asked order), or None when
    every asked action was seen in that order. Other events in between do not matter."""
    position = 0
    for action in asked:
        while position < len(events) and events[position].action != action:
            position += 1
        if position == len(events):
            return action
        position += 1
    return None
