"""The durable queue of unsent marks: persisted before anything is sent, complete or old after a
crash (never half), unreadable files kept aside, rejected entries logged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from client.desktop import mark_queue
from client.desktop.mark_queue import MarkQueue, batch_entry, mark_entry
from testkit.paths import REPO


def test_entries_survive_a_new_queue_object(tmp_path):
    queue = MarkQueue(tmp_path)
    first = batch_entry("ea0017_1", [("201911001", "present"), ("201911002", "absent")])
    second = mark_entry("ea0017_1", "201911003", distance=0.41)
    queue.add(first)
    queue.add(second)
    queue.add(first)  # the same id again: no duplicate
    again = MarkQueue(tmp_path)
    assert again.entries() == [first, second]
    assert again.remove(first.id) and not again.remove(first.id)
    assert MarkQueue(tmp_path).entries() == [second]


def test_batch_ids_follow_the_protocol(tmp_path):
    entry = batch_entry("ea0017_1", [("201911001", "late")])
    assert entry.batch_id == entry.id
    assert len(entry.batch_id) <= 64
    assert set(entry.batch_id) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")
    assert entry.marks == (("201911001", "late"),)
    assert batch_entry("ea0017_1", []).id != entry.id


def test_file_is_json_with_every_entry(tmp_path):
    queue = MarkQueue(tmp_path)
    entry = mark_entry("ea0017_1", "201911001")
    queue.add(entry)
    document = json.loads((tmp_path / mark_queue.QUEUE_FILE).read_text(encoding="utf-8"))
    assert document["format"] == mark_queue.FORMAT and document["entries"] == [mark_queue.entry_to_json(entry)]


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


def test_a_file_written_by_the_earlier_version_loads_and_is_written_back_the_same(tmp_path):
    (tmp_path / mark_queue.QUEUE_FILE).write_text(EARLIER_FILE, encoding="utf-8")
    queue = MarkQueue(tmp_path)
    batch, mark = queue.entries()
    assert batch == mark_queue.BatchEntry(
        "rc-ea0017_1-20191101-0123456789abcdef0123456789abcdef",
        "ea0017_1",
        "rc-ea0017_1-20191101-0123456789abcdef0123456789abcdef",
        (("201911001", "present"), ("201911002", "absent")),
        "rollcall",
        "2019-11-01T09:05:00",
    )
    assert mark == mark_queue.MarkEntry(
        "5f0c1e9a2b3d4c5e6f708192a3b4c5d6", "ea0017_1", "201911003", "present", "checkin", 0.41, "2019-11-01T09:05:00"
    )
    assert not list(tmp_path.glob("*.unreadable-*"))
    queue.add(mark_entry("ea0017_1", "201911004"))
    queue.remove(queue.entries()[-1].id)  # rewrites the file with the two entries read
    assert (tmp_path / mark_queue.QUEUE_FILE).read_text(encoding="utf-8") == EARLIER_FILE


def test_an_entry_missing_a_field_makes_the_file_unreadable_and_kept_aside(tmp_path):
    broken = EARLIER_FILE.replace('   "student_id": "201911003",\n', "")
    (tmp_path / mark_queue.QUEUE_FILE).write_text(broken, encoding="utf-8")
    assert MarkQueue(tmp_path).entries() == []
    aside = list(tmp_path.glob("*.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_text(encoding="utf-8") == broken


def test_write_is_fsynced_then_renamed(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    MarkQueue(tmp_path).add(mark_entry("ea0017_1", "201911001"))
    # the data is on disk before the rename, and the rename is made durable (folder fsync)
    assert calls == ["fsync", "replace", "fsync"]


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    queue = MarkQueue(tmp_path)
    kept = mark_entry("ea0017_1", "201911001")
    queue.add(kept)
    before = (tmp_path / mark_queue.QUEUE_FILE).read_bytes()

    def crash(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        queue.add(mark_entry("ea0017_1", "201911002"))
    assert (tmp_path / mark_queue.QUEUE_FILE).read_bytes() == before
    assert queue.entries() == [kept]  # memory follows the disk
    assert [p.name for p in tmp_path.iterdir()] == [mark_queue.QUEUE_FILE]


def test_leftover_temporary_files_are_not_the_queue(tmp_path):
    MarkQueue(tmp_path).add(mark_entry("ea0017_1", "201911001"))
    (tmp_path / ".pending-marks-abc.tmp").write_text('{"format": "attendance-desk')  # a crash mid-write
    queue = MarkQueue(tmp_path)
    assert len(queue) == 1
    assert not (tmp_path / ".pending-marks-abc.tmp").exists()


def test_unreadable_file_is_kept_aside_not_deleted(tmp_path, caplog):
    (tmp_path / mark_queue.QUEUE_FILE).write_text("not json at all")
    queue = MarkQueue(tmp_path)
    assert queue.entries() == []
    aside = list(tmp_path.glob(mark_queue.QUEUE_FILE + ".unreadable-*"))
    assert len(aside) == 1 and aside[0].read_text() == "not json at all"
    assert "cannot be read" in caplog.text


def test_reject_moves_the_entry_to_the_rejected_log(tmp_path):
    queue = MarkQueue(tmp_path)
    entry = mark_entry("ea0017_1", "209999999")
    queue.add(entry)
    assert queue.reject(entry.id, "not_enrolled", "student 209999999 is not on the roster")
    assert MarkQueue(tmp_path).entries() == []
    lines = (tmp_path / mark_queue.REJECTED_FILE).read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    assert record["student_id"] == "209999999" and record["rejected"]["code"] == "not_enrolled"


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
    """SIGKILL a process that rewrites the queue in a loop: every time, the file it leaves is
    a complete queue (old or new), never a half-written one."""
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
        queue = MarkQueue(folder)  # raises nothing, keeps nothing aside
        assert not list(folder.glob("*.unreadable-*"))
        assert all(len(e.marks) == 1500 for e in queue.entries())
        seen.append(len(queue))
    assert seen == sorted(seen) and seen[-1] > seen[0]  # the writers made progress between kills


def test_a_past_session_roll_call_keeps_its_date_reason_and_professor(tmp_path):
    queue = MarkQueue(tmp_path)
    past = batch_entry("ea0017_1", [("201911001", "excused")], session_date="2019-10-28", reason="note", professor="김")
    today = batch_entry("ea0017_1", [("201911002", "late")], reason="", professor="")
    assert past.batch_id.startswith("rc-ea0017_1-20191028-") and (today.reason, today.professor) == (None, None)
    queue.add(past)
    queue.add(today)
    stored = json.loads((tmp_path / mark_queue.QUEUE_FILE).read_text(encoding="utf-8"))["entries"]
    assert (stored[0]["session_date"], stored[0]["reason"], stored[0]["professor"]) == ("2019-10-28", "note", "김")
    assert "session_date" not in stored[1] and "reason" not in stored[1]  # today's: as the earlier version
    assert MarkQueue(tmp_path).entries() == [past, today]
