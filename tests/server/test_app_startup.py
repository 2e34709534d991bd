"""Server start-up: the workers load the models while the server does the rest of its start-up.

RecognitionPool.start(wait=False) returns while the workers are loading; requests wait for them;
a later start() waits until every worker is ready or raises why they cannot start. AttendanceApp
start() relies on it and still fails at start (StartupError, clear message) when the models
cannot load.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from admin import cli as db_cli
from db.connection import connect, transaction
from db.schema import find_migrations
from server.app import AttendanceApp, ServerConfig, StartupError
from server.recognition.faces import ModelsUnavailableError
from server.recognition.pool import RecognitionPool
from testkit.paths import REPO
from testkit.servers import seed_roster

LATEST = find_migrations()[-1].version


@pytest.fixture
def models_missing(tmp_path, monkeypatch):
    """The workers (which start with the parent's sys.path, spawned or forked) cannot import the models."""
    fake = tmp_path / "fake_models"
    fake.mkdir()
    (fake / "face_recognition_models.py").write_text("raise ImportError('simulated: not installed')\n")
    monkeypatch.syspath_prepend(str(fake))


def test_start_without_waiting_returns_at_once_and_requests_wait_for_the_workers(faces_dir):
    image = (faces_dir / "probes" / "obama_small.jpg").read_bytes()
    pool = RecognitionPool(2)
    try:
        started = time.monotonic()
        assert pool.start(wait=False) is pool
        assert time.monotonic() - started < 1.0  # the workers are still loading the models
        assert len(pool._warm_ups) == 2
        assert len(pool.analyze(image)) == 1  # queued behind the loading, then served
        executor = pool._executor
        pool.start()  # now every worker is ready
        assert pool._warm_ups == [] and pool._executor is executor
        pool.start(wait=False)  # started: nothing to do
        pool.start()
        assert pool._executor is executor
    finally:
        pool.close()
    with pytest.raises(RuntimeError, match="not started"):
        pool.analyze(image)


def test_start_without_waiting_then_waiting_raises_when_the_models_cannot_load(models_missing):
    pool = RecognitionPool(1)
    pool.start(wait=False)
    with pytest.raises(ModelsUnavailableError, match="setuptools<81"):
        pool.start(timeout=60)
    with pytest.raises(RuntimeError, match="not started"):
        pool.analyze(b"")


def test_requests_made_while_the_models_cannot_load_get_the_reason(models_missing):
    pool = RecognitionPool(1)
    try:
        pool.start(wait=False)
        with pytest.raises(ModelsUnavailableError, match="setuptools<81"):
            pool.encode_photos(["any.jpg"])
    finally:
        pool.close()


def test_app_start_fails_clearly_when_the_models_cannot_load(db_url, faces_dir, models_missing):
    seed_roster(db_url, faces_dir / "knowns")
    app = AttendanceApp(
        ServerConfig(db_url=db_url, knowns_dir=faces_dir / "knowns", host="127.0.0.1", port=0, workers=1)
    )
    with pytest.raises(StartupError, match="cannot load the models.*setuptools<81"):
        app.start()
    assert app.server is None and app.recognizer is None and app.db is None  # all released


def test_app_start_with_photos_already_encoded_serves_at_once(db_url, faces_dir):
    seed_roster(db_url, faces_dir / "knowns")
    config = ServerConfig(db_url=db_url, knowns_dir=faces_dir / "knowns", host="127.0.0.1", port=0, workers=1)
    first = AttendanceApp(config).start()  # encodes the six photos
    first.close()
    app = AttendanceApp(config).start()  # nothing to encode
    try:
        assert app.recognizer._warm_ups == []  # every worker ready before the port is bound
        assert len(app.service.gallery) == 6
        with socket.create_connection(app.address, timeout=5):
            pass
        image = (faces_dir / "probes" / "biden_2.jpg").read_bytes()
        [face] = app.service.recognize(image)
        assert face.student_id == "201911002"
    finally:
        app.close()


def test_app_refuses_an_older_schema_until_attendance_db_upgrade_upgrades_it(db_url, faces_dir):
    """A database made before enrolled encodings, uncertain check-ins and schema versions: the
    server says to run `attendance-db upgrade`, which adds the missing columns (and tables) and
    keeps the rows."""
    conn = connect(db_url)
    try:
        with transaction(conn) as cur:
            cur.execute("INSERT INTO students (student_id, name) VALUES ('201911001', 'Obama')")
            cur.execute("ALTER TABLE face_encodings DROP COLUMN photo, DROP COLUMN source")
            cur.execute("DROP TABLE pending_candidates, pending_checkins, schema_migrations")
            cur.execute(
                "INSERT INTO face_encodings (student_id, photo_path, photo_sha256, model, face_count)"
                " VALUES ('201911001', 'old.jpg', %s, 'm', 0)",
                ("0" * 64,),
            )
    finally:
        conn.close()
    config = ServerConfig(db_url=db_url, knowns_dir=faces_dir / "knowns", host="127.0.0.1", port=0, workers=1)
    with pytest.raises(StartupError, match="earlier version.*attendance-db --db-url URL upgrade"):
        AttendanceApp(config).start()
    assert db_cli.main(["--db-url", db_url.to_url(), "init"]) == 1  # init leaves it alone
    assert db_cli.main(["--db-url", db_url.to_url(), "upgrade"]) == 0
    conn = connect(db_url)
    try:
        with transaction(conn) as cur:
            cur.execute("SELECT photo_path, source FROM face_encodings")
            assert cur.fetchall() == (("old.jpg", "knowns"),)
            cur.execute("SELECT COUNT(*) FROM pending_checkins")
            assert cur.fetchone() == (0,)
    finally:
        conn.close()


@pytest.mark.parametrize(
    "version, message",
    [
        (
            LATEST - 1,
            f"earlier version \\(schema version {LATEST - 1}, this server needs {LATEST}\\).*attendance-db --db-url URL upgrade",
        ),
        (
            LATEST + 1,
            f"schema version {LATEST + 1}, newer than this server's {LATEST}: attendance-server is older than the database",
        ),
    ],
)
def test_app_refuses_a_schema_version_other_than_its_own(db_url, faces_dir, version, message):
    conn = connect(db_url)
    try:
        with transaction(conn) as cur:
            cur.execute("DELETE FROM schema_migrations")
            cur.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, 'test')", (version,))
    finally:
        conn.close()
    config = ServerConfig(db_url=db_url, knowns_dir=faces_dir / "knowns", host="127.0.0.1", port=0, workers=1)
    app = AttendanceApp(config)
    with pytest.raises(StartupError, match=message):
        app.start()
    assert app.server is None  # the port never opened


