"""``attendance-desktop``: the main window (its screens), the command line, translations.

    attendance-desktop [--server HOST:PORT] [--tls] [--cafile PEM] [--lecture CODE]
                       [--camera N | --video FILE | --images DIR] [--lang ko] [--rollcall | --enrol]

Also ``python -m client``. Connection settings and the lecture are remembered (QSettings; the
client token in a file readable by the user alone); ``--server``, ``--tls``/``--cafile`` and
``--lecture`` override them for one run. One app runs per data folder (the queue of unsent
marks is locked); a second one says so and stops.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import ssl
import sys
from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, Qt, QTranslator, pyqtSignal
from PyQt5.QtGui import QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QToolBar,
)

from attendance_version import add_version_option
from client.connection import TOKEN_ENV, parse_address, tls_context
from client.desktop import settings as prefs_store
from client.desktop.checkin import CheckinScreen
from client.desktop.enrol import EnrolScreen
from client.desktop.mark_queue import FolderLock, LoadReport, QueueEntry, QueueLocked
from client.desktop.plain_text import plain_labels
from client.desktop.report_view import ReportScreen
from client.desktop.rollcall import RollCallScreen
from client.desktop.workers import INVALID_ENTRY, CaptureWorker, OutboxWorker
from client.frame_source import SourceSpec
from client.qt_worker import WorkerThread
from client.watch.qt_screen import WatchScreen
from protocol.identifiers import normalize_lecture_code

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent / "i18n"
TRANSLATION_NAME = "attendance"


@dataclass
class Options:
    """Everything the window needs from the command line (and from tests)."""

    server: str | None = None  # HOST:PORT; None: the remembered one
    lecture: str | None = None
    source: SourceSpec | None = None
    screen: str = "checkin"  # the screen shown first: checkin, rollcall or enrol
    enrol: bool = False  # show the Enrol screen (staff)
    retry_interval: float = 5.0  # seconds between resends of queued marks
    status_interval: float = 15.0  # seconds between pings while idle
    refresh_interval: float = 20.0  # seconds between roster reloads on the roll call screen
    dwell: float = 1.5  # seconds each image of --images stays on screen (at least)
    result_hold: float = 3.0  # seconds a check-in answer stays on screen before the next check-in
    data_dir: Path | None = None  # the queue folder; None: settings.data_dir()
    token: str | None = None  # client token; None: $ATTENDANCE_TOKEN, else the remembered one
    tls: bool | None = None  # speak TLS; None: the remembered choice (a cafile means TLS)
    cafile: Path | None = None  # the CA (PEM) that signed the server's certificate; None: remembered


def is_loopback(host: str) -> bool:
    """The server is on this PC (nothing crosses the network)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_tls_context(tls: bool, cafile: str) -> ssl.SSLContext | None:
    """The connections' TLS context (None: plain TCP). Raises OSError or ssl.SSLError when
    ``cafile`` cannot be read."""
    return tls_context(cafile or None) if tls or cafile else None


