"""Helpers for tests that run a real server: seeding a roster, client tokens, a running app,
raw sockets.

The knowns photos' encodings are shared across server start-ups: after a server has encoded its
knowns folder, its face_encodings rows are kept (per photo path, SHA-256 and encoding settings), and
the next server given the same photos in a fresh database finds them stored, unchanged, and
encodes nothing. A photo that is new or changed is encoded by the server as usual.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from client.connection import FramedClient
from db import clients
from db import encodings as db_encodings
from db.connection import DatabaseUrl, connect, run_in_transaction, transaction
from db.roster_import import RosterRow, import_roster
from server.app import AttendanceApp, ServerConfig
from server.recognition.enrollment import scan_knowns
from server.recognition.faces import ENROLMENT_MODEL

#: The demo/test lecture: every sample student is enrolled.
LECTURE = "ea0017_1"
#: A second lecture with only the first three sample students.
SMALL_LECTURE = "cs0001_1"
#: The client running_server registers; RunningServer.token is its token.
TEST_CLIENT = "test-client"


def seed_roster(url: DatabaseUrl, knowns_dir: Path) -> list[str]:
    """Enroll every student of ``knowns_dir`` in LECTURE and the first three in SMALL_LECTURE."""
    photos = scan_knowns(knowns_dir)
    ids = sorted({photo.student_id for photo in photos})
    names = {photo.student_id: photo.name for photo in photos}
    rows = [RosterRow(LECTURE, sid, names[sid], n) for n, sid in enumerate(ids, 2)]
    rows += [RosterRow(SMALL_LECTURE, sid, names[sid], n) for n, sid in enumerate(ids[:3], 100)]
    run_in_transaction(url, lambda cur: import_roster(cur, rows))
    return ids


def add_client(url: DatabaseUrl, name: str, role: str = clients.ADMIN, lectures: Sequence[str] = ()) -> str:
    """Register a client (as ``attendance-db add-client`` does) with this role and lectures;
    return its new token. A client of that name gets a new token (its old one is revoked)."""
    token = clients.new_token()

    def register(cur):
        clients.revoke_client(cur, name)
        clients.add_client(cur, name, token, role=role, lectures=lectures)

    run_in_transaction(url, register)
    return token


@dataclass
class RunningServer:
    app: AttendanceApp
    db_url: DatabaseUrl
    student_ids: list[str]
    token: str  # of TEST_CLIENT

    def client(self, **kwargs) -> FramedClient:
        """A framed connection that has said hello as TEST_CLIENT (``token=None``: no hello)."""
        kwargs.setdefault("token", self.token)
        return FramedClient(self.host, self.port, **kwargs)

    @property
    def host(self) -> str:
        return self.app.address[0]

    @property
    def port(self) -> int:
        return self.app.address[1]

    def query(self, sql: str, args=()) -> list[tuple]:
        conn = connect(self.db_url)
        try:
            with transaction(conn) as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        finally:
            conn.close()


#: (photo path in knowns/, its SHA-256, detect_max_side, max_pixels) -> the row a server stored
#: for it: what the servers of this test run have encoded.
_knowns_encodings: dict[tuple, db_encodings.EncodingRow] = {}


def _encoding_settings(config: ServerConfig) -> tuple:
    """The settings an encoding of a knowns photo depends on."""
    return config.detect_max_side, config.max_pixels


def _reuse_knowns_encodings(config: ServerConfig) -> int:
    """Store the encodings earlier servers made of this knowns folder's photos (same path, same
    bytes, same settings) in the new database, as the server itself would have. Returns how many."""
    settings = _encoding_settings(config)
    rows = []
    for photo in scan_knowns(config.knowns_dir):
        sha256 = hashlib.sha256(photo.path.read_bytes()).hexdigest()
        row = _knowns_encodings.get((photo.rel_path, sha256, *settings))
        if row is not None:
            rows.append(row)
    if rows:
        run_in_transaction(config.db_url, lambda cur: db_encodings.upsert_encodings(cur, rows, ENROLMENT_MODEL))
    return len(rows)


def _keep_knowns_encodings(config: ServerConfig) -> None:
    """Remember the knowns rows the server has just stored, for the next server."""
    settings = _encoding_settings(config)

    def load(cur):
        return db_encodings.load_encodings(cur, ENROLMENT_MODEL, source="knowns")

    for row in run_in_transaction(config.db_url, load):
        _knowns_encodings[(row.photo_path, row.photo_sha256, *settings)] = row


@contextlib.contextmanager
def running_server(db_url: DatabaseUrl, knowns_dir: Path, **settings) -> Iterator[RunningServer]:
    """Seed the roster, register TEST_CLIENT, start the real server on a free loopback port, stop
    it afterwards. ``settings``: ServerConfig fields. Photos an earlier server of this test run
    encoded are stored before the start (see the module's docstring).

    Liveness challenges are off unless ``liveness=True`` is given: most tests check in with the
    plain ``checkin`` op (as ``attendance-server --no-liveness`` serves it); tests/e2e/test_liveness.py
    turns them on."""
    settings.setdefault("liveness", False)
    ids = seed_roster(db_url, knowns_dir)
    token = add_client(db_url, TEST_CLIENT)
    config = ServerConfig(db_url=db_url, knowns_dir=knowns_dir, host="127.0.0.1", port=0, **settings)
    _reuse_knowns_encodings(config)
    running = RunningServer(AttendanceApp(config).start(), db_url, ids, token)
    first = running.app
    try:
        _keep_knowns_encodings(config)
        first.serve_in_thread()
        yield running
    finally:
        # A test that restarts the server leaves its new app in running.app: stop that one too,
        # or it would serve, with its workers, until the test process ends.
        running.app.stop()
        if running.app is not first:
            first.stop()


def exchange(host: str, port: int, payload: bytes, *, chunk: int | None = None, timeout: float = 30.0) -> bytes:
    """Send raw bytes without closing our side (as the 2019 clients do); read until EOF."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if chunk:
            for start in range(0, len(payload), chunk):
                sock.sendall(payload[start : start + chunk])
        else:
            sock.sendall(payload)
        return read_until_closed(sock)


def read_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)
