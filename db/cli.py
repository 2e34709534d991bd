"""``attendance-db`` (also ``python -m db``): set up the database and load rosters.

    attendance-db [--db-url URL] [-v] init                    create the database and tables
    attendance-db [--db-url URL] [-v] import-roster FILE.csv  add lectures, students, enrollments

Exit status: 0 done, 1 database problem (unreachable, refused, ...), 2 bad input (command line,
roster file). Errors are one line on stderr, without traceback (``-v`` adds it).

Adding a subcommand: write ``run_<name>(args, url) -> int`` below, and register it (its
arguments and ``set_defaults(run=...)``) in :func:`build_parser`. Raise :class:`CommandError`
for an expected failure; open the database with :func:`open_database`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import sys
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pymysql

from db.connection import (
    DB_URL_ENV,
    DEFAULT_DB_URL,
    UNAVAILABLE_ERRORS,
    DatabaseUrl,
    DatabaseUrlError,
    connect,
    transaction,
    url_from_env,
)
from db.roster_import import RosterFormatError, import_roster, read_roster_csv
from db.schema import create_database, init_schema

PROG = "attendance-db"
EXIT_OK, EXIT_DATABASE, EXIT_INPUT = 0, 1, 2

log = logging.getLogger(PROG)

# MySQL error codes that deserve a hint on what to do.
_HINTS = {
    1049: "create it with: attendance-db --db-url URL init",  # unknown database
    1146: "create the tables with: attendance-db --db-url URL init",  # table doesn't exist
}


class CommandError(Exception):
    """An expected failure: its message is printed as is, and the command exits with exit_code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Set up the attendance database and load rosters.")
    parser.add_argument(
        "--db-url",
        default=url_from_env(),
        metavar="URL",
        # The help shows the built-in default, never $ATTENDANCE_DB_URL (it may hold a password).
        help=f"mysql://user[:password]@host[:port]/database (default: ${DB_URL_ENV}, else {DEFAULT_DB_URL})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is done, with tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create the database (if missing) and its tables; safe to repeat")
    init.set_defaults(run=run_init)

    roster = commands.add_parser(
        "import-roster",
        help="add the lectures, students and enrollments of a CSV file (lecture_code,student_id,student_name)",
    )
    roster.add_argument("file", type=Path, metavar="FILE.csv")
    roster.set_defaults(run=run_import_roster)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s"
    )
    try:
        url = DatabaseUrl.parse(args.db_url)
        return args.run(args, url)
    except DatabaseUrlError as exc:
        return _fail(_without_password(str(exc), args.db_url), EXIT_INPUT)
    except CommandError as exc:
        return _fail(str(exc), exc.exit_code)
    except pymysql.err.MySQLError as exc:
        return _fail(f"database error: {_reason(exc)}", EXIT_DATABASE)


# -- subcommands -------------------------------------------------------------------------------


def run_init(args: argparse.Namespace, url: DatabaseUrl) -> int:
    with open_database(url, select_database=False) as conn, transaction(conn) as cur:
        cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (url.database,))
        existed = cur.fetchone() is not None
        try:
            create_database(cur, url.database)  # CREATE DATABASE IF NOT EXISTS
        except ValueError as exc:
            raise CommandError(str(exc), EXIT_INPUT) from exc
    print(f"database {url.database} already exists" if existed else f"created database {url.database}")

    with open_database(url) as conn, transaction(conn) as cur:
        before = _table_names(cur)
        statements = init_schema(cur)  # CREATE TABLE IF NOT EXISTS ...
        created = sorted(_table_names(cur) - before)
    if created:
        print(f"created {len(created)} tables: {', '.join(created)}")
    else:
        print(f"all {statements} tables already exist")
    return EXIT_OK


def run_import_roster(args: argparse.Namespace, url: DatabaseUrl) -> int:
    try:
        rows = read_roster_csv(args.file)  # the whole file is checked before touching the database
    except RosterFormatError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}", EXIT_INPUT) from exc
    log.info("read %d rows from %s", len(rows), args.file)

    with open_database(url) as conn, transaction(conn) as cur:
        report = import_roster(cur, rows)
    print(f"roster lines read: {len(rows)}")
    for field in dataclasses.fields(report):
        print(f"{field.name.replace('_', ' ')}: {getattr(report, field.name)}")
    return EXIT_OK


# -- helpers -----------------------------------------------------------------------------------


@contextlib.contextmanager
def open_database(url: DatabaseUrl, *, select_database: bool = True) -> Iterator[pymysql.connections.Connection]:
    """A connection, closed at the end; failing to connect becomes a one-line CommandError."""
    log.info("connecting to %s", url)
    try:
        conn = connect(url, database=select_database)
    except UNAVAILABLE_ERRORS as exc:
        log.debug("connection failed", exc_info=True)
        # str(url) never shows the password, and the server's messages do not contain it.
        raise CommandError(f"cannot connect to {url}: {_reason(exc)}", EXIT_DATABASE) from exc
    try:
        yield conn
    finally:
        conn.close()


def _table_names(cur) -> set[str]:
    cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
    return {name for (name,) in cur.fetchall()}


def _reason(exc: BaseException) -> str:
    """The server's message of a pymysql error (without its code), plus a hint when we have one."""
    args = exc.args
    if len(args) == 2 and isinstance(args[0], int):
        code, message = args
        hint = _HINTS.get(code)
        return f"{message} ({hint})" if hint else str(message)
    return str(exc) or type(exc).__name__


def _without_password(message: str, raw_url: str) -> str:
    """The message with the URL's password (if any) replaced by ***."""
    try:
        password = urlsplit(raw_url).password
    except ValueError:
        password = None
    return message.replace(password, "***") if password else message


def _fail(message: str, exit_code: int) -> int:
    log.debug("failed", exc_info=True)
    one_line = " ".join(message.split())
    print(f"{PROG}: {one_line}", file=sys.stderr)
    return exit_code
