"""``attendance-server``: run the attendance server (also ``python -m server``)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import signal
import sys
import threading
from pathlib import Path

from attendance_version import add_version_option
from db.connection import DatabaseUrl, DatabaseUrlError, url_from_env
from protocol.framed import DEFAULT_MAX_FRAME_BYTES
from server.app import AttendanceApp, ServerConfig, StartupError
from server.evidence import DEFAULT_RETENTION_DAYS
from server.limits import DEFAULT_LEGACY_NETWORKS
from server.presence import PresenceSettings
from server.recognition.faces import DEFAULT_DETECT_MAX_SIDE, ModelsUnavailableError
from server.recognition.gallery import DEFAULT_THRESHOLD
from server.recognition.images import DEFAULT_MAX_PIXELS

log = logging.getLogger("server")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="attendance-server",
        description="Lecture attendance server: 2019 one-shot payloads and the framed protocol over TCP.",
    )
    add_version_option(parser)
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=9009, help="TCP port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--db-url", default=url_from_env(),
                        help="mysql://user:password@host:port/database (default: $ATTENDANCE_DB_URL)")
    parser.add_argument("--knowns", type=Path, default=Path("knowns"),
                        help="enrollment photos, <student ID>_<name>.jpg (default: %(default)s)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="ceiling of the decision rules: no face farther than this is ever accepted; "
                             "the rules calibrate a lower threshold from the enrolled faces "
                             "(docs/recognition.md; default: %(default)s)")
    parser.add_argument("--detect-max-side", type=int, default=DEFAULT_DETECT_MAX_SIDE,
                        help="detect faces on a copy at most this many pixels wide/high; 0: full size "
                             "(default: %(default)s)")
    parser.add_argument("--workers", type=int, default=None,
                        help="recognition worker processes (default: one per core)")
    parser.add_argument("--idle-timeout", type=float, default=10.0,
                        help="seconds a silent connection is kept open (default: %(default)s)")
    trust = parser.add_argument_group("clients and limits (docs/deploy.md)")
    trust.add_argument("--tls-cert", type=Path, metavar="PEM",
                       help="certificate (chain): the framed protocol then requires TLS")
    trust.add_argument("--tls-key", type=Path, metavar="PEM",
                       help="private key of --tls-cert (if not in the same file)")
    trust.add_argument("--legacy-from", action="append", metavar="CIDR",
                       help="accept 2019 payloads (no token) from this network; repeatable "
                            f"(default: {' '.join(DEFAULT_LEGACY_NETWORKS)})")
    trust.add_argument("--no-legacy", action="store_true", help="refuse every 2019 payload")
    trust.add_argument("--max-connections", type=int, default=64,
                       help="connections served at once; more are answered busy (default: %(default)s)")
    trust.add_argument("--rate", type=float, default=20.0,
                       help="requests per second per client (framed: per client name, 2019: per IP); "
                            "0: no limit (default: %(default)s)")
    trust.add_argument("--burst", type=int, default=40,
                       help="requests a client may send at once above --rate (default: %(default)s)")
    trust.add_argument("--max-frame-bytes", type=int, default=DEFAULT_MAX_FRAME_BYTES,
                       help="largest framed request in bytes (default: %(default)s)")
    trust.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                       help="largest image in pixels (width x height), refused from its header "
                            "(default: %(default)s)")
    privacy = parser.add_argument_group("camera frames (docs/privacy.md)")
    privacy.add_argument("--keep-evidence", type=Path, metavar="DIR",
                         help="keep the frame that supported each mark in DIR (default: keep no frame)")
    privacy.add_argument("--evidence-days", type=float, default=DEFAULT_RETENTION_DAYS,
                         help="delete kept frames after this many days (default: %(default)s)")
    privacy.add_argument("--keep-enrolment-photos", action="store_true",
                         help="store photos enrolled with the enroll op in MySQL beside their encodings "
                              "(default: only the encodings)")
    camera = PresenceSettings()  # classroom camera rules (docs/camera.md)
    parser.add_argument("--late-after", type=float, default=camera.late_after_minutes, metavar="MIN",
                        help="camera: first seen later than this after the start is late (default: %(default)s)")
    parser.add_argument("--leave-window", type=float, default=camera.leave_window_minutes, metavar="MIN",
                        help="camera: not seen in this last part of a session is left early (default: %(default)s)")
    parser.add_argument("--close-margin", type=float, default=camera.close_margin_minutes, metavar="MIN",
                        help="camera: close a session this long after its scheduled end (default: %(default)s)")
    parser.add_argument("--close-due-every", type=float, default=60.0, metavar="S",
                        help="seconds between checks for sessions to close; 0: never (default: %(default)s)")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        db_url = DatabaseUrl.parse(args.db_url)
    except DatabaseUrlError as exc:
        log.error("%s", exc)
        return 2
    if not args.knowns.is_dir():
        log.error("knowns folder %s does not exist", args.knowns)
        return 2
    if not 0 < args.threshold <= 2:
        log.error("--threshold must be in (0, 2], got %s", args.threshold)
        return 2
    legacy_from = tuple(args.legacy_from or DEFAULT_LEGACY_NETWORKS)
    try:
        for network in legacy_from:
            ipaddress.ip_network(network, strict=False)
    except ValueError as exc:
        log.error("--legacy-from: %s", exc)
        return 2
    for name in ("max_connections", "burst", "max_frame_bytes", "max_pixels"):
        if getattr(args, name) < 1:
            log.error("--%s must be at least 1", name.replace("_", "-"))
            return 2
    if args.rate < 0 or args.evidence_days <= 0 or args.idle_timeout <= 0:
        log.error("--rate must be >= 0; --evidence-days and --idle-timeout must be > 0")
        return 2
    try:
        presence = PresenceSettings(args.late_after, args.leave_window, args.close_margin)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    config = ServerConfig(
        db_url=db_url,
        knowns_dir=args.knowns,
        host=args.host,
        port=args.port,
        threshold=args.threshold,
        detect_max_side=args.detect_max_side or None,
        workers=args.workers,
        idle_timeout=args.idle_timeout,
        max_frame_bytes=args.max_frame_bytes,
        max_pixels=args.max_pixels,
        max_connections=args.max_connections,
        rate=args.rate,
        burst=args.burst,
        legacy_from=legacy_from,
        legacy=not args.no_legacy,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        keep_evidence=args.keep_evidence,
        evidence_days=args.evidence_days,
        keep_enrolment_photos=args.keep_enrolment_photos,
        presence=presence,
        close_due_every=args.close_due_every,
    )
    app = AttendanceApp(config)
    try:
        app.start()
    except (StartupError, ModelsUnavailableError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, exc)
        return 1

    def stop(signum, _frame):
        log.info("%s received; stopping", signal.Signals(signum).name)
        # shutdown() waits for serve_forever(), which runs in this (the main) thread.
        threading.Thread(target=app.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        app.serve_forever()
    finally:
        app.close()
        log.info("stopped")
    return 0
