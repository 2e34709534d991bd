"""``attendance-report`` (also ``python -m reports``): one lecture's attendance report.

    attendance-report [--db-url URL] --lecture CODE [--from DATE] [--to DATE] [--late-weight W]
                      [--format table|csv|xlsx|md] [--out FILE] [--chart FILE.png]
                      [--below PERCENT]

Prints (or writes to --out) the student × session matrix with totals and rates, or with --below
only the students under that rate. --chart also draws the PNG chart. Rules: docs/reports.md.

Exit status: 0 done, also for a lecture without sessions or students in the range (a message on
stderr, nothing written); 1 the report could not be made (database unreachable or not set up,
unknown lecture, output file not writable); 2 bad command line. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

import pymysql

from attendance_version import add_version_option
from db.campus_clock import CampusClock, session_time_zone
from db.config_file import ConfigFileError, add_database_arguments, resolve_database_url, resolve_timezone
from db.connection import (
    DatabaseConnectError,
    DatabaseUrl,
    DatabaseUrlError,
    connect,
    describe_error,
    hide_password,
    transaction,
)
from db.reports import build_report
from protocol.identifiers import normalize_lecture_code
from reports.domain import DEFAULT_LATE_WEIGHT, LectureNotFound, LectureReport
from reports.render import FORMATS, render, render_chart

PROG = "attendance-report"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# MySQL error codes that deserve a hint on what to do.


class ReportError(Exception):
    """An expected failure (exit status 1): the message is printed as is."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Print one lecture's attendance report.")
    add_version_option(parser)
    add_database_arguments(parser)
    parser.add_argument(
        "--lecture", required=True, type=_lecture_code, metavar="CODE", help="lecture code, e.g. EA0017_1"
    )
    parser.add_argument(
        "--from", dest="date_from", type=_iso_date, metavar="DATE", help="first session date, YYYY-MM-DD (inclusive)"
    )
    parser.add_argument(
        "--to", dest="date_to", type=_iso_date, metavar="DATE", help="last session date, YYYY-MM-DD (inclusive)"
    )
    parser.add_argument(
        "--late-weight",
        type=_fraction,
        default=DEFAULT_LATE_WEIGHT,
        metavar="W",
        help="how much a late (or left-early) session counts, 0 to 1 (default 0.5)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (aligned text, default), csv (UTF-8 with BOM), xlsx (needs --out), md",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")
    parser.add_argument(
        "--chart", type=Path, metavar="FILE.png", help="also draw the rate per session and the heat map as a PNG"
    )
    parser.add_argument(
        "--below",
        type=_percent,
        metavar="PERCENT",
        help="list only the students whose rate is under PERCENT (the warning list)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.format == "xlsx" and args.out is None:
        parser.error("--format xlsx needs --out FILE")
    if args.date_from and args.date_to and args.date_from > args.date_to:
        parser.error(f"--from {args.date_from} is after --to {args.date_to}")
    try:
        args.db_url = resolve_database_url(args.db_url, args.config)  # --db-url > --config > environment
        clock = CampusClock(resolve_timezone(args.timezone, args.config))
    except ConfigFileError as exc:
        return _fail(str(exc), EXIT_USAGE)
    try:
        url = DatabaseUrl.parse(args.db_url)
    except DatabaseUrlError as exc:
        return _fail(hide_password(str(exc), args.db_url), EXIT_USAGE)

    try:
        report = load_report(url, args.lecture, args.date_from, args.date_to, args.late_weight, clock)
    except ReportError as exc:
        return _fail(str(exc), EXIT_FAILED)
    if not report.sessions:
        return _say(f"{report.lecture_code}: no sessions{_range(args)}; nothing written")
    if not report.students:
        return _say(f"{report.lecture_code}: no students enrolled; nothing written")

    data = render(report, args.format, args.below)
    try:
        if args.out is not None:
            args.out.write_bytes(data)
        else:
            _write_stdout(data)
        if args.chart is not None:
            render_chart(report, args.chart, args.below)
    except OSError as exc:
        return _fail(f"cannot write {exc.filename}: {exc.strerror or exc}", EXIT_FAILED)
    return EXIT_OK


def load_report(
    url: DatabaseUrl, code: str, date_from, date_to, late_weight: float, clock: CampusClock | None = None
) -> LectureReport:
    """build_report on a connection of its own, in campus time (``clock``: whether a session
    dated today is still open); database failures become one-line ReportErrors."""
    try:
        conn = connect(url)
    except DatabaseConnectError as exc:
        raise ReportError(str(exc)) from exc  # one line, never the password
    try:
        with transaction(conn) as cur:
            session_time_zone(cur, clock or CampusClock())
            return build_report(cur, code, date_from, date_to, late_weight)
    except LectureNotFound as exc:
        raise ReportError(f"no lecture {code} in {url}") from exc
    except pymysql.err.MySQLError as exc:
        raise ReportError(f"database error: {describe_error(exc)}") from exc
    finally:
        conn.close()


# -- argument types ----------------------------------------------------------------------------


def _lecture_code(text: str) -> str:
    try:
        return normalize_lecture_code(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _iso_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from exc


def _number(text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")  # fails the range check below
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be a number from {low:g} to {high:g}: {text!r}")
    return value


def _fraction(text: str) -> float:
    return _number(text, 0, 1)


def _percent(text: str) -> float:
    return _number(text, 0, 100)


# -- helpers -----------------------------------------------------------------------------------


def _range(args: argparse.Namespace) -> str:
    if args.date_from is None and args.date_to is None:
        return ""
    return f" from {args.date_from or 'the start'} to {args.date_to or 'the end'}"


def _write_stdout(data: bytes) -> None:
    try:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `attendance-report ... | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _say(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_OK


def _fail(message: str, exit_code: int) -> int:
    print(f"{PROG}: {' '.join(message.split())}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