class ConnectionDialog(QDialog):
    def __init__(self, host: str, port: int, token: str = "", parent=None, *, tls: bool = False, cafile: str = ""):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Connection settings"))
        self.host_edit = QLineEdit(host)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(port)
        self.token_edit = QLineEdit(token)
        self.token_edit.setEchoMode(QLineEdit.Password)
        self.token_edit.setPlaceholderText(self.tr("from attendance-db add-client"))
        self.tls_check = QCheckBox(self.tr("Encrypted connection (TLS)"))
        self.tls_check.setChecked(tls or bool(cafile))
        self.cafile_edit = QLineEdit(cafile)
        self.cafile_edit.setPlaceholderText(self.tr("empty: the system's certificate authorities"))
        browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self._choose_cafile)
        cafile_row = QHBoxLayout()
        cafile_row.addWidget(self.cafile_edit)
        cafile_row.addWidget(browse)
        self.tls_check.toggled.connect(self.cafile_edit.setEnabled)
        self.tls_check.toggled.connect(browse.setEnabled)
        self.cafile_edit.setEnabled(self.tls_check.isChecked())
        browse.setEnabled(self.tls_check.isChecked())
        form = QFormLayout(self)
        form.addRow(self.tr("Server host:"), self.host_edit)
        form.addRow(self.tr("Port:"), self.port_spin)
        form.addRow(self.tr("Client token:"), self.token_edit)
        form.addRow(self.tls_check)
        form.addRow(self.tr("Server's CA certificate:"), cafile_row)
        note = QLabel(self.tr("The classroom PC and the professor's PC talk to the same attendance server."))
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _choose_cafile(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Server's CA certificate"), self.cafile_edit.text(), self.tr("PEM certificate (*.pem *.crt)")
        )
        if path:
            self.cafile_edit.setText(path)

    def values(self) -> tuple[str, int, str]:
        host = self.host_edit.text().strip() or prefs_store.DEFAULT_HOST
        return host, self.port_spin.value(), self.token_edit.text().strip()

    def tls_values(self) -> tuple[bool, str]:
        """(speak TLS, CA file or "" for the system's authorities)."""
        tls = self.tls_check.isChecked()
        return tls, self.cafile_edit.text().strip() if tls else ""

    def problem(self) -> str | None:
        """Why the settings cannot be used (a CA file that cannot be read), or None."""
        tls, cafile = self.tls_values()
        try:
            make_tls_context(tls, cafile)
        except (OSError, ssl.SSLError) as exc:
            return self.tr("The CA certificate %1 cannot be used: %2").replace("%1", cafile).replace("%2", str(exc))
        return None

    def accept(self) -> None:  # Qt name
        problem = self.problem()
        if problem is not None:
            QMessageBox.warning(self, self.tr("Connection settings"), problem)
            return
        super().accept()


