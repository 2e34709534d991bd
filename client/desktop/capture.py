"""Frame sources for the check-in and Enrol screens: a webcam, a video file or a folder of images.

A video file or a folder of images stands in for a webcam in demos and tests. Sources do
blocking I/O (camera reads, decoding) and are used on the capture worker's thread only.
:class:`FaceFrame` is what the capture worker hands over: a frame with exactly one face.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Frames are reduced to at most this many pixels on their longest side (a webcam's size).
MAX_FRAME_SIDE = 1280


@dataclass(frozen=True, eq=False)
class FaceFrame:
    """A frame in which this PC found exactly one face: the clean frame (BGR, at most
    :data:`MAX_FRAME_SIDE` pixels on its longest side), the face's box (x, y, width, height) in
    its pixels, and the frame as JPEG (what is sent to the server). Kept in memory only."""

    image: np.ndarray = field(repr=False)
    box: tuple[int, int, int, int]
    jpeg: bytes = field(repr=False)


class SourceError(Exception):
    """The source cannot be opened or read."""


@dataclass(frozen=True)
class SourceSpec:
    """What to capture from: ``kind`` is ``camera`` (value: index), ``video`` or ``images``
    (value: a path). ``loop``: start again at the end (video files and image folders)."""

    kind: str
    value: str | int
    loop: bool = True


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


class CameraSource:
    live = True
    still = False

    def __init__(self, index: int):
        self.index = index
        self.capture = cv2.VideoCapture(index)
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"camera {index} cannot be opened")
        self.fps = 15.0

    def read(self) -> np.ndarray | None:
        ok, frame = self.capture.read()
        if not ok:
            raise SourceError(f"camera {self.index} gave no picture")
        return frame

    def close(self) -> None:
        self.capture.release()


class VideoFileSource:
    """A video file played at its own speed (frames are skipped when reading is slower)."""

    live = False
    still = False

    def __init__(self, path: Path, loop: bool = True):
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"no such video file: {self.path}")
        self.capture = cv2.VideoCapture(str(self.path))
        if not self.capture.isOpened():
            self.capture.release()
            raise SourceError(f"cannot play {self.path}")
        fps = self.capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1.0 <= fps <= 120.0 else 25.0
        self.loop = loop
        self.position = 0  # frames read or skipped so far

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

    def close(self) -> None:
        self.capture.release()


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


def open_source(spec: SourceSpec):
    if spec.kind == "camera":
        return CameraSource(int(spec.value))
    if spec.kind == "video":
        return VideoFileSource(Path(spec.value), loop=spec.loop)
    if spec.kind == "images":
        return ImageFolderSource(Path(spec.value), loop=spec.loop)
    raise ValueError(f"unknown source kind {spec.kind!r}")
