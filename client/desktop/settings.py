"""Where the app keeps its files and what it remembers between runs (QSettings).

``ATTENDANCE_DESKTOP_DATA`` (a folder) replaces both the user's data directory
(QStandardPaths.AppDataLocation) for the queue of unsent marks and the user's QSettings store
(an INI file in that folder): tests and demos then leave the user's own settings alone.

The client token is not in the INI file (which the user's umask usually leaves readable by
everyone): it is in a file of its own beside it, with the suffix ``.token`` instead of ``.ini``,
readable by the user alone (mode 0600 from its creation, replaced atomically:
:mod:`client.desktop.private_files`). A token that an earlier version left in the INI file is
moved there the first time the settings are read.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtCore import QSettings, QStandardPaths

from client.desktop.private_files import readable_by_others, write_atomically

log = logging.getLogger(__name__)

ORGANIZATION = "classroom-attendance"
APPLICATION = "attendance-desktop"
DATA_ENV = "ATTENDANCE_DESKTOP_DATA"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9009
DEFAULT_LECTURE = ""


def data_dir() -> Path:
    """The folder for the queue of unsent marks (created when missing)."""
    override = os.environ.get(DATA_ENV)
    if override:
        path = Path(override)
    else:
        location = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
        path = Path(location) if location else Path.home() / f".{APPLICATION}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def open_settings() -> QSettings:
    override = os.environ.get(DATA_ENV)
    if override:
        Path(override).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(override) / "settings.ini"), QSettings.IniFormat)
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)


@dataclass
class Preferences:
    """What the app remembers. ``token``: this PC's client token (``attendance-db add-client``),
    said in a ``hello`` on every connection to the server. ``tls``: speak TLS, verifying the
    server's certificate against ``cafile`` (a PEM file; empty: the system's authorities)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str = ""
    lecture: str = DEFAULT_LECTURE
    tls: bool = False
    cafile: str = ""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _int(value, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def token_path(settings: QSettings) -> Path:
    """The client token's file: the settings file's, with ``.token`` instead of ``.ini``."""
    return Path(settings.fileName()).with_suffix(".token")


def _bool(value) -> bool:
    return str(value).lower() in ("true", "1", "yes")


def load(settings: QSettings) -> Preferences:
    return Preferences(
        host=str(settings.value("server/host", DEFAULT_HOST) or DEFAULT_HOST),
        port=_int(settings.value("server/port", DEFAULT_PORT), DEFAULT_PORT, 1, 65535),
        token=load_token(settings),
        lecture=str(settings.value("lecture/code", DEFAULT_LECTURE) or ""),
        tls=_bool(settings.value("server/tls", False)),
        cafile=str(settings.value("server/cafile", "") or ""),
    )


def save(settings: QSettings, prefs: Preferences) -> None:
    save_token(settings, prefs.token)
    settings.setValue("server/host", prefs.host)
    settings.setValue("server/port", prefs.port)
    settings.setValue("server/tls", prefs.tls)
    settings.setValue("server/cafile", prefs.cafile)
    settings.setValue("lecture/code", prefs.lecture)
    settings.sync()


def load_token(settings: QSettings) -> str:
    """The remembered client token ("" for none). One left in the INI file by an earlier
    version is moved to the token file; a token file others may read is made private."""
    path = token_path(settings)
    old = str(settings.value("server/token", "") or "")
    if old:
        if not path.exists():
            save_token(settings, old)
        settings.remove("server/token")
        settings.sync()
        log.warning("client token moved from %s to %s (readable by this user only)", settings.fileName(), path)
    try:
        if readable_by_others(path):
            log.warning("%s could be read by other users; now by this user only", path)
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def save_token(settings: QSettings, token: str) -> None:
    """Remember the client token in its own file, mode 0600 (none: the file is removed)."""
    path = token_path(settings)
    if token:
        write_atomically(path, (token + "\n").encode("utf-8"), prefix=".token-")
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
