"""``attendance-db`` (also ``python -m admin``): set up the database, load rosters, manage clients.

    attendance-db [--db-url URL] [-v] init                    create the database and tables
    attendance-db [--db-url URL] upgrade [--dry-run]          apply the schema's new migrations
    attendance-db [--db-url URL] backup FILE                  dump the tables, with the schema version
    attendance-db [--db-url URL] restore FILE                 replace the tables with a backup's
    attendance-db [--db-url URL] [-v] import-roster FILE      add lectures, students, enrollments (CSV, XLSX)
    attendance-db [--db-url URL] add-client NAME --role ROLE [--lecture CODE ...]
                                                              register a client, print its token
    attendance-db [--db-url URL] set-role NAME --role ROLE [--lecture CODE ...]
                                                              another role for a client, same token
    attendance-db [--db-url URL] revoke-client NAME           refuse that client from now on
    attendance-db [--db-url URL] list-clients                 every client: role, lectures, state
    attendance-db [--db-url URL] forget STUDENT_ID            delete a student's biometric data
    attendance-db [--db-url URL] enroll STUDENT_ID PHOTO...   store a student's face encodings
    attendance-db [--db-url URL] create-server-account NAME   the server's least-privilege account
    attendance-db [--db-url URL] open-session CODE --start HH:MM --minutes N   a session's times
    attendance-db [--db-url URL] close-session CODE | --due     classroom camera statuses
    attendance-db [--db-url URL] schedule CODE --weekly "MON 09:00-10:15" --from D --to D [--skip D]
                                 [--holidays FILE]               the term's sessions
    attendance-db [--db-url URL] cancel-session CODE DATE [--reason TEXT]   counts for nobody
    attendance-db [--db-url URL] delete-session CODE DATE        a session made by mistake
    attendance-db [--db-url URL] history LECTURE [--student ID] [--date D]   every mark change

Exit status: 0 done, 1 database problem (unreachable, refused, ...), 2 bad input (command line,
roster file). Errors are one line on stderr, without traceback (``-v`` adds it).

Adding a subcommand: write ``run_<name>(args, url) -> int`` below, and register it (its
arguments and ``set_defaults(run=...)``) in :func:`build_parser`. Raise :class:`CommandError`
for an expected failure; open the database with :func:`open_database`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pymysql

from attendance_version import add_version_option
from db import accounts, backup, clients, history, lectures, privacy, schema, sessions
from db.campus_clock import CampusClock, session_time_zone
from db.config_file import (
    ConfigFileError,
    add_database_arguments,
    add_identifier_arguments,
    resolve_database_url,
    resolve_identifier_rules,
    resolve_timezone,
)
from db.connection import (
    DatabaseConnectError,
    DatabaseUrl,
    DatabaseUrlError,
    connect,
    describe_error,
    hide_password,
    transaction,
)
from db.roster_import import (
    HEADER_NAMES,
    RosterFormatError,
    check_encoding,
    import_roster,
    out_of_reach_of_2019_clients,
    parse_columns,
    read_roster,
)
from db.schema import SchemaError, create_database, init_schema, upgrade
from protocol.identifiers import IdentifierRules, check_client_name
from server.presence_settings import PresenceSettings

PROG = "attendance-db"
EXIT_OK, EXIT_DATABASE, EXIT_INPUT = 0, 1, 2

log = logging.getLogger(PROG)

# MySQL error codes that deserve a hint on what to do.


class CommandError(Exception):
    """An expected failure: its message is printed as is, and the command exits with exit_code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Set up the attendance database and load rosters.")
    add_version_option(parser)
    add_database_arguments(parser)
    add_identifier_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is done, with tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser(
        "init",
        help="create the database (if missing) and its tables; safe to repeat; an existing database "
        "of an earlier version is left alone (see upgrade)",
    )
    init.set_defaults(run=run_init)

    # Schema versions and backups (docs/maintenance.md).
    upgrade_help = (
        "apply, in order, the schema migrations the database lacks, each once, printing "
        "each (back up first; stop attendance-server); refuses a database newer than this "
        "code (docs/maintenance.md)"
    )
    upgrading = commands.add_parser("upgrade", help=upgrade_help, description=upgrade_help)
    upgrading.add_argument("--dry-run", action="store_true", help="only print what would be applied")
    upgrading.set_defaults(run=run_upgrade)

    backup_help = (
        "write every table and view of the database, with its schema version, to FILE "
        "(mariadb-dump or mysqldump, one consistent snapshot; the file is readable by you only)"
    )
    dump = commands.add_parser("backup", help=backup_help, description=backup_help)
    dump.add_argument("file", type=Path, metavar="FILE", help="the backup file to write (replaced if it exists)")
    dump.set_defaults(run=run_backup)

    restore_help = (
        "load a FILE made by backup into the database (created if missing): REPLACES the "
        "project's tables and views there, and their rows, with the backup's (other "
        "tables are left alone); refuses a backup newer than this code; stop "
        "attendance-server first"
    )
    load = commands.add_parser("restore", help=restore_help, description=restore_help)
    load.add_argument("file", type=Path, metavar="FILE", help="a file made by attendance-db backup")
    load.set_defaults(run=run_restore)

    roster_help = (
        "add the lectures, students and enrollments of a registrar's roster: CSV (UTF-8, CP949/EUC-KR) or "
        "XLSX, with a header naming the student ID, name and lecture code columns (e.g. 학번, 이름, 과목코드)"
    )
    roster = commands.add_parser("import-roster", help=roster_help, description=roster_help)
    roster.add_argument("file", type=Path, metavar="FILE", help="a .csv or .xlsx file")
    roster.add_argument(
        "--encoding",
        type=_encoding_arg,
        help="the CSV file's encoding (default: UTF-8 with or without a BOM, else CP949/EUC-KR, detected)",
    )
    roster.add_argument(
        "--columns",
        type=_columns_arg,
        metavar="FIELD=HEADER,...",
        help="the headers of the file's columns, e.g. student_id=학번,student_name=이름,lecture_code=과목코드 "
        "(default: recognized among "
        + "; ".join(f"{field}: {', '.join(names)}" for field, names in HEADER_NAMES.items())
        + ")",
    )
    roster.add_argument("--lecture", metavar="CODE", help="the file is this lecture's class list (no lecture column)")
    roster.add_argument(
        "--sync",
        action="store_true",
        help="make each lecture's roster the file's: students not in it drop the lecture from today "
        "(their marks stay; reports show the drop)",
    )
    roster.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    roster.set_defaults(run=run_import_roster)

    add = commands.add_parser(
        "add-client",
        help="register a classroom PC or professor's app; print its token once (stdout)",
    )
    add.add_argument("name", help="1-64 letters, digits, '_', '.', '-' (e.g. room-e203)")
    _add_role_arguments(add)
    add.set_defaults(run=run_add_client)

    set_role = commands.add_parser(
        "set-role", help="give a client another role and lectures (it keeps its token; in effect within seconds)"
    )
    set_role.add_argument("name")
    _add_role_arguments(set_role)
    set_role.set_defaults(run=run_set_role)

    revoke = commands.add_parser("revoke-client", help="refuse this client's token from its next connection")
    revoke.add_argument("name")
    revoke.set_defaults(run=run_revoke_client)

    listing = commands.add_parser("list-clients", help="every client, active or revoked")
    listing.set_defaults(run=run_list_clients)

    forget = commands.add_parser(
        "forget",
        help="delete a student's face encodings and enrollments (attendance history is kept)",
    )
    forget.add_argument("student_id")
    forget.add_argument(
        "--knowns", type=Path, metavar="DIR", help="also delete the student's enrollment photos from this folder"
    )
    forget.add_argument(
        "--evidence",
        type=Path,
        metavar="DIR",
        help="also delete the student's evidence frames (the server's --keep-evidence DIR)",
    )
    forget.add_argument(
        "--with-history", action="store_true", help="also delete the student's attendance records and name"
    )
    forget.set_defaults(run=run_forget)

    enroll = commands.add_parser(
        "enroll",
        help="encode about 5 photos of a student (straight, a little left, right, up, down) and store "
        "the encodings, after the checks the server makes (docs/recognition.md)",
    )
    enroll.add_argument("student_id")
    enroll.add_argument("photos", type=Path, nargs="+", metavar="PHOTO")
    enroll.add_argument("--name", help="the student's name, for a student not in the database yet")
    enroll.add_argument(
        "--force",
        action="store_true",
        help="store photos that look like another student or unlike the student's other photos",
    )
    enroll.add_argument(
        "--keep-photos", action="store_true", help="store the photos themselves too (default: only their encodings)"
    )
    enroll.set_defaults(run=run_enroll)

    account = commands.add_parser(
        "create-server-account",
        help="create the MySQL account attendance-server runs as, with only the privileges it needs",
    )
    account.add_argument("name", help="account name, e.g. attendance_server")
    account.add_argument(
        "--host",
        default="127.0.0.1",
        help="where the server connects from: an IP, a host name or %% (default: %(default)s)",
    )
    account.set_defaults(run=run_create_server_account)

    # Classroom camera sessions (docs/camera.md).
    opening = commands.add_parser("open-session", help="set when a lecture's session starts and how long it lasts")
    opening.add_argument("code", metavar="CODE", help="lecture code, e.g. ea0017_1")
    opening.add_argument("--date", type=_session_date_arg, default=None, help="YYYY-MM-DD (default: today)")
    opening.add_argument("--start", type=_start_time_arg, required=True, metavar="HH:MM")
    opening.add_argument("--minutes", type=int, required=True, metavar="N", help="length of the session")
    opening.set_defaults(run=run_open_session)

    closing = commands.add_parser(
        "close-session",
        help="compute the classroom camera's statuses of a session and write them (never over a person's mark)",
    )
    closing.add_argument("code", metavar="CODE", nargs="?", help="lecture code, e.g. ea0017_1")
    closing.add_argument("--date", type=_session_date_arg, default=None, help="YYYY-MM-DD (default: today)")
    closing.add_argument(
        "--due",
        action="store_true",
        help="instead of CODE: every open session past its scheduled end + --margin (for cron)",
    )
    _add_presence_flags(closing)
    closing.set_defaults(run=run_close_session)

    # The term's calendar (docs/maintenance.md, "The term's calendar").
    schedule_help = (
        "create a lecture's sessions for the term from its weekly meetings (safe to repeat: existing "
        "sessions keep their marks and times)"
    )
    scheduling = commands.add_parser("schedule", help=schedule_help, description=schedule_help)
    scheduling.add_argument("code", metavar="LECTURE", help="lecture code, e.g. ea0017_1")
    scheduling.add_argument(
        "--weekly",
        required=True,
        metavar="MEETINGS",
        help="e.g. 'MON 09:00-10:15, WED 09:00-10:15' (campus time; at most one meeting a day)",
    )
    scheduling.add_argument("--from", dest="first", type=_session_date_arg, required=True, metavar="YYYY-MM-DD")
    scheduling.add_argument("--to", dest="last", type=_session_date_arg, required=True, metavar="YYYY-MM-DD")
    scheduling.add_argument(
        "--skip", type=_session_date_arg, action="append", default=[], metavar="DATE", help="no session on this date"
    )
    scheduling.add_argument(
        "--holidays",
        type=Path,
        metavar="FILE",
        help="UTF-8 text, one 'YYYY-MM-DD [name]' or 'YYYY-MM-DD..YYYY-MM-DD [name]' a line, # for comments",
    )
    scheduling.add_argument("--dry-run", action="store_true", help="only print what would be created")
    scheduling.set_defaults(run=run_schedule)

    cancelling = commands.add_parser(
        "cancel-session",
        help="cancel a lecture's session: it counts for nobody in reports and rates; its marks stay",
    )
    cancelling.add_argument("code", metavar="LECTURE", help="lecture code, e.g. ea0017_1")
    cancelling.add_argument("date", type=_session_date_arg, metavar="DATE", help="YYYY-MM-DD")
    cancelling.add_argument("--reason", help="why (shown to a student checking in)")
    cancelling.set_defaults(run=run_cancel_session)

    deleting = commands.add_parser(
        "delete-session",
        help="delete a session made by mistake, with its camera samples and marks; refused when a "
        "person's mark is in it (cancel it instead)",
    )
    deleting.add_argument("code", metavar="LECTURE", help="lecture code, e.g. ea0017_1")
    deleting.add_argument("date", type=_session_date_arg, metavar="DATE", help="YYYY-MM-DD")
    deleting.set_defaults(run=run_delete_session)

    history_help = "every change of a lecture's marks: old and new status, source, client, professor, time, reason"
    listing_history = commands.add_parser("history", help=history_help, description=history_help)
    listing_history.add_argument("code", metavar="LECTURE", help="lecture code, e.g. ea0017_1")
    listing_history.add_argument("--student", metavar="ID", default=None, help="only this student's marks")
    listing_history.add_argument(
        "--date", type=_session_date_arg, default=None, help="only the session of this day (YYYY-MM-DD)"
    )
    listing_history.set_defaults(run=run_history)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(name)s: %(message)s")
    try:
        args.db_url = resolve_database_url(args.db_url, args.config)  # --db-url > --config > environment
        args.clock = CampusClock(resolve_timezone(args.timezone, args.config))
        args.rules = resolve_identifier_rules(args.student_id_pattern, args.lecture_code_pattern, args.config)
    except ConfigFileError as exc:
        return _fail(str(exc), EXIT_INPUT)
    try:
        url = DatabaseUrl.parse(args.db_url)
        return args.run(args, url)
    except DatabaseUrlError as exc:
        return _fail(hide_password(str(exc), args.db_url), EXIT_INPUT)
    except CommandError as exc:
        return _fail(str(exc), exc.exit_code)
    except pymysql.err.MySQLError as exc:
        return _fail(f"database error: {describe_error(exc)}", EXIT_DATABASE)


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

    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        before = _table_names(cur)
        try:
            statements = init_schema(cur)  # on an empty database only
        except SchemaError as exc:
            raise CommandError(f"{url.database}: {exc}", EXIT_DATABASE) from exc
        created = sorted(_table_names(cur) - before)
        version = schema.read_status(cur).version
    if statements:
        print(f"created {len(created)} tables: {', '.join(created)}")
        print(f"schema version {version}")
    else:
        print(f"schema version {version}: up to date, nothing to do")
    return EXIT_OK


