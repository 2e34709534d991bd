"""Keeping the camera frame that supported a mark (``--keep-evidence DIR``; docs/privacy.md).

Without that option the server stores no frame anywhere: images live in memory for the length
of one request. With it, the rule is:

    A frame sent for recognition (framed ``recognize`` or a 2019 image) in which a student was
    recognized is held in memory for ``window`` seconds (60), keyed by the client and the student.
    When the same client then makes a new mark for that student (framed ``mark`` or a 2019 mark
    payload) within the window, the frame is written to
    ``DIR/<lecture>/<YYYY-MM-DD>/<student ID>_<attendance ID>.<jpg|png|...>`` (named by the mark
    it supports). Marks that change nothing (already marked) and batch marks (roll calls) keep no
    frame.

Files older than ``retention_days`` (30) are deleted at start and once a day. Only files whose
names follow the pattern above are ever deleted, so a mistaken ``--keep-evidence /`` cannot
remove anything else. Memory is bounded: frames held in memory total at most ``max_bytes``.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30.0
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_MAX_BYTES = 256 * 2**20

#: The three levels of the evidence folder: <lecture>/<YYYY-MM-DD>/<student ID>_<attendance ID>.<ext>
#: (a file being written ends in .tmp). Nothing else under the folder is ever touched.
LECTURE_FOLDER = re.compile(r"[a-z]{2}[0-9]{4}_[0-9]\Z")
DAY_FOLDER = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
EVIDENCE_NAME = re.compile(
    r"(?P<student_id>[0-9]{9})_(?P<attendance_id>[0-9]+)\.(jpg|png|gif|bmp|tif|webp|img)(\.tmp)?\Z"
)

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF8", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tif"),
    (b"MM\x00*", "tif"),
    (b"RIFF", "webp"),
)


def extension_of(image: bytes) -> str:
    for signature, extension in _SIGNATURES:
        if image.startswith(signature):
            return extension
    return "img"


def evidence_path(
    directory: Path, lecture: str, day: dt.date, student_id: str, attendance_id: int, image: bytes
) -> Path:
    return directory / lecture / day.isoformat() / f"{student_id}_{attendance_id}.{extension_of(image)}"


def evidence_files(directory: Path, student_id: str | None = None) -> list[Path]:
    """Evidence files under ``directory`` (``<lecture>/<day>/<name>``), of one student or all."""
    found = []
    for day_folder in _day_folders(directory):
        for path in sorted(day_folder.iterdir()):
            match = EVIDENCE_NAME.match(path.name)
            if match and path.is_file() and (student_id is None or match["student_id"] == student_id):
                found.append(path)
    return found


@dataclass
class EvidenceDeletion:
    """What :func:`delete_evidence` did: files deleted, files that could not be (with the
    reason), and links to folders it did not follow."""

    deleted: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    not_followed: list[Path] = field(default_factory=list)


def delete_evidence(directory: Path, student_id: str) -> EvidenceDeletion:
    """Delete every evidence file of the student (``attendance-db forget --evidence DIR``).

    Folders that are symbolic links are not followed (nothing outside ``directory`` is touched);
    a file that cannot be deleted is reported and the others are deleted all the same."""
    done = EvidenceDeletion(not_followed=linked_folders(directory))
    for path in evidence_files(directory, student_id):
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            done.failed.append((path, exc.strerror or str(exc)))
        else:
            done.deleted.append(path)
    try:
        _remove_empty_folders(directory)
    except OSError as exc:  # an empty folder that cannot be removed: nothing of the student's in it
        log.warning("cannot remove an empty evidence folder: %s", exc)
    return done


def linked_folders(directory: Path) -> list[Path]:
    """The lecture and day folders under ``directory`` that are symbolic links (never followed)."""
    if not directory.is_dir():
        return []
    found = []
    for lecture in sorted(directory.iterdir()):
        if not LECTURE_FOLDER.match(lecture.name):
            continue
        if lecture.is_symlink():
            found.append(lecture)
        elif lecture.is_dir():
            found += [day for day in sorted(lecture.iterdir()) if day.is_symlink() and DAY_FOLDER.match(day.name)]
    return found


class EvidenceKeeper:
    """Holds recent frames in memory per (client, student) and writes the one a mark uses."""

    def __init__(
        self,
        directory: Path,
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        window: float = DEFAULT_WINDOW_SECONDS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock=time.monotonic,
    ):
        self.directory = Path(directory)
        self.retention_days = retention_days
        self.window = window
        self.max_bytes = max_bytes
        self._clock = clock
        self._frames: collections.OrderedDict[int, tuple[float, bytes]] = collections.OrderedDict()
        self._bytes = 0
        self._latest: dict[tuple[str, str], int] = {}  # (client, student) -> frame number
        self._numbers = itertools.count()
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Create the folder (owner-only permissions) and delete files past the retention period."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.purge()

    def remember(self, client_name: str, image: bytes, student_ids: Iterable[str]) -> None:
        """A frame in which these students were recognized (nothing is kept when there are none)."""
        student_ids = set(student_ids)
        if not student_ids or len(image) > self.max_bytes:
            return
        with self._lock:
            number = next(self._numbers)
            self._frames[number] = (self._clock(), image)
            self._bytes += len(image)
            for student_id in student_ids:
                self._latest[(client_name, student_id)] = number
            self._forget_old()

    def attach(
        self, client_name: str, *, lecture: str, day: dt.date, student_id: str, attendance_id: int
    ) -> Path | None:
        """Write the frame that supports a new mark, if this client sent one recently."""
        with self._lock:
            self._forget_old()
            number = self._latest.pop((client_name, student_id), None)
            frame = self._frames.get(number) if number is not None else None
        if frame is None:
            return None
        image = frame[1]
        path = evidence_path(self.directory, lecture, day, student_id, attendance_id, image)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            temporary = path.with_name(path.name + ".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(image)
            os.replace(temporary, path)
        except OSError as exc:  # a full disk must not cost the mark, which is already stored
            log.error("cannot keep the evidence of mark %d in %s: %s", attendance_id, path, exc)
            return None
        log.info("kept evidence of mark %d: %s", attendance_id, path)
        return path

    def purge(self, now: float | None = None) -> int:
        """Delete evidence files older than the retention period; return how many."""
        limit = (time.time() if now is None else now) - self.retention_days * 86400
        deleted = 0
        for path in evidence_files(self.directory):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    deleted += 1
            except OSError as exc:
                log.warning("cannot delete old evidence %s: %s", path, exc)
        _remove_empty_folders(self.directory)
        if deleted:
            log.info("deleted %d evidence files older than %g days", deleted, self.retention_days)
        return deleted

    @property
    def frames_held(self) -> int:
        return len(self._frames)

    def _forget_old(self) -> None:
        """Drop frames past the window, then the oldest until under max_bytes (lock held)."""
        oldest_kept = self._clock() - self.window
        while self._frames:
            number, (at, image) = next(iter(self._frames.items()))
            if at >= oldest_kept and self._bytes <= self.max_bytes:
                break
            del self._frames[number]
            self._bytes -= len(image)
        live = set(self._frames)
        for key in [key for key, number in self._latest.items() if number not in live]:
            del self._latest[key]


def _lecture_folders(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    # A folder that is a symbolic link is never followed: nothing outside the directory is touched.
    return [p for p in sorted(directory.iterdir()) if LECTURE_FOLDER.match(p.name) and _real_folder(p)]


def _real_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _day_folders(directory: Path) -> list[Path]:
    return [
        p
        for lecture_folder in _lecture_folders(directory)
        for p in sorted(lecture_folder.iterdir())
        if DAY_FOLDER.match(p.name) and _real_folder(p)
    ]


def _remove_empty_folders(directory: Path) -> None:
    """Remove empty <lecture>/<day> and <lecture> folders (never ``directory`` itself)."""
    for day_folder in _day_folders(directory):
        if not any(day_folder.iterdir()):
            day_folder.rmdir()
    for lecture_folder in _lecture_folders(directory):
        if not any(lecture_folder.iterdir()):
            lecture_folder.rmdir()
