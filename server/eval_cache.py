"""``attendance-eval --cache DIR``: the photos' encodings kept between runs of the evaluation.

Encoding is nearly all of an evaluation's time (about 0.5 s a photo on one core, most of it face
detection with upsampling); trying other splits, K or F on the same photos needs none of it again.
The cache is one file per *fingerprint*: the encoder's name, the source of the recognition code
that makes the views (``server/recognition/*.py``, its defaults included), the versions of dlib,
Pillow and numpy, and the model files' names and sizes. Any change to one of them starts a new
file, so an entry is only ever what this code would compute again. Within a file, a photo is
found by the SHA-256 of its bytes (renaming or moving photos costs nothing; an edited photo is
encoded again).

The files hold encodings of the photos evaluated (biometric data, docs/privacy.md): the cache is
off unless asked for, and deleting DIR removes it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from server.recognition import faces
from server.recognition.pool import PhotoViews

log = logging.getLogger(__name__)

_RECOGNITION_SOURCE = Path(faces.__file__).resolve().parent


def fingerprint(encoder: str) -> str:
    """16 hex digits naming what the views depend on (see the module's docstring)."""
    digest = hashlib.sha256(encoder.encode())
    for source in sorted(_RECOGNITION_SOURCE.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    import dlib
    import PIL

    # dlib finds the boxes and makes the chips, Pillow decodes and scales the photos, numpy (its
    # BLAS) does the numpy encoder's arithmetic: their versions count.
    for module in (dlib, PIL, np):
        digest.update(f"{module.__name__}:{module.__version__}".encode())
    encoder_model = faces.encoder_model_path()
    for model in (encoder_model, encoder_model.parent / faces.LANDMARKS_FILE):
        digest.update(f"{model.name}:{model.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def photo_key(path: Path) -> str | None:
    """The SHA-256 of the photo's bytes; None when it cannot be read (then it is never cached:
    the encoding says why)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ViewCache:
    """The views of photos, by photo key, for one fingerprint, in ``folder``."""

    def __init__(self, folder: Path, encoder: str) -> None:
        self.path = Path(folder) / f"views-{fingerprint(encoder)}.npz"
        self._views: dict[str, PhotoViews] = {}
        if self.path.is_file():
            try:
                self._views = self._read()
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # damaged: encode again
                log.warning("%s cannot be read (%s): its photos are encoded again", self.path, exc)

    def get(self, key: str) -> PhotoViews | None:
        return self._views.get(key)

    def update(self, views: Iterable[tuple[str, PhotoViews]]) -> None:
        self._views.update(views)

    def save(self) -> None:
        """Write the file whole (a new file renamed over the old): a run stopped half-way leaves
        the old file, never a part of one."""
        keys = sorted(self._views)
        views = [self._views[key] for key in keys]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".npz.part")
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez(
                    file,
                    keys=np.array(keys, dtype=str),
                    face_count=np.array([view.face_count for view in views], dtype=np.int64),
                    error=np.array([view.error or "" for view in views], dtype=str),
                    photo=_matrix(views, "photo"),
                    frame=_matrix(views, "frame"),
                    enrolment=_matrix(views, "enrolment"),
                )
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise

    def __len__(self) -> int:
        return len(self._views)

    def _read(self) -> dict[str, PhotoViews]:
        with np.load(self.path, allow_pickle=False) as data:
            fields = {name: data[name] for name in ("keys", "face_count", "error", "photo", "frame", "enrolment")}
        views = {}
        for i, key in enumerate(fields["keys"].tolist()):
            photo, frame, enrolment = (
                None if np.isnan(fields[name][i, 0]) else fields[name][i].copy()
                for name in ("photo", "frame", "enrolment")
            )
            views[key] = PhotoViews(
                int(fields["face_count"][i]), photo, frame, enrolment, str(fields["error"][i]) or None
            )
        return views


def _matrix(views: list[PhotoViews], field: str) -> np.ndarray:
    """(n, 128) float64, NaN where a photo has no face."""
    matrix = np.full((len(views), faces.ENCODING_SIZE), np.nan)
    for i, view in enumerate(views):
        value = getattr(view, field)
        if value is not None:
            matrix[i] = value
    return matrix