def run_upgrade(args: argparse.Namespace, url: DatabaseUrl) -> int:
    with open_database(url, clock=args.clock) as conn:
        try:
            upgrade(conn, dry_run=args.dry_run, report=print)
        except SchemaError as exc:
            raise CommandError(f"{url.database}: {exc}", EXIT_DATABASE) from exc
    return EXIT_OK


def run_backup(args: argparse.Namespace, url: DatabaseUrl) -> int:
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:  # a clear error when unreachable
        status = schema.read_status(cur)
    try:
        size = backup.backup(url, args.file, status)
    except backup.BackupFileError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    except backup.BackupError as exc:
        raise CommandError(str(exc), EXIT_DATABASE) from exc
    print(f"backed up {url.database} ({status.describe()}) to {args.file}: {size} bytes")
    return EXIT_OK


def run_restore(args: argparse.Namespace, url: DatabaseUrl) -> int:
    try:
        header = backup.read_header(args.file)
    except backup.BackupFileError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    with open_database(url, select_database=False) as conn, transaction(conn) as cur:
        try:
            create_database(cur, url.database)  # CREATE DATABASE IF NOT EXISTS
        except ValueError as exc:
            raise CommandError(str(exc), EXIT_INPUT) from exc
    try:
        backup.restore(url, args.file, header)
    except backup.BackupFileError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    except backup.BackupError as exc:
        raise CommandError(str(exc), EXIT_DATABASE) from exc
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        status = schema.read_status(cur)
    print(f"restored {args.file} (made {header.made}) into {url.database}: {status.describe()}")
    if status.state in ("older", "unversioned"):
        print("an earlier version: bring it to this code's with attendance-db upgrade")
    return EXIT_OK


