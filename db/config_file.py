"""Reading the TOML config file (``--config FILE``) shared by the commands.

The file is made of tables (``[server]``, ``[database]``, ...) of ``key = value`` lines; each
command says which keys it knows and of what kind (:data:`Kinds`). What is checked here, with
one error naming the file and the key (:class:`ConfigFileError`): valid TOML, no unknown table or
key, each value of its kind. Paths are read relative to the file's folder, so a file and its
``knowns/`` can move together. The values themselves (ranges, ...) are checked by each command.

It lives in ``db/`` because ``attendance-db`` and ``attendance-report`` read the database URL
from the same file as the server (``server/settings.py`` has the server's keys), and ``db/``
never imports ``server/``. Everything but :func:`read_config` and :func:`resolve_database_url`
is pure.
"""

from __future__ import annotations

import argparse
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from db.campus_clock import zone_problem
from db.connection import DB_URL_ENV, DEFAULT_DB_URL, url_from_env
from protocol.identifiers import IdentifierRules

#: The kinds of values a key may hold: str, int, float (an integer is accepted), bool, Path (a
#: string, relative to the file's folder), list (a list of strings).
Kinds = Mapping[str, Mapping[str, type]]

#: What attendance-db and attendance-report read from the file.
DATABASE_KEYS: Kinds = {"database": {"url": str}, "clock": {"timezone": str}}
#: What attendance-db also reads: the university's identifiers, as the server has them.
IDENTIFIER_KEYS: Kinds = {"identifiers": {"student-id-pattern": str, "lecture-code-pattern": str}}


class ConfigFileError(ValueError):
    """The config file cannot be used; the message names the file (and the key)."""


