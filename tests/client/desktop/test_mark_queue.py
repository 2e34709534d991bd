"""The durable queue of unsent marks: persisted before anything is sent, a crash loses at most
the record being written, damaged files salvaged entry by entry (and kept aside), the earlier
versions' queue file read, rejected entries logged, one queue per folder."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
import zlib

import pytest

from client.desktop import mark_queue
from client.desktop.mark_queue import MarkQueue, batch_entry, mark_entry
from testkit.paths import REPO


def test_entries_survive_a_new_queue_object(tmp_path):
    with MarkQueue(tmp_path) as queue:
        first = batch_entry("ea0017_1", [("201911001", "present"), ("201911002", "absent")])
        second = mark_entry("ea0017_1", "201911003", distance=0.41)
        queue.add(first)
        queue.add(second)
        queue.add(first)  # the same id again: no duplicate
    with MarkQueue(tmp_path) as again:
        assert again.entries() == [first, second]
        assert again.remove(first.id) and not again.remove(first.id)
    with MarkQueue(tmp_path) as last:
        assert last.entries() == [second]
        assert not last.load_report.salvaged


def test_batch_ids_follow_the_protocol(tmp_path):
    entry = batch_entry("ea0017_1", [("201911001", "late")])
    assert entry.batch_id == entry.id
    assert len(entry.batch_id) <= 64
    assert set(entry.batch_id) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")
    assert entry.marks == (("201911001", "late"),)
    assert batch_entry("ea0017_1", []).id != entry.id


def test_the_journal_is_one_checksummed_record_a_line(tmp_path):
    entry = mark_entry("ea0017_1", "201911001")
    with MarkQueue(tmp_path) as queue:
        queue.add(entry)
        queue.remove(entry.id)
    lines = (tmp_path / mark_queue.JOURNAL_FILE).read_bytes().splitlines()
    assert [mark_queue.decode_record(line) for line in lines] == [
        {"op": "add", "entry": mark_queue.entry_to_json(entry)},
        {"op": "done", "id": entry.id},
    ]
    crc, text = lines[0].split(b" ", 1)
    assert int(crc, 16) == zlib.crc32(text)
    assert mark_queue.decode_record(lines[0].replace(b"201911001", b"201911002")) is None  # checksum


def test_the_journal_is_compacted_at_start_and_when_it_grows(tmp_path):
    with MarkQueue(tmp_path) as queue:
        kept = mark_entry("ea0017_1", "201911001")
        queue.add(kept)
        for _ in range(40):
            entry = mark_entry("ea0017_1", "201911002")
            queue.add(entry)
            queue.remove(entry.id)
        assert len((tmp_path / mark_queue.JOURNAL_FILE).read_bytes().splitlines()) <= 2 * 1 + 32 + 1
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == [kept]
    assert len((tmp_path / mark_queue.JOURNAL_FILE).read_bytes().splitlines()) == 1


def test_files_are_readable_by_the_user_alone(tmp_path):
    with MarkQueue(tmp_path) as queue:
        queue.add(mark_entry("ea0017_1", "201911001"))
        queue.reject(queue.entries()[0].id, "not_enrolled", "no")
    with MarkQueue(tmp_path):  # compacted: a new file
        pass
    for name in (mark_queue.JOURNAL_FILE, mark_queue.REJECTED_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


#: A queue file as the desktop wrote it when entries were plain dicts (before they were dataclasses).
EARLIER_FILE = """{
 "format": "attendance-desktop-queue",
 "version": 1,
 "entries": [
  {
   "kind": "batch",
   "id": "rc-ea0017_1-20191101-0123456789abcdef0123456789abcdef",
   "lecture": "ea0017_1",
   "batch_id": "rc-ea0017_1-20191101-0123456789abcdef0123456789abcdef",
   "marks": [
    [
     "201911001",
     "present"
    ],
    [
     "201911002",
     "absent"
    ]
   ],
   "source": "rollcall",
   "created": "2019-11-01T09:05:00"
  },
  {
   "kind": "mark",
   "id": "5f0c1e9a2b3d4c5e6f708192a3b4c5d6",
   "lecture": "ea0017_1",
   "student_id": "201911003",
   "status": "present",
   "source": "checkin",
   "distance": 0.41,
   "created": "2019-11-01T09:05:00"
  }
 ]
}
"""


EARLIER_BATCH = mark_queue.BatchEntry(
    "rc-ea0017_1-20191101-0123456789abcdef0123456789abcdef",
    "ea0017_1",
    "rc-ea0017_1-20191101-0123456789abcdef0123456789abcdef",
    (("201911001", "present"), ("201911002", "absent")),
    "rollcall",
    "2019-11-01T09:05:00",
)
EARLIER_MARK = mark_queue.MarkEntry(
    "5f0c1e9a2b3d4c5e6f708192a3b4c5d6", "ea0017_1", "201911003", "present", "checkin", 0.41, "2019-11-01T09:05:00"
)


def test_a_queue_file_of_the_earlier_version_is_read_into_the_journal(tmp_path):
    (tmp_path / mark_queue.OLD_QUEUE_FILE).write_text(EARLIER_FILE, encoding="utf-8")
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == [EARLIER_BATCH, EARLIER_MARK]
        assert queue.load_report.upgraded == 2 and not queue.load_report.salvaged
    assert not (tmp_path / mark_queue.OLD_QUEUE_FILE).exists()  # its entries are in the journal now
    assert not list(tmp_path.glob("*.damaged-*"))
    assert mark_queue.stored_entries(tmp_path) == [EARLIER_BATCH, EARLIER_MARK]
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == [EARLIER_BATCH, EARLIER_MARK] and queue.load_report.upgraded == 0


def test_a_truncated_queue_file_of_the_earlier_version_keeps_every_complete_entry(tmp_path):
    cut = EARLIER_FILE.index('"student_id": "201911003"')
    (tmp_path / mark_queue.OLD_QUEUE_FILE).write_text(EARLIER_FILE[:cut], encoding="utf-8")
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == [EARLIER_BATCH]
        report = queue.load_report
    assert (report.kept, report.damaged) == (1, 1) and report.salvaged
    assert report.aside is not None and report.aside.read_text(encoding="utf-8") == EARLIER_FILE[:cut]
    assert mark_queue.stored_entries(tmp_path) == [EARLIER_BATCH]


def test_an_entry_missing_a_field_goes_to_the_rejected_log_and_the_others_are_kept(tmp_path):
    broken = EARLIER_FILE.replace('   "student_id": "201911003",\n', "")
    (tmp_path / mark_queue.OLD_QUEUE_FILE).write_text(broken, encoding="utf-8")
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == [EARLIER_BATCH]
        assert (queue.load_report.kept, queue.load_report.unreadable) == (1, 1)
    (record,) = [json.loads(line) for line in (tmp_path / mark_queue.REJECTED_FILE).read_text().splitlines()]
    assert record["id"] == EARLIER_MARK.id and record["rejected"]["code"] == mark_queue.UNREADABLE
    assert "student_id" in record["rejected"]["message"]


def test_mistyped_fields_are_not_entries():
    good = mark_queue.entry_to_json(EARLIER_BATCH)
    assert mark_queue.entry_from_json(good) == EARLIER_BATCH
    for change in ({"marks": [["201911001"]]}, {"marks": "201911001"}, {"lecture": 17}, {"id": None}):
        with pytest.raises(mark_queue.QueueFileError):
            mark_queue.entry_from_json({**good, **change})
    with pytest.raises(mark_queue.QueueFileError):
        mark_queue.entry_from_json({**mark_queue.entry_to_json(EARLIER_MARK), "distance": "far"})


def _journal_with(tmp_path, count: int) -> list:
    entries = [batch_entry("ea0017_1", [(str(201911001 + n), "present")]) for n in range(count)]
    with MarkQueue(tmp_path) as queue:
        for entry in entries:
            queue.add(entry)
    return entries


def test_a_torn_last_line_loses_only_the_entry_being_written(tmp_path):
    entries = _journal_with(tmp_path, 3)
    path = tmp_path / mark_queue.JOURNAL_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 25])  # a crash in the middle of the third append
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == entries[:2]
        assert (queue.load_report.kept, queue.load_report.damaged) == (2, 1)
        queue.add(entries[2])  # appended after a clean line: the journal was compacted
    assert mark_queue.stored_entries(tmp_path) == entries


def test_a_damaged_line_in_the_middle_is_skipped_and_the_rest_salvaged(tmp_path, caplog):
    entries = _journal_with(tmp_path, 5)
    path = tmp_path / mark_queue.JOURNAL_FILE
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b"present", b"prXsent")  # a flipped byte
    lines[3] = b"\x00" * 40 + b"\n"  # a block of zeros (a disk that lost a sector)
    damaged = b"".join(lines)
    path.write_bytes(damaged)
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == [entries[0], entries[2], entries[4]]
        report = queue.load_report
    assert (report.kept, report.damaged, report.unreadable) == (3, 2, 0)
    assert report.aside is not None and report.aside.read_bytes() == damaged  # kept for a person
    assert "damaged" in caplog.text
    with MarkQueue(tmp_path) as queue:  # said once: the journal is clean now
        assert not queue.load_report.salvaged and len(queue) == 3


def test_unreadable_file_is_kept_aside_not_deleted(tmp_path, caplog):
    (tmp_path / mark_queue.OLD_QUEUE_FILE).write_text("not json at all")
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == []
        assert queue.load_report.salvaged and queue.load_report.kept == 0
    aside = list(tmp_path.glob(mark_queue.OLD_QUEUE_FILE + ".damaged-*"))
    assert len(aside) == 1 and aside[0].read_text() == "not json at all"
    assert "damaged" in caplog.text


def test_add_is_fsynced_before_it_returns(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    with MarkQueue(tmp_path) as queue:
        monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
        queue.add(mark_entry("ea0017_1", "201911001"))
        assert calls == ["fsync"]


def test_compaction_is_fsynced_then_renamed(tmp_path, monkeypatch):
    _journal_with(tmp_path, 1)
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    with MarkQueue(tmp_path):  # compacts at start
        pass
    # the data is on disk before the rename, and the rename is made durable (folder fsync)
    assert calls == ["fsync", "replace", "fsync"]


def test_failed_write_leaves_the_journal_and_no_temporary(tmp_path, monkeypatch):
    with MarkQueue(tmp_path) as queue:
        kept = mark_entry("ea0017_1", "201911001")
        queue.add(kept)
        before = (tmp_path / mark_queue.JOURNAL_FILE).read_bytes()

        def crash(*_):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "write", crash)
        with pytest.raises(OSError):
            queue.add(mark_entry("ea0017_1", "201911002"))
        assert (tmp_path / mark_queue.JOURNAL_FILE).read_bytes() == before
        assert queue.entries() == [kept]  # memory follows the disk
    assert sorted(p.name for p in tmp_path.iterdir()) == [mark_queue.JOURNAL_FILE, mark_queue.LOCK_FILE]


def test_leftover_temporary_files_are_not_the_queue(tmp_path):
    _journal_with(tmp_path, 1)
    (tmp_path / ".pending-marks-abc.tmp").write_text("00000000 {")  # a crash mid-compaction
    with MarkQueue(tmp_path) as queue:
        assert len(queue) == 1
    assert not (tmp_path / ".pending-marks-abc.tmp").exists()


def test_reject_moves_the_entry_to_the_rejected_log(tmp_path):
    with MarkQueue(tmp_path) as queue:
        entry = mark_entry("ea0017_1", "209999999")
        queue.add(entry)
        assert queue.reject(entry.id, "not_enrolled", "student 209999999 is not on the roster")
    with MarkQueue(tmp_path) as queue:
        assert queue.entries() == []
    lines = (tmp_path / mark_queue.REJECTED_FILE).read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    assert record["student_id"] == "209999999" and record["rejected"]["code"] == "not_enrolled"


# -- one app per folder -----------------------------------------------------------------------


def test_a_second_queue_on_the_same_folder_is_refused_until_the_first_closes(tmp_path):
    first = MarkQueue(tmp_path)
    with pytest.raises(mark_queue.QueueLocked) as refused:
        MarkQueue(tmp_path)
    assert f"process {os.getpid()}" in refused.value.holder and str(tmp_path) in str(refused.value)
    first.close()
    with MarkQueue(tmp_path):
        pass


HOLDER = textwrap.dedent(
    """
    import sys
    from client.desktop.mark_queue import MarkQueue
    queue = MarkQueue(sys.argv[1])
    print("holding", flush=True)
    sys.stdin.read()
    """
)


def test_another_process_holding_the_folder_is_named_and_its_death_frees_it(tmp_path):
    script = tmp_path / "holder.py"
    script.write_text(HOLDER)
    folder = tmp_path / "data"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(folder)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout.readline().strip() == b"holding"
        with pytest.raises(mark_queue.QueueLocked) as refused:
            MarkQueue(folder)
        assert f"process {proc.pid}" in refused.value.holder
    finally:
        proc.kill()  # no clean-up of its own: the OS releases the lock
        proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    with MarkQueue(folder):
        pass


WRITER = textwrap.dedent(
    """
    import sys
    from client.desktop.mark_queue import MarkQueue, batch_entry
    queue = MarkQueue(sys.argv[1])
    n = len(queue)
    print("ready", flush=True)
    while True:
        n += 1
        # a big entry makes each write take long enough to be cut by the kill
        queue.add(batch_entry("ea0017_1", [(str(200000000 + i), "present") for i in range(1500)],
                              batch_id=f"b{n}"))
        if n % 3 == 0:
            queue.remove(f"b{n - 1}")
    """
)


def test_killed_writer_leaves_a_complete_file(tmp_path):
    """SIGKILL a process that appends to the queue (and compacts it) in a loop: every time, what
    it leaves loses at most the record being written, and every entry read back is whole."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    folder = tmp_path / "data"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    seen = []
    for delay in (0.05, 0.13, 0.21, 0.34, 0.42, 0.55):
        proc = subprocess.Popen([sys.executable, str(script), str(folder)], stdout=subprocess.PIPE, env=env)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        with MarkQueue(folder) as queue:  # at most the record being written is lost
            assert queue.load_report.damaged <= 1 and queue.load_report.unreadable == 0
            assert all(len(e.marks) == 1500 for e in queue.entries())
            seen.append(len(queue))
    assert seen == sorted(seen) and seen[-1] > seen[0]  # the writers made progress between kills


