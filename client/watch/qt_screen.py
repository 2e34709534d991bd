"""The classroom camera as a screen of the desktop app: the feed with a box and student ID on
every face (green: recognized; amber, with the nearest student and "?": uncertain, not counted
as seen; red "?": unknown), and the roster with each student's status (a self-contained QWidget).

Plugging it in (client/desktop/app.py)::

    screen = WatchScreen(host, port, token=token)
    screen.set_lecture("ea0017_1")        # when the app's lecture changes
    screen.configure_server(host, port, token, ssl_context)  # when the app's server changes
    tabs.addTab(screen, screen.tr("Classroom camera"))
    ...
    screen.shutdown()                     # when the window closes

The watching runs on a QThread of its own (:class:`WatchWorker`, with its own connection); the
GUI thread only gets signals. Reading the roster and closing the session (writing present /
late / left early / absent) are create_worker calls on the screen's own thread and connection.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import numpy as np
from PyQt5.QtCore import QObject, Qt, pyqtSignal, pyqtSlot
from PyQt5.QtGui import QImage, QPixmap
from PyQt5.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.frame_source import CameraSource, VideoFileSource, to_qimage
from client.qt_worker import WorkerThread, create_worker, serial_pool
from client.reconnecting import ReconnectingClient
from client.watch.watcher import SampleReport, Watcher, WatchSettings, draw_faces, watch

#: Roster table columns.
COL_ID, COL_NAME, COL_SEEN, COL_STATUS = range(4)


class WatchWorker(QObject):
    """Runs :func:`client.watch.watcher.watch` on its thread (:class:`WorkerThread` calls
    :meth:`start`); reports through signals."""

    frame = pyqtSignal(QImage)  # a preview frame with the last sample's boxes drawn
    sampled = pyqtSignal(object)  # SampleReport
    failed = pyqtSignal(str)  # the watching stopped on an error
    sample_failed = pyqtSignal(str)  # one sample failed; watching goes on
    finished = pyqtSignal(int)  # number of samples

    def __init__(
        self,
        connection: ReconnectingClient,
        open_source: Callable[[], object],
        lecture: str,
        *,
        every: float = 60.0,
        settings: WatchSettings = WatchSettings(),
        start: dt.datetime | None = None,
    ):
        super().__init__()
        self.connection, self._open_source = connection, open_source
        self.lecture, self.every, self.settings, self.lecture_start = lecture, every, settings, start
        self._stop = threading.Event()
        self._faces = ()

    def interrupt(self) -> None:
        """Ask the worker to stop after the sample under way (callable from any thread)."""
        self._stop.set()

    @pyqtSlot()
    def start(self) -> None:
        samples = 0
        try:
            with self._open_source() as source, self.connection as client:
                watcher = Watcher(client, self.lecture, start=self.lecture_start, settings=self.settings)
                samples = watch(
                    source,
                    watcher,
                    every=self.every,
                    stop=self._stop,
                    on_sample=self._on_sample,
                    on_frame=self._on_frame,
                    on_error=lambda exc, _t: self.sample_failed.emit(str(exc)),
                )
        except Exception as exc:  # noqa: BLE001 - shown to the user; the thread must end cleanly
            self.failed.emit(str(exc) or type(exc).__name__)
        self.finished.emit(samples)

    def _on_sample(self, report: SampleReport) -> None:
        self._faces = report.faces
        self.sampled.emit(report)

    def _on_frame(self, image: np.ndarray, _media_seconds: float) -> None:
        self.frame.emit(to_qimage(draw_faces(image, self._faces)))


class WatchScreen(QWidget):
    """Source choice, start/stop, the feed, the roster with statuses, close session."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        token: str | None = None,
        lecture: str = "",
        ssl_context=None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._server = (host, port, token, ssl_context)
        self.connection = ReconnectingClient(host, port, token=token, ssl_context=ssl_context)  # the screen's own
        self.pool = serial_pool(self)
        self._lecture = lecture
        self._thread: WorkerThread | None = None
        self._worker: WatchWorker | None = None
        self._rows: dict[str, int] = {}
        self._first_seen: dict[str, dt.datetime] = {}
        self._build()

    # -- public ---------------------------------------------------------------------------------

    @property
    def lecture(self) -> str:
        return self._lecture

    @pyqtSlot(str)
    def set_lecture(self, code: str) -> None:
        if code != self._lecture:
            self._lecture = code
            self.table.setRowCount(0)
            self._rows.clear()
            self._first_seen.clear()

    def configure_server(self, host: str, port: int, token: str | None, ssl_context=None) -> None:
        """Another server, token or TLS context, from the next call (and the next watching) on."""
        self._server = (host, port, token, ssl_context)
        create_worker(self.connection.configure, host, port, token, ssl_context, _start_on=self.pool)

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, open_source: Callable[[], object] | None = None, *, start: dt.datetime | None = None) -> None:
        """Start watching (``open_source``: a callable returning a frame source; default: the
        camera or video chosen on screen)."""
        if self.running or not self._lecture:
            return
        self._first_seen.clear()
        self.load_roster()
        worker = WatchWorker(
            self._new_connection(),
            open_source or self._chosen_source(),
            self._lecture,
            every=self.every.value(),
            start=start,
        )
        worker.frame.connect(self._show_frame)
        worker.sampled.connect(self.show_sample)
        worker.sample_failed.connect(lambda text: self.status.setText(self.tr("Sample failed: %s") % text))
        worker.failed.connect(lambda text: self.status.setText(self.tr("Stopped: %s") % text))
        worker.finished.connect(self._finished)
        self._worker = worker
        self.start_button.setText(self.tr("Stop"))
        self._thread = WorkerThread(worker, "watch")

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.interrupt()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop watching and wait for the threads (call before the window closes)."""
        self.stop()
        if self._thread is not None:
            self._thread.stop(timeout_ms)
        self.connection.interrupt()
        self.pool.clear()
        self.pool.waitForDone(timeout_ms)

    def load_roster(self) -> None:
        """Read the lecture's roster (today's marks) from the server, off the GUI thread."""
        lecture = self._lecture
        self._run(lambda client: client.roster(lecture), self.show_roster)

    def close_session(self) -> None:
        """Write the statuses of today's session (or the session of a video's start date), then
        show them."""
        lecture = self._lecture
        day = self._session_day.isoformat() if self._session_day else None
        self._run(lambda client: client.close_session(lecture, day), self._closed)

    # -- shown on screen ------------------------------------------------------------------------

    @pyqtSlot(object)
    def show_roster(self, roster) -> None:
        self.table.setRowCount(len(roster.students))
        self._rows = {}
        for row, entry in enumerate(roster.students):
            self._rows[entry.student_id] = row
            values = (entry.student_id, entry.name, "", entry.status or "-")
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
            if entry.source:
                self.table.item(row, COL_STATUS).setToolTip(self.tr("marked by: %s") % entry.source)
            if entry.student_id in self._first_seen:
                self._set_seen(entry.student_id, self._first_seen[entry.student_id])

    @pyqtSlot(object)
    def show_sample(self, report: SampleReport) -> None:
        # The session the server put the sample in (its clock decides), else the sample's date.
        self._session_day = (
            dt.date.fromisoformat(report.session_date) if report.session_date else report.sampled_at.date()
        )
        for student_id in report.students:
            self._first_seen.setdefault(student_id, report.sampled_at)
            self._set_seen(student_id, report.sampled_at)
        self.status.setText(
            self.tr("Sample %d at %s: %d faces, %d known, %d uncertain, %d encoded")
            % (
                report.number,
                report.sampled_at.strftime("%H:%M:%S"),
                len(report.faces),
                len(report.students),
                report.uncertain,
                report.encoded,
            )
            + (self.tr(" (warning: %s)") % report.warning if report.warning else "")
        )

    def _set_seen(self, student_id: str, when: dt.datetime) -> None:
        row = self._rows.get(student_id)
        if row is None:
            return
        first = self._first_seen.get(student_id, when)
        text = first.strftime("%H:%M") if first == when else f"{first:%H:%M}-{when:%H:%M}"
        self.table.setItem(row, COL_SEEN, QTableWidgetItem(text))

    @pyqtSlot(QImage)
    def _show_frame(self, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image)
        self.feed.setPixmap(pixmap.scaled(self.feed.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))

    def _closed(self, reply) -> None:
        self.status.setText(
            self.tr("Session closed: present %d, late %d, left early %d, absent %d; kept %d marks by people")
            % (reply.present, reply.late, reply.left_early, reply.absent, reply.kept)
        )
        self.load_roster()

    @pyqtSlot(int)
    def _finished(self, samples: int) -> None:
        if self._thread is not None:
            self._thread.stop()
        self._thread, self._worker = None, None
        self.start_button.setText(self.tr("Start"))
        if not self.status.text().startswith(self.tr("Stopped")):
            self.status.setText(self.tr("Finished after %d samples") % samples)

    # -- building ------------------------------------------------------------------------------

    def _build(self) -> None:
        self._session_day: dt.date | None = None
        self.source_kind = QComboBox()
        self.source_kind.addItems([self.tr("Camera"), self.tr("Video file")])
        self.camera_index = QSpinBox()
        self.camera_index.setRange(0, 9)
        self.video_path = QLineEdit()
        self.video_path.setPlaceholderText(self.tr("recorded lecture (.mp4, .avi)"))
        browse = QPushButton(self.tr("Browse..."))
        browse.clicked.connect(self._browse)
        video_box = QWidget()
        video_row = QHBoxLayout(video_box)
        video_row.setContentsMargins(0, 0, 0, 0)
        video_row.addWidget(self.video_path)
        video_row.addWidget(browse)
        self.source_stack = QStackedWidget()
        self.source_stack.addWidget(self.camera_index)
        self.source_stack.addWidget(video_box)
        self.source_kind.currentIndexChanged.connect(self.source_stack.setCurrentIndex)
        self.every = QDoubleSpinBox()
        self.every.setRange(0.5, 3600)
        self.every.setValue(60)
        self.every.setSuffix(self.tr(" s"))
        self.start_button = QPushButton(self.tr("Start"))
        self.start_button.clicked.connect(lambda: self.stop() if self.running else self.start())
        close_button = QPushButton(self.tr("Close session"))
        close_button.clicked.connect(self.close_session)

        controls = QHBoxLayout()
        for widget in (
            self.source_kind,
            self.source_stack,
            QLabel(self.tr("every")),
            self.every,
            self.start_button,
            close_button,
        ):
            controls.addWidget(widget)

        self.feed = QLabel(self.tr("No picture yet"))
        self.feed.setAlignment(Qt.AlignCenter)
        self.feed.setMinimumSize(480, 270)
        self.feed.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Student ID"), self.tr("Name"), self.tr("Seen"), self.tr("Status")]
        )
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(COL_NAME, QHeaderView.Stretch)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.legend = QLabel(self.tr("Green: recognized. Amber: uncertain, not counted as seen. Red: unknown."))
        feed_column = QVBoxLayout()
        feed_column.addWidget(self.feed, 1)
        feed_column.addWidget(self.legend)
        middle = QHBoxLayout()
        middle.addLayout(feed_column, 3)
        middle.addWidget(self.table, 2)
        self.status = QLabel()

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(middle, 1)
        layout.addWidget(self.status)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Recorded lecture"), "", self.tr("Videos (*.mp4 *.avi *.mkv *.mov)")
        )
        if path:
            self.video_path.setText(path)

    def _chosen_source(self) -> Callable[[], object]:
        if self.source_kind.currentIndex() == 0:
            index = self.camera_index.value()
            return lambda: CameraSource(index)
        path = self.video_path.text()
        return lambda: VideoFileSource(path)

    def _new_connection(self) -> ReconnectingClient:
        """A connection to the current server, for the watching thread."""
        host, port, token, ssl_context = self._server
        return ReconnectingClient(host, port, token=token, ssl_context=ssl_context)

    def _run(self, request: Callable[[object], object], on_done: Callable[[object], None]) -> None:
        """``request(client)`` on the screen's thread and connection; ``on_done(result)`` on the
        GUI thread."""
        worker = create_worker(self.connection.call, request)
        worker.returned.connect(on_done)
        worker.errored.connect(
            lambda exc: self.status.setText(self.tr("Server: %s") % (str(exc) or type(exc).__name__))
        )
        worker.start(self.pool)
