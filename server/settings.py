"""The server's settings: one table (:data:`SETTINGS`) gives each setting's flag, its place in the
config file, its kind, its default and its check.

Defaults come from :class:`server.app.ServerConfig` and :class:`server.presence.PresenceSettings`
(the few that are not fields there are in the table), so a default is written once. A value is
taken from the command line, else from the config file, else the default (:func:`resolve`); the
database URL falls back on $ATTENDANCE_DB_URL before the built-in default. Everything here is
pure: the caller reads the file (``db.config_file.read_config``) and the environment.

The config file's layout (docs/deploy.md, deploy/server.toml.example)::

    [server]    host, port, knowns, threshold, detect-max-side, workers, encoder, idle-timeout,
                hello-timeout, request-timeout, log-level
    [database]  url
    [tls]       cert, key                                        (--tls-cert, --tls-key)
    [limits]    max-connections, max-connections-per-address, rate, burst, recognition-rate,
                recognition-burst, max-frame-bytes, max-hello-frame-bytes, max-pixels, max-faces,
                max-jpeg-scans, decode-timeout, worker-timeout, max-queued, max-queued-per-client
    [legacy]    from (list), enabled (false: --no-legacy)        (--legacy-from, --no-legacy)
    [privacy]   keep-evidence, evidence-days, keep-enrolment-photos
    [camera]    late-after, leave-window, close-margin, close-due-every
    [clock]     timezone, max-clock-skew, trust-client-clocks
    [identifiers] student-id-pattern, lecture-code-pattern
    [liveness]  enabled (false: --no-liveness), deadline, seed   (--liveness-deadline, --liveness-seed)
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from db.campus_clock import MAX_CLOCK_SKEW_RANGE, zone_problem
from db.config_file import mask_password, toml_value
from db.connection import DB_URL_ENV, DEFAULT_DB_URL, DatabaseUrl, DatabaseUrlError, hide_password
from protocol.identifiers import compile_pattern
from server.app import ServerConfig
from server.presence import PresenceSettings
from server.presence_settings import MINUTES_RANGE
from server.recognition.faces import ENCODERS

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
#: The settings whose flag takes one of a few words.
_CHOICES = {"log_level": LOG_LEVELS, "encoder": ENCODERS}

_SERVER_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ServerConfig) if f.default is not dataclasses.MISSING}
_CAMERA_DEFAULTS = dataclasses.asdict(PresenceSettings())


class SettingsError(ValueError):
    """A setting has a bad value; the message names where it came from (a flag, or file and key)."""


Check = Callable[[Any], "str | None"]  # the problem with a value, or None


@dataclass(frozen=True)
class Setting:
    name: str  # the ServerConfig (or PresenceSettings) field, and the argparse dest
    flag: str
    table: str  # where it is in the config file: [table] key = ...
    key: str
    kind: type  # str, int, float, bool, Path, list (of str): see db.config_file
    default: Any
    help: str
    check: Check | None = None
    metavar: str | None = None
    #: For a setting that may be left unset (default None): what that means.
    unset: str | None = None

    @property
    def file_key(self) -> str:
        return f"{self.table}.{self.key}"


@dataclass(frozen=True)
class Value:
    value: Any
    source: str  # "--port", "/etc/attendance/server.toml: server.port", "$ATTENDANCE_DB_URL", "default"


def _at_least(low: float) -> Check:
    return lambda value: None if value >= low else f"must be at least {low:g}, not {value:g}"


def _above(low: float) -> Check:
    return lambda value: None if value > low else f"must be more than {low:g}, not {value:g}"


def _between(low: float, high: float) -> Check:
    return lambda value: None if low <= value <= high else f"must be {low:g}-{high:g}, not {value:g}"


def _threshold(value: float) -> str | None:
    return None if 0 < value <= 2 else f"must be in (0, 2], not {value:g}"


def _networks(value: Iterable[str]) -> str | None:
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            return str(exc)
    return None


def _database_url(value: str) -> str | None:
    try:
        DatabaseUrl.parse(value)
    except DatabaseUrlError as exc:
        return hide_password(str(exc), value)
    return None


def _pattern(what: str) -> Check:
    def check(value: str) -> str | None:
        try:
            compile_pattern(what, value)
        except ValueError as exc:
            return str(exc)
        return None

    return check


def _one_of(choices: tuple[str, ...]) -> Check:
    return lambda value: None if value in choices else f"must be one of {', '.join(choices)}, not {value!r}"


_log_level = _one_of(LOG_LEVELS)


_MINUTES = _between(*MINUTES_RANGE)


def _time_zone(value: str) -> str | None:
    return zone_problem(value)


def _camera(name: str, flag: str, key: str, help: str) -> Setting:
    return Setting(name, flag, "camera", key, float, _CAMERA_DEFAULTS[name], help, _MINUTES, "MIN")


def _server(
    name: str, flag: str, table: str, key: str, kind: type, help: str, check: Check | None = None, **extra
) -> Setting:
    return Setting(name, flag, table, key, kind, _SERVER_DEFAULTS[name], help, check, **extra)


SETTINGS: tuple[Setting, ...] = (
    _server("host", "--host", "server", "host", str, "address to listen on"),
    _server("port", "--port", "server", "port", int, "TCP port; 0 picks a free one", _between(0, 65535)),
    Setting(
        "db_url",
        "--db-url",
        "database",
        "url",
        str,
        DEFAULT_DB_URL,
        f"mysql://user:password@host:port/database (else ${DB_URL_ENV})",
        _database_url,
        "URL",
    ),
    Setting(
        "knowns_dir",
        "--knowns",
        "server",
        "knowns",
        Path,
        Path("knowns"),
        "enrollment photos, <student ID>_<name>.jpg",
        metavar="DIR",
    ),
    _server(
        "threshold",
        "--threshold",
        "server",
        "threshold",
        float,
        "ceiling of the decision rules: no face farther than this is ever accepted; the rules "
        "calibrate a lower threshold from the enrolled faces (docs/recognition.md)",
        _threshold,
    ),
    _server(
        "detect_max_side",
        "--detect-max-side",
        "server",
        "detect-max-side",
        int,
        "detect faces on a copy at most this many pixels wide/high; 0: full size",
        _at_least(0),
    ),
    _server(
        "workers",
        "--workers",
        "server",
        "workers",
        int,
        "recognition worker processes",
        _at_least(1),
        unset="one per core",
    ),
    _server(
        "encoder",
        "--encoder",
        "server",
        "encoder",
        str,
        "face encoder: numpy (dlib's network in numpy, ~6x faster) or dlib (dlib's own); the same encodings",
        _one_of(ENCODERS),
    ),
    _server(
        "idle_timeout",
        "--idle-timeout",
        "server",
        "idle-timeout",
        float,
        "seconds a silent connection is kept open",
        _above(0),
    ),
    _server(
        "hello_timeout",
        "--hello-timeout",
        "server",
        "hello-timeout",
        float,
        "seconds from connecting to a framed client's hello (TLS handshake included)",
        _above(0),
    ),
    _server(
        "request_timeout",
        "--request-timeout",
        "server",
        "request-timeout",
        float,
        "seconds to send one whole request (a framed request from its first byte, a 2019 payload from connecting)",
        _above(0),
    ),
    _server(
        "tls_cert",
        "--tls-cert",
        "tls",
        "cert",
        Path,
        "certificate (chain): the framed protocol then requires TLS",
        metavar="PEM",
        unset="no TLS",
    ),
    _server(
        "tls_key",
        "--tls-key",
        "tls",
        "key",
        Path,
        "private key of --tls-cert",
        metavar="PEM",
        unset="in the certificate's file",
    ),
    _server(
        "legacy_from",
        "--legacy-from",
        "legacy",
        "from",
        list,
        "accept 2019 payloads (no token) from this network; repeatable, replaces the default",
        _networks,
        metavar="CIDR",
    ),
    _server("legacy", "--no-legacy", "legacy", "enabled", bool, "refuse every 2019 payload"),
    _server(
        "max_connections",
        "--max-connections",
        "limits",
        "max-connections",
        int,
        "connections served at once; more are answered busy",
        _at_least(1),
    ),
    _server(
        "max_connections_per_address",
        "--max-connections-per-address",
        "limits",
        "max-connections-per-address",
        int,
        "connections served at once from one IP address; more are answered busy",
        _at_least(1),
    ),
    _server(
        "rate",
        "--rate",
        "limits",
        "rate",
        float,
        "requests per second per client (framed: per client name, 2019: per IP); 0: no limit",
        _at_least(0),
    ),
    _server(
        "burst", "--burst", "limits", "burst", int, "requests a client may send at once above --rate", _at_least(1)
    ),
    _server(
        "recognition_rate",
        "--recognition-rate",
        "limits",
        "recognition-rate",
        float,
        "recognition cost per second per client, in images sent plus faces encoded; 0: no limit",
        _at_least(0),
    ),
    _server(
        "recognition_burst",
        "--recognition-burst",
        "limits",
        "recognition-burst",
        int,
        "images plus faces a client may send at once above --recognition-rate",
        _at_least(1),
    ),
    _server(
        "max_frame_bytes",
        "--max-frame-bytes",
        "limits",
        "max-frame-bytes",
        int,
        "largest framed request in bytes",
        _at_least(1),
    ),
    _server(
        "max_hello_frame_bytes",
        "--max-hello-frame-bytes",
        "limits",
        "max-hello-frame-bytes",
        int,
        "largest first framed request in bytes (the hello; requests behind it may be larger)",
        _at_least(256),
    ),
    _server(
        "max_pixels",
        "--max-pixels",
        "limits",
        "max-pixels",
        int,
        "largest image in pixels (width x height), refused from its header",
        _at_least(1),
    ),
    _server(
        "max_faces",
        "--max-faces",
        "limits",
        "max-faces",
        int,
        "faces encoded per image (recognize, identify boxes, identify_room tracks); more are refused",
        _at_least(1),
    ),
    _server(
        "max_jpeg_scans",
        "--max-jpeg-scans",
        "limits",
        "max-jpeg-scans",
        int,
        "largest number of scans in a JPEG (a progressive JPEG has about 10)",
        _at_least(1),
    ),
    _server(
        "decode_timeout",
        "--decode-timeout",
        "limits",
        "decode-timeout",
        float,
        "seconds a recognition worker may spend decoding one image",
        _above(0),
    ),
    _server(
        "worker_timeout",
        "--worker-timeout",
        "limits",
        "worker-timeout",
        float,
        "seconds one recognition job may take before its worker is killed and replaced",
        _above(0),
    ),
    _server(
        "max_queued",
        "--max-queued",
        "limits",
        "max-queued",
        int,
        "recognition jobs waiting for a worker, all clients together; more are answered busy",
        _at_least(1),
    ),
    _server(
        "max_queued_per_client",
        "--max-queued-per-client",
        "limits",
        "max-queued-per-client",
        int,
        "recognition jobs of one client waiting for a worker; more are answered rate_limited",
        _at_least(1),
    ),
    _server(
        "keep_evidence",
        "--keep-evidence",
        "privacy",
        "keep-evidence",
        Path,
        "keep the frame that supported each mark in DIR",
        metavar="DIR",
        unset="keep no frame",
    ),
    _server(
        "evidence_days",
        "--evidence-days",
        "privacy",
        "evidence-days",
        float,
        "delete kept frames after this many days",
        _above(0),
    ),
    _server(
        "keep_enrolment_photos",
        "--keep-enrolment-photos",
        "privacy",
        "keep-enrolment-photos",
        bool,
        "store photos enrolled with the enroll op in MySQL beside their encodings (else only the encodings)",
    ),
    _camera(
        "late_after_minutes", "--late-after", "late-after", "camera: first seen later than this after the start is late"
    ),
    _camera(
        "leave_window_minutes",
        "--leave-window",
        "leave-window",
        "camera: not seen in this last part of a session is left early",
    ),
    _camera(
        "close_margin_minutes",
        "--close-margin",
        "close-margin",
        "camera: close a session this long after its scheduled end",
    ),
    _server(
        "close_due_every",
        "--close-due-every",
        "camera",
        "close-due-every",
        float,
        "seconds between checks for sessions to close; 0: never",
        _at_least(0),
        metavar="S",
    ),
    _server(
        "student_id_pattern",
        "--student-id-pattern",
        "identifiers",
        "student-id-pattern",
        str,
        "the university's student IDs: a regular expression matching the whole ID (1-20 letters, digits, '-'); "
        "the default is the 2019 format, 9 digits 2xxxxxxxx",
        _pattern("student ID"),
        metavar="REGEX",
    ),
    _server(
        "lecture_code_pattern",
        "--lecture-code-pattern",
        "identifiers",
        "lecture-code-pattern",
        str,
        "the university's lecture codes: a regular expression matching the whole code (1-20 letters, digits, "
        "'_', '-'), e.g. '[A-Z]{4}[0-9]{3}-[0-9]{2}'; the default is the 2019 format, like ea0017_1",
        _pattern("lecture code"),
        metavar="REGEX",
    ),
    _server("liveness", "--no-liveness", "liveness", "enabled", bool, "check in without a liveness challenge"),
    _server(
        "liveness_deadline",
        "--liveness-deadline",
        "liveness",
        "deadline",
        float,
        "seconds a liveness challenge gives for its actions",
        _between(1, 60),
        metavar="S",
    ),
    _server(
        "liveness_seed",
        "--liveness-seed",
        "liveness",
        "seed",
        int,
        "FOR TESTS ONLY: pick the challenges' actions from this seed, so that they can be foretold",
        metavar="N",
        unset="unpredictable challenges",
    ),
    Setting("log_level", "--log-level", "server", "log-level", str, "INFO", "log level", _log_level),
    _server(
        "timezone",
        "--timezone",
        "clock",
        "timezone",
        str,
        "the campus time zone (IANA name, e.g. Asia/Seoul): which session a mark or camera sample "
        "belongs to, and every date and time stored and shown",
        _time_zone,
        metavar="ZONE",
        unset="the server's own time zone",
    ),
    _server(
        "max_clock_skew",
        "--max-clock-skew",
        "clock",
        "max-clock-skew",
        float,
        "refuse a client timestamp (a camera sample's time) further than this from the server's clock",
        _between(*MAX_CLOCK_SKEW_RANGE),
        metavar="MIN",
    ),
    _server(
        "trust_client_clocks",
        "--trust-client-clocks",
        "clock",
        "trust-client-clocks",
        bool,
        "accept client timestamps however far from the server's clock, a camera sample's own time "
        "picking its session: only for replaying recorded lectures",
    ),
)

#: The file's keys and kinds, for db.config_file.read_config.
#: The tables in the order the config file and --print-config show them, with a title.
TABLES = {
    "server": "the server",
    "database": "the database (the server's own account: attendance-db create-server-account)",
    "tls": "TLS for the framed protocol (docs/deploy.md, 3)",
    "limits": "limits per connection and client (docs/deploy.md, 5)",
    "legacy": "the 2019 clients: no token, no TLS (docs/deploy.md, 4)",
    "privacy": "camera frames and enrolment photos (docs/privacy.md)",
    "camera": "classroom camera rules, in minutes (docs/camera.md)",
    "clock": "campus time and client clocks (docs/deploy.md, 6)",
    "identifiers": "the university's student IDs and lecture codes; 2019 clients keep their formats (docs/deploy.md, 7)",
    "liveness": "the liveness challenge of check-ins (docs/liveness.md)",
}

#: The file's keys and kinds, for db.config_file.read_config.
FILE_KINDS: dict[str, dict[str, type]] = {
    table: {setting.key: setting.kind for setting in SETTINGS if setting.table == table} for table in TABLES
}


def add_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting. Every flag's argparse default is None ("not given"): the defaults
    are applied by :func:`resolve`, after the config file."""
    groups = {table: parser.add_argument_group(f"[{table}]: {title}") for table, title in TABLES.items()}
    for setting in SETTINGS:
        group = groups[setting.table]
        help_text = f"{setting.help} (config file: {setting.file_key}; default: {_shown_default(setting)})"
        if setting.kind is bool:
            help_text = f"{setting.help} (config file: {setting.file_key} = {toml_value(not setting.default)})"
            action = "store_false" if setting.default else "store_true"
            group.add_argument(setting.flag, dest=setting.name, action=action, default=None, help=help_text)
        elif setting.kind is list:
            group.add_argument(
                setting.flag, dest=setting.name, action="append", default=None, metavar=setting.metavar, help=help_text
            )
        else:
            choices = _CHOICES.get(setting.name)
            group.add_argument(
                setting.flag,
                dest=setting.name,
                type=setting.kind,
                default=None,
                metavar=setting.metavar,
                choices=choices,
                help=help_text,
            )


