"""Screen 2, the professor's: roll call.

The lecture roster from the server in a table (:class:`RosterModel`), marks already made by
face check-in included. The professor gives each student Present / Late / Absent / Excused with
the keyboard (arrow keys, then P/L/A/E; Delete undoes) or the mouse (the buttons, or a double
click on the status), can mark every unmarked student absent at once, and presses Finish: every
change goes to the server in ONE batch request (one round trip, one transaction; the batch ID
makes a retry harmless). When the server cannot be reached, the batch waits in the queue file
and is sent again automatically.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.desktop.mark_queue import batch_entry
from client.desktop.messages import failure_text
from client.desktop.roster_model import ROLLCALL_STATUSES, RosterModel, StatusRole, status_label
from client.desktop.workers import ServerWorker, WorkerThread

STATUS_KEYS = {Qt.Key_P: "present", Qt.Key_L: "late", Qt.Key_A: "absent", Qt.Key_E: "excused"}


class StatusDelegate(QStyledItemDelegate):
    """A drop-down list of statuses for a double click on the status cell."""

    def createEditor(self, parent, option, index):  # noqa: N802 - Qt name
        editor = QComboBox(parent)
        for status in ROLLCALL_STATUSES:
            editor.addItem(status_label(status), status)
        return editor

    def setEditorData(self, editor, index):  # noqa: N802 - Qt name
        position = editor.findData(index.data(StatusRole))
        editor.setCurrentIndex(max(0, position))

    def setModelData(self, editor, model, index):  # noqa: N802 - Qt name
        model.setData(index, editor.currentData(), Qt.EditRole)


class RosterView(QTableView):
    """The roster table: P/L/A/E give the selected students a status and move down."""

    statusKey = pyqtSignal(object)  # a status, or None to undo

    def keyPressEvent(self, event):  # noqa: N802 - Qt name
        key = event.key()
        if event.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
            super().keyPressEvent(event)
        elif key in STATUS_KEYS:
            self.statusKey.emit(STATUS_KEYS[key])
        elif key in (Qt.Key_Delete, Qt.Key_Backspace):
            self.statusKey.emit(None)
        else:
            super().keyPressEvent(event)


class RollCallScreen(QWidget):
    requestRoster = pyqtSignal(str)
    configureServer = pyqtSignal(str, int, str)
    submitBatch = pyqtSignal(object)
    message = pyqtSignal(str)
    connectionChanged = pyqtSignal(str, str)
    #: The roster was loaded (or reloaded) from the server.
    rosterLoaded = pyqtSignal(str)
    #: A roll call batch was handed to the outbox (the queue entry).
    batchSubmitted = pyqtSignal(object)

    def __init__(self, *, host: str, port: int, lecture, refresh_interval: float = 20.0, token: str = "",
                 parent=None):
        super().__init__(parent)
        self.lecture = lecture
        self.model = RosterModel(self)
        self.model.countsChanged.connect(self._update_counts)
        self._pending_entries: list[dict] = []
        self._my_batches: set[str] = set()
        self._loading = False
        self._loading_lecture = ""
        self._build()

        self.server = ServerWorker(host, port, token=token)
        self.server.rosterReady.connect(self._roster_ready)
        self.server.rosterFailed.connect(self._roster_failed)
        self.server.connectionChanged.connect(self.connectionChanged)
        self.requestRoster.connect(self.server.loadRoster)
        self.configureServer.connect(self.server.configure)
        self.server_thread = WorkerThread(self.server, "rollcall-server")

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(int(refresh_interval * 1000))
        self._refresh_timer.timeout.connect(self._auto_refresh)
        self._refresh_timer.start()

    def _build(self) -> None:
        self.session_label = QLabel()
        self.refresh_button = QPushButton(self.tr("&Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        header = QHBoxLayout()
        header.addWidget(self.session_label, 1)
        header.addWidget(self.refresh_button)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fdecea; color: #8a1c1c; padding: 6px; border-radius: 3px;")
        self.banner.hide()

        self.view = RosterView()
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(RosterModel.STATUS, StatusDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.DoubleClicked)
        self.view.verticalHeader().hide()
        self.view.setAlternatingRowColors(True)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.view.horizontalHeader().setSectionResizeMode(RosterModel.NAME, QHeaderView.Stretch)
        self.view.statusKey.connect(self.set_status_of_selection)

        buttons = QHBoxLayout()
        self.status_buttons = {}
        texts = {
            "present": self.tr("Present (P)"),
            "late": self.tr("Late (L)"),
            "absent": self.tr("Absent (A)"),
            "excused": self.tr("Excused (E)"),
        }
        for status in ROLLCALL_STATUSES:
            button = QPushButton(texts[status])
            button.setFocusPolicy(Qt.NoFocus)  # keep the keyboard in the table
            button.setProperty("status", status)
            button.clicked.connect(self._status_button_clicked)
            buttons.addWidget(button)
            self.status_buttons[status] = button
        self.undo_button = QPushButton(self.tr("Undo change (Del)"))
        self.undo_button.setFocusPolicy(Qt.NoFocus)
        self.undo_button.clicked.connect(self._undo_clicked)
        buttons.addWidget(self.undo_button)
        buttons.addStretch(1)

        self.absent_button = QPushButton(self.tr("Mark all unmarked as Absent"))
        self.absent_button.clicked.connect(self.mark_unmarked_absent)
        self.counter = QLabel()
        self.finish_button = QPushButton(self.tr("&Finish"))
        self.finish_button.setMinimumHeight(36)
        self.finish_button.clicked.connect(self.finish)
        footer = QHBoxLayout()
        footer.addWidget(self.absent_button)
        footer.addWidget(self.counter, 1)
        footer.addWidget(self.finish_button)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addLayout(footer)
        self._update_counts()

    # -- loading --------------------------------------------------------------------------------

    def refresh(self) -> None:
        lecture = self.lecture()
        if self._loading and lecture == self._loading_lecture:
            return  # that request is on its way
        if not lecture:
            self.model.clear()
            self._show_banner(self.tr("Enter the lecture code at the top to load its roster."))
            return
        self._loading, self._loading_lecture = True, lecture
        self.session_label.setText(self.tr("Loading the roster of %1…").replace("%1", lecture))
        self.requestRoster.emit(lecture)

    def _auto_refresh(self) -> None:
        if self.isVisible() and not self._loading and self.lecture():
            self.requestRoster.emit(self.lecture())

    def configure_server(self, host: str, port: int, token: str = "") -> None:
        self.configureServer.emit(host, port, token)

    def _roster_ready(self, reply) -> None:
        self._loading = False
        if reply.lecture != self.lecture():
            return  # the professor switched lectures meanwhile
        self.banner.hide()
        self.model.set_roster(reply.lecture, reply.session_date, reply.students)
        self.session_label.setText(
            self.tr("Lecture %1 · session of %2").replace("%1", reply.lecture).replace("%2", reply.session_date)
        )
        if self.view.currentIndex().row() < 0 and self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(0, RosterModel.STATUS))
        self.rosterLoaded.emit(reply.lecture)

    def _roster_failed(self, lecture: str, code: str, detail: str) -> None:
        self._loading = False
        if lecture != self.lecture():
            return
        text = failure_text(code, detail, self.server.connection.address)
        self.session_label.setText(self.tr("Lecture %1").replace("%1", lecture))
        self._show_banner(text)
        self.message.emit(text)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    # -- marking --------------------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        rows = {index.row() for index in self.view.selectionModel().selectedRows()}
        current = self.view.currentIndex()
        if not rows and current.isValid():
            rows = {current.row()}
        return sorted(rows)

    def set_status_of_selection(self, status: str | None) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        self.model.set_status(rows, status)
        if len(rows) == 1 and rows[0] + 1 < self.model.rowCount():
            # One student at a time: move on to the next, as a paper roll call would.
            self.view.setCurrentIndex(self.model.index(rows[0] + 1, RosterModel.STATUS))

    def _status_button_clicked(self) -> None:
        self.set_status_of_selection(self.sender().property("status"))

    def _undo_clicked(self) -> None:
        self.set_status_of_selection(None)

    def mark_unmarked_absent(self) -> None:
        count = self.model.mark_unmarked("absent")
        self.message.emit(self.tr("Unmarked students marked absent: %1").replace("%1", str(count)))

    def _update_counts(self) -> None:
        counts = self.model.counts()
        text = self.tr("Marked %1 of %2 · unmarked %3").replace("%1", str(counts.marked)).replace(
            "%2", str(counts.total)).replace("%3", str(counts.unmarked))
        if counts.changed:
            text += " · " + self.tr("not sent: %1").replace("%1", str(counts.changed))
        if counts.pending:
            text += " · " + self.tr("pending: %1").replace("%1", str(counts.pending))
        self.counter.setText(text)
        self.finish_button.setEnabled(counts.changed > 0)

    # -- finishing ------------------------------------------------------------------------------

    def ask_finish_with_unmarked(self, unmarked: int) -> bool:
        """Asked when Finish is pressed with unmarked students (tests replace this)."""
        answer = QMessageBox.question(
            self,
            self.tr("Unmarked students"),
            self.tr("Students without a mark: %1. Send the roll call anyway?").replace("%1", str(unmarked)),
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        return answer == QMessageBox.Yes

    def finish(self) -> dict | None:
        """Send every change in one batch (queued first); returns the queue entry, or None."""
        marks = self.model.local_marks()
        lecture = self.model.lecture
        if not marks or not lecture:
            self.message.emit(self.tr("No changes to send."))
            return None
        unmarked = self.model.counts().unmarked
        if unmarked and not self.ask_finish_with_unmarked(unmarked):
            return None
        entry = batch_entry(lecture, marks, source="rollcall")
        self._my_batches.add(entry["id"])
        self._pending_entries.append(entry)
        self.model.set_pending(self._pending_entries)
        self.model.clear_local()
        self.message.emit(self.tr("Sending the roll call (marks: %1)…").replace("%1", str(len(marks))))
        self.submitBatch.emit(entry)
        self.batchSubmitted.emit(entry)
        return entry

    def pending_changed(self, entries: list[dict]) -> None:
        self._pending_entries = list(entries)
        self.model.set_pending(entries)

    def mark_delivered(self, entry: dict, reply) -> None:
        if entry.get("lecture") == self.model.lecture:
            self.refresh()
        if entry["kind"] == "batch":
            self._my_batches.discard(entry["id"])
            self.message.emit(self.tr("Roll call saved (marks: %1).").replace("%1", str(reply.applied)))

    def delivery_failed(self, code: str, detail: str) -> None:
        pending = sum(len(e["marks"]) for e in self._pending_entries if e["kind"] == "batch")
        if pending:
            self._show_banner(
                failure_text(code, detail, self.server.connection.address) + " " +
                self.tr("Marks saved on this PC, sent automatically when the server answers: %1.").replace("%1", str(pending))
            )

    def mark_rejected(self, entry: dict, code: str, detail: str) -> None:
        if entry["kind"] == "batch":
            self._show_banner(
                self.tr("The server refused the roll call: %1").replace(
                    "%1", failure_text(code, detail, self.server.connection.address))
            )
            self.refresh()

    def shutdown(self) -> None:
        self._refresh_timer.stop()
        self.server_thread.stop()
