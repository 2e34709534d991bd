"""Enrollment: the photos in ``knowns/`` -> rows of face_encodings -> a :class:`Gallery`.

The knowns folder holds, for each student, either

* a photo ``<student ID>_<name>.jpg`` (or .jpeg / .png / .webp / .heic / .heif, any case), e.g.
  ``201911001_barack_obama.jpg``, or
* a folder ``<student ID>_<name>/`` with several photos of that student (any file names).

The name is the part after ``<student ID>_`` with ``_`` read as a space. Anything else is skipped
with a warning, except hidden files (``.gitkeep``) and README files, skipped silently.

:func:`sync_knowns` encodes only photos that are new or changed (by SHA-256) since the last run,
so a server start with nothing new costs one hash per photo; while it encodes, an
:class:`EncodingProgress` logs ``encoded 40/63 photos`` lines (63 photos take about 24 s on 2
cores, and the server's port stays closed meanwhile).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from db import encodings as db_encodings
from db.connection import transaction
from db.students import ensure_student
from protocol.identifiers import IdentifierRules
from server.recognition.faces import ENROLMENT_MODEL
from server.recognition.gallery import Gallery

log = logging.getLogger(__name__)

PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif")
_PHOTO_EXTENSIONS_TEXT = "/".join(PHOTO_EXTENSIONS)  # for the skip warnings: ".jpg/.jpeg/..."
MAX_NAME_LENGTH = 100  # students.name is VARCHAR(100)


@dataclass(frozen=True)
class KnownPhoto:
    student_id: str
    name: str
    rel_path: str  # relative to the knowns folder, '/'-separated: the key in face_encodings
    path: Path


@dataclass(frozen=True)
class SyncReport:
    """What one :func:`sync_knowns` did. no_face / multi_face: photos encoded in this run."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    no_face: list[str] = field(default_factory=list)
    multi_face: list[str] = field(default_factory=list)


