"""The durable queue of marks the server has not acknowledged yet ("outbox").

One JSON file holds every unacknowledged entry. Each change rewrites the whole file through a
temporary file in the same folder: write, flush, ``fsync``, ``os.replace`` over the old file,
then ``fsync`` the folder. A crash at any moment therefore leaves either the old file or the new
one, complete, never a mix or half a file.

Entries are :class:`MarkEntry` and :class:`BatchEntry` (frozen dataclasses); on disk, JSON
objects with ``kind`` first, then the fields in their declared order:

- ``{"kind": "mark", "id", "lecture", "student_id", "status", "source", "distance", "created"}``:
  one check-in. Sending it twice is harmless: a check-in never changes an existing mark.
- ``{"kind": "batch", "id", "lecture", "batch_id", "marks": [[student_id, status], ...],
  "source", "created", "session_date", "reason", "professor"}``: one roll call (the last three
  left out for today's session, as the earlier version wrote it). The server applies a ``batch_id`` once, so a resend
  after a lost reply changes nothing.

The class is thread-safe (one lock); it does file I/O, so the app calls it from a worker thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
import tempfile
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger(__name__)

FORMAT = "attendance-desktop-queue"
VERSION = 1
QUEUE_FILE = "pending-marks.json"
REJECTED_FILE = "rejected-marks.jsonl"
_TMP_PREFIX = ".pending-marks-"


class QueueFileError(Exception):
    """The queue file exists but cannot be read as a queue (it is kept aside, not deleted)."""


@dataclass(frozen=True)
class MarkEntry:
    """A queued single mark (a face check-in of an older version: the server marks them now)."""

    kind: ClassVar[str] = "mark"
    id: str
    lecture: str
    student_id: str
    status: str = "present"
    source: str = "checkin"
    distance: float | None = None
    created: str = ""

    @property
    def mark_count(self) -> int:
        return 1


@dataclass(frozen=True)
class BatchEntry:
    """A queued roll call: (student ID, status) marks sent in one request with ``batch_id``.
    ``session_date`` (YYYY-MM-DD): a past session, changed with ``reason``; None: today's.
    ``professor``: the name the professor gave, for the mark history."""

    kind: ClassVar[str] = "batch"
    #: Fields added after the first release, not written while None (so a file of today's roll
    #: calls is what the earlier version wrote).
    added: ClassVar[tuple[str, ...]] = ("session_date", "reason", "professor")
    id: str
    lecture: str
    batch_id: str
    marks: tuple[tuple[str, str], ...]
    source: str = "rollcall"
    created: str = ""
    session_date: str | None = None
    reason: str | None = None
    professor: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "marks", tuple((sid, status) for sid, status in self.marks))

    @property
    def mark_count(self) -> int:
        return len(self.marks)


QueueEntry = MarkEntry | BatchEntry
ENTRY_TYPES: dict[str, type[MarkEntry] | type[BatchEntry]] = {MarkEntry.kind: MarkEntry, BatchEntry.kind: BatchEntry}


def entry_to_json(entry: QueueEntry) -> dict[str, Any]:
    """The entry as stored: ``kind`` first, then its fields (marks as lists)."""
    document: dict[str, Any] = {"kind": entry.kind}
    added = getattr(entry, "added", ())
    for field in dataclasses.fields(entry):
        value = getattr(entry, field.name)
        if value is None and field.name in added:
            continue
        document[field.name] = [list(mark) for mark in value] if field.name == "marks" else value
    return document


def entry_from_json(document: Any) -> QueueEntry:
    """An entry read back; QueueFileError when it is not one (unknown kind, missing fields)."""
    entry_type = ENTRY_TYPES.get(document.get("kind")) if isinstance(document, dict) else None
    if entry_type is None or not isinstance(document.get("id"), str):
        raise QueueFileError("malformed entries")
    names = {field.name for field in dataclasses.fields(entry_type)}
    try:
        return entry_type(**{key: value for key, value in document.items() if key in names})
    except (TypeError, ValueError) as exc:
        raise QueueFileError(f"malformed entries: {exc}") from exc


def new_id() -> str:
    return uuid.uuid4().hex


def now_text() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def mark_entry(
    lecture: str, student_id: str, *, status: str = "present", source: str = "checkin", distance: float | None = None
) -> MarkEntry:
    """A new queued single mark (a face check-in)."""
    return MarkEntry(new_id(), lecture, student_id, status, source, distance, now_text())


def batch_entry(
    lecture: str,
    marks: Iterable[tuple[str, str]],
    *,
    source: str = "rollcall",
    batch_id: str | None = None,
    session_date: str | None = None,
    reason: str | None = None,
    professor: str | None = None,
) -> BatchEntry:
    """A new queued roll call: every mark in one request with a batch ID the server applies once
    (of today's session, or of the past one of ``session_date``, with a ``reason``)."""
    day = session_date.replace("-", "") if session_date else f"{dt.date.today():%Y%m%d}"
    batch_id = batch_id or f"rc-{lecture}-{day}-{new_id()}"
    return BatchEntry(
        batch_id, lecture, batch_id, tuple(marks), source, now_text(), session_date, reason or None, professor or None
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: the file is the old one or the new one, never half."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); not possible (nor needed) on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _encode(entries: list[QueueEntry]) -> bytes:
    document = {"format": FORMAT, "version": VERSION, "entries": [entry_to_json(e) for e in entries]}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _decode(data: bytes) -> list[QueueEntry]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise QueueFileError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise QueueFileError("not an attendance-desktop queue file")
    if document.get("version") != VERSION:
        raise QueueFileError(f"queue file version {document.get('version')!r}, expected {VERSION}")
    entries = document.get("entries")
    if not isinstance(entries, list):
        raise QueueFileError("malformed entries")
    return [entry_from_json(e) for e in entries]


class MarkQueue:
    """Unacknowledged marks, persisted in ``folder / QUEUE_FILE`` before anything is sent."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.path = self.folder / QUEUE_FILE
        self.rejected_path = self.folder / REJECTED_FILE
        self._lock = threading.Lock()
        self._entries: list[QueueEntry] = self._load()

    def _load(self) -> list[QueueEntry]:
        # Temporary files of an interrupted write are never the queue: drop them.
        if self.folder.is_dir():
            for stale in self.folder.glob(_TMP_PREFIX + "*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        try:
            return _decode(data)
        except QueueFileError as exc:
            # Never throw marks away silently: keep the unreadable file for a person to look at.
            aside = self.path.with_name(f"{self.path.name}.unreadable-{dt.datetime.now():%Y%m%d-%H%M%S}")
            os.replace(self.path, aside)
            log.error("queue file %s cannot be read (%s); kept as %s", self.path, exc, aside)
            return []

    def entries(self) -> list[QueueEntry]:
        """The entries, oldest first (a new list; the entries are immutable)."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def add(self, entry: QueueEntry) -> None:
        """Persist one entry (on disk when this returns). Adding an ``id`` again is a no-op."""
        with self._lock:
            if any(e.id == entry.id for e in self._entries):
                return
            entries = self._entries + [entry]
            write_atomically(self.path, _encode(entries))
            self._entries = entries

    def remove(self, entry_id: str) -> bool:
        """Forget an acknowledged entry; False when it was not queued."""
        with self._lock:
            entries = [e for e in self._entries if e.id != entry_id]
            if len(entries) == len(self._entries):
                return False
            write_atomically(self.path, _encode(entries))
            self._entries = entries
            return True

    def reject(self, entry_id: str, code: str, message: str) -> bool:
        """Move an entry the server refuses for good (e.g. not_enrolled) to the rejected log.

        The rejected log (JSON lines) keeps it for a person; the queue stops resending it.
        """
        with self._lock:
            entry = next((e for e in self._entries if e.id == entry_id), None)
            if entry is None:
                return False
            record = dict(entry_to_json(entry), rejected={"code": code, "message": message, "at": now_text()})
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.rejected_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            entries = [e for e in self._entries if e.id != entry_id]
            write_atomically(self.path, _encode(entries))
            self._entries = entries
            return True
