"""What the desktop tests that run the whole window against a real server share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from PyQt5.QtCore import QSettings

from client.desktop.app import MainWindow, Options


@contextlib.contextmanager
def main_windows(
    tmp_path, token: str, *, size: tuple[int, int] | None = None, **defaults
) -> Iterator[Callable[..., MainWindow]]:
    """``make(port, **options)`` -> a shown MainWindow talking to 127.0.0.1:port with ``token``,
    its settings and data under ``tmp_path``; ``defaults`` add to the test defaults (short retry,
    no background refresh) and ``options`` override them. Every window is shut down at the end."""
    windows = []

    def make(port: int, **options) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
        base = dict(
            server=f"127.0.0.1:{port}",
            data_dir=tmp_path / "data",
            retry_interval=0.3,
            status_interval=60.0,
            refresh_interval=60.0,
            token=token,
            **defaults,
        )
        window = MainWindow(Options(**{**base, **options}), settings)
        if size is not None:
            window.resize(*size)
        window.show()
        windows.append(window)
        return window

    try:
        yield make
    finally:
        for window in windows:
            window.shutdown()
            window.hide()
            window.deleteLater()
