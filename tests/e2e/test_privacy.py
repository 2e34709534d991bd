"""Biometric data: no frame is stored unless --keep-evidence; kept frames are named by their mark
and expire; ``attendance-db forget`` deletes a student's encodings and enrollments."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from admin.cli import main as admin_main
from client.connection import FramedClient
from db.connection import connect, transaction
from server.evidence import EvidenceKeeper, evidence_files
from testkit.databases import fresh_database
from testkit.paths import REPO
from testkit.processes import ServerProcess
from testkit.servers import LECTURE, SMALL_LECTURE, add_client, exchange, running_server, seed_roster

# -- no frame stored anywhere by default ----------------------------------------------------------


@pytest.fixture(params=["short", "long"])
def work_folder(request, tmp_path):
    """An empty folder for the server's working and temporary folders. "short": under /tmp, where
    its workers' fork server puts its socket; "long": pytest's tmp_path, too long a path for that
    socket, so the workers are spawned (server.recognition.pool)."""
    if request.param == "long":
        (tmp_path / "work").mkdir()
        yield tmp_path / "work"
        return
    work = Path(tempfile.mkdtemp(prefix="work-", dir="/tmp"))
    try:
        yield work
    finally:
        shutil.rmtree(work)


def test_without_keep_evidence_no_image_bytes_reach_disk_or_database(db_url, faces_dir, tmp_path, work_folder):
    """The server runs with its working and temporary folders in an empty folder: after recognize +
    mark (framed and 2019) nothing was written there, and no table holds image bytes."""
    seed_roster(db_url, faces_dir / "knowns")
    token = add_client(db_url, "camera-pc")
    work = work_folder
    image = (faces_dir / "probes/obama_240p.jpg").read_bytes()
    cache = tmp_path / "cache"  # the workers' cache folder: dlib's face detector, nothing else
    env = {"TMPDIR": str(work), "TEMP": str(work), "TMP": str(work), "HOME": str(work)}
    env["ATTENDANCE_CACHE_DIR"] = str(cache)
    with ServerProcess(db_url, faces_dir / "knowns", cwd=work, env=env) as server:
        with FramedClient("127.0.0.1", server.port, token=token) as client:
            assert [f.student_id for f in client.recognize(image, LECTURE).faces] == ["201911001"]
            assert not client.mark(LECTURE, "201911001", source="camera", distance=0.3).already_marked
        assert exchange("127.0.0.1", server.port, image) == b"201911001"
        assert exchange("127.0.0.1", server.port, b"201911001" + LECTURE.encode()) == b"success"
    assert [p for p in work.rglob("*")] == []
    assert [p.name.split("-", 2)[-1] for p in cache.iterdir()] == ["frontal_face_detector.svm"]
    conn = connect(db_url)
    with transaction(conn) as cur:
        cur.execute(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
            " AND DATA_TYPE IN ('blob', 'mediumblob', 'longblob', 'tinyblob', 'text', 'mediumtext',"
            " 'longtext', 'varchar', 'varbinary', 'binary', 'char')"
            " AND TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE')"
        )
        columns = cur.fetchall()
        assert len(columns) > 10
        pieces = [image[:64], image[len(image) // 2 : len(image) // 2 + 64], image[-64:]]
        for table, column in columns:
            for piece in pieces:
                cur.execute(
                    f"SELECT COUNT(*) FROM `{table}` WHERE LOCATE(%s, CAST(`{column}` AS BINARY)) > 0", (piece,)
                )
                assert cur.fetchone() == (0,), (table, column)
            cur.execute(f"SELECT COALESCE(MAX(LENGTH(`{column}`)), 0) FROM `{table}`")
            assert cur.fetchone()[0] <= 1024, (table, column)  # nothing image-sized (encodings: 1024)
    conn.close()


# -- --keep-evidence DIR ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def evidence_server(server_db_url, faces_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("evidence")
    knowns = base / "knowns"
    shutil.copytree(faces_dir / "knowns", knowns)  # forget deletes photos from it
    folder = base / "evidence"
    stale = folder / LECTURE / "2019-11-01" / "201911001_1.jpg"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"\xff\xd8\xff old")
    old = time.time() - 31 * 86400
    os.utime(stale, (old, old))
    with fresh_database(server_db_url) as url:
        with running_server(
            url, knowns, workers=1, keep_evidence=folder, evidence_days=30, gallery_refresh=0.3
        ) as running:
            running.evidence = folder
            running.knowns = knowns
            running.stale = stale
            yield running


def attendance_id(server, student_id: str, lecture: str = LECTURE) -> int:
    rows = server.query(
        "SELECT a.attendance_id FROM attendance a JOIN class_sessions s USING (session_id)"
        " JOIN lectures l USING (lecture_id) WHERE l.code = %s AND a.student_id = %s",
        (lecture, student_id),
    )
    return rows[0][0]


def test_evidence_older_than_the_retention_is_deleted_at_start(evidence_server):
    assert not evidence_server.stale.exists()


def test_the_frame_of_a_recognized_then_marked_student_is_kept_named_by_the_mark(evidence_server, faces_dir):
    image = (faces_dir / "groups/obama_biden_stranger.jpg").read_bytes()
    with evidence_server.client() as client:
        names = sorted(f.student_id for f in client.recognize(image, LECTURE).faces if f.student_id)
        assert names == ["201911001", "201911002"]
        client.mark(LECTURE, "201911001", source="camera")
        client.mark(LECTURE, "201911003")  # not in the frame: no evidence
        client.mark(LECTURE, "201911001")  # already marked: nothing new
    day = dt.date.today().isoformat()
    expected = evidence_server.evidence / LECTURE / day / f"201911001_{attendance_id(evidence_server, '201911001')}.jpg"
    assert evidence_files(evidence_server.evidence) == [expected]
    assert expected.read_bytes() == image
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600


def test_2019_clients_image_then_mark_keeps_the_frame_too(evidence_server, faces_dir):
    image = (faces_dir / "probes/kit_harington_2.jpg").read_bytes()
    assert exchange(evidence_server.host, evidence_server.port, image) == b"201911004"
    assert exchange(evidence_server.host, evidence_server.port, b"201911004" + LECTURE.encode()) == b"success"
    day = dt.date.today().isoformat()
    kept = evidence_server.evidence / LECTURE / day / f"201911004_{attendance_id(evidence_server, '201911004')}.jpg"
    assert kept.read_bytes() == image


def test_a_frame_is_kept_only_for_the_client_that_sent_it(evidence_server, faces_dir):
    image = (faces_dir / "probes/rose_leslie_2.jpg").read_bytes()
    with evidence_server.client() as client:
        assert [f.student_id for f in client.recognize(image, LECTURE).faces] == ["201911005"]
    other = add_client(evidence_server.db_url, "other-pc")
    with FramedClient(evidence_server.host, evidence_server.port, token=other) as client:
        client.mark(LECTURE, "201911005")
    assert not [p for p in evidence_files(evidence_server.evidence) if p.name.startswith("201911005_")]


def test_retention_deletes_only_old_evidence_files(tmp_path):
    keeper = EvidenceKeeper(tmp_path, retention_days=30)
    keeper.prepare()
    young = tmp_path / "ea0017_1" / "2024-03-04" / "201911001_7.jpg"
    old = tmp_path / "ea0017_1" / "2024-01-02" / "201911002_3.png"
    foreign = tmp_path / "ea0017_1" / "2024-01-02" / "notes.txt"
    for path in (young, old, foreign):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    past = time.time() - 40 * 86400
    for path in (old, foreign):
        os.utime(path, (past, past))
    assert keeper.purge() == 1
    assert young.exists() and foreign.exists() and not old.exists()  # other files are never touched


def test_frames_held_in_memory_are_bounded_and_expire():
    now = [0.0]
    keeper = EvidenceKeeper(Path("/nonexistent"), window=60, max_bytes=1000, clock=lambda: now[0])
    for n in range(5):
        keeper.remember("pc", bytes(300), [f"20191100{n}"])
    assert keeper.frames_held == 3  # 900 bytes <= 1000
    keeper.remember("pc", bytes(300), [])  # nobody recognized: not kept
    assert keeper.frames_held == 3
    now[0] += 61
    keeper.remember("pc", bytes(10), ["201911009"])
    assert keeper.frames_held == 1


# -- attendance-db forget ---------------------------------------------------------------------------


def attendance_db(url, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "admin", "--db-url", url.to_url(), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_forget_deletes_encodings_enrollments_photos_and_evidence_and_says_so(evidence_server, faces_dir):
    server = evidence_server
    image = (faces_dir / "probes/alex_lacamoire_3.jpg").read_bytes()
    with server.client() as client:
        assert [f.student_id for f in client.recognize(image, LECTURE).faces] == ["201911003"]
        client.mark(SMALL_LECTURE, "201911003", status="late")  # keeps the frame (same client and student)
    assert [p.parent.parent.name for p in evidence_files(server.evidence) if p.name.startswith("201911003_")] == [
        SMALL_LECTURE
    ]
    before = {
        table: server.query(f"SELECT COUNT(*) FROM {table}")[0][0]
        for table in ("face_encodings", "enrollments", "attendance", "students")
    }

    result = attendance_db(
        server.db_url, "forget", "201911003", "--knowns", str(server.knowns), "--evidence", str(server.evidence)
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "student 201911003 (alex lacamoire):" in out
    assert "deleted 1 face encoding" in out
    assert "deleted 2 enrollments: cs0001_1, ea0017_1" in out
    assert "kept 2 attendance records" in out
    assert "deleted enrollment photo" in out and "201911003_alex_lacamoire.jpg" in out
    assert "deleted 1 evidence frame from" in out  # the frame of the cs0001_1 mark

    after = {table: server.query(f"SELECT COUNT(*) FROM {table}")[0][0] for table in before}
    assert after == {
        "face_encodings": before["face_encodings"] - 1,
        "enrollments": before["enrollments"] - 2,
        "attendance": before["attendance"],
        "students": before["students"],
    }
    assert not list(server.knowns.glob("201911003_*"))
    assert server.query("SELECT COUNT(*) FROM face_encodings WHERE student_id = '201911003'") == [(0,)]
    deadline = time.monotonic() + 5  # the server reloads its encodings (every 0.3 s here)
    with server.client() as client:
        while [f.student_id for f in client.recognize(image).faces] != [None]:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_forget_with_history_deletes_attendance_and_evidence(evidence_server, faces_dir):
    server = evidence_server
    assert [p for p in evidence_files(server.evidence) if p.name.startswith("201911004_")]
    result = attendance_db(server.db_url, "forget", "201911004", "--with-history", "--evidence", str(server.evidence))
    assert result.returncode == 0, result.stderr
    assert "deleted 1 attendance record and the student's name" in result.stdout
    assert "deleted 1 evidence frame" in result.stdout
    assert server.query("SELECT COUNT(*) FROM students WHERE student_id = '201911004'") == [(0,)]
    assert not [p for p in evidence_files(server.evidence) if p.name.startswith("201911004_")]
    assert server.query("SELECT COUNT(*) FROM attendance WHERE student_id = '201911004'") == [(0,)]
    assert server.query("SELECT COUNT(*) FROM students") == [(5,)]


def test_forget_refuses_bad_ids(db_url):
    for bad in ("20191100'", "1", "201911001; DROP TABLE students"):
        result = attendance_db(db_url, "forget", bad)
        assert result.returncode == 2 and "not a student ID" in result.stderr


def _knowns_and_evidence(base: Path, faces_dir: Path) -> tuple[Path, Path]:
    knowns = base / "knowns"
    (knowns / "201911003_alex_lacamoire").mkdir(parents=True)
    for n in (1, 2):
        shutil.copy(faces_dir / "knowns/201911003_alex_lacamoire.jpg", knowns / "201911003_alex_lacamoire" / f"{n}.jpg")
    evidence = base / "evidence"
    (evidence / LECTURE / "2024-03-04").mkdir(parents=True)
    (evidence / LECTURE / "2024-03-04" / "201911003_7.jpg").write_bytes(b"\xff\xd8\xff frame")
    return knowns, evidence


def test_forget_never_follows_a_link_out_of_its_folders(db_url, faces_dir, tmp_path):
    knowns, evidence = _knowns_and_evidence(tmp_path, faces_dir)
    outside = tmp_path / "elsewhere"
    (outside / "photos").mkdir(parents=True)
    (outside / "frames").mkdir()
    shutil.copy(faces_dir / "knowns/201911003_alex_lacamoire.jpg", outside / "photos" / "other.jpg")
    (outside / "frames" / "201911003_9.jpg").write_bytes(b"\xff\xd8\xff someone else's")
    (knowns / "201911003_linked").symlink_to(outside / "photos", target_is_directory=True)
    (evidence / "cs0001_1").symlink_to(outside, target_is_directory=True)
    (evidence / LECTURE / "2024-03-05").symlink_to(outside / "frames", target_is_directory=True)

    result = attendance_db(db_url, "forget", "201911003", "--knowns", str(knowns), "--evidence", str(evidence))
    assert (outside / "photos" / "other.jpg").exists() and (outside / "frames" / "201911003_9.jpg").exists()
    assert not list((knowns / "201911003_alex_lacamoire").glob("*.jpg"))  # the real folder: done
    assert not (evidence / LECTURE / "2024-03-04" / "201911003_7.jpg").exists()
    assert "deleted 1 evidence frame" in result.stdout
    assert "not followed" in result.stdout and "2024-03-05" in result.stdout
    # the photo behind the link is the student's: left, and said, so that a person deletes it
    assert result.returncode == 1 and "201911003_linked" in result.stderr and "not followed" in result.stderr


def test_forget_does_every_step_it_can_and_says_what_failed(db_url, faces_dir, tmp_path, monkeypatch, capsys):
    knowns, evidence = _knowns_and_evidence(tmp_path, faces_dir)
    stuck = knowns / "201911003_alex_lacamoire" / "1.jpg"
    real_unlink = Path.unlink

    def unlink(path, *args, **kwargs):
        if path == stuck:
            raise PermissionError(13, "Permission denied", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    status = admin_main(
        ["--db-url", db_url.to_url(), "forget", "201911003", "--knowns", str(knowns), "--evidence", str(evidence)]
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert stuck.exists() and "1.jpg: Permission denied" in err
    assert not (knowns / "201911003_alex_lacamoire" / "2.jpg").exists()  # the next photo: deleted
    assert not (evidence / LECTURE / "2024-03-04" / "201911003_7.jpg").exists()  # and the evidence
    assert "deleted 1 face encoding" not in out and "deleted 0 face encodings" in out  # the database step ran


def test_forget_with_the_database_down_still_deletes_the_files(faces_dir, tmp_path):
    knowns, evidence = _knowns_and_evidence(tmp_path, faces_dir)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once closed
    result = subprocess.run(
        [sys.executable, "-m", "admin", "--db-url", f"mysql://root@127.0.0.1:{port}/x", "forget", "201911003"]
        + ["--knowns", str(knowns), "--evidence", str(evidence)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "database" in result.stderr and "run forget again" in result.stderr
    assert not list(knowns.rglob("*.jpg")) and not list(evidence.rglob("*.jpg"))
    assert "deleted 1 evidence frame" in result.stdout
