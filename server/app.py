"""Putting the server together: settings, start-up (models, database, enrollment), serving, stopping.

Used by ``attendance-server`` and by the tests, which run the same start-up in-process.
"""

from __future__ import annotations

import logging
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pymysql

from db import encodings as db_encodings
from db.campus_clock import DEFAULT_MAX_CLOCK_SKEW_MINUTES, CampusClock
from db.connection import UNAVAILABLE_ERRORS, ConnectionPool, DatabaseConnectError, DatabaseUrl, transaction
from db.schema import read_status
from protocol.framed import DEFAULT_MAX_FRAME_BYTES
from protocol.identifiers import DEFAULT_LECTURE_CODE_PATTERN, DEFAULT_STUDENT_ID_PATTERN, IdentifierRules
from protocol.legacy import DEFAULT_MAX_IMAGE_BYTES, IDLE_SECONDS
from server.auth import DEFAULT_REFRESH_EVERY, TokenChecker
from server.camera import CameraService
from server.certificates import log_certificate_expiry
from server.challenges import ChallengeBook, LivenessSettings
from server.evidence import DEFAULT_RETENTION_DAYS, EvidenceKeeper
from server.handlers import ConnectionHandler
from server.limits import DEFAULT_LEGACY_NETWORKS, ConnectionLimit, NetworkAllowList, RateLimiter
from server.presence import DueSessionCloser, PresenceService, PresenceSettings
from server.recognition.decision import DecisionRules, load_assignment_solver
from server.recognition.enrollment import sync_knowns
from server.recognition.enrolment_checks import LIKE_OTHER_STUDENT, MAX_STARTUP_COMPARISONS, knowns_conflicts
from server.recognition.faces import DEFAULT_DETECT_MAX_SIDE, DEFAULT_ENCODER, ENROLMENT_MODEL, ModelsUnavailableError
from server.recognition.gallery import DEFAULT_THRESHOLD
from server.recognition.images import DEFAULT_MAX_JPEG_SCANS, DEFAULT_MAX_PIXELS
from server.recognition.pool import (
    DEFAULT_DECODE_TIMEOUT,
    DEFAULT_MAX_FACES,
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_QUEUED_PER_CLIENT,
    DEFAULT_TASK_TIMEOUT,
    RecognitionPool,
)
from server.service import AttendanceService, ServiceError

log = logging.getLogger(__name__)

#: Seconds after the start at which the knowns/ photos an enrolment would refuse are listed.
KNOWNS_CHECK_DELAY = 3.0