class EncodingProgress:
    """``progress(done)`` after each of ``total`` photos is encoded; says ``encoded 40/63 photos,
    about 9 s left`` through ``say`` for every tenth of the photos (so every photo of a small set,
    about ten lines for a large one), whenever ``max_silence`` seconds passed without a line, and
    at the end (``encoded 63/63 photos in 24 s``)."""

    def __init__(
        self,
        total: int,
        say: Callable[[str], None],
        *,
        max_silence: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.total = total
        self.say = say
        self.step = max(1, math.ceil(total / 10))
        self.max_silence = max_silence
        self.clock = clock
        self.started = self.last_said = clock()
        self.last_done = 0

    def __call__(self, done: int) -> None:
        now = self.clock()
        if done < self.total and done - self.last_done < self.step and now - self.last_said < self.max_silence:
            return
        elapsed = now - self.started
        if done >= self.total:
            self.say(f"encoded {done}/{self.total} photos in {elapsed:.0f} s")
        else:
            left = elapsed / done * (self.total - done) if done else None
            self.say(f"encoded {done}/{self.total} photos" + (f", about {left:.0f} s left" if left is not None else ""))
        self.last_done, self.last_said = done, now


def scan_knowns(
    knowns_dir: str | os.PathLike, *, logger: logging.Logger = log, rules: IdentifierRules | None = None
) -> list[KnownPhoto]:
    """The enrollment photos in knowns_dir, sorted by rel_path. Badly named entries are logged.
    ``rules``: the university's student IDs (default: the 2019 format)."""
    root = Path(knowns_dir)
    rules = rules or IdentifierRules()
    photos = []
    for entry in sorted(root.iterdir()):
        if _ignored(entry):
            continue
        if entry.is_dir():
            photos.extend(_scan_student_folder(root, entry, logger, rules))
        elif not _is_photo(entry):
            logger.warning("skipping %s: not a %s photo nor a student folder", entry, _PHOTO_EXTENSIONS_TEXT)
        else:
            student = _parse_student(entry.stem, entry, logger, rules)
            if student is not None:
                photos.append(KnownPhoto(*student, entry.name, entry))
    return photos


def sync_knowns(
    conn,
    knowns_dir: str | os.PathLike,
    pool,
    *,
    model: str = ENROLMENT_MODEL,
    logger: logging.Logger = log,
    encoding_note: str = "",
    rules: IdentifierRules | None = None,
) -> SyncReport:
    """Bring face_encodings (rows of ``model``) in line with the photos in knowns_dir.

    New and changed photos are encoded on the pool's workers; rows of photos no longer there are
    deleted; every student with a photo is created if missing. A photo without a face is stored
    with encoding NULL (not encoded again until it changes); with several faces the largest is
    used. Both are logged as warnings. All writes happen in one transaction.

    :param pool: a :class:`server.recognition.pool.RecognitionPool`, started (perhaps with
        ``wait=False``: it is used only when there are photos to encode, which then wait for the
        workers to be ready).
    :param encoding_note: added to the line that says how many photos are to be encoded, e.g.
        what waits for them (the server: "the port opens when done").

    While encoding, ``logger`` gets :class:`EncodingProgress` lines.
    """
    photos = scan_knowns(knowns_dir, logger=logger, rules=rules)
    hashes = {photo.rel_path: _sha256(photo.path) for photo in photos}
    with transaction(conn) as cur:
        stored = db_encodings.load_photo_hashes(cur, model)  # photo path -> SHA-256

    new = [p for p in photos if p.rel_path not in stored]
    changed = [p for p in photos if p.rel_path in stored and stored[p.rel_path] != hashes[p.rel_path]]
    to_encode = new + changed
    gone = sorted(set(stored) - set(hashes))
    report = SyncReport(added=len(new), updated=len(changed), unchanged=len(photos) - len(to_encode), removed=0)
    progress = None
    if to_encode:
        logger.info(
            "%s: encoding %d new or changed photo%s (%d unchanged)%s",
            knowns_dir,
            len(to_encode),
            "" if len(to_encode) == 1 else "s",
            report.unchanged,
            f"; {encoding_note}" if encoding_note else "",
        )
        progress = EncodingProgress(len(to_encode), lambda line: logger.info("%s", line))
    results = pool.encode_photos([photo.path for photo in to_encode], progress=progress)  # none: at once
    if not to_encode and not gone:
        return report  # nothing to write: every photo's student exists (see below)

    no_face, multi_face, rows = [], [], []
    for photo, result in zip(to_encode, results):
        if result.error is not None:
            logger.warning("enrollment photo %s cannot be used: %s", photo.rel_path, result.error)
            no_face.append(photo.rel_path)
        elif result.encoding is None:
            logger.warning("enrollment photo %s: no face found; stored without encoding", photo.rel_path)
            no_face.append(photo.rel_path)
        elif result.face_count > 1:
            logger.warning(
                "enrollment photo %s: %d faces found; the largest is used",
                photo.rel_path,
                result.face_count,
            )
            multi_face.append(photo.rel_path)
        rows.append(
            db_encodings.EncodingRow(
                photo.student_id, photo.rel_path, hashes[photo.rel_path], result.face_count, result.encoding
            )
        )
    with transaction(conn) as cur:
        # Only the students of the photos to (re)write may be missing: a photo that keeps its row
        # has a student, as face_encodings.student_id is a foreign key to students.
        for student_id, name in sorted({(p.student_id, p.name) for p in to_encode}):
            ensure_student(cur, student_id, name)
        db_encodings.upsert_encodings(cur, rows, model)
        removed = db_encodings.delete_encodings(cur, gone, model)
    return dataclasses.replace(report, removed=removed, no_face=no_face, multi_face=multi_face)


def load_gallery(conn, model: str = ENROLMENT_MODEL) -> Gallery:
    """Every stored encoding of this model, with the students' names, ready to match."""
    with transaction(conn) as cur:
        student_ids, matrix, names = db_encodings.load_gallery_rows(cur, model, dtype=np.float32)
    return Gallery(student_ids, matrix, names)


def _scan_student_folder(root: Path, folder: Path, logger: logging.Logger, rules: IdentifierRules) -> list[KnownPhoto]:
    student = _parse_student(folder.name, folder, logger, rules)
    if student is None:
        return []
    photos = []
    for entry in sorted(folder.iterdir()):
        if _ignored(entry):
            continue
        if not _is_photo(entry):
            logger.warning("skipping %s: not a %s file", entry, _PHOTO_EXTENSIONS_TEXT)
            continue
        photos.append(KnownPhoto(*student, entry.relative_to(root).as_posix(), entry))
    return photos


def _parse_student(stem: str, entry: Path, logger: logging.Logger, rules: IdentifierRules) -> tuple[str, str] | None:
    """(student ID, name) from '<student ID>_<name>', or None (logged) when it is not that. A
    student ID holds no '_' (protocol.identifiers), so the first '_' ends it."""
    student_id, separator, rest = stem.partition("_")
    name = " ".join(rest.replace("_", " ").split())
    if not rules.is_student_id(student_id) or separator != "_" or not name:
        logger.warning("skipping %s: not named <student ID>_<name> (e.g. 201911001_barack_obama)", entry)
        return None
    if len(name) > MAX_NAME_LENGTH:
        logger.warning("skipping %s: the name is longer than %d characters", entry, MAX_NAME_LENGTH)
        return None
    return student_id, name


def _ignored(path: Path) -> bool:
    return path.name.startswith(".") or path.name.upper().startswith("README")


def _is_photo(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in PHOTO_EXTENSIONS


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