class _DryRun(Exception):
    """Raised inside the import's transaction so that it is rolled back (--dry-run)."""


def run_import_roster(args: argparse.Namespace, url: DatabaseUrl) -> int:
    rules: IdentifierRules = args.rules
    if args.lecture is not None:
        try:
            rules.normalize_lecture_code(args.lecture)
        except ValueError as exc:
            raise CommandError(f"--lecture: {exc}", EXIT_INPUT) from exc
    try:  # the whole file is checked before touching the database
        rows = read_roster(args.file, rules=rules, encoding=args.encoding, columns=args.columns, lecture=args.lecture)
    except RosterFormatError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}", EXIT_INPUT) from exc
    log.info("read %d rows from %s", len(rows), args.file)
    if args.sync and not rows:
        raise CommandError(f"{args.file}: no student listed; --sync would drop every student", EXIT_INPUT)
    synced: list[str] = []  # the lectures whose roster becomes the file's
    if args.sync:
        synced = [rows[0].lecture_code] if args.lecture else [row.lecture_code for row in rows]

    with open_database(url, clock=args.clock) as conn:
        try:
            with transaction(conn) as cur:
                report = import_roster(cur, rows, sync=synced, today=args.clock.today())
                if args.dry_run:
                    raise _DryRun  # rolled back: the report says what the import would do
        except _DryRun:
            pass
    prefix = "(dry run) " if args.dry_run else ""
    print(f"roster lines read: {len(rows)}")
    for what, count in report.counts():
        if count or what in ("lectures created", "students created", "enrollments created", "students renamed"):
            print(f"{prefix}{what}: {count}")
    for change in report.changes:  # every change for a dry run, else who left or came back
        if args.dry_run or change.startswith(("drop ", "readmit ")):
            print(f"  {prefix}{change}")
    if args.dry_run:
        print("dry run: nothing was changed")
    codes, ids = out_of_reach_of_2019_clients(rows)
    if codes or ids:
        parts = [_listed(codes, "lecture"), _listed(ids, "student")]
        print(
            f"warning: {' and '.join(part for part in parts if part)} "
            "not in the 2019 formats (student ID 2xxxxxxxx, lecture code like ea0017_1): 2019 clients cannot reach them",
            file=sys.stderr,
        )
    return EXIT_OK


