"""Helpers for tests that run a real server: seeding a roster, a running app, raw sockets."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from db.connection import DatabaseUrl, connect, transaction
from db.roster_import import RosterRow, import_roster
from server.app import AttendanceApp, ServerConfig
from server.recognition.enrollment import scan_knowns

#: The demo/test lecture: every sample student is enrolled.
LECTURE = "ea0017_1"
#: A second lecture with only the first three sample students.
SMALL_LECTURE = "cs0001_1"


def seed_roster(url: DatabaseUrl, knowns_dir: Path) -> list[str]:
    """Enroll every student of ``knowns_dir`` in LECTURE and the first three in SMALL_LECTURE."""
    photos = scan_knowns(knowns_dir)
    ids = sorted({photo.student_id for photo in photos})
    names = {photo.student_id: photo.name for photo in photos}
    rows = [RosterRow(LECTURE, sid, names[sid], n) for n, sid in enumerate(ids, 2)]
    rows += [RosterRow(SMALL_LECTURE, sid, names[sid], n) for n, sid in enumerate(ids[:3], 100)]
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            import_roster(cur, rows)
    finally:
        conn.close()
    return ids


@dataclass
class RunningServer:
    app: AttendanceApp
    db_url: DatabaseUrl
    student_ids: list[str]

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


@contextlib.contextmanager
def running_server(db_url: DatabaseUrl, knowns_dir: Path, **settings) -> Iterator[RunningServer]:
    """Seed the roster, start the real server on a free loopback port, stop it afterwards."""
    ids = seed_roster(db_url, knowns_dir)
    config = ServerConfig(db_url=db_url, knowns_dir=knowns_dir, host="127.0.0.1", port=0, **settings)
    app = AttendanceApp(config).start()
    app.serve_in_thread()
    try:
        yield RunningServer(app, db_url, ids)
    finally:
        app.stop()


def exchange(host: str, port: int, payload: bytes, *, chunk: int | None = None, timeout: float = 30.0) -> bytes:
    """Send raw bytes without closing our side (as the 2019 clients do); read until EOF."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if chunk:
            for start in range(0, len(payload), chunk):
                sock.sendall(payload[start:start + chunk])
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
