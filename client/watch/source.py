"""Where frames come from: a camera, or a video file read at its own timestamps.

Both are read through OpenCV's ``VideoCapture`` in two steps: :meth:`grab` takes the next frame
and tells its time, :meth:`retrieve` decodes it only when it is wanted (a sample, a preview).
Media time is in seconds from the first frame: a video's own timestamps (a 10-minute file is
10 minutes of lecture, however fast it is read), or the time since a camera was opened.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import cv2
import numpy as np


class FrameSourceError(RuntimeError):
    """The camera or the video file cannot be opened."""


class _CaptureSource:
    """What both sources share: an OpenCV ``VideoCapture`` in ``_capture``, released on close."""

    _capture: cv2.VideoCapture

    def close(self) -> None:
        self._capture.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class VideoFileSource(_CaptureSource):
    """The frames of a video file, in order, at their own timestamps."""

    live = False

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FrameSourceError(f"no such video file: {self.path}")
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            raise FrameSourceError(f"cannot read {self.path} as a video")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self._fps = fps if fps and math.isfinite(fps) and fps > 0 else None
        self._index = -1

    def grab(self) -> float | None:
        """Take the next frame; return its time in seconds, or None at the end of the file."""
        if not self._capture.grab():
            return None
        self._index += 1
        msec = self._capture.get(cv2.CAP_PROP_POS_MSEC)
        if msec <= 0 and self._index > 0 and self._fps:  # a container without timestamps
            msec = 1000.0 * self._index / self._fps
        return msec / 1000.0

    def retrieve(self) -> np.ndarray:
        """The grabbed frame: (height, width, 3) uint8, BGR."""
        ok, image = self._capture.retrieve()
        if not ok:
            raise FrameSourceError(f"{self.path}: cannot decode frame {self._index}")
        return image


class CameraSource(_CaptureSource):
    """A camera (``/dev/video<index>``, or the index OpenCV gives it); media time is the time
    since it was opened."""

    live = True

    def __init__(self, index: int, *, clock=time.monotonic):
        self.index = index
        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            raise FrameSourceError(f"cannot open camera {index}")
        self._clock = clock
        self._opened_at = clock()

    def grab(self) -> float | None:
        """Wait for the next frame; return its time in seconds, or None when the camera fails."""
        if not self._capture.grab():
            return None
        return self._clock() - self._opened_at

    def retrieve(self) -> np.ndarray:
        ok, image = self._capture.retrieve()
        if not ok:
            raise FrameSourceError(f"camera {self.index}: cannot decode a frame")
        return image


class SampleClock:
    """Decides which frames are samples: the first frame, then the first frame at or after each
    multiple of ``every`` seconds of media time (a late frame does not shift the next ones)."""

    def __init__(self, every: float):
        if not every > 0:
            raise ValueError(f"the sampling interval must be positive, not {every}")
        self.every = every
        self.next_due = 0.0

    def due(self, media_seconds: float) -> bool:
        # A small tolerance: 59.9999 s of a video's timestamps is the 60 s sample.
        if media_seconds + 1e-3 < self.next_due:
            return False
        self.next_due = (math.floor((media_seconds + 1e-3) / self.every) + 1) * self.every
        return True
