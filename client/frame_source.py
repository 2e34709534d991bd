"""Where frames come from: a camera, a video file or a folder of images (one module for the
desktop's check-in and Enrol screens and for the classroom watcher).

Two ways to read a camera or a video file, for the two kinds of reader:

- :meth:`read` (the desktop: every frame is shown): the next frame; a video file can skip
  frames to keep to its own speed, and starts again at its end when ``loop`` is set;
- :meth:`grab` then :meth:`retrieve` (the watcher: a frame is decoded only when it is a
  sample or a preview): ``grab`` takes the next frame and tells its media time, in seconds from
  the first frame: a video's own timestamps (a 10-minute file is 10 minutes of lecture, however
  fast it is read), or the time since a camera was opened.

A folder of images stands in for a webcam in demos and tests (:meth:`ImageFolderSource.next_image`).
Sources do blocking I/O (camera reads, decoding): use one on one worker thread.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: The desktop reduces frames to at most this many pixels on their longest side (a webcam's size).
MAX_FRAME_SIDE = 1280


class SourceError(RuntimeError):
    """The source cannot be opened or read."""


@dataclass(frozen=True, eq=False)
class FaceFrame:
    """A frame in which this PC found exactly one face: the clean frame (BGR, at most
    :data:`MAX_FRAME_SIDE` pixels on its longest side), the face's box (x, y, width, height) in
    its pixels, and the frame as JPEG (what is sent to the server). Kept in memory only."""

    image: np.ndarray = field(repr=False)
    box: tuple[int, int, int, int]
    jpeg: bytes = field(repr=False)


@dataclass(frozen=True)
class SourceSpec:
    """What to capture from: ``kind`` is ``camera`` (value: index), ``video`` or ``images``
    (value: a path). ``loop``: start again at the end (video files and image folders)."""

    kind: str
    value: str | int
    loop: bool = True


def open_source(spec: SourceSpec):
    if spec.kind == "camera":
        return CameraSource(int(spec.value))
    if spec.kind == "video":
        return VideoFileSource(Path(spec.value), loop=spec.loop)
    if spec.kind == "images":
        return ImageFolderSource(Path(spec.value), loop=spec.loop)
    raise ValueError(f"unknown source kind {spec.kind!r}")


def limit_size(frame: np.ndarray, max_side: int = MAX_FRAME_SIDE) -> np.ndarray:
    height, width = frame.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return frame
    return cv2.resize(frame, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)


def read_image(path: Path) -> np.ndarray | None:
    """A BGR image from a file (any path, EXIF orientation applied, alpha dropped), or None."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def to_qimage(frame_bgr: np.ndarray):
    """A QImage copy of a BGR frame (Qt is imported here: the command-line watcher has no GUI)."""
    from PyQt5.QtGui import QImage

    rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format_RGB888).copy()


class _CaptureSource:
    """What a camera and a video file share: an OpenCV ``VideoCapture``, released on close."""

    still = False
    capture: cv2.VideoCapture

    def close(self) -> None:
        self.capture.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CameraSource(_CaptureSource):
    """A camera (``/dev/video<index>``, or the index OpenCV gives it); media time is the time
    since it was opened."""

    live = True

    def __init__(self, index: int, *, clock=time.monotonic):
        self.index = index
        self.capture = cv2.VideoCapture(index)
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"camera {index} cannot be opened")
        self.fps = 15.0
        self._clock = clock
        self._opened_at = clock()

    def read(self) -> np.ndarray:
        ok, frame = self.capture.read()
        if not ok:
            raise SourceError(f"camera {self.index} gave no picture")
        return frame

    def grab(self) -> float | None:
        """Wait for the next frame; return its time in seconds, or None when the camera fails."""
        if not self.capture.grab():
            return None
        return self._clock() - self._opened_at

    def retrieve(self) -> np.ndarray:
        ok, image = self.capture.retrieve()
        if not ok:
            raise SourceError(f"camera {self.index}: cannot decode a frame")
        return image


class VideoFileSource(_CaptureSource):
    """The frames of a video file, in order, at their own speed or timestamps. ``loop``: read()
    starts again at the end (grab() reads the file once)."""

    live = False

    def __init__(self, path: str | Path, loop: bool = False):
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"no such video file: {self.path}")
        self.capture = cv2.VideoCapture(str(self.path))
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"cannot read {self.path} as a video")
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self._own_fps = fps if fps and math.isfinite(fps) and fps > 0 else None  # for timestamps
        self.fps = fps if 1.0 <= fps <= 120.0 else 25.0  # for playing
        self.loop = loop
        self.position = 0  # frames read, skipped or grabbed so far

    def read(self, skip: int = 0) -> np.ndarray | None:
        """The next frame after skipping ``skip`` frames; None at the end (when not looping)."""
        for _ in range(2):
            for _ in range(skip):
                if not self.capture.grab():
                    break
                self.position += 1
            ok, frame = self.capture.read()
            if ok:
                self.position += 1
                return frame
            if not self.loop or self.position == 0:
                return None
            self.capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self.position = 0
            skip = 0
        return None

    def grab(self) -> float | None:
        """Take the next frame; return its time in seconds, or None at the end of the file."""
        if not self.capture.grab():
            return None
        index = self.position
        self.position += 1
        msec = self.capture.get(cv2.CAP_PROP_POS_MSEC)
        if msec <= 0 and index > 0 and self._own_fps:  # a container without timestamps
            msec = 1000.0 * index / self._own_fps
        return msec / 1000.0

    def retrieve(self) -> np.ndarray:
        """The grabbed frame: (height, width, 3) uint8, BGR."""
        ok, image = self.capture.retrieve()
        if not ok:
            raise SourceError(f"{self.path}: cannot decode frame {self.position - 1}")
        return image


class ImageFolderSource:
    """The images of a folder in name order, one at a time (people stepping up to the camera)."""

    live = False
    still = True

    def __init__(self, folder: Path, loop: bool = True):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"no such folder: {self.folder}")
        self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not self.paths:
            raise SourceError(f"no images (.jpg, .png, …) in {self.folder}")
        self.loop = loop
        self.position = -1
        self.fps = 20.0

    @property
    def current_path(self) -> Path | None:
        return self.paths[self.position] if 0 <= self.position < len(self.paths) else None

    def next_image(self) -> np.ndarray | None:
        """The next readable image; None after the last one (when not looping)."""
        for _ in range(len(self.paths) * (2 if self.loop else 1)):
            self.position += 1
            if self.position >= len(self.paths):
                if not self.loop:
                    self.position = len(self.paths)
                    return None
                self.position = 0
            frame = read_image(self.paths[self.position])
            if frame is not None:
                return frame
            log.warning("skipping %s: not an image OpenCV can read", self.paths[self.position])
        return None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