class StartupError(RuntimeError):
    """The server cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class ServerConfig:
    db_url: DatabaseUrl
    knowns_dir: Path
    host: str = "0.0.0.0"
    port: int = 9009
    #: The ceiling of the decision rules: no face farther than this is ever accepted.
    threshold: float = DEFAULT_THRESHOLD
    #: Detect faces on a copy whose longest side is at most this (px); encode at full size.
    detect_max_side: int | None = DEFAULT_DETECT_MAX_SIDE
    #: Recognition worker processes (None: one per core).
    workers: int | None = None
    #: The face encoder of the workers (server.recognition.faces.ENCODERS): "numpy" (dlib's
    #: network in numpy, ~6x faster than dlib-bin) or "dlib" (dlib's own); the same encodings.
    encoder: str = DEFAULT_ENCODER
    #: Seconds a connection may stay silent before it is closed (or a 2019 payload fails).
    idle_timeout: float = 10.0
    #: Seconds from connecting to a framed connection's hello (TLS handshake included).
    hello_timeout: float = 5.0
    #: Seconds to send one whole request, however it trickles in: a framed request (from its
    #: first byte) or a 2019 payload (from connecting).
    request_timeout: float = 30.0
    #: Largest first frame of a framed connection: the hello (a few hundred bytes).
    max_hello_frame_bytes: int = 4096
    #: Seconds of silence that end a 2019 image whose JPEG/PNG structure cannot be followed.
    legacy_image_idle: float = IDLE_SECONDS
    #: Largest framed frame (N, bytes after the length field) and largest 2019 image, in bytes.
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    #: Largest image in pixels (width x height), checked on the image header before decoding.
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: Connections served at once; more get a `busy` error (2019: `fail`) and are closed.
    max_connections: int = 64
    #: Connections served at once from one IP address (one machine cannot take every slot).
    max_connections_per_address: int = 8
    #: Requests per second per client (framed: per client name; 2019 payloads and hello: per IP
    #: address), as a token bucket holding up to ``burst`` requests. 0: no limit.
    rate: float = 20.0
    burst: int = 40
    #: Recognition cost per second per client, counted in images sent plus faces encoded, as a
    #: token bucket of ``recognition_burst``. 0: no limit.
    recognition_rate: float = 20.0
    recognition_burst: int = 250
    #: Faces encoded per image: recognize (faces found), identify (boxes), identify_room (tracks
    #: to encode); more are refused.
    max_faces: int = DEFAULT_MAX_FACES
    #: Largest number of scans in a JPEG (a progressive JPEG has about 10).
    max_jpeg_scans: int = DEFAULT_MAX_JPEG_SCANS
    #: Seconds a recognition worker may spend decoding one image.
    decode_timeout: float = DEFAULT_DECODE_TIMEOUT
    #: Seconds one recognition job may take before its worker is killed and replaced.
    worker_timeout: float = DEFAULT_TASK_TIMEOUT
    #: Recognition jobs waiting for a worker: in all, and of one client.
    max_queued: int = DEFAULT_MAX_QUEUED
    max_queued_per_client: int = DEFAULT_MAX_QUEUED_PER_CLIENT
    #: The framed protocol requires a hello with a client token (False only for tests).
    require_token: bool = True
    #: Seconds between two reads of the clients table (server/auth.py): a revoked client, or one
    #: given another role, is refused (or restricted) on its open connections within this.
    token_recheck: float = DEFAULT_REFRESH_EVERY
    #: Networks 2019 payloads (which carry no token) are accepted from; legacy=False: nowhere.
    legacy_from: tuple[str, ...] = DEFAULT_LEGACY_NETWORKS
    legacy: bool = True
    #: PEM certificate (chain) and private key: the framed protocol then requires TLS.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: Folder for the frames that support marks (None: frames are never stored), and their age
    #: limit in days.
    keep_evidence: Path | None = None
    evidence_days: float = DEFAULT_RETENTION_DAYS
    #: Store enrolled photos (the `enroll` op) in MySQL beside their encodings (else encodings only).
    keep_enrolment_photos: bool = False
    #: Seconds between reloads of the face encodings (so `attendance-db forget` takes effect).
    gallery_refresh: float = 60.0
    #: Classroom camera rules: late, left early, closing margin (docs/camera.md).
    presence: PresenceSettings = PresenceSettings()
    #: Seconds between two checks for sessions past their scheduled end (0: never close them).
    close_due_every: float = 60.0
    #: The campus time zone (IANA name; None: the server's own), db/campus_clock.py.
    timezone: str | None = None
    #: Minutes a client's timestamp may be away from the server's clock (else clock_skew).
    max_clock_skew: float = DEFAULT_MAX_CLOCK_SKEW_MINUTES
    #: Accept client timestamps however far from the server's clock, and let a camera sample's
    #: own time pick its session: only for replaying recorded lectures (and tests).
    trust_client_clocks: bool = False
    #: The university's student IDs and lecture codes (regular expressions, whole text matched);
    #: the framed requests' identifiers must match them. The 2019 payloads keep their formats.
    student_id_pattern: str = DEFAULT_STUDENT_ID_PATTERN
    lecture_code_pattern: str = DEFAULT_LECTURE_CODE_PATTERN

    @property
    def identifier_rules(self) -> IdentifierRules:
        """The two patterns, compiled (ValueError for one that is not a regular expression)."""
        return IdentifierRules(self.student_id_pattern, self.lecture_code_pattern)

    #: Check-ins need a liveness challenge (docs/liveness.md); False: ``checkin`` marks as before.
    liveness: bool = True
    #: For tests only: the challenges' actions from this seed (None: unpredictable).
    liveness_seed: int | None = None
    #: Seconds a challenge gives for its actions.
    liveness_deadline: float = LivenessSettings.deadline


class AttendanceServer(socketserver.TCPServer):
    """A thread per connection, at most ``max_connections`` served; ``shutdown()`` then
    ``server_close()`` to stop. Holds what the connection handlers share: the service, the
    token checker, the limits and the TLS context.

    Not a ThreadingMixIn: its process_request is replaced here (each thread takes a slot of
    the connection limit, and the handler gets the slot), so only TCPServer's accept loop is
    used. The connection threads are daemons: ``server_close()`` does not wait for them."""

    allow_reuse_address = True
    request_queue_size = 128  # listen backlog: many classroom PCs may connect at the same moment

    def __init__(
        self,
        config: ServerConfig,
        service: AttendanceService,
        camera: CameraService,
        tokens: TokenChecker,
        tls_context: ssl.SSLContext | None = None,
    ):
        self.config = config
        self.service = service
        self.camera = camera
        self.tokens = tokens
        self.tls_context = tls_context
        self.identifier_rules = config.identifier_rules
        self.connection_limit = ConnectionLimit(config.max_connections, per_address=config.max_connections_per_address)
        self.rate_limiter = RateLimiter(config.rate, config.burst)
        self.cost_limiter = RateLimiter(config.recognition_rate, config.recognition_burst)
        self.legacy_networks = NetworkAllowList(config.legacy_from) if config.legacy else None
        super().__init__((config.host, config.port), ConnectionHandler)

    def process_request(self, request, client_address) -> None:
        """Start a thread for the connection, or close it at once when even the "busy" replies
        are at their limit (see :class:`server.limits.ConnectionLimit`)."""
        address = client_address[0]
        slot = self.connection_limit.enter(address)
        if slot is None:
            log.warning("%s:%d closed at once: too many connections", *client_address[:2])
            self.shutdown_request(request)
            return
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address, slot), daemon=True)
        try:
            thread.start()
        except RuntimeError:  # cannot start a thread (out of memory)
            self.connection_limit.leave(slot, address)
            self.shutdown_request(request)

    def _serve_connection(self, request, client_address, slot: str) -> None:
        try:
            ConnectionHandler(request, client_address, self, slot)
        except Exception:  # logged; the server goes on
            log.exception("%s:%d: unexpected error", *client_address[:2])
        finally:
            self.shutdown_request(request)
            self.connection_limit.leave(slot, client_address[0])


class AttendanceApp:
    """Owns the worker processes, the database pool and the TCP server."""

    def __init__(self, config: ServerConfig):
        self.config = config
        #: Campus time: which session a request belongs to, and the database sessions' zone.
        self.clock = CampusClock(config.timezone)
        self.recognizer: RecognitionPool | None = None
        self.db: ConnectionPool | None = None
        self.service: AttendanceService | None = None
        self.server: AttendanceServer | None = None
        self.closer: DueSessionCloser | None = None
        self.tokens: TokenChecker | None = None
        self.evidence: EvidenceKeeper | None = None
        self._serving = threading.Event()
        self._stopping = threading.Event()
        self._reload_requested = threading.Event()
        self._wake_maintenance = threading.Event()  # set by request_reload() and close()
        self._maintenance: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self.server is not None, "start() first"
        return cast(tuple[str, int], self.server.server_address[:2])  # an AF_INET address

    def start(self) -> AttendanceApp:
        """Start the workers, check the database, enroll ``knowns/``, load the gallery, bind the port.

        The worker processes load the models (1-2 s each) while this process does the rest; it
        waits for them only when photos must be encoded and before it binds the port, so when
        start() returns every worker is ready (and a failure to load the models is raised here).
        """
        config = self.config
        started = time.monotonic()
        try:
            tls_context = self._tls_context()
            if config.keep_evidence is not None:
                self.evidence = EvidenceKeeper(config.keep_evidence, retention_days=config.evidence_days)
                self.evidence.prepare()
            self.recognizer = RecognitionPool(
                config.workers,
                detect_max_side=config.detect_max_side,
                max_pixels=config.max_pixels,
                max_jpeg_scans=config.max_jpeg_scans,
                max_faces=config.max_faces,
                decode_timeout=config.decode_timeout,
                task_timeout=config.worker_timeout,
                max_queued=config.max_queued,
                max_queued_per_client=config.max_queued_per_client,
                liveness_model=config.liveness,
                encoder=config.encoder,
            )
            try:
                self.recognizer.start(wait=False)
            except OSError as exc:  # no process could be started: else reported as a port not bound
                raise StartupError(f"cannot start the recognition workers: {exc}") from exc
            self.db = self._open_database()
            self._check_database()
            with self.db.connection() as conn:
                report = sync_knowns(
                    conn,
                    config.knowns_dir,
                    self.recognizer,
                    encoding_note="the port opens when done",
                    rules=config.identifier_rules,
                )
            log.info("enrollment from %s: %s", config.knowns_dir, report)
            self.service = AttendanceService(
                self.db,
                self.recognizer,
                rules=DecisionRules(ceiling=config.threshold),
                evidence=self.evidence,
                keep_enrolment_photos=config.keep_enrolment_photos,
                clock=self.clock,
                challenges=self._challenges(),
            )
            gallery = self.service.reload_gallery()
            log.info("gallery: %d encodings of %d students", len(gallery), len(gallery.student_ids))
            # While the workers load their models: what the first requests would otherwise wait for.
            load_assignment_solver()
            gallery.roster_model(rules=self.service.faces.rules)
            own_work = time.monotonic() - started
            self._wait_for_workers()
            log.info(
                "%d recognition workers ready %.2f s after start-up began (its own work took %.2f s)",
                self.recognizer.processes,
                time.monotonic() - started,
                own_work,
            )
            presence = PresenceService(
                self.db,
                config.presence,
                clock=self.clock,
                max_clock_skew=None if config.trust_client_clocks else config.max_clock_skew,
            )
            camera = CameraService(self.service, presence)
            self.tokens = TokenChecker(self.db, refresh_every=config.token_recheck).start()
            self.server = AttendanceServer(config, self.service, camera, self.tokens, tls_context)
            if config.close_due_every:  # close camera sessions at their scheduled end
                self.closer = DueSessionCloser(presence, config.close_due_every).start()
        except ModelsUnavailableError as exc:  # from the workers, while encoding or getting ready
            self.close()
            raise StartupError(f"the recognition workers cannot load the models: {exc}") from exc
        except BaseException:
            self.close()
            raise
        self._maintenance = threading.Thread(target=self._maintain, name="maintenance", daemon=True)
        self._maintenance.start()
        log.info("listening on %s:%d (gallery loaded: %d students)", *self.address, len(gallery.student_ids))
        log.info(
            "campus time: %s, now %s; client clocks: %s",
            self.clock.describe(),
            self.clock.now().isoformat(sep=" ", timespec="seconds"),
            "trusted (--trust-client-clocks)"
            if config.trust_client_clocks
            else f"refused beyond {config.max_clock_skew:g} minutes",
        )
        log.info(
            "framed protocol: %s, %s; 2019 payloads: %s; limits: %d connections (%d per address), "
            "%g requests/s (burst %d), %g images+faces/s (burst %d), %d-byte frames, %d-pixel images, "
            "%d faces per image, %g s idle, %g s to hello, %g s per request; evidence: %s; check-ins: %s",
            "TLS" if tls_context else "plain TCP",
            "client token required" if config.require_token else "client token optional",
            f"from {self.server.legacy_networks}" if config.legacy else "off",
            config.max_connections,
            config.max_connections_per_address,
            config.rate,
            config.burst,
            config.recognition_rate,
            config.recognition_burst,
            config.max_frame_bytes,
            config.max_pixels,
            config.max_faces,
            config.idle_timeout,
            config.hello_timeout,
            config.request_timeout,
            f"kept in {config.keep_evidence} for {config.evidence_days:g} days" if self.evidence else "not kept",
            f"liveness challenge of {config.liveness_deadline:g} s" if config.liveness else "no liveness challenge",
        )
        return self

    def _list_knowns_conflicts(self, gallery) -> None:
        """Log the knowns/ photos that an enrolment would refuse: unlike the student's other
        photos, or as close to another student as the decision rules accept (docs/recognition.md)."""
        if len(gallery) * len(gallery.student_ids) > MAX_STARTUP_COMPARISONS:
            log.info("knowns/: %d encodings, too many to compare each with every student at start-up", len(gallery))
            return
        assert self.db is not None  # after start()
        with self.db.connection() as conn, transaction(conn) as cur:
            rows = db_encodings.load_encodings(cur, ENROLMENT_MODEL, source="knowns")
        photos = [(row.photo_path, row.student_id, row.encoding) for row in rows if row.encoding is not None]
        conflicts = knowns_conflicts(gallery, photos)
        for path, verdict in conflicts:
            if verdict.problem == LIKE_OTHER_STUDENT:
                log.warning(
                    "knowns/%s looks like student %s (distance %.3f): a look-alike, or one person under two IDs?",
                    path,
                    verdict.other_student,
                    verdict.distance,
                )
            else:
                log.warning(
                    "knowns/%s is unlike the student's other photos (distance %.3f to their mean): "
                    "someone else's photo?",
                    path,
                    verdict.distance,
                )

    def _challenges(self) -> ChallengeBook | None:
        config = self.config
        if not config.liveness:
            return None
        if config.liveness_seed is not None:
            log.warning("--liveness-seed %d: the challenges can be foretold; for tests only", config.liveness_seed)
        return ChallengeBook(LivenessSettings(seed=config.liveness_seed, deadline=config.liveness_deadline))

    def _open_database(self) -> ConnectionPool:
        """The connection pool, its first connection made: a database that cannot be reached (or
        refuses the login) is a one-line StartupError, e.g. ``cannot connect to MySQL at HOST:PORT:
        Connection refused``."""
        pool = ConnectionPool(self.config.db_url, time_zone=self.clock.utc_offset)
        try:
            with pool.connection():
                pass  # kept in the pool for what follows
        except DatabaseConnectError as exc:
            pool.close()
            raise StartupError(str(exc)) from exc
        return pool

    def _tls_context(self) -> ssl.SSLContext | None:
        config = self.config
        if config.tls_cert is None:
            if config.tls_key is not None:
                raise StartupError("--tls-key needs --tls-cert")
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(config.tls_cert, config.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise StartupError(f"cannot load the TLS certificate {config.tls_cert}: {exc}") from exc
        log_certificate_expiry(config.tls_cert, log)  # expired: an error line; soon: a warning
        return context

    def request_reload(self) -> None:
        """Ask the maintenance thread to :meth:`reload` (safe from a signal handler: SIGHUP).
        A request made during start-up is served once the server is up."""
        self._reload_requested.set()
        self._wake_maintenance.set()

    def reload(self) -> bool:
        """Bring face_encodings in line with knowns/ (new, changed and removed photos, as at
        start-up), then reload the gallery; log what changed. On failure the gallery in use
        stays (the sync is one transaction) and the reason is logged. Returns whether it worked."""
        service = self.service
        if service is None or self.db is None:
            return False
        before = set(service.gallery.student_ids)
        try:
            with self.db.connection() as conn:
                report = sync_knowns(conn, self.config.knowns_dir, self.recognizer, rules=self.config.identifier_rules)
            gallery = service.reload_gallery()
        except (OSError, pymysql.err.MySQLError, ServiceError, ModelsUnavailableError) as exc:
            log.error("reload failed; the gallery in use stays (%d encodings): %s", len(service.gallery), exc)
            return False
        except Exception:  # logged; serving goes on with the old gallery
            log.exception("reload failed; the gallery in use stays (%d encodings)", len(service.gallery))
            return False
        after = set(gallery.student_ids)
        log.info(
            "reloaded: enrollment from %s: %s; gallery: %d encodings of %d students (students added: %s; removed: %s)",
            self.config.knowns_dir,
            report,
            len(gallery),
            len(after),
            " ".join(sorted(after - before)) or "none",
            " ".join(sorted(before - after)) or "none",
        )
        if report.added or report.updated:
            try:
                self._list_knowns_conflicts(gallery)
            except Exception:  # a log line; serving goes on
                log.exception("cannot compare the knowns/ photos")
        return True

    def _maintain(self) -> None:
        """First (:data:`KNOWNS_CHECK_DELAY` seconds after the start) list the knowns/ photos an
        enrolment would refuse (a log for the staff, which need not delay the first requests); then :meth:`reload` when asked (SIGHUP); every
        ``gallery_refresh`` seconds: reload the face encodings (so that `attendance-db forget`
        takes effect); once a day: delete evidence files past their retention."""
        # Not at once: the comparisons hold the GIL for a while (0.4 s for 1,000 photos), which
        # would slow the first requests of a server just started.
        if self._stopping.wait(KNOWNS_CHECK_DELAY):
            return
        try:
            assert self.service is not None  # after start()
            self._list_knowns_conflicts(self.service.gallery)
        except Exception:  # a log line; serving goes on
            log.exception("cannot compare the knowns/ photos")
        last_purge = time.monotonic()
        next_refresh = time.monotonic() + self.config.gallery_refresh
        while not self._stopping.is_set():
            self._wake_maintenance.wait(max(0.0, next_refresh - time.monotonic()))
            self._wake_maintenance.clear()
            service = self.service
            if service is None or self._stopping.is_set():
                return
            if self._reload_requested.is_set():
                self._reload_requested.clear()
                self.reload()
            if time.monotonic() < next_refresh:
                continue
            next_refresh = time.monotonic() + self.config.gallery_refresh
            try:
                before = len(service.gallery)
                gallery = service.reload_gallery()
                if len(gallery) != before:
                    log.info("gallery reloaded: %d encodings of %d students", len(gallery), len(gallery.student_ids))
            except ServiceError as exc:
                log.warning("cannot reload the gallery: %s", exc)
            except Exception:  # the next round tries again
                log.exception("cannot reload the gallery")
            if self.evidence is not None and time.monotonic() - last_purge >= 86400:
                self.evidence.purge()
                last_purge = time.monotonic()

    def _wait_for_workers(self) -> None:
        assert self.recognizer is not None  # after start() made it
        try:
            self.recognizer.start()  # started without waiting: now wait until every worker is ready
        except TimeoutError as exc:
            raise StartupError(f"{exc}; is the machine overloaded?") from exc

    def _check_database(self) -> None:
        """Refuse to serve a database whose schema version is not the code's (db/schema.py)."""
        assert self.db is not None  # after start() opened it
        try:
            with self.db.connection() as conn, transaction(conn) as cur:
                status = read_status(cur)
        except UNAVAILABLE_ERRORS as exc:
            raise StartupError(f"cannot connect to {self.config.db_url}: {exc}") from exc
        url, state = self.config.db_url, status.state
        if state == "empty":
            raise StartupError(f"{url} has no attendance tables; create them with: attendance-db --db-url URL init")
        if state == "unversioned":
            raise StartupError(
                f"{url} has the tables of an earlier version (no schema version); back them up and upgrade "
                f"them with: attendance-db --db-url URL upgrade (docs/maintenance.md). Already upgraded? "
                f"Then the server's account cannot read schema_migrations: grant it again with "
                f"attendance-db create-server-account NAME"
            )
        if state == "older":
            raise StartupError(
                f"{url} has the tables of an earlier version (schema version {status.version}, this "
                f"server needs {status.latest}); back them up and upgrade them with: "
                f"attendance-db --db-url URL upgrade (docs/maintenance.md)"
            )
        if state == "current" and status.missing:
            raise StartupError(
                f"{url} lacks {', '.join(status.missing)}; restore a backup (docs/maintenance.md) or create "
                f"the missing tables, empty, with: attendance-db --db-url URL init"
            )
        if state == "newer":
            raise StartupError(
                f"{url} has schema version {status.version}, newer than this server's {status.latest}: "
                f"attendance-server is older than the database; run the release that upgraded it"
            )

    def serve_forever(self) -> None:
        assert self.server is not None, "start() first"
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
        self._stopping.set()
        self._wake_maintenance.set()
        if self.closer is not None:
            self.closer.stop()
            self.closer = None
        if self.tokens is not None:
            self.tokens.stop()
            self.tokens = None
        if self.server is not None:
            self.server.server_close()
            self.server = None
        if self.recognizer is not None:
            self.recognizer.close()
            self.recognizer = None
        if self.db is not None:
            self.db.close()
            self.db = None
