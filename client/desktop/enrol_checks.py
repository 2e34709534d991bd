"""Checks on an enrolment photo, made on this PC before anything is sent (pure code: numpy,
OpenCV and dlib; no Qt, no I/O but loading the landmark model).

The Enrol screen asks the student for five poses (:data:`POSES`): straight, then a little to
their left, right, up and down. A frame in which the local detector (faces_local) finds exactly
one face is measured (:func:`measure_face`) and checked (:func:`check_photo`):

- **big enough**: the face box is at least :data:`MIN_FACE_WIDTH` pixels wide;
- **sharp enough**: the variance of the Laplacian of the face crop, scaled to
  :data:`SHARPNESS_WIDTH` pixels wide (the size of the face chip dlib's encoder reads), is at
  least :data:`MIN_SHARPNESS`;
- **eyes open**: the eye aspect ratio (the eye's height over its width, from dlib's 68-point
  landmarks, mean of both eyes) is at least :data:`MIN_EYE_OPENNESS`;
- **the asked pose**: yaw and pitch from six of the landmarks (nose tip, chin, outer eye corners,
  mouth corners) fitted to a generic 3D face with ``cv2.solvePnP`` (focal length: the frame's
  longest side; centre: the frame's centre). The straight photo is checked as measured; the
  other four *relative to the straight photo*, which takes the camera's height and the person's
  own face out of the measure (on the sample photos the generic face reads faces that look at
  the camera anywhere from 19° down to 8° up, 10th to 90th percentile).

Angles are in degrees. Yaw is positive when the student turned to **their own left** (the nose
points to the right of an unmirrored camera image); a mirrored image flips its sign. Pitch is
positive when the student looks up. The thresholds were measured on the sample photos
(docs/desktop.md).

The 68-point model (``shape_predictor_68_face_landmarks.dat`` of face_recognition_models) was
trained on the iBUG 300-W data set, whose terms exclude commercial use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

#: Smallest face box width, in pixels of the frame.
MIN_FACE_WIDTH = 120
#: The face crop is scaled to this width (pixels) before its sharpness is measured.
SHARPNESS_WIDTH = 150
#: Smallest variance of the Laplacian of that crop. On the 271 sample photos with faces of 120 px
#: or more: 3 below (1.1%), median 335; the same photos blurred by a Gaussian of 1.5 px (at the
#: crop's scale): 2.6% above, of 2 px: none (at most 32); frames of the webcam-like sample videos:
#: 105 and up.
MIN_SHARPNESS = 35.0
#: Smallest eye aspect ratio: closed eyes measured 0.13-0.19 in the sample blink video, open ones
#: 0.25-0.37; 3% of the sample photos are below 0.20 (broad smiles, mostly).
MIN_EYE_OPENNESS = 0.20


@dataclass(frozen=True)
class Pose:
    """An asked pose: the accepted yaw and pitch ranges in degrees, both ends included;
    ``relative``: measured from the straight photo's yaw and pitch."""

    name: str
    yaw: tuple[float, float]
    pitch: tuple[float, float]
    relative: bool = True


#: The poses of an enrolment, in the order they are asked.
POSES = (
    Pose("straight", (-10.0, 10.0), (-15.0, 15.0), relative=False),
    Pose("left", (12.0, 35.0), (-15.0, 15.0)),
    Pose("right", (-35.0, -12.0), (-15.0, 15.0)),
    Pose("up", (-12.0, 12.0), (8.0, 25.0)),
    Pose("down", (-12.0, 12.0), (-25.0, -8.0)),
)
POSE_NAMES = tuple(pose.name for pose in POSES)
STRAIGHT = "straight"

#: Problems of a photo (:attr:`PhotoCheck.problems`), in the order they are checked.
TOO_SMALL = "too_small"
BLURRY = "blurry"
EYES_CLOSED = "eyes_closed"
#: Pose problems: which way the student should move.
TURN_LEFT, TURN_RIGHT, TILT_UP, TILT_DOWN = "turn_left", "turn_right", "tilt_up", "tilt_down"

#: A generic face in millimetres, x to the image's right, y down, z away from the camera (a
#: frontal face: no rotation), for the landmarks of :data:`POSE_POINTS`.
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


class LandmarksUnavailable(RuntimeError):
    """dlib or the 68-point landmark model cannot be loaded."""