def _add_role_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--role",
        required=True,
        choices=clients.ROLES,
        help="kiosk: face check-ins, rosters; camera: attendance-watch; professor: roll call, manual marks, "
        "uncertain check-ins, closing sessions, reports; admin: everything (docs/deploy.md, Roles)",
    )
    parser.add_argument(
        "--lecture",
        action="append",
        default=[],
        metavar="CODE",
        help="a lecture the client serves (repeat for several; none: every lecture; not for admin)",
    )


def _role_lectures(args: argparse.Namespace) -> list[str]:
    """The normalized --lecture codes, checked with the role. :raises CommandError:"""
    try:
        lectures = [args.rules.normalize_lecture_code(code) for code in args.lecture]
        clients.check_role(args.role, lectures)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    return lectures


def _describe_role(client: clients.Client) -> str:
    return f"{client.role}, {client.describe_scope()}"


def _listed(items: list[str], noun: str, shown: int = 5) -> str:
    if not items:
        return ""
    more = f", ... ({len(items) - shown} more)" if len(items) > shown else ""
    return f"{_count(len(items), noun)} ({', '.join(items[:shown])}{more})"


def run_add_client(args: argparse.Namespace, url: DatabaseUrl) -> int:
    try:
        check_client_name(args.name)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    lectures = _role_lectures(args)
    token = clients.new_token()
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        try:
            new = clients.add_client(cur, args.name, token, role=args.role, lectures=lectures)
        except (clients.ClientExistsError, clients.UnknownLectureError) as exc:
            raise CommandError(str(exc), EXIT_INPUT) from exc
        client = clients.get_client(cur, args.name)
    assert client is not None  # just added
    what = "added" if new else "re-activated with a new token"
    # The token alone on stdout (TOKEN=$(attendance-db add-client NAME)); the words on stderr.
    print(
        f"client {args.name} ({_describe_role(client)}) {what}. Its token follows; it is shown only this once "
        "(the database keeps only its SHA-256):",
        file=sys.stderr,
    )
    print(token)
    return EXIT_OK