def test_a_folder_whose_file_system_has_no_locks_is_still_used(tmp_path, monkeypatch, caplog):
    def no_locks(_file):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(mark_queue, "_lock", no_locks)
    with MarkQueue(tmp_path) as queue:
        queue.add(mark_entry("ea0017_1", "201911001"))
    assert "cannot lock" in caplog.text and len(mark_queue.stored_entries(tmp_path)) == 1


def test_a_past_session_roll_call_keeps_its_date_reason_and_professor(tmp_path):
    past = batch_entry("ea0017_1", [("201911001", "excused")], session_date="2019-10-28", reason="note", professor="김")
    today = batch_entry("ea0017_1", [("201911002", "late")], reason="", professor="")
    assert past.batch_id.startswith("rc-ea0017_1-20191028-") and (today.reason, today.professor) == (None, None)
    stored_past, stored_today = mark_queue.entry_to_json(past), mark_queue.entry_to_json(today)
    assert (stored_past["session_date"], stored_past["reason"], stored_past["professor"]) == (
        "2019-10-28",
        "note",
        "김",
    )
    assert "session_date" not in stored_today and "reason" not in stored_today  # today's: as the earlier version
    with MarkQueue(tmp_path) as queue:
        queue.add(past)
        queue.add(today)
    assert mark_queue.stored_entries(tmp_path) == [past, today]