class LandmarkModel:
    """dlib's 68-point face landmarks, loaded on first use (about 100 MB, 1 s). Not thread-safe:
    used by one thread at a time. ``path``: the model file (default: the one of face_recognition_models)."""

    def __init__(self, path: str | Path | None = None):
        self.path = path
        self._predictor = None

    @property
    def loaded(self) -> bool:
        return self._predictor is not None

    def points(self, gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """The 68 landmarks, shape (68, 2), in the pixels of ``gray``, for the face in ``box``
        (x, y, width, height)."""
        predictor = self._predictor or self._load()
        import dlib  # loaded with the model

        x, y, w, h = (int(v) for v in box)
        shape = predictor(np.ascontiguousarray(gray), dlib.rectangle(x, y, x + w, y + h))
        return np.array([(point.x, point.y) for point in shape.parts()], dtype=np.float64)

    def _load(self):
        try:
            import dlib  # needed only for an enrolment
            import face_recognition_models
        except ImportError as exc:
            raise LandmarksUnavailable(f"cannot load the 68-point landmark model: {exc}") from exc
        path = Path(self.path or face_recognition_models.pose_predictor_model_location())
        if not path.is_file():
            raise LandmarksUnavailable(f"no landmark model at {path}")
        try:
            self._predictor = dlib.shape_predictor(str(path))
        except RuntimeError as exc:
            raise LandmarksUnavailable(f"cannot read the landmark model {path}: {exc}") from exc
        return self._predictor


@dataclass(frozen=True)
class FaceMeasures:
    """What :func:`check_photo` looks at. ``face_width`` in pixels; ``sharpness``: variance of
    the Laplacian (see :data:`MIN_SHARPNESS`); ``eye_openness``: eye aspect ratio; ``yaw`` and
    ``pitch`` in degrees (see the module docstring for their signs)."""

    face_width: int
    sharpness: float
    eye_openness: float
    yaw: float
    pitch: float


@dataclass(frozen=True)
class PhotoCheck:
    """The verdict on one photo for one pose: its measures and its problems (none: fine)."""

    pose: str
    measures: FaceMeasures
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def measure_face(image: np.ndarray, box: tuple[int, int, int, int], landmarks: LandmarkModel) -> FaceMeasures:
    """Measure the face in ``box`` (x, y, width, height) of ``image`` (BGR or gray)."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    points = landmarks.points(gray, box)
    yaw, pitch = head_pose(points, gray.shape)
    return FaceMeasures(int(box[2]), face_sharpness(gray, box), eye_openness(points), yaw, pitch)


def face_sharpness(gray: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Variance of the Laplacian of the face crop scaled to SHARPNESS_WIDTH pixels wide (0 for a
    box outside the image)."""
    x, y, w, h = (int(v) for v in box)
    crop = gray[max(0, y) : max(0, y + h), max(0, x) : max(0, x + w)]
    if crop.size == 0:
        return 0.0
    height = max(1, round(crop.shape[0] * SHARPNESS_WIDTH / crop.shape[1]))
    crop = cv2.resize(crop, (SHARPNESS_WIDTH, height), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


def eye_openness(points: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes: (|p1 - p5| + |p2 - p4|) / (2 |p0 - p3|)."""

    def ratio(eye: np.ndarray) -> float:
        width = np.linalg.norm(eye[0] - eye[3])
        if width == 0:
            return 0.0
        return float((np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / (2 * width))

    return (ratio(points[EYES[0]]) + ratio(points[EYES[1]])) / 2


def head_pose(points: np.ndarray, image_shape: tuple[int, ...]) -> tuple[float, float]:
    """(yaw, pitch) in degrees of the face with these 68 landmarks in an image of this shape."""
    height, width = image_shape[:2]
    focal = float(max(height, width))
    camera = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    image_points = np.ascontiguousarray(points[POSE_POINTS], dtype=np.float64)
    _, rotation_vector, _ = cv2.solvePnP(FACE_MODEL, image_points, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE)
    rotation, _ = cv2.Rodrigues(rotation_vector)
    facing = rotation @ np.array([0.0, 0.0, -1.0])  # where the nose points, in camera axes
    yaw = math.degrees(math.atan2(facing[0], -facing[2]))
    pitch = math.degrees(math.atan2(-facing[1], -facing[2]))
    return yaw, pitch


def pose_named(name: str) -> Pose:
    return next(pose for pose in POSES if pose.name == name)


def check_photo(measures: FaceMeasures, pose: str, reference: FaceMeasures | None = None) -> PhotoCheck:
    """The problems of a photo for the asked ``pose`` (a name of :data:`POSES`). ``reference``:
    the straight photo's measures, needed by every other pose."""
    problems = []
    if measures.face_width < MIN_FACE_WIDTH:
        problems.append(TOO_SMALL)
    if measures.sharpness < MIN_SHARPNESS:
        problems.append(BLURRY)
    if measures.eye_openness < MIN_EYE_OPENNESS:
        problems.append(EYES_CLOSED)
    problems.extend(pose_problems(measures, pose_named(pose), reference))
    return PhotoCheck(pose, measures, tuple(problems))


def pose_problems(measures: FaceMeasures, pose: Pose, reference: FaceMeasures | None) -> list[str]:
    """Which way the student should move to be in ``pose`` (empty: in it)."""
    yaw, pitch = measures.yaw, measures.pitch
    if pose.relative:
        if reference is None:
            raise ValueError(f"the {pose.name} pose is measured from the straight photo's measures")
        yaw, pitch = yaw - reference.yaw, pitch - reference.pitch
    problems = []
    if yaw < pose.yaw[0]:
        problems.append(TURN_LEFT)
    elif yaw > pose.yaw[1]:
        problems.append(TURN_RIGHT)
    if pitch < pose.pitch[0]:
        problems.append(TILT_UP)
    elif pitch > pose.pitch[1]:
        problems.append(TILT_DOWN)
    return problems
