"""The liveness samples' face measures, kept between test runs.

Measuring a frame (``lv.measure_largest_face``: HOG detection, then the 68 landmarks) costs
about 50 ms, and the liveness tests measure the same frames on every run: the annotated clips'
635 frames and the still photos' 900 hand-held ones. :class:`MeasureCache` keeps each sequence's
measures under a key that names what made the frames (a clip's or photo's SHA-256, the seed, the
number of frames, the detection size), in one file per *fingerprint*: the attendance-eval cache's
fingerprint of the recognition code, its libraries and models (``server/eval_cache.py``), with
the 68-point model's size, OpenCV's version (it decodes the clips and fits the head pose) and
this package's frame-making code (testkit/liveness.py). Any change to those starts a new file,
so a stored measure is only ever what this code would measure again.

The file is JSON (floats round-trip exactly), written whole and renamed over the old one. It
holds face boxes, eye openings and head poses of the sample photos, no image.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from server import eval_cache
from server.recognition import faces
from server.recognition import liveness as lv
from testkit import liveness as samples
from testkit.paths import TEST_CACHE

log = logging.getLogger(__name__)


def fingerprint() -> str:
    """16 hex digits naming everything a stored measure depends on (the module docstring)."""
    digest = hashlib.sha256(eval_cache.fingerprint("liveness-measures").encode())
    landmarks_68 = faces.encoder_model_path().parent / lv.LANDMARKS_68_FILE
    digest.update(f"{landmarks_68.name}:{landmarks_68.stat().st_size}".encode())
    digest.update(f"cv2:{cv2.__version__}".encode())
    digest.update(Path(samples.__file__).read_bytes())
    return digest.hexdigest()[:16]


def file_key(path: Path) -> str:
    """The SHA-256 of a sample file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class MeasureCache:
    """Sequences of measures by key, for this code's fingerprint, in ``folder``."""

    def __init__(self, folder: Path = TEST_CACHE) -> None:
        self.path = Path(folder) / f"liveness-{fingerprint()}.json"
        self._stored: dict[str, list] = {}
        if self.path.is_file():
            try:
                self._stored = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:  # damaged: measured again
                log.warning("%s cannot be read (%s): its frames are measured again", self.path, exc)

    def measures(
        self, key: str, frames: Callable[[], Sequence[np.ndarray]], *, detect_max_side: int | None
    ) -> list[lv.FaceMeasure | None]:
        """``lv.measure_largest_face`` of each of ``frames()``, stored under ``key`` (which must
        name what ``frames`` makes; the detection size is added to it)."""
        key = f"{key}|{detect_max_side}"
        if key not in self._stored:
            found = [lv.measure_largest_face(frame, detect_max_side=detect_max_side) for frame in frames()]
            self._stored[key] = [None if m is None else [*m.box, m.eye_aspect_ratio, m.yaw, m.pitch] for m in found]
            self._save()
        return [None if row is None else lv.FaceMeasure(tuple(row[:4]), *row[4:]) for row in self._stored[key]]

    def _save(self) -> None:
        """The file written whole (a run stopped half-way leaves the old one); the files of other
        fingerprints removed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".json.part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                json.dump(self._stored, file)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
        for stale in self.path.parent.glob("liveness-*.json"):  # an earlier code's: never read again
            if stale != self.path:
                stale.unlink(missing_ok=True)