def resolve(
    flags: Mapping[str, Any],
    file_tables: Mapping[str, Mapping[str, Any]],
    file_path: Path | None,
    environ: Mapping[str, str],
) -> dict[str, Value]:
    """Each setting's value and where it came from: a flag (not None in ``flags``), else the
    file, else the default; then :func:`check` them all."""
    values = {}
    for setting in SETTINGS:
        given = flags.get(setting.name)
        in_file = file_tables.get(setting.table, {}).get(setting.key)
        if given is not None:
            values[setting.name] = Value(tuple(given) if setting.kind is list else given, setting.flag)
        elif in_file is not None:
            values[setting.name] = Value(in_file, f"{file_path}: {setting.file_key}")
        elif setting.name == "db_url" and DB_URL_ENV in environ:
            values[setting.name] = Value(environ[DB_URL_ENV], f"${DB_URL_ENV}")
        else:
            values[setting.name] = Value(setting.default, "default")
    check(values)
    return values


def check(values: Mapping[str, Value]) -> None:
    """Raise :class:`SettingsError` for the first value its setting refuses."""
    for setting in SETTINGS:
        value = values[setting.name]
        if setting.check is None or value.value is None:
            continue
        problem = setting.check(value.value)
        if problem:
            raise SettingsError(f"{value.source}: {problem}")


