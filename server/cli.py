"""``attendance-server``: run the attendance server (also ``python -m server``)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from db.connection import DatabaseUrl, DatabaseUrlError, url_from_env
from server.app import AttendanceApp, ServerConfig, StartupError
from server.recognition.faces import DEFAULT_DETECT_MAX_SIDE, ModelsUnavailableError
from server.recognition.gallery import DEFAULT_THRESHOLD

log = logging.getLogger("server")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="attendance-server",
        description="Lecture attendance server: 2019 one-shot payloads and the framed protocol over TCP.",
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=9009, help="TCP port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--db-url", default=url_from_env(),
                        help="mysql://user:password@host:port/database (default: $ATTENDANCE_DB_URL)")
    parser.add_argument("--knowns", type=Path, default=Path("knowns"),
                        help="enrollment photos, <student ID>_<name>.jpg (default: %(default)s)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help="largest face distance that still matches (default: %(default)s)")
    parser.add_argument("--detect-max-side", type=int, default=DEFAULT_DETECT_MAX_SIDE,
                        help="detect faces on a copy at most this many pixels wide/high; 0: full size "
                             "(default: %(default)s)")
    parser.add_argument("--workers", type=int, default=None,
                        help="recognition worker processes (default: one per core)")
    parser.add_argument("--idle-timeout", type=float, default=10.0,
                        help="seconds a silent connection is kept open (default: %(default)s)")
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
    config = ServerConfig(
        db_url=db_url,
        knowns_dir=args.knowns,
        host=args.host,
        port=args.port,
        threshold=args.threshold,
        detect_max_side=args.detect_max_side or None,
        workers=args.workers,
        idle_timeout=args.idle_timeout,
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