def run_set_role(args: argparse.Namespace, url: DatabaseUrl) -> int:
    lectures = _role_lectures(args)
    with open_database(url) as conn, transaction(conn) as cur:
        try:
            client = clients.set_role(cur, args.name, role=args.role, lectures=lectures)
        except clients.UnknownLectureError as exc:
            raise CommandError(str(exc), EXIT_INPUT) from exc
    if client is None:
        raise CommandError(f"no client named {args.name!r} (see: attendance-db list-clients)", EXIT_INPUT)
    print(f"client {client.name} is now {_describe_role(client)}; running servers apply it within seconds")
    return EXIT_OK


def run_revoke_client(args: argparse.Namespace, url: DatabaseUrl) -> int:
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        client = clients.revoke_client(cur, args.name)
    if client is None:
        raise CommandError(f"no client named {args.name!r} (see: attendance-db list-clients)", EXIT_INPUT)
    print(
        f"client {client.name} revoked at {client.revoked_at:%Y-%m-%d %H:%M:%S}; refused from now on "
        "(running servers close its open connections within seconds)"
    )
    return EXIT_OK


def run_list_clients(args: argparse.Namespace, url: DatabaseUrl) -> int:
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        rows = clients.list_clients(cur)
    if not rows:
        print("no clients (add one with: attendance-db add-client NAME --role ROLE)")
    for client in rows:
        state = "active" if client.active else f"revoked {client.revoked_at:%Y-%m-%d %H:%M:%S}"
        print(
            f"{client.name:24}  {client.role:9}  added {client.created_at:%Y-%m-%d %H:%M:%S}  {state:27}"
            f"  lectures: {client.describe_scope()}"
        )
    return EXIT_OK


def run_forget(args: argparse.Namespace, url: DatabaseUrl) -> int:
    """Every step that can be done is done (the database, the photos, the evidence), each says
    what it did; a step that failed is said on stderr and the exit status is 1. Links to folders
    outside --knowns and --evidence are never followed."""
    # Imported here: the file layouts belong to the server (knowns/ and --keep-evidence).
    from server.evidence import delete_evidence

    try:
        args.rules.check_student_id(args.student_id)
        for folder in (args.knowns, args.evidence):
            if folder is not None and not folder.is_dir():
                raise ValueError(f"no such folder: {folder}")
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    failed: list[str] = []
    try:
        with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
            report = privacy.forget_student(cur, args.student_id, with_history=args.with_history)
    except (CommandError, pymysql.err.MySQLError) as exc:
        detail = describe_error(exc) if isinstance(exc, pymysql.err.MySQLError) else str(exc)
        failed.append(f"the database: nothing deleted there ({detail}); run forget again")
        print(f"student {args.student_id}:")
        print("  database: NOT done (encodings, enrollments and history unchanged)")
    else:
        _print_forget_report(report)
    if args.knowns is not None:
        failed += _forget_knowns(args.knowns, args.student_id, args.rules)
    else:
        print(
            "  enrollment photos: not looked for (--knowns DIR deletes them; a photo left in the "
            "server's knowns folder is encoded again at its next start)"
        )
    if args.evidence is not None:
        done = delete_evidence(args.evidence, args.student_id)
        print(f"  deleted {_count(len(done.deleted), 'evidence frame')} from {args.evidence}")
        failed += [f"evidence frame {path}: {reason}" for path, reason in done.failed]
        for link in done.not_followed:
            print(f"  not followed: {link} is a link (frames it leads to are not looked at)")
    print("  a running server stops recognizing this student within a minute (it reloads the encodings)")
    for failure in failed:
        print(f"{PROG} forget: could not delete {failure}", file=sys.stderr)
    return EXIT_DATABASE if failed else EXIT_OK


def _print_forget_report(report: privacy.ForgetReport) -> None:
    who = f"{report.student_id} ({report.name})" if report.name else report.student_id
    print(f"student {who}:")
    print(f"  deleted {_count(report.encodings, 'face encoding')}")
    lectures = f": {', '.join(report.lectures)}" if report.lectures else ""
    print(f"  deleted {_count(len(report.lectures), 'enrollment')}{lectures}")
    if report.history_deleted:
        print(f"  deleted {_count(report.attendance, 'attendance record')} and the student's name")
    else:
        print(
            f"  kept {_count(report.attendance, 'attendance record')} and the student's name "
            "(attendance history; --with-history deletes them)"
        )