def parse_config(text: str, source: Path, kinds: Kinds, *, other_tables: bool = False) -> dict[str, dict[str, Any]]:
    """The file's tables as {table: {key: value}}, each value checked and converted to its kind.

    :param source: the file's path, for the messages and the folder relative paths start from.
    :param other_tables: ignore tables not in ``kinds`` (a command reading only ``[database]``
        from the server's file); keys unknown in a known table are always an error.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{source}: not valid TOML: {exc}") from None
    tables: dict[str, dict[str, Any]] = {}
    for table, entries in data.items():
        if not isinstance(entries, dict):
            homes = [f"[{name}]" for name, keys in kinds.items() if table in keys]
            raise ConfigFileError(
                f"{source}: {table} is outside any table; keys go under {' or '.join(homes) or 'their table'}"
            )
        if table not in kinds:
            if other_tables:
                continue
            raise ConfigFileError(f"{source}: unknown table [{table}] (known: {_names(kinds)})")
        tables[table] = {}
        for key, value in entries.items():
            kind = kinds[table].get(key)
            if kind is None:
                raise ConfigFileError(
                    f"{source}: unknown key {table}.{key} (known in [{table}]: {_names(kinds[table])})"
                )
            try:
                tables[table][key] = _convert(value, kind, source.parent)
            except ValueError as exc:
                raise ConfigFileError(f"{source}: {table}.{key}: {exc}") from None
    return tables


def read_config(path: Path, kinds: Kinds, *, other_tables: bool = False) -> dict[str, dict[str, Any]]:
    """:func:`parse_config` of the file at ``path`` (made absolute, so its relative paths are too)."""
    path = Path(os.path.abspath(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"cannot read the config file {path}: {exc}") from None
    return parse_config(text, path, kinds, other_tables=other_tables)


def pick_database_url(flag: str | None, file_tables: Mapping[str, Mapping[str, Any]], environment: str) -> str:
    """The database URL in effect: the --db-url flag, else the file's [database] url, else
    $ATTENDANCE_DB_URL (or the built-in default). The file comes before the environment because
    --config is named on the command line, while the environment may be left over from another
    task (the tests' shells all set ATTENDANCE_DB_URL)."""
    return flag or file_tables.get("database", {}).get("url") or environment


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """--db-url and --config, as attendance-db and attendance-report take them (read them back
    with :func:`resolve_database_url`)."""
    parser.add_argument(
        "--db-url",
        metavar="URL",
        # The help shows the built-in default, never $ATTENDANCE_DB_URL (it may hold a password).
        help=f"mysql://user[:password]@host[:port]/database (default: the --config file's [database] url, "
        f"else ${DB_URL_ENV}, else {DEFAULT_DB_URL})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file with a [database] url, e.g. the server's (docs/deploy.md)",
    )
    parser.add_argument(
        "--timezone",
        metavar="ZONE",
        help="the campus time zone, e.g. Asia/Seoul: what today is, and the database session's zone "
        "(default: the --config file's [clock] timezone, else this machine's)",
    )


def resolve_database_url(flag: str | None, config: Path | None) -> str:
    """:func:`pick_database_url` for attendance-db and attendance-report (reads ``config``)."""
    tables = read_config(config, DATABASE_KEYS, other_tables=True) if config is not None else {}
    return pick_database_url(flag, tables, url_from_env())


def resolve_timezone(flag: str | None, config: Path | None) -> str | None:
    """The campus time zone for attendance-db and attendance-report: --timezone, else the
    ``--config`` file's [clock] timezone, else None (this machine's zone).

    :raises ConfigFileError: not a known time zone (naming where it came from)."""
    tables = read_config(config, DATABASE_KEYS, other_tables=True) if config is not None else {}
    zone, source = (
        (flag, "--timezone") if flag else (tables.get("clock", {}).get("timezone"), f"{config}: clock.timezone")
    )
    if zone is not None and (problem := zone_problem(zone)):
        raise ConfigFileError(f"{source}: {problem}")
    return zone


def add_identifier_arguments(parser: argparse.ArgumentParser) -> None:
    """--student-id-pattern and --lecture-code-pattern, as attendance-db takes them (read them
    back with :func:`resolve_identifier_rules`); the server has the same settings."""
    parser.add_argument(
        "--student-id-pattern",
        metavar="REGEX",
        help="the university's student IDs, a regular expression matching the whole ID (default: the --config "
        "file's [identifiers] student-id-pattern, else the 2019 format: 9 digits 2xxxxxxxx)",
    )
    parser.add_argument(
        "--lecture-code-pattern",
        metavar="REGEX",
        help="the university's lecture codes, e.g. '[A-Z]{4}[0-9]{3}-[0-9]{2}' (default: the --config file's "
        "[identifiers] lecture-code-pattern, else the 2019 format, like ea0017_1)",
    )


def resolve_identifier_rules(
    student_id_pattern: str | None, lecture_code_pattern: str | None, config: Path | None
) -> IdentifierRules:
    """The identifier rules in effect: each flag, else the ``config`` file's [identifiers] key,
    else the default. ConfigFileError for a pattern that is not a regular expression."""
    tables = read_config(config, IDENTIFIER_KEYS, other_tables=True) if config is not None else {}
    in_file = tables.get("identifiers", {})
    student = student_id_pattern or in_file.get("student-id-pattern")
    lecture = lecture_code_pattern or in_file.get("lecture-code-pattern")
    defaults = IdentifierRules()
    try:
        return IdentifierRules(student or defaults.student_id_pattern, lecture or defaults.lecture_code_pattern)
    except ValueError as exc:  # names the pattern, whether from a flag or the file
        raise ConfigFileError(str(exc)) from None


def mask_password(url: str) -> str:
    """The URL with its password (if any) replaced by ***, for showing settings."""
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:
        return url
    if not has_password:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


def toml_value(value: Any) -> str:
    """``value`` (str, Path, bool, int, float, list/tuple of str) written as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, (str, Path)):
        text = str(value)
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        for char in sorted({c for c in escaped if ord(c) < 0x20 or ord(c) == 0x7F}):
            escaped = escaped.replace(char, f"\\u{ord(char):04x}")
        return f'"{escaped}"'
    raise TypeError(f"no TOML form for {value!r}")


def _convert(value: Any, kind: type, base: Path) -> Any:
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {_shown(value)}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, not {_shown(value)}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {_shown(value)}")
        if not math.isfinite(value):
            raise ValueError(f"must be a finite number, not {value}")
        return float(value)
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"must be a list of strings, not {_shown(value)}")
        return tuple(value)
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {_shown(value)}")
    if kind is Path:
        if not value:
            raise ValueError("must be a path, not an empty string")
        return base / Path(value).expanduser()  # an absolute path stays as it is
    return value


def _shown(value: Any) -> str:
    """A value as the file wrote it, for messages."""
    if isinstance(value, (bool, int, float, str)):
        return toml_value(value)
    kinds: dict[type, str] = {dict: "a table", list: "a list"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def _names(items: Mapping[str, Any]) -> str:
    return ", ".join(items)
