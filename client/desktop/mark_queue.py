"""The durable queue of marks the server has not acknowledged yet ("outbox").

**The journal** (``pending-marks.jsonl``) holds one record a line, appended and ``fsync``-ed
before the call returns; each line is ``CRC32 JSON``: the CRC-32 of the JSON text (8 hex
digits), a space, the record:

- ``{"op": "add", "entry": {...}}``: an entry queued;
- ``{"op": "done", "id": "..."}``: an entry acknowledged by the server (or moved to the rejected
  log).

A crash mid-append tears at most the line being written: its checksum no longer matches and
only that record is lost (a torn ``add`` is the entry whose ``add`` had not returned; a torn
``done`` makes the entry be sent again, which the server treats as a repeat). The journal is
compacted (only the live ``add`` records) at every start and when it has grown to several times
the entries in it: written to a temporary file in the same folder, ``fsync``, ``os.replace``
over the journal, ``fsync`` of the folder, so after a crash it is the old journal or the new one.

**A damaged journal** is salvaged line by line: every line whose checksum matches is kept; the
others are counted (:attr:`MarkQueue.load_report`, which the app shows the user) and the
damaged file is kept aside as ``pending-marks.jsonl.damaged-YYYYmmdd-HHMMSS`` for a person. A
line that is intact but not an entry this version can send (unknown kind, missing field) goes to
``rejected-marks.jsonl`` with the reason.

**Upgrade.** The queue of the earlier versions (``pending-marks.json``: ``{"format", "version":
1, "entries": [...]}``, rewritten whole at each change) is read at start, entry by entry (a
truncated one keeps every complete entry), written into the journal, then deleted (kept aside
when damaged).

**One app per folder.** :class:`FolderLock` (``queue.lock``, an OS lock the kernel releases
when the process ends, however it ends) is held by the queue, or given to it by the app that
took it first; a second instance on the same folder gets :class:`QueueLocked`.

Entries are :class:`MarkEntry` and :class:`BatchEntry` (frozen dataclasses); as JSON, objects
with ``kind`` first, then the fields in their declared order:

- ``{"kind": "mark", "id", "lecture", "student_id", "status", "source", "distance", "created"}``:
  one check-in (queued by an earlier version). Sending it twice is harmless: a check-in never
  changes an existing mark.
- ``{"kind": "batch", "id", "lecture", "batch_id", "marks": [[student_id, status], ...],
  "source", "created", "session_date", "reason", "professor"}``: one roll call (the last three
  left out for today's session, as the earlier version wrote it). The server applies a
  ``batch_id`` once, so a resend after a lost reply changes nothing.

The class is thread-safe (one lock); it does file I/O, so the app calls it from a worker thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import json
import logging
import os
import re
import socket
import threading
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

from client.desktop.private_files import TMP_PREFIX as _TMP_PREFIX
from client.desktop.private_files import write_atomically

log = logging.getLogger(__name__)

JOURNAL_FILE = "pending-marks.jsonl"
REJECTED_FILE = "rejected-marks.jsonl"
LOCK_FILE = "queue.lock"
#: The queue file of the earlier versions (read once, then deleted).
OLD_QUEUE_FILE = "pending-marks.json"
OLD_FORMAT = "attendance-desktop-queue"
OLD_VERSION = 1
#: Compact when the journal holds more records than this many per live entry (plus a few).
_COMPACT_RATIO, _COMPACT_SLACK = 2, 32
#: The reason written to the rejected log for an intact journal line that is not an entry.
UNREADABLE = "unreadable"


class QueueFileError(Exception):
    """An entry (or a file) that cannot be read as a queue entry."""


class QueueLocked(Exception):
    """Another app instance holds the queue folder."""

    def __init__(self, folder: Path, holder: str):
        self.folder, self.holder = folder, holder
        super().__init__(f"the queue folder {folder} is in use by another attendance-desktop ({holder or 'unknown'})")


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
#: The JSON types of each entry field (``marks``: a list of [text, text] pairs, checked apart).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "lecture": (str,),
    "student_id": (str,),
    "status": (str,),
    "source": (str,),
    "distance": (int, float, type(None)),
    "created": (str,),
    "batch_id": (str,),
    "marks": (list, tuple),
    "session_date": (str, type(None)),
    "reason": (str, type(None)),
    "professor": (str, type(None)),
}


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
    """An entry read back; QueueFileError when it is not one (unknown kind, missing or
    mistyped fields)."""
    entry_type = ENTRY_TYPES.get(document.get("kind")) if isinstance(document, dict) else None
    if entry_type is None or not isinstance(document.get("id"), str):
        raise QueueFileError("not a queue entry (unknown kind or no id)")
    values = {}
    for field in dataclasses.fields(entry_type):
        if field.name not in document:
            if field.default is dataclasses.MISSING:
                raise QueueFileError(f"entry {document['id']}: no {field.name}")
            continue
        value = document[field.name]
        if isinstance(value, bool) or not isinstance(value, _FIELD_TYPES[field.name]):
            raise QueueFileError(f"entry {document['id']}: {field.name} is {type(value).__name__}")
        values[field.name] = value
    if "marks" in values and not all(
        isinstance(mark, (list, tuple)) and len(mark) == 2 and all(isinstance(v, str) for v in mark)
        for mark in values["marks"]
    ):
        raise QueueFileError(f"entry {document['id']}: marks are not [student_id, status] pairs")
    return entry_type(**values)


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


# -- files ------------------------------------------------------------------------------------


def _append_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _aside_name(path: Path, what: str) -> Path:
    return path.with_name(f"{path.name}.{what}-{dt.datetime.now():%Y%m%d-%H%M%S}")


# -- the journal's lines ------------------------------------------------------------------------


def encode_record(record: dict[str, Any]) -> bytes:
    """One journal line: ``CRC32 JSON\\n`` (the CRC-32 of the JSON's UTF-8 bytes, 8 hex digits)."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"%08x %s\n" % (zlib.crc32(text), text)


def decode_record(line: bytes) -> dict[str, Any] | None:
    """The record of one journal line (without its newline), or None when the line is damaged
    (torn, wrong checksum, not JSON)."""
    crc, sep, text = line.partition(b" ")
    if not sep or len(crc) != 8:
        return None
    try:
        if int(crc, 16) != zlib.crc32(text):
            return None
        record = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) else None