def _forget_knowns(knowns: Path, student_id: str, rules: IdentifierRules) -> list[str]:
    """Delete the student's photos from the knowns folder; the failures, as lines to print. A
    photo in a folder that is a link (or leads outside ``knowns``) is not touched but reported:
    the server would encode it again."""
    from server.recognition.enrollment import scan_knowns

    root = knowns.resolve()
    failed = []
    photos = [photo for photo in scan_knowns(knowns, rules=rules) if photo.student_id == student_id]
    for photo in photos:
        folder = photo.path.parent
        if folder != knowns and (folder.is_symlink() or not folder.resolve().is_relative_to(root)):
            failed.append(f"enrollment photo {photo.path}: its folder is a link out of {knowns} (not followed)")
            continue
        target = photo.path.resolve() if photo.path.is_symlink() else None
        try:
            photo.path.unlink()  # a link itself is removed, never what it points to
        except OSError as exc:
            failed.append(f"enrollment photo {photo.path}: {exc.strerror or exc}")
            continue
        note = f" (a link; the file it pointed to, {target}, was left)" if target else ""
        print(f"  deleted enrollment photo {photo.path}{note}")
        if folder != knowns and not any(folder.iterdir()):
            with contextlib.suppress(OSError):
                folder.rmdir()
    if not photos:
        print(f"  no enrollment photo of this student in {knowns}")
    return failed


def run_create_server_account(args: argparse.Namespace, url: DatabaseUrl) -> int:
    try:
        accounts.check_account(args.name, args.host)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    password = clients.new_token()
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        try:
            created = accounts.create_server_account(
                cur, database=url.database, user=args.name, host=args.host, password=password
            )
        except ValueError as exc:
            raise CommandError(str(exc), EXIT_INPUT) from exc
        grants = accounts.account_grants(cur, args.name, args.host)
    server_url = DatabaseUrl(args.name, password, url.host, url.port, url.database, url.unix_socket)
    print("\n".join(grants), file=sys.stderr)
    if created:
        print(
            f"created account '{args.name}'@'{args.host}'. The server's database URL follows; "
            "the password is shown only this once:",
            file=sys.stderr,
        )
        print(server_url.to_url())
    else:
        print(
            f"account '{args.name}'@'{args.host}' exists: privileges granted again, password unchanged", file=sys.stderr
        )
    return EXIT_OK


def run_open_session(args: argparse.Namespace, url: DatabaseUrl) -> int:
    from server import presence  # here, so that the other commands do not load the server's code

    if args.minutes <= 0:
        raise CommandError(f"--minutes must be at least 1, not {args.minutes}", EXIT_INPUT)
    code = _lecture_code(args.code, args.rules)
    day = args.date or args.clock.today()
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        starts_at, ends_at = _camera_call(presence.open_session, cur, code, day, args.start, args.minutes)
    print(f"{code} on {day}: from {starts_at:%H:%M} to {ends_at:%H:%M}")
    return EXIT_OK


def run_close_session(args: argparse.Namespace, url: DatabaseUrl) -> int:
    from server import presence  # here, so that the other commands do not load the server's code

    if args.due == bool(args.code):
        raise CommandError("give a lecture CODE or --due (not both)", EXIT_INPUT)
    try:
        settings = PresenceSettings(args.late_after, args.leave_window, args.margin)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    now = args.clock.now()
    with open_database(url, clock=args.clock) as conn:
        if args.due:
            outcomes = presence.close_due_sessions(lambda: transaction(conn), settings, now)
        else:
            with transaction(conn) as cur:
                outcome = _camera_call(
                    presence.close_session,
                    cur,
                    _lecture_code(args.code, args.rules),
                    args.date or now.date(),
                    settings=settings,
                    now=now,
                    client_name=PROG,
                )
            outcomes = [outcome]
    for outcome in outcomes:
        counts = ", ".join(f"{status} {n}" for status, n in outcome.counts.items())
        print(
            f"closed {outcome.lecture} on {outcome.session_date}: {outcome.samples} samples; "
            f"{counts}; marks by people kept: {outcome.kept}"
        )
    if args.due and not outcomes:
        print("no session is due")
    return EXIT_OK


