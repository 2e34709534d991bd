"""``attendance-watch``: the classroom camera, headless (for the PC at the front of the room).

    attendance-watch --server H:P --lecture CODE (--camera N | --video FILE) [--every SECONDS]
                     [--min-face PX] [--start ISO] [--close] [--no-tracking]

The token (``attendance-db add-client NAME --role camera``) comes from $ATTENDANCE_TOKEN (or ``--token=T``;
the environment keeps it out of the process list). ``--cafile CA.pem`` or ``--tls``: speak TLS.

Every ``--every`` seconds (60) of media time a frame is sent to the server, which finds the faces;
each face is followed from sample to sample and decided from the encodings gathered so far, the
room as a whole (faces not yet recognized are encoded again), and the students seen are recorded
as a presence sample. One line per sample on stdout::

    #3 09:02:00 (+120s) faces 24, known 22, uncertain 1, encoded 2: 201911001 201911002 ...

A video file is read at its own timestamps (a 10-minute file is 10 minutes of lecture, however
fast it is read), starting at ``--start`` (default: now). ``--close`` closes the session at the
end of the file, which writes the statuses (present, late, left early, absent).

Exit status: 0 done, 1 the server refused (error reply), 2 bad usage or source, 3 server
unreachable. A sample that fails (database down, ...) is reported and skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import sys
import threading

from attendance_version import add_version_option
from client.connection import TOKEN_ENV, ServerError, parse_address, tls_context
from client.frame_source import CameraSource, SourceError, VideoFileSource
from client.reconnecting import ReconnectingClient
from client.watch.tracker import TrackerSettings
from client.watch.watcher import SampleReport, Watcher, WatchSettings, watch
from protocol.errors import ErrorCode
from protocol.framed import DEFAULT_MIN_FACE, DETECT_MIN_FACE_RANGE
from protocol.identifiers import normalize_lecture_code

PROG = "attendance-watch"
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The classroom camera: recognize the whole room every minute, record who is "
        "there; closing the session writes present, late, left early and absent.",
    )
    add_version_option(parser)
    parser.add_argument("--server", default="127.0.0.1:9009", help="HOST:PORT (default: %(default)s)")
    parser.add_argument("--lecture", required=True, help="lecture code, e.g. ea0017_1")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--camera", type=int, metavar="N", help="camera index (0: the first camera)")
    source.add_argument("--video", metavar="FILE", help="a video file, read at its own timestamps")
    parser.add_argument(
        "--every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="seconds of media time between two samples (default: %(default)s)",
    )
    low, high = DETECT_MIN_FACE_RANGE
    parser.add_argument(
        "--min-face",
        type=int,
        default=DEFAULT_MIN_FACE,
        metavar="PX",
        help=f"width of the smallest faces to find, {low}-{high} (default: %(default)s)",
    )
    parser.add_argument(
        "--start",
        type=_datetime,
        metavar="ISO",
        help="video: the date and time its first frame was taken, this computer's time unless it has a UTC "
        "offset (default: now; the server refuses a time far from its clock unless it trusts client clocks)",
    )
    parser.add_argument(
        "--close", action="store_true", help="video: close the session at the end of the file (writes the statuses)"
    )
    parser.add_argument(
        "--no-tracking",
        action="store_true",
        help="encode every face at every sample and decide it from that sample alone (slower; for comparisons)",
    )
    parser.add_argument(
        "--refresh-every",
        type=int,
        default=TrackerSettings.refresh_every,
        metavar="N",
        help="samples between two encodings of a recognized face (its identity is "
        "checked again); 0: never (default: %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"client token from attendance-db add-client (default: ${TOKEN_ENV})",
    )
    parser.add_argument("--cafile", metavar="PEM", help="speak TLS; trust the server certificate this CA (PEM) signed")
    parser.add_argument("--tls", action="store_true", help="speak TLS; trust the system's certificate authorities")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a reply")
    args = parser.parse_args(argv)
    if not args.every > 0:
        parser.error("--every must be positive")
    if not low <= args.min_face <= high:
        parser.error(f"--min-face must be {low}-{high}")
    if args.refresh_every < 0:
        parser.error("--refresh-every must be >= 0")
    if (args.start or args.close) and args.video is None:
        parser.error("--start and --close apply to --video only")
    return args


def format_report(report: SampleReport) -> str:
    """One line per sample: number, time, faces, and the students seen."""
    known = len(report.students)
    names = " ".join(report.students) or "-"
    closed = "  (session already closed)" if report.session_closed else ""
    closed += f"  warning: {report.warning}" if report.warning else ""
    return (
        f"#{report.number} {report.sampled_at:%H:%M:%S} (+{report.media_seconds:.1f}s) "
        f"faces {len(report.faces)}, known {known}, uncertain {report.uncertain}, "
        f"encoded {report.encoded}: {names}{closed}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"{PROG}: %(message)s")
    try:
        host, port = parse_address(args.server)
        lecture = normalize_lecture_code(args.lecture)
        source = VideoFileSource(args.video) if args.video else CameraSource(args.camera)
    except (ValueError, SourceError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    stop = threading.Event()
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):  # finish the sample under way, then stop
            handlers[signum] = signal.signal(signum, lambda *_: stop.set())
    settings = WatchSettings(
        min_face=args.min_face,
        tracking=not args.no_tracking,
        tracker=TrackerSettings(refresh_every=args.refresh_every),
    )
    try:
        context = tls_context(args.cafile) if args.cafile or args.tls else None
        connection = ReconnectingClient(
            host, port, token=args.token, timeout=args.timeout, connect_timeout=args.timeout, ssl_context=context
        )
        with source, connection as client:
            watcher = Watcher(client, lecture, start=args.start, settings=settings)
            samples = watch(
                source,
                watcher,
                every=args.every,
                stop=stop,
                on_sample=lambda report: print(format_report(report), flush=True),
                on_error=lambda exc, t: print(f"sample at +{t:.0f}s failed: {exc}", file=sys.stderr),
            )
            print(f"{samples} samples, {watcher.encoded} faces encoded", flush=True)
            if args.close and not stop.is_set():
                closed = client.close_session(lecture, watcher.session_date)  # the samples' session
                print(
                    f"closed {closed.lecture} on {closed.session_date}: present {closed.present}, "
                    f"late {closed.late}, left_early {closed.left_early}, absent {closed.absent}, "
                    f"marks by people kept {closed.kept} ({closed.samples} samples)",
                    flush=True,
                )
        return EXIT_OK
    except ServerError as exc:
        if exc.code == ErrorCode.CLOCK_SKEW:
            print(
                f"{PROG}: the server refused the sample's time, this computer's clock or time zone is wrong: "
                f"{exc.message}",
                file=sys.stderr,
            )
        else:
            print(f"{PROG}: the server refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as exc:
        print(f"{PROG}: cannot reach {host}:{port}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def _datetime(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time like 2019-11-01T09:00: {text!r}") from None


if __name__ == "__main__":
    sys.exit(main())