@dataclass
class LoadReport:
    """What reading the queue found. ``kept``: entries queued now; ``damaged``: journal lines
    (or old-format entries) that could not be read; ``unreadable``: intact records that are not
    entries this version can send (moved to the rejected log); ``aside``: where the damaged file
    was kept; ``upgraded``: entries read from the earlier versions' queue file."""

    kept: int = 0
    damaged: int = 0
    unreadable: int = 0
    aside: Path | None = None
    upgraded: int = 0

    @property
    def salvaged(self) -> bool:
        """Something could not be read: the user is told how much was kept."""
        return bool(self.damaged or self.unreadable)


@dataclass
class _Parsed:
    entries: dict[str, QueueEntry] = dataclasses.field(default_factory=dict)  # in order, by id
    records: int = 0
    damaged: int = 0
    unreadable: list[tuple[Any, str]] = dataclasses.field(default_factory=list)  # (document, reason)


def parse_journal(data: bytes) -> _Parsed:
    """The live entries of a journal, salvaging every intact line."""
    parsed = _Parsed()
    lines = data.split(b"\n")
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        parsed.records += 1
        record = decode_record(line)
        if record is None:
            # A last line without its newline is a torn append: the record being written.
            log.warning("queue journal line %d is damaged%s", number + 1, " (torn)" if number == len(lines) - 1 else "")
            parsed.damaged += 1
        elif record.get("op") == "add":
            try:
                entry = entry_from_json(record.get("entry"))
            except QueueFileError as exc:
                parsed.unreadable.append((record.get("entry"), str(exc)))
                continue
            parsed.entries.setdefault(entry.id, entry)
        elif record.get("op") == "done" and isinstance(record.get("id"), str):
            parsed.entries.pop(record["id"], None)
        else:
            parsed.unreadable.append((record, "not a queue record"))
    return parsed


_ENTRY_START = re.compile(r'\{\s*"kind"')