def run_schedule(args: argparse.Namespace, url: DatabaseUrl) -> int:
    from admin import term_plan

    code = _lecture_code(args.code, args.rules)
    try:
        meetings = term_plan.parse_weekly(args.weekly)
        holidays = term_plan.read_holidays(args.holidays) if args.holidays else {}
        plan = term_plan.plan_term(meetings, args.first, args.last, holidays=holidays, skip=args.skip)
    except term_plan.PlanError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    except OSError as exc:
        raise CommandError(f"cannot read {args.holidays}: {exc.strerror or exc}", EXIT_INPUT) from exc
    done: dict[str, list[datetime.date]] = {}
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        lecture = lectures.get_lecture(cur, code)
        if lecture is None:
            raise CommandError(f"no lecture {code} (add it with attendance-db import-roster first)", EXIT_INPUT)
        for planned in plan.sessions:
            if args.dry_run:
                existing = sessions.get_calendar_session(cur, lecture.lecture_id, planned.day)
                what = "would be created" if existing is None else "already there"
            else:
                what = sessions.schedule_session(
                    cur, lecture.lecture_id, planned.day, planned.starts_at, planned.ends_at
                )
            done.setdefault(what, []).append(planned.day)
        if args.dry_run:
            conn.rollback()
    first, last = args.first, args.last
    print(f"{code} from {first} to {last}, {args.weekly.strip()}: {_count(len(plan.sessions), 'session')}")
    for what, days in done.items():
        print(f"  {what}: {len(days)}" + (f" ({', '.join(map(str, days))})" if what != sessions.CREATED else ""))
    for day, why in plan.skipped:
        print(f"  skipped {day} ({day:%a}): {why}")
    if args.dry_run:
        print("dry run: nothing written")
    return EXIT_OK


def _session_of(cur, code: str, day: datetime.date, *, for_update: bool = False):
    """The lecture and its session on ``day``; CommandError when either is missing."""
    lecture = lectures.get_lecture(cur, code)
    if lecture is None:
        raise CommandError(f"no lecture {code}", EXIT_INPUT)
    session = sessions.get_calendar_session(cur, lecture.lecture_id, day, for_update=for_update)
    if session is None:
        raise CommandError(f"{code} has no session on {day}", EXIT_INPUT)
    return lecture, session


def run_cancel_session(args: argparse.Namespace, url: DatabaseUrl) -> int:
    code = _lecture_code(args.code, args.rules)
    reason = " ".join(args.reason.split()) if args.reason else None
    if reason is not None and len(reason) > 255:
        raise CommandError(f"--reason is {len(reason)} characters; at most 255", EXIT_INPUT)
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        _lecture, session = _session_of(cur, code, args.date, for_update=True)
        cancelled = sessions.cancel_session(cur, session.session_id, reason, args.clock.now())
        contents = sessions.session_contents(cur, session.session_id)
    if not cancelled:
        print(f"{code} on {args.date} was cancelled already ({session.cancelled_at:%Y-%m-%d %H:%M}); nothing changed")
        return EXIT_OK
    print(
        f"cancelled {code} on {args.date}{f' ({reason})' if reason else ''}: it counts for nobody in reports "
        f"and rates; its {_count(contents.person_marks + contents.camera_marks, 'mark')} stay"
    )
    return EXIT_OK


def run_delete_session(args: argparse.Namespace, url: DatabaseUrl) -> int:
    code = _lecture_code(args.code, args.rules)
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        # The row lock keeps a mark from being added while the session is checked and deleted.
        _lecture, session = _session_of(cur, code, args.date, for_update=True)
        try:
            deleted = sessions.delete_session(cur, session.session_id)
        except ValueError as exc:
            raise CommandError(
                f"{code} on {args.date} holds {exc}: not deleted (attendance-db cancel-session {code} "
                f"{args.date} takes it out of every rate and keeps the marks)",
                EXIT_INPUT,
            ) from exc
    print(
        f"deleted {code} on {args.date}, with {_count(deleted.camera_marks, 'camera mark')}, "
        f"{_count(deleted.samples, 'presence sample')} and {_count(deleted.pending, 'waiting check-in')}"
    )
    return EXIT_OK


def run_enroll(args: argparse.Namespace, url: DatabaseUrl) -> int:
    # Imported here: encoding faces needs the server's recognition code (dlib, one worker process).
    from db.connection import ConnectionPool
    from server.recognition.enrollment import EncodingProgress
    from server.recognition.pool import RecognitionPool
    from server.service import AttendanceService, ServiceError, describe_photo_problem

    try:
        args.rules.check_student_id(args.student_id)
        images = [path.read_bytes() for path in args.photos]
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc
    except OSError as exc:
        raise CommandError(f"cannot read {exc.filename}: {exc.strerror}", EXIT_INPUT) from exc
    with open_database(url, clock=args.clock):  # a wrong URL is said at once, before the worker loads the models
        pass
    progress = EncodingProgress(len(images), lambda line: print(line, file=sys.stderr, flush=True))
    db = ConnectionPool(url)
    try:
        with RecognitionPool(1) as recognizer:
            service = AttendanceService(db, recognizer, keep_enrolment_photos=args.keep_photos)
            try:
                service.reload_gallery()
                outcome = service.enroll(args.student_id, images, name=args.name, force=args.force, progress=progress)
            except ServiceError as exc:
                raise CommandError(exc.message, EXIT_DATABASE if exc.code == "db_unavailable" else EXIT_INPUT) from exc
    finally:
        db.close()
    for path, photo in zip(args.photos, outcome.photos):
        print(f"{path}: {describe_photo_problem(photo) if photo.problem else 'ok'}")
    if not outcome.stored:
        raise CommandError(
            f"nothing stored for {args.student_id}"
            + (
                " (--force stores photos that only look like another student or unlike the student's others)"
                if not args.force
                else ""
            ),
            EXIT_INPUT,
        )
    print(
        f"student {args.student_id}: {_count(outcome.stored, 'photo')} enrolled, "
        f"{_count(outcome.total, 'encoding')} in all (a running server loads them within a minute)"
    )
    return EXIT_OK