def test_server_logs_the_photos_to_encode_their_progress_then_that_the_port_is_open(db_url, faces_dir, tmp_path):
    """attendance-server as a real process: while it encodes knowns/ its stderr says how many photos,
    that the port opens when they are done, and their progress; the port-open line comes last."""
    knowns = Path(shutil.copytree(faces_dir / "knowns", tmp_path / "knowns"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "1",
            "--db-url",
            db_url.to_url(),
            "--knowns",
            str(knowns),
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if "listening on" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = "\n".join(lines)
    announced = [
        i
        for i, line in enumerate(lines)
        if line.endswith(f"{knowns}: encoding 6 new or changed photos (0 unchanged); the port opens when done")
    ]
    progress = [i for i, line in enumerate(lines) if re.search(r"encoded \d/6 photos", line)]
    listening = [
        i
        for i, line in enumerate(lines)
        if re.search(r"listening on 127\.0\.0\.1:\d+ \(gallery loaded: 6 students\)$", line)
    ]
    assert len(announced) == 1 and len(listening) == 1, text
    assert [re.search(r"encoded (\d)/6", lines[i]).group(1) for i in progress] == list("123456"), text
    assert announced[0] < progress[0] and progress[-1] < listening[0], text
    assert re.search(r"encoded 6/6 photos in \d+ s$", lines[progress[-1]]), text