def parse_old_queue(data: bytes) -> _Parsed:
    """The entries of an earlier version's ``pending-marks.json``, entry by entry: a truncated
    or partly damaged file keeps every entry that is complete."""
    parsed = _Parsed()
    try:
        document = json.loads(data.decode("utf-8"))
        if isinstance(document, dict) and document.get("format") == OLD_FORMAT:
            if document.get("version") == OLD_VERSION and isinstance(document.get("entries"), list):
                for item in document["entries"]:
                    parsed.records += 1
                    try:
                        entry = entry_from_json(item)
                    except QueueFileError as exc:
                        parsed.unreadable.append((item, str(exc)))
                        continue
                    parsed.entries.setdefault(entry.id, entry)
                return parsed
    except (UnicodeDecodeError, ValueError):
        pass
    # Damaged: take each object that starts like an entry and decodes whole.
    text = data.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    end = 0
    for start in (m.start() for m in _ENTRY_START.finditer(text)):
        if start < end:
            continue
        parsed.records += 1
        try:
            item, end = decoder.raw_decode(text, start)
            entry = entry_from_json(item)
        except (ValueError, QueueFileError):
            parsed.damaged += 1
            continue
        parsed.entries.setdefault(entry.id, entry)
    if not parsed.records:
        parsed.damaged = 1  # nothing recognizable: the whole file counts as one damaged part
    return parsed


# -- one app per folder -------------------------------------------------------------------------


class FolderLock:
    """An exclusive OS lock on ``folder / LOCK_FILE`` (flock on POSIX, msvcrt on Windows): held
    until :meth:`release` or the end of the process, however it ends (no stale lock to remove).
    The file says which process holds it, for the message of the next one."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> FolderLock:
        """Take the lock; QueueLocked when another process (or queue object) holds it."""
        if self._file is not None:
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        f = open(self.path, "a+", encoding="utf-8")
        try:
            _lock(f)
        except OSError as exc:
            if exc.errno not in _HELD_ERRNOS:  # a file system without locks (some network shares)
                log.warning("cannot lock %s (%s): a second app on this folder would not be noticed", self.path, exc)
            else:
                f.close()
                raise QueueLocked(self.folder, self._holder()) from None
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()} on {socket.gethostname()}, since {now_text()}\n")
        f.flush()
        self._file = f
        return self

    def _holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def release(self) -> None:
        f, self._file = self._file, None
        if f is not None:
            with contextlib.suppress(OSError):
                f.seek(0)
                f.truncate()
            f.close()  # closing the file releases the OS lock

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


#: The errors of a lock that another process holds (the others: locks do not work there).
_HELD_ERRNOS = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK})

if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt

    def _lock(f: IO[str]) -> None:
        f.seek(0)
        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)

else:
    import fcntl

    def _lock(f: IO[str]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


# -- the queue ----------------------------------------------------------------------------------


def stored_entries(folder: Path | str) -> list[QueueEntry]:
    """The entries in a folder's journal, read only (no lock, no rewrite): for tests and tools."""
    try:
        data = (Path(folder) / JOURNAL_FILE).read_bytes()
    except FileNotFoundError:
        return []
    return list(parse_journal(data).entries.values())