class MainWindow(QMainWindow):
    configureOutbox = pyqtSignal(str, int, str, object)

    def __init__(self, options: Options | None = None, settings: QSettings | None = None):
        super().__init__()
        self.options = options = options or Options()
        self.settings = settings if settings is not None else prefs_store.open_settings()
        self.prefs = prefs_store.load(self.settings)
        host, port = self.prefs.host, self.prefs.port
        if options.server:
            host, port = parse_address(options.server, self.prefs.port)
        self.host, self.port = host, port
        self.token = options.token if options.token is not None else (os.environ.get(TOKEN_ENV) or self.prefs.token)
        if options.tls is not None or options.cafile is not None:  # for this run
            self.tls, self.cafile = bool(options.tls or options.cafile), str(options.cafile or "")
        else:
            self.tls, self.cafile = self.prefs.tls, self.prefs.cafile
        self.ssl_context = self._tls_context()
        # One app per data folder: a second one would write the same queue (QueueLocked).
        data_dir = options.data_dir or prefs_store.data_dir()
        self.folder_lock = FolderLock(data_dir).acquire()
        self._lecture = ""
        self.pending_entries: list[dict] = []
        self.last_rejection = ""  # the last message about a mark moved to the rejected log
        self.salvage_box: QMessageBox | None = None  # the message about a damaged queue, once shown
        self._closing = False

        self.setWindowTitle(self.tr("Lecture attendance"))
        self._build_toolbar()

        # One camera (or video) for the check-in and Enrol screens; each takes frames only while shown.
        # Its thread starts once both are connected to it (below).
        self.capture = CaptureWorker(options.source, dwell=options.dwell) if options.source is not None else None
        self.checkin = CheckinScreen(
            host=host,
            port=port,
            capture=self.capture,
            source=options.source,
            lecture=self.lecture,
            result_hold=options.result_hold,
            token=self.token,
            ssl_context=self.ssl_context,
        )
        self.rollcall = RollCallScreen(
            host=host,
            port=port,
            lecture=self.lecture,
            refresh_interval=options.refresh_interval,
            token=self.token,
            ssl_context=self.ssl_context,
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.checkin, self.tr("Face check-in"))
        self.tabs.addTab(self.rollcall, self.tr("Roll call"))
        self.enrol: EnrolScreen | None = None
        if options.enrol or options.screen == "enrol":
            self.enrol = EnrolScreen(
                host=host,
                port=port,
                capture=self.capture,
                source=options.source,
                token=self.token,
                ssl_context=self.ssl_context,
            )
            self.tabs.addTab(self.enrol, self.tr("Enrol"))
            self.enrol.connectionChanged.connect(self._show_connection)
            self.enrol.message.connect(self._status_message)
        self.capture_thread = WorkerThread(self.capture, "capture") if self.capture is not None else None
        self.report = ReportScreen(
            host=host, port=port, lecture=self.lecture, token=self.token, ssl_context=self.ssl_context
        )
        self.tabs.addTab(self.report, self.tr("Report"))
        # The classroom camera (issue 4): watches the whole room through the lecture.
        self.watch = WatchScreen(
            host, port, token=self.token or None, lecture=self.lecture(), ssl_context=self.ssl_context
        )
        self.tabs.addTab(self.watch, self.tr("Classroom camera"))
        self.report.connectionChanged.connect(self._show_connection)
        self.report.message.connect(self._status_message)
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(self._tab_changed)

        self.connection_label = QLabel()
        self.pending_label = QLabel()
        self.statusBar().addPermanentWidget(self.pending_label)
        self.statusBar().addPermanentWidget(self.connection_label)
        self._show_connection("unknown", f"{host}:{port}")
        self._show_pending([])

        self.outbox = OutboxWorker(
            host,
            port,
            data_dir,
            token=self.token,
            retry_interval=options.retry_interval,
            status_interval=options.status_interval,
            lock=self.folder_lock,
            ssl_context=self.ssl_context,
        )
        self.outbox.pendingChanged.connect(self._pending_changed)
        self.outbox.delivered.connect(self._delivered)
        self.outbox.rejected.connect(self._rejected)
        self.outbox.deliveryFailed.connect(self._delivery_failed)
        self.outbox.queueFailed.connect(self._queue_failed)
        self.outbox.queueSalvaged.connect(self._queue_salvaged)
        self.outbox.connectionChanged.connect(self._show_connection)
        self.configureOutbox.connect(self.outbox.configure)
        self.rollcall.submitBatch.connect(self.outbox.submit)
        self.checkin.connectionChanged.connect(self._show_connection)
        self.rollcall.connectionChanged.connect(self._show_connection)
        self.checkin.message.connect(self._status_message)
        self.rollcall.message.connect(self._status_message)
        self.outbox_thread = WorkerThread(self.outbox, "outbox")

        self.set_lecture(options.lecture if options.lecture is not None else self.prefs.lecture, remember=False)
        if not self._lecture:
            self.rollcall.refresh()  # says what to do
        if options.screen == "rollcall":
            self.tabs.setCurrentWidget(self.rollcall)
        elif self.enrol is not None and options.screen == "enrol":
            self.tabs.setCurrentWidget(self.enrol)
        plain_labels(self)  # names and the server's texts are never rich text
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1180, 720)

    # -- toolbar and menus ----------------------------------------------------------------------

    def _build_toolbar(self) -> None:
        toolbar = QToolBar(self.tr("Lecture"))
        toolbar.setMovable(False)
        self.addToolBar(toolbar)
        toolbar.addWidget(QLabel(self.tr("Lecture code:") + " "))
        self.lecture_edit = QLineEdit()
        self.lecture_edit.setPlaceholderText("ea0017_1")
        self.lecture_edit.setMaximumWidth(140)
        self.lecture_edit.editingFinished.connect(self._lecture_edited)
        toolbar.addWidget(self.lecture_edit)
        toolbar.addSeparator()
        self.connection_action = QAction(self.tr("Connection settings…"), self)
        self.connection_action.triggered.connect(self.edit_connection)
        toolbar.addAction(self.connection_action)

        file_menu = self.menuBar().addMenu(self.tr("&File"))
        file_menu.addAction(self.connection_action)
        file_menu.addSeparator()
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About"),
            self.tr(
                "Lecture attendance by face recognition.\nFace check-in for the classroom PC and "
                "roll call for the professor."
            ),
        )

    # -- lecture and connection -----------------------------------------------------------------

    def lecture(self) -> str:
        return self._lecture

    def _lecture_edited(self) -> None:
        if not self._closing:  # editingFinished also comes when the window goes away
            self.set_lecture(self.lecture_edit.text())

    def set_lecture(self, text: str, remember: bool = True) -> None:
        text = (text or "").strip()
        if text:
            try:
                code = normalize_lecture_code(text)
            except ValueError:
                self.lecture_edit.setStyleSheet("background: #fdecea;")
                self._status_message(self.tr("%1 is not a lecture code (like ea0017_1).").replace("%1", text))
                return
        else:
            code = ""
        self.lecture_edit.setStyleSheet("")
        self.lecture_edit.setText(code)
        if code == self._lecture:
            return
        self._lecture = code
        if remember:
            self.prefs.lecture = code
            prefs_store.save(self.settings, self.prefs)
        self.checkin.lecture_changed()
        self.rollcall.refresh()
        self.report.lecture_changed()
        self.watch.set_lecture(self.lecture())

    def edit_connection(self) -> None:
        dialog = ConnectionDialog(self.host, self.port, self.token, self, tls=self.tls, cafile=self.cafile)
        if dialog.exec_() == QDialog.Accepted:
            tls, cafile = dialog.tls_values()
            self.set_server(*dialog.values(), tls=tls, cafile=cafile)

    def _tls_context(self) -> ssl.SSLContext | None:
        try:
            return make_tls_context(self.tls, self.cafile)
        except (OSError, ssl.SSLError) as exc:
            # Never fall back to plain TCP (the token would cross the network in clear): TLS
            # with the system's authorities, and say why.
            log.error("CA certificate %s cannot be used (%s); trusting the system's authorities", self.cafile, exc)
            self._status_message(
                self.tr("The CA certificate %1 cannot be used (%2): the system's authorities are trusted instead.")
                .replace("%1", self.cafile)
                .replace("%2", str(exc))
            )
            return tls_context(None)

    def set_server(
        self,
        host: str,
        port: int,
        token: str | None = None,
        remember: bool = True,
        *,
        tls: bool | None = None,
        cafile: str | None = None,
    ) -> None:
        """Talk to another server (or with another client token, or TLS choice; None keeps the
        current one)."""
        token = self.token if token is None else token
        self.host, self.port, self.token = host, port, token
        if tls is not None or cafile is not None:
            self.tls = bool(tls) or bool(cafile)
            self.cafile = (cafile or "") if cafile is not None else self.cafile
            self.ssl_context = self._tls_context()
        if remember:
            self.prefs.host, self.prefs.port, self.prefs.token = host, port, token
            self.prefs.tls, self.prefs.cafile = self.tls, self.cafile
            prefs_store.save(self.settings, self.prefs)
        context = self.ssl_context
        self.checkin.configure_server(host, port, token, context)
        self.rollcall.configure_server(host, port, token, context)
        if self.enrol is not None:
            self.enrol.configure_server(host, port, token, context)
        self.report.configure_server(host, port, token, context)
        self.watch.configure_server(host, port, token or None, context)
        self.configureOutbox.emit(host, port, token, context)
        self._show_connection("unknown", f"{host}:{port}")
        self.rollcall.refresh()

    # -- status bar -----------------------------------------------------------------------------

    def _show_connection(self, state: str, address: str) -> None:
        if state == "connected":
            text, color = self.tr("● Connected to %1"), "#1b5e20"
        elif state == "unknown":
            text, color = self.tr("○ Server %1"), "#555555"
        elif state == "no_reply":
            text, color = self.tr("● %1 is not answering"), "#b26a00"
        elif state == "tls":
            text, color = self.tr("● No secure connection to %1 (TLS: certificate not trusted?)"), "#b00020"
        else:
            text, color = self.tr("● Server unreachable: %1"), "#b00020"
        self.connection_state = state
        text = text.replace("%1", address)
        tooltip = ""
        if self.ssl_context is None and not is_loopback(self.host):
            text += self.tr(" · not encrypted")
            tooltip = self.tr(
                "TLS is off: the client token and the names cross the network in clear. Turn it on in "
                "File > Connection settings when the server has a certificate."
            )
        self.connection_label.setText(text)
        self.connection_label.setToolTip(tooltip)
        self.connection_label.setStyleSheet(f"color: {color};")

    def _status_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)

    def _show_pending(self, entries: list[QueueEntry]) -> None:
        count = sum(e.mark_count for e in entries)
        self.pending_label.setVisible(count > 0)
        self.pending_label.setText(self.tr("Marks pending: %1").replace("%1", str(count)))
        self.pending_label.setStyleSheet("color: #b26a00; font-weight: bold;")

    # -- outbox ---------------------------------------------------------------------------------

    def _pending_changed(self, entries: list[dict]) -> None:
        self.pending_entries = entries
        self._show_pending(entries)
        self.rollcall.pending_changed(entries)

    def _delivered(self, entry: dict, reply) -> None:
        self.rollcall.mark_delivered(entry, reply)

    def _rejected(self, entry: QueueEntry, code: str, detail: str) -> None:
        self.rollcall.mark_rejected(entry, code, detail)
        if code == INVALID_ENTRY:
            text = self.tr(
                "A queued mark is not a valid request and can never be sent (%1); it was moved to "
                "the rejected log, and the other marks go on."
            ).replace("%1", detail)
        else:
            text = (
                self.tr("The server refused a mark (%1: %2); it was moved to the rejected log.")
                .replace("%1", code)
                .replace("%2", detail)
            )
        self.last_rejection = text
        self._status_message(text)

    def _delivery_failed(self, code: str, detail: str) -> None:
        self.rollcall.delivery_failed(code, detail)

    def _queue_failed(self, detail: str) -> None:
        QMessageBox.warning(
            self,
            self.tr("Cannot save marks"),
            self.tr(
                "The queue of unsent marks cannot be written (%1). Marks are kept in memory "
                "only until the server confirms them."
            ).replace("%1", detail),
        )

    def _queue_salvaged(self, report: LoadReport) -> None:
        """The queue file was damaged: say how many entries were kept (and where the rest is)."""
        # Not modal for the app: the outbox goes on sending what was kept meanwhile.
        self.salvage_box = QMessageBox(
            QMessageBox.Warning, self.tr("Queue of unsent marks damaged"), self.salvage_text(report), parent=self
        )
        self.salvage_box.setTextFormat(Qt.PlainText)
        self.salvage_box.open()

    def salvage_text(self, report: LoadReport) -> str:
        text = self.tr(
            "The queue of unsent marks was damaged. Kept: %1 (they will be sent). Could not be read: %2."
        ).replace("%1", str(report.kept))
        text = text.replace("%2", str(report.damaged + report.unreadable))
        if report.unreadable:
            text += " " + self.tr("Entries this version cannot send are in %1.").replace(
                "%1", str(self.outbox.folder / "rejected-marks.jsonl")
            )
        if report.aside is not None:
            text += " " + self.tr("The damaged file is kept as %1.").replace("%1", str(report.aside))
        return text

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.rollcall:
            self.rollcall.refresh()

    # -- closing --------------------------------------------------------------------------------

    def ask_close_with_pending(self, count: int) -> bool:
        """Asked before closing with unsent marks (tests replace this)."""
        answer = QMessageBox.question(
            self,
            self.tr("Marks not sent yet"),
            self.tr(
                "Marks the server has not confirmed yet: %1. They are saved on this computer and "
                "will be sent the next time the app starts. Quit anyway?"
            ).replace("%1", str(count)),
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        return answer == QMessageBox.Yes

    def closeEvent(self, event) -> None:  # Qt name
        count = sum(e.mark_count for e in self.pending_entries)
        unsent = len(self.rollcall.model.local_marks())
        if count and not self.ask_close_with_pending(count):
            event.ignore()
            return
        if unsent and not self.ask_close_with_unsent(unsent):
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.shutdown()
        event.accept()

    def ask_close_with_unsent(self, count: int) -> bool:
        """Asked before closing with roll call changes that Finish has not sent."""
        answer = QMessageBox.question(
            self,
            self.tr("Roll call not finished"),
            self.tr("Roll call changes not sent: %1 (press Finish to send them). Quit and discard them?").replace(
                "%1", str(count)
            ),
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        return answer == QMessageBox.Yes

    def shutdown(self) -> None:
        """Stop every worker thread (idempotent)."""
        if self._closing:
            return
        self._closing = True
        self.checkin.shutdown()
        self.rollcall.shutdown()
        if self.enrol is not None:
            self.enrol.shutdown()
        self.report.shutdown()
        self.watch.shutdown()
        if self.capture_thread is not None:
            self.capture_thread.stop()
        self.outbox_thread.stop()
        self.folder_lock.release()  # another app may use the folder now


# -- translations ---------------------------------------------------------------------------------


def install_translators(app: QApplication, lang: str | None) -> list[QTranslator]:
    """Load the app's translation for ``lang`` (e.g. ``ko``) or the system locale, plus Qt's own
    (standard buttons, dialogs). English needs none."""
    locale = QLocale(lang) if lang else QLocale.system()
    QLocale.setDefault(locale)
    translators = []
    ours = QTranslator(app)
    if ours.load(locale, TRANSLATION_NAME, "_", str(I18N_DIR)):
        app.installTranslator(ours)
        translators.append(ours)
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.location(QLibraryInfo.TranslationsPath)):
        app.installTranslator(qt)
        translators.append(qt)
    return translators


# -- command line ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="attendance-desktop",
        description="Lecture attendance: face check-in (classroom PC), roll call (professor), enrolment (staff).",
    )
    add_version_option(parser)
    parser.add_argument(
        "--server", metavar="HOST:PORT", help="the attendance server (default: the remembered one, else 127.0.0.1:9009)"
    )
    parser.add_argument(
        "--token",
        help="client token from `attendance-db add-client` (default: $ATTENDANCE_TOKEN, else the remembered one)",
    )
    parser.add_argument(
        "--tls", action="store_true", help="speak TLS; trust the system's certificate authorities (default: remembered)"
    )
    parser.add_argument(
        "--cafile", type=Path, metavar="PEM", help="speak TLS; trust the server certificate this CA (PEM) signed"
    )
    parser.add_argument("--lecture", metavar="CODE", help="lecture code, e.g. ea0017_1 (default: the remembered one)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--camera", type=int, metavar="N", help="webcam index (default: 0)")
    source.add_argument("--video", type=Path, metavar="FILE", help="a video file instead of a webcam")
    source.add_argument("--images", type=Path, metavar="DIR", help="a folder of images instead of a webcam")
    parser.add_argument("--once", action="store_true", help="play --video/--images once instead of looping")
    parser.add_argument("--no-camera", action="store_true", help="no check-in video (a roll call PC)")
    first = parser.add_mutually_exclusive_group()
    first.add_argument("--rollcall", action="store_true", help="start on the roll call screen")
    first.add_argument(
        "--enrol",
        action="store_true",
        help="add the Enrol screen (staff: photograph and enrol students) and start on it",
    )
    parser.add_argument("--lang", metavar="LANG", help="user interface language, e.g. ko or en (default: the system's)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    if args.server:
        try:
            parse_address(args.server)
        except ValueError as exc:
            parser.error(str(exc))
    if args.lecture:
        try:
            args.lecture = normalize_lecture_code(args.lecture)
        except ValueError as exc:
            parser.error(str(exc))
    if args.cafile is not None:
        try:
            make_tls_context(True, str(args.cafile))
        except (OSError, ssl.SSLError) as exc:
            parser.error(f"--cafile {args.cafile}: {exc}")
    return args


def options_from_args(args: argparse.Namespace) -> Options:
    if args.no_camera:
        source = None
    elif args.video is not None:
        source = SourceSpec("video", str(args.video), loop=not args.once)
    elif args.images is not None:
        source = SourceSpec("images", str(args.images), loop=not args.once)
    else:
        source = SourceSpec("camera", args.camera if args.camera is not None else 0)
    return Options(
        server=args.server,
        lecture=args.lecture,
        source=source,
        screen="rollcall" if args.rollcall else "enrol" if args.enrol else "checkin",
        enrol=args.enrol,
        token=args.token,
        tls=True if args.tls or args.cafile else None,
        cafile=args.cafile,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    QApplication.setOrganizationName(prefs_store.ORGANIZATION)
    QApplication.setApplicationName(prefs_store.APPLICATION)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    install_translators(app, args.lang)
    try:
        window = MainWindow(options_from_args(args))
    except QueueLocked as exc:
        print(f"attendance-desktop: {exc}", file=sys.stderr)
        box = QMessageBox(QMessageBox.Critical, "attendance-desktop", already_running_text(exc))
        box.setTextFormat(Qt.PlainText)  # a folder name is not markup
        box.exec_()
        return 1
    window.show()
    return app.exec_()


def already_running_text(exc: QueueLocked) -> str:
    """What a second app on the same data folder is told."""
    # Kept as written (fmt: skip): pylupdate5 misses a text split over lines with a comma after it.
    text = QCoreApplication.translate(
        "MainWindow", "Another attendance-desktop is already running with the data folder %1 (%2). Only one may "
        "run per folder, or the marks they queue would overwrite each other: use the one that runs, "
        "or start this one with another ATTENDANCE_DESKTOP_DATA.")  # fmt: skip
    return text.replace("%1", str(exc.folder)).replace("%2", exc.holder or "?")
