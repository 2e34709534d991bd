"""``attendance-db backup FILE`` and ``restore FILE``, through the MySQL/MariaDB tools.

A backup is the SQL that mariadb-dump (or mysqldump) writes for every table and view of the
database, in one consistent snapshot (``--single-transaction``: InnoDB, no lock, the server may
keep running), after one header line that says what the file is and its schema version:

    -- attendance-db backup: schema version 1, database attendance, made 2026-12-02T04:37:38

The password never goes on a command line (where ``ps`` shows it): the tools read the account
from a temporary option file only the user can read, deleted afterwards.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from db.connection import DatabaseUrl, connect, transaction
from db.schema import SchemaStatus, find_migrations, schema_objects

DUMP_TOOLS = ("mariadb-dump", "mysqldump")
CLIENT_TOOLS = ("mariadb", "mysql")
HEADER_PREFIX = "-- attendance-db backup: "
_HEADER = re.compile(r"-- attendance-db backup: schema version (\d+), database (\w+), made (\S+)\Z")


class BackupError(Exception):
    """A backup or restore that could not be done (a tool missing or failing); one line."""


class BackupFileError(BackupError):
    """The file itself is the problem: not a backup, unreadable, or newer than this code."""


@dataclass(frozen=True)
class BackupHeader:
    version: int  # 0: made before schema versioning
    database: str
    made: str

    def line(self) -> str:
        return f"{HEADER_PREFIX}schema version {self.version}, database {self.database}, made {self.made}"


def backup(url: DatabaseUrl, path: Path, status: SchemaStatus) -> int:
    """Write the backup of ``url``'s database to ``path`` (mode 600: it holds face encodings);
    nothing is left at ``path`` when the dump fails. Returns the file's size in bytes."""
    if status.state == "empty":
        raise BackupError(f"{url.database} has no attendance tables: nothing to back up")
    if status.state == "current":  # the dump tool silently skips what the account cannot see
        unseen = _unseen_objects(url)
        if unseen:
            raise BackupError(
                f"the account {url.user} cannot see {', '.join(unseen)}: back up with an "
                f"account that reads every table and view (the one that ran attendance-db init)"
            )
    tool = _find_tool(DUMP_TOOLS)
    made = datetime.datetime.now().replace(microsecond=0).isoformat()
    header = BackupHeader(status.version or 0, url.database, made)
    partial = path.with_name(f".{path.name}.partial")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise BackupFileError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as out, _option_file(url) as options:
            out.write(header.line().encode("utf-8") + b"\n")
            out.flush()
            _run(
                tool,
                [
                    f"--defaults-file={options}",
                    "--single-transaction",
                    "--hex-blob",
                    "--no-tablespaces",
                    "--default-character-set=utf8mb4",
                    "--skip-dump-date",
                    url.database,
                ],
                stdout=out,
            )
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return path.stat().st_size


def read_header(path: Path) -> BackupHeader:
    """The header of a backup file; BackupFileError for any other file, or one newer than the code."""
    try:
        with open(path, "rb") as f:
            first = f.readline(300).decode("utf-8", "replace").rstrip("\r\n")
    except OSError as exc:
        raise BackupFileError(f"cannot read {path}: {exc.strerror}") from exc
    match = _HEADER.match(first)
    if not match:
        raise BackupFileError(
            f"{path} is not an attendance-db backup (its first line is not '{HEADER_PREFIX}schema version N, ...')"
        )
    header = BackupHeader(int(match.group(1)), match.group(2), match.group(3))
    latest = find_migrations()[-1].version
    if header.version > latest:
        raise BackupFileError(
            f"{path} has schema version {header.version}, newer than this code's "
            f"{latest}: restore it with the attendance release that made it"
        )
    return header


def restore(url: DatabaseUrl, path: Path, header: BackupHeader) -> None:
    """Replace the project's tables and views in ``url``'s database (which must exist) with the
    backup's: the project's tables present are dropped first, so that none of a later version
    stays next to an older backup; other tables are left alone. A failure halfway leaves the
    database partly restored: restore again once its cause is fixed."""
    tool = _find_tool(CLIENT_TOOLS)
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            cur.execute("SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            present = dict(cur.fetchall())
            cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            for name in reversed(schema_objects()):  # names from db/schema.sql only
                if name in present:
                    kind = "VIEW" if present[name] == "VIEW" else "TABLE"
                    cur.execute(f"DROP {kind} IF EXISTS `{name}`")
            cur.execute("SET FOREIGN_KEY_CHECKS = 1")
    finally:
        conn.close()
    with open(path, "rb") as source, _option_file(url) as options:
        _run(
            tool,
            [f"--defaults-file={options}", "--default-character-set=utf8mb4", url.database],
            stdin=source,
            what=f"the database {url.database} is partly restored; restore again",
        )


def _unseen_objects(url: DatabaseUrl) -> list[str]:
    """The project's tables and views that the account cannot see in its database."""
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            present = {name for (name,) in cur.fetchall()}
    finally:
        conn.close()
    return [name for name in schema_objects() if name not in present]


def _find_tool(names: tuple[str, ...]) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupError(f"neither {' nor '.join(names)} is installed (Debian: apt install mariadb-client)")


def _run(tool: str, args: list[str], *, what: str = "", **streams) -> None:
    try:
        result = subprocess.run([tool, *args], stderr=subprocess.PIPE, check=False, **streams)
    except OSError as exc:
        raise BackupError(f"cannot run {tool}: {exc.strerror}") from exc
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        problem = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "")
        raise BackupError(
            f"{Path(tool).name} failed (exit {result.returncode}): {problem or 'no message'}"
            + (f"; {what}" if what else "")
        )


@contextlib.contextmanager
def _option_file(url: DatabaseUrl) -> Iterator[Path]:
    """A [client] option file with the URL's account, mode 600, removed at the end."""
    lines = ["[client]", f"user={_option_value(url.user)}"]
    if url.password:
        lines.append(f"password={_option_value(url.password)}")
    if url.unix_socket:
        lines.append(f"socket={_option_value(url.unix_socket)}")
    else:
        lines += [f"host={_option_value(url.host)}", f"port={url.port}", "protocol=TCP"]
    fd, name = tempfile.mkstemp(prefix="attendance-db-", suffix=".cnf")  # mode 600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        yield Path(name)
    finally:
        os.unlink(name)


def _option_value(value: str) -> str:
    """A value for an option file: quoted, with the escapes the MySQL tools read."""
    if "\n" in value or "\r" in value:
        raise BackupError("a user, password or socket with a line break cannot go in an option file")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
