"""The durable queue of marks the server has not acknowledged yet ("outbox").

One JSON file holds every unacknowledged entry. Each change rewrites the whole file through a
temporary file in the same folder: write, flush, ``fsync``, ``os.replace`` over the old file,
then ``fsync`` the folder. A crash at any moment therefore leaves either the old file or the new
one, complete, never a mix or half a file.

Entries are plain JSON objects (dicts) with at least ``id`` (unique) and ``kind``:

- ``{"kind": "mark", "id", "lecture", "student_id", "status", "source", "distance", "created"}``:
  one check-in. Sending it twice is harmless: a check-in never changes an existing mark.
- ``{"kind": "batch", "id", "lecture", "batch_id", "marks": [[student_id, status], ...],
  "source", "created"}``: one roll call. The server applies a ``batch_id`` once, so a resend
  after a lost reply changes nothing.

The class is thread-safe (one lock); it does file I/O, so the app calls it from a worker thread.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import logging
import os
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any, Iterable

log = logging.getLogger(__name__)

FORMAT = "attendance-desktop-queue"
VERSION = 1
QUEUE_FILE = "pending-marks.json"
REJECTED_FILE = "rejected-marks.jsonl"
_TMP_PREFIX = ".pending-marks-"

Entry = dict[str, Any]


class QueueFileError(Exception):
    """The queue file exists but cannot be read as a queue (it is kept aside, not deleted)."""


def new_id() -> str:
    return uuid.uuid4().hex


def now_text() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def mark_entry(lecture: str, student_id: str, *, status: str = "present", source: str = "checkin",
               distance: float | None = None) -> Entry:
    """A queued single mark (a face check-in)."""
    return {
        "kind": "mark",
        "id": new_id(),
        "lecture": lecture,
        "student_id": student_id,
        "status": status,
        "source": source,
        "distance": distance,
        "created": now_text(),
    }


def batch_entry(lecture: str, marks: Iterable[tuple[str, str]], *, source: str = "rollcall",
                batch_id: str | None = None) -> Entry:
    """A queued roll call: every mark in one request with a batch ID the server applies once."""
    batch_id = batch_id or f"rc-{lecture}-{dt.date.today():%Y%m%d}-{new_id()}"
    return {
        "kind": "batch",
        "id": batch_id,
        "lecture": lecture,
        "batch_id": batch_id,
        "marks": [[student_id, status] for student_id, status in marks],
        "source": source,
        "created": now_text(),
    }


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


def _encode(entries: list[Entry]) -> bytes:
    document = {"format": FORMAT, "version": VERSION, "entries": entries}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _decode(data: bytes) -> list[Entry]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise QueueFileError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise QueueFileError("not an attendance-desktop queue file")
    if document.get("version") != VERSION:
        raise QueueFileError(f"queue file version {document.get('version')!r}, expected {VERSION}")
    entries = document.get("entries")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("id"), str) and e.get("kind") in ("mark", "batch")
        for e in entries
    ):
        raise QueueFileError("malformed entries")
    return entries


class MarkQueue:
    """Unacknowledged marks, persisted in ``folder / QUEUE_FILE`` before anything is sent."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.path = self.folder / QUEUE_FILE
        self.rejected_path = self.folder / REJECTED_FILE
        self._lock = threading.Lock()
        self._entries: list[Entry] = self._load()

    def _load(self) -> list[Entry]:
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

    def entries(self) -> list[Entry]:
        """A copy of the entries, oldest first."""
        with self._lock:
            return copy.deepcopy(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def add(self, entry: Entry) -> None:
        """Persist one entry (on disk when this returns). Adding an ``id`` again is a no-op."""
        with self._lock:
            if any(e["id"] == entry["id"] for e in self._entries):
                return
            entries = self._entries + [copy.deepcopy(entry)]
            write_atomically(self.path, _encode(entries))
            self._entries = entries

    def remove(self, entry_id: str) -> bool:
        """Forget an acknowledged entry; False when it was not queued."""
        with self._lock:
            entries = [e for e in self._entries if e["id"] != entry_id]
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
            entry = next((e for e in self._entries if e["id"] == entry_id), None)
            if entry is None:
                return False
            record = dict(entry, rejected={"code": code, "message": message, "at": now_text()})
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.rejected_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            entries = [e for e in self._entries if e["id"] != entry_id]
            write_atomically(self.path, _encode(entries))
            self._entries = entries
            return True
