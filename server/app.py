"""Putting the server together: settings, start-up (models, database, enrollment), serving, stopping.

Used by ``attendance-server`` and by the tests, which run the same start-up in-process.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from dataclasses import dataclass
from pathlib import Path

import pymysql

from db.connection import UNAVAILABLE_ERRORS, ConnectionPool, DatabaseUrl, transaction
from protocol.framed import DEFAULT_MAX_FRAME_BYTES
from server.handlers import ConnectionHandler
from server.recognition.enrollment import sync_knowns
from server.recognition.faces import DEFAULT_DETECT_MAX_SIDE
from server.recognition.gallery import DEFAULT_THRESHOLD
from server.recognition.pool import RecognitionPool
from server.service import AttendanceService

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The server cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class ServerConfig:
    db_url: DatabaseUrl
    knowns_dir: Path
    host: str = "0.0.0.0"
    port: int = 9009
    threshold: float = DEFAULT_THRESHOLD
    #: Detect faces on a copy whose longest side is at most this (px); encode at full size.
    detect_max_side: int | None = DEFAULT_DETECT_MAX_SIDE
    #: Recognition worker processes (None: one per core).
    workers: int | None = None
    #: Seconds a connection may stay silent before it is closed (or a 2019 payload fails).
    idle_timeout: float = 10.0
    #: Seconds of silence that end a 2019 image whose JPEG/PNG structure cannot be followed.
    legacy_image_idle: float = 1.0
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_image_bytes: int = 20 * 2**20


class AttendanceServer(socketserver.ThreadingTCPServer):
    """A thread per connection; ``shutdown()`` then ``server_close()`` to stop."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, config: ServerConfig, service: AttendanceService):
        self.config = config
        self.service = service
        super().__init__((config.host, config.port), ConnectionHandler)


class AttendanceApp:
    """Owns the worker processes, the database pool and the TCP server."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.recognizer: RecognitionPool | None = None
        self.db: ConnectionPool | None = None
        self.service: AttendanceService | None = None
        self.server: AttendanceServer | None = None
        self._serving = threading.Event()

    @property
    def address(self) -> tuple[str, int]:
        return self.server.server_address[:2]

    def start(self) -> "AttendanceApp":
        """Load models, check the database, enroll ``knowns/``, load the gallery, bind the port."""
        config = self.config
        try:
            self.recognizer = RecognitionPool(config.workers, detect_max_side=config.detect_max_side)
            self.recognizer.start()
            self.db = ConnectionPool(config.db_url)
            self._check_database()
            with self.db.connection() as conn:
                report = sync_knowns(conn, config.knowns_dir, self.recognizer)
            log.info("enrollment from %s: %s", config.knowns_dir, report)
            self.service = AttendanceService(self.db, self.recognizer, threshold=config.threshold)
            gallery = self.service.reload_gallery()
            log.info("gallery: %d encodings of %d students", len(gallery), len(gallery.student_ids))
            self.server = AttendanceServer(config, self.service)
        except BaseException:
            self.close()
            raise
        log.info("listening on %s:%d", *self.address)
        return self

    def _check_database(self) -> None:
        try:
            with self.db.connection() as conn, transaction(conn) as cur:
                cur.execute("SELECT COUNT(*) FROM face_encodings")
        except UNAVAILABLE_ERRORS as exc:
            raise StartupError(f"cannot connect to {self.config.db_url}: {exc}") from exc
        except pymysql.err.ProgrammingError as exc:
            raise StartupError(
                f"{self.config.db_url} has no attendance tables ({exc.args[-1]}); "
                f"create them with: attendance-db --db-url URL init"
            ) from exc

    def serve_forever(self) -> None:
        self._serving.set()
        try:
            self.server.serve_forever(poll_interval=0.2)
        finally:
            self._serving.clear()

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="attendance-server", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop accepting, then release the port, the workers and the database connections."""
        if self.server is not None and self._serving.is_set():
            self.server.shutdown()  # waits for serve_forever() to return
        self.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.server_close()
            self.server = None
        if self.recognizer is not None:
            self.recognizer.close()
            self.recognizer = None
        if self.db is not None:
            self.db.close()
            self.db = None