def _add_presence_flags(parser: argparse.ArgumentParser) -> None:
    """The thresholds of the camera rules (defaults: server.presence_settings.PresenceSettings)."""
    defaults = PresenceSettings()
    parser.add_argument(
        "--late-after",
        type=float,
        default=defaults.late_after_minutes,
        metavar="MIN",
        help="first seen later than this after the start: late (default: %(default)s)",
    )
    parser.add_argument(
        "--leave-window",
        type=float,
        default=defaults.leave_window_minutes,
        metavar="MIN",
        help="not seen in this last part of the session: left early (default: %(default)s)",
    )
    parser.add_argument(
        "--margin",
        type=float,
        default=defaults.close_margin_minutes,
        metavar="MIN",
        help="with --due: close sessions this long after their end (default: %(default)s)",
    )


#: The columns of ``attendance-db history``.
HISTORY_COLUMNS = ("session", "student", "name", "change", "source", "client", "professor", "changed at", "reason")


def run_history(args: argparse.Namespace, url: DatabaseUrl) -> int:
    code = _lecture_code(args.code, args.rules)
    if args.student is not None:
        try:
            args.rules.check_student_id(args.student)
        except ValueError as exc:
            raise CommandError(str(exc), EXIT_INPUT) from exc
    with open_database(url, clock=args.clock) as conn, transaction(conn) as cur:
        lecture = lectures.get_lecture(cur, code)
        if lecture is None:
            raise CommandError(f"no lecture {code}", EXIT_INPUT)
        rows = history.lecture_history(cur, lecture.lecture_id, student_id=args.student, session_date=args.date)
    if not rows:
        print(f"{code}: no mark changes recorded" + (" for that choice" if args.student or args.date else ""))
        return EXIT_OK
    table = [list(HISTORY_COLUMNS)]
    for row in rows:
        table.append(
            [
                row.session_date.isoformat(),
                row.student_id,
                row.name,
                f"{row.old_status or '(none)'} -> {row.new_status}",
                row.source,
                row.client_name,
                row.professor or "",
                row.changed_at.isoformat(sep=" ", timespec="seconds") + (" *" if row.after_session else ""),
                row.reason or "",
            ]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(HISTORY_COLUMNS) - 1)]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1])
    print(f"{_count(len(rows), 'change')}; * changed on a later day than its session")
    return EXIT_OK


def _camera_call(function, *args, **kwargs):
    """Call a server.presence function; its ServiceError becomes a one-line CommandError."""
    from server.service import ServiceError

    try:
        return function(*args, **kwargs)
    except ServiceError as exc:
        raise CommandError(exc.message, EXIT_INPUT) from exc


def _lecture_code(text: str, rules: IdentifierRules) -> str:
    try:
        return rules.normalize_lecture_code(text)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_INPUT) from exc


def _encoding_arg(text: str) -> str:
    try:
        return check_encoding(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _columns_arg(text: str) -> dict[str, str]:
    try:
        return parse_columns(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _session_date_arg(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date as YYYY-MM-DD: {text!r}") from None


def _start_time_arg(text: str) -> datetime.time:
    try:
        return datetime.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time as HH:MM: {text!r}") from None


# -- helpers -----------------------------------------------------------------------------------


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@contextlib.contextmanager
def open_database(
    url: DatabaseUrl, *, select_database: bool = True, clock: CampusClock | None = None
) -> Iterator[pymysql.connections.Connection]:
    """A connection, closed at the end; failing to connect becomes a one-line CommandError.
    With ``clock``, its MySQL session is in campus time (CURRENT_TIMESTAMP, CURRENT_DATE)."""
    log.info("connecting to %s", url)
    try:
        conn = connect(url, database=select_database)
    except DatabaseConnectError as exc:
        log.debug("connection failed", exc_info=True)
        raise CommandError(str(exc), EXIT_DATABASE) from exc  # one line, never the password
    try:
        if clock is not None:
            with transaction(conn) as cur:
                session_time_zone(cur, clock)
        yield conn
    finally:
        conn.close()


def _table_names(cur) -> set[str]:
    cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
    return {name for (name,) in cur.fetchall()}


def _fail(message: str, exit_code: int) -> int:
    log.debug("failed", exc_info=True)
    one_line = " ".join(message.split())
    print(f"{PROG}: {one_line}", file=sys.stderr)
    return exit_code