def server_config(values: Mapping[str, Value]) -> ServerConfig:
    """The ServerConfig of checked values (from :func:`resolve`)."""
    plain = {name: value.value for name, value in values.items()}
    presence = PresenceSettings(**{name: plain.pop(name) for name in _CAMERA_DEFAULTS})
    plain.pop("log_level")
    plain["db_url"] = DatabaseUrl.parse(plain["db_url"])
    plain["detect_max_side"] = plain["detect_max_side"] or None  # 0: full size
    return ServerConfig(presence=presence, **plain)


def to_toml(values: Mapping[str, Value]) -> str:
    """The settings in effect as a config file (the database password as ***): each value not
    a default says where it came from; paths are absolute."""
    lines = [
        "# attendance-server settings in effect (flags > config file > defaults).",
        "# The database password is shown as ***: put it back before using this as a config file.",
    ]
    for table, title in TABLES.items():
        lines += ["", f"# {title}", f"[{table}]"]
        for setting in (s for s in SETTINGS if s.table == table):
            value = values[setting.name]
            if value.value is None:
                lines.append(f"# {setting.key} is not set: {setting.unset}")
                continue
            shown = value.value
            if setting.name == "db_url":
                shown = mask_password(shown)
            elif setting.kind is Path:
                shown = os.path.abspath(shown)
            line = f"{setting.key} = {toml_value(shown)}"
            lines.append(line if value.source == "default" else f"{line}  # from {value.source}")
    return "\n".join(lines) + "\n"


def _shown_default(setting: Setting) -> str | None:
    if setting.default is None:
        return setting.unset
    if setting.kind is list:
        return " ".join(setting.default)
    return str(setting.default)
