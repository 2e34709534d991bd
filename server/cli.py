"""``attendance-server``: run the attendance server (also ``python -m server``).

Settings: flags > ``--config FILE`` (TOML) > defaults (server/settings.py). Signals: SIGTERM and
SIGINT stop the server; SIGHUP re-syncs knowns/ and reloads the gallery (``systemctl reload``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from attendance_version import add_version_option
from db.config_file import ConfigFileError, read_config
from server import settings
from server.app import AttendanceApp, StartupError
from server.recognition.faces import ModelsUnavailableError

log = logging.getLogger("server")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="attendance-server",
        description="Lecture attendance server: 2019 one-shot payloads and the framed protocol over TCP. "
        "Each setting is a flag or a key of the --config file; a flag overrides the file, "
        "the file overrides the default (docs/deploy.md).",
    )
    add_version_option(parser)
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML config file (deploy/server.toml.example); its relative paths are relative to its folder",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the settings in effect as TOML (the database password as ***) and exit",
    )
    settings.add_flags(parser)
    return parser.parse_args(argv)


def load_settings(args: argparse.Namespace) -> dict[str, settings.Value]:
    """The settings in effect: flags, then the config file, then the defaults (checked)."""
    tables = read_config(args.config, settings.FILE_KINDS) if args.config is not None else {}
    config_path = Path(os.path.abspath(args.config)) if args.config is not None else None
    return settings.resolve(vars(args), tables, config_path, os.environ)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        values = load_settings(args)
    except (ConfigFileError, settings.SettingsError) as exc:
        log.error("%s", exc)
        return 2
    if args.print_config:
        sys.stdout.write(settings.to_toml(values))
        return 0
    logging.getLogger().setLevel(values["log_level"].value)
    config = settings.server_config(values)
    if not config.knowns_dir.is_dir():
        log.error("knowns folder %s does not exist (%s)", config.knowns_dir, values["knowns_dir"].source)
        return 2
    app = AttendanceApp(config)

    def reload(_signum, _frame):
        log.info("SIGHUP received; reloading knowns/ and the gallery")
        app.request_reload()  # done by the maintenance thread, not in this signal handler

    signal.signal(signal.SIGHUP, reload)  # before start-up: a SIGHUP then must not kill the server
    try:
        app.start()
    except (StartupError, ModelsUnavailableError) as exc:
        log.error("cannot start: %s", exc)
        return 1
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", config.host, config.port, exc)
        return 1

    def stop(signum, _frame):
        log.info("%s received; stopping", signal.Signals(signum).name)
        # shutdown() waits for serve_forever(), which runs in this (the main) thread.
        assert app.server is not None  # started above
        threading.Thread(target=app.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        app.serve_forever()
    finally:
        app.close()
        log.info("stopped")
    return 0
