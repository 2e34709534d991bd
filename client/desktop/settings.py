"""Where the app keeps its files and what it remembers between runs (QSettings).

``ATTENDANCE_DESKTOP_DATA`` (a folder) replaces both the user's data directory
(QStandardPaths.AppDataLocation) for the queue of unsent marks and the user's QSettings store
(an INI file in that folder): tests and demos then leave the user's own settings alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtCore import QSettings, QStandardPaths

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
    said in a ``hello`` on every connection to the server."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str = ""
    lecture: str = DEFAULT_LECTURE

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _int(value, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def load(settings: QSettings) -> Preferences:
    return Preferences(
        host=str(settings.value("server/host", DEFAULT_HOST) or DEFAULT_HOST),
        port=_int(settings.value("server/port", DEFAULT_PORT), DEFAULT_PORT, 1, 65535),
        token=str(settings.value("server/token", "") or ""),
        lecture=str(settings.value("lecture/code", DEFAULT_LECTURE) or ""),
    )


def save(settings: QSettings, prefs: Preferences) -> None:
    settings.setValue("server/host", prefs.host)
    settings.setValue("server/port", prefs.port)
    settings.setValue("server/token", prefs.token)
    settings.setValue("lecture/code", prefs.lecture)
    settings.sync()