class MarkQueue:
    """Unacknowledged marks, persisted in ``folder / JOURNAL_FILE`` before anything is sent.

    ``lock``: the folder's :class:`FolderLock`, already held (the app takes it at start to say
    at once that another instance runs); without it the queue takes one itself (QueueLocked
    when another holds it) and releases it in :meth:`close`.
    """

    def __init__(self, folder: Path | str, *, lock: FolderLock | None = None):
        self.folder = Path(folder)
        self.path = self.folder / JOURNAL_FILE
        self.old_path = self.folder / OLD_QUEUE_FILE
        self.rejected_path = self.folder / REJECTED_FILE
        self._own_lock = lock is None
        self.folder_lock = lock if lock is not None else FolderLock(self.folder).acquire()
        self._lock = threading.Lock()
        self._records = 0  # lines in the journal file
        try:
            self.load_report = LoadReport()
            self._entries: list[QueueEntry] = self._load()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the folder lock if the queue took it."""
        if self._own_lock:
            self.folder_lock.release()

    def __enter__(self) -> MarkQueue:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _load(self) -> list[QueueEntry]:
        # Temporary files of an interrupted compaction are never the queue: drop them.
        if self.folder.is_dir():
            for stale in self.folder.glob(_TMP_PREFIX + "*.tmp"):
                with contextlib.suppress(OSError):
                    stale.unlink()
        report = self.load_report
        entries: dict[str, QueueEntry] = {}
        damaged_files: list[Path] = []
        unreadable: list[tuple[Any, str]] = []
        old_read = False
        for path, parse in ((self.old_path, parse_old_queue), (self.path, parse_journal)):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            parsed = parse(data)
            for entry_id, entry in parsed.entries.items():
                entries.setdefault(entry_id, entry)
            if path == self.old_path:
                old_read = True
                report.upgraded = len(parsed.entries)
            report.damaged += parsed.damaged
            unreadable += parsed.unreadable
            if parsed.damaged:
                damaged_files.append(path)
        for document, reason in unreadable:
            self._log_rejected(document, UNREADABLE, f"cannot be sent by this version: {reason}")
        report.unreadable = len(unreadable)
        # Keep the damaged files for a person, then write the journal of what was read.
        for path in damaged_files:
            aside = _aside_name(path, "damaged")
            if path == self.path:
                # The journal is replaced below: keep a copy of it (the old file is moved).
                write_atomically(aside, path.read_bytes())  # 0600, as the journal
            else:
                os.replace(path, aside)
            report.aside = aside
        result = list(entries.values())
        if self.path.exists() or result:
            self._compact(result)
        if old_read and self.old_path.exists():
            self.old_path.unlink()  # its entries are in the journal now
        report.kept = len(result)
        if report.salvaged:
            log.error(
                "queue in %s was damaged: %d entries kept, %d damaged, %d unreadable (moved to %s); damaged copy: %s",
                self.folder,
                report.kept,
                report.damaged,
                report.unreadable,
                REJECTED_FILE,
                report.aside,
            )
        elif report.upgraded:
            log.info("queue of an earlier version read: %d entries, now in %s", report.upgraded, self.path)
        return result

    def _compact(self, entries: list[QueueEntry]) -> None:
        write_atomically(self.path, b"".join(encode_record({"op": "add", "entry": entry_to_json(e)}) for e in entries))
        self._records = len(entries)

    def _append(self, record: dict[str, Any], entries_after: list[QueueEntry]) -> None:
        _append_durably(self.path, encode_record(record))
        self._records += 1
        if self._records > _COMPACT_RATIO * len(entries_after) + _COMPACT_SLACK:
            self._compact(entries_after)

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
            self._append({"op": "add", "entry": entry_to_json(entry)}, entries)
            self._entries = entries

    def remove(self, entry_id: str) -> bool:
        """Forget an acknowledged entry; False when it was not queued."""
        with self._lock:
            entries = [e for e in self._entries if e.id != entry_id]
            if len(entries) == len(self._entries):
                return False
            self._append({"op": "done", "id": entry_id}, entries)
            self._entries = entries
            return True

    def reject(self, entry_id: str, code: str, message: str) -> bool:
        """Move an entry that can never be sent (the server refuses it for good, e.g.
        not_enrolled, or it is not a valid request) to the rejected log.

        The rejected log (JSON lines) keeps it for a person; the queue stops resending it.
        """
        with self._lock:
            entry = next((e for e in self._entries if e.id == entry_id), None)
            if entry is None:
                return False
            self._log_rejected(entry_to_json(entry), code, message)
            entries = [e for e in self._entries if e.id != entry_id]
            self._append({"op": "done", "id": entry_id}, entries)
            self._entries = entries
            return True

    def _log_rejected(self, document: Any, code: str, message: str) -> None:
        rejected = {"code": code, "message": message, "at": now_text()}
        record = (
            dict(document, rejected=rejected)
            if isinstance(document, dict)
            else {"entry": document, "rejected": rejected}
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        _append_durably(self.rejected_path, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
