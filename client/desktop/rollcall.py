"""Screen 2, the professor's: roll call.

The lecture roster from the server in a table (:class:`RosterModel`), marks already made by
face check-in included. The professor gives each student Present / Late / Absent / Excused with
the keyboard (arrow keys, then P/L/A/E; Delete undoes) or the mouse (the buttons, or a double
click on the status), can mark every unmarked student absent at once, and presses Finish: every
change goes to the server in ONE batch request (one round trip, one transaction; the batch ID
makes a retry harmless). When the server cannot be reached, the batch waits in the queue file
and is sent again automatically.

Under the roster: today's uncertain check-ins (:class:`PendingModel`, reloaded with the roster),
each with its time and the students it may be. The professor confirms one as a candidate (or as
any student of the roster, after a question), which the server marks present with source
``checkin``, or rejects it.

The date picker opens any past session instead of today's: its marks are changed the same way,
with a reason (the server refuses a change to a past session without one). Under the roster, the
history of the chosen student's mark in the shown session (:class:`HistoryModel`): every change,
who made it, when and why.
"""

from __future__ import annotations

from PyQt5.QtCore import QDate, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.desktop.history_model import HistoryModel
from client.desktop.mark_queue import BatchEntry, QueueEntry, batch_entry
from client.desktop.messages import failure_text
from client.desktop.pending_model import PendingModel, confirm_choices
from client.desktop.plain_text import question_box
from client.desktop.roster_model import ROLLCALL_STATUSES, RosterModel, StatusRole, status_label
from client.desktop.workers import INVALID_ENTRY, PROTOCOL, TIMED_OUT, UNREACHABLE, ServerCalls
from protocol.errors import ErrorCode

STATUS_KEYS = {Qt.Key_P: "present", Qt.Key_L: "late", Qt.Key_A: "absent", Qt.Key_E: "excused"}
#: Failures that are not the server's answer (see client.desktop.workers.describe_failure).
CONNECTION_FAILURES = frozenset({UNREACHABLE, TIMED_OUT, PROTOCOL})
#: Rows of uncertain check-ins shown without scrolling.
PENDING_ROWS_SHOWN = 4
#: Rows of a student's mark history shown without scrolling.
HISTORY_ROWS_SHOWN = 4
#: The date picker's format (the protocol's dates).
DATE_FORMAT = "yyyy-MM-dd"


class StatusDelegate(QStyledItemDelegate):
    """A drop-down list of statuses for a double click on the status cell."""

    def createEditor(self, parent, option, index):  # Qt name
        editor = QComboBox(parent)
        for status in ROLLCALL_STATUSES:
            editor.addItem(status_label(status), status)
        return editor

    def setEditorData(self, editor, index):  # Qt name
        position = editor.findData(index.data(StatusRole))
        editor.setCurrentIndex(max(0, position))

    def setModelData(self, editor, model, index):  # Qt name
        model.setData(index, editor.currentData(), Qt.EditRole)


class RosterView(QTableView):
    """The roster table: P/L/A/E give the selected students a status and move down."""

    statusKey = pyqtSignal(object)  # a status, or None to undo

    def keyPressEvent(self, event):  # Qt name
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
    submitBatch = pyqtSignal(object)
    message = pyqtSignal(str)
    connectionChanged = pyqtSignal(str, str)
    #: The roster was loaded (or reloaded) from the server.
    rosterLoaded = pyqtSignal(str)
    #: A roll call batch was handed to the outbox (the queue entry).
    batchSubmitted = pyqtSignal(object)
    #: Today's uncertain check-ins were loaded (the lecture).
    pendingLoaded = pyqtSignal(str)
    #: The server recorded the professor's decision (framed.ResolvePendingResponse).
    pendingResolved = pyqtSignal(object)
    #: A student's mark history was loaded (student ID, session date).
    historyLoaded = pyqtSignal(str, str)

    def __init__(
        self,
        *,
        host: str,
        port: int,
        lecture,
        refresh_interval: float = 20.0,
        token: str = "",
        ssl_context=None,
        parent=None,
    ):
        super().__init__(parent)
        self.lecture = lecture
        self.model = RosterModel(self)
        self.model.countsChanged.connect(self._update_counts)
        self.pending_model = PendingModel(self)
        self.history_model = HistoryModel(self)
        self._history_for: tuple[str, str] | None = None  # (student, session date) whose history is wanted
        self._choices_for: int | None = None  # the check-in whose choices the list holds
        self._pending_entries: list[QueueEntry] = []
        self._my_batches: set[str] = set()
        self._loading = False
        self._loading_lecture = ""
        self._build()

        self.server = ServerCalls(host, port, token=token, ssl_context=ssl_context, parent=self)
        self.server.connectionChanged.connect(self.connectionChanged)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(int(refresh_interval * 1000))
        self._refresh_timer.timeout.connect(self._auto_refresh)
        self._refresh_timer.start()

    def _build(self) -> None:
        self.session_label = QLabel()
        self.refresh_button = QPushButton(self.tr("&Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat(DATE_FORMAT)
        self.date_edit.setMaximumDate(QDate.currentDate())
        self.date_edit.setToolTip(self.tr("The session to show: today's, or a past one to correct"))
        self.date_edit.dateChanged.connect(self._date_changed)
        self.today_button = QPushButton(self.tr("&Today"))
        self.today_button.clicked.connect(self.show_today)
        header = QHBoxLayout()
        header.addWidget(self.session_label, 1)
        header.addWidget(QLabel(self.tr("Session:")))
        header.addWidget(self.date_edit)
        header.addWidget(self.today_button)
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
        self.view.selectionModel().currentRowChanged.connect(self._student_selected)

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

        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(500)  # protocol.framed.MAX_REASON_LENGTH
        self.reason_edit.setPlaceholderText(self.tr("Why the marks change (needed for a past session)"))
        self.professor_edit = QLineEdit()
        self.professor_edit.setMaxLength(100)  # protocol.framed.MAX_PROFESSOR_LENGTH
        self.professor_edit.setPlaceholderText(self.tr("Your name (kept in the history)"))
        why = QHBoxLayout()
        why.addWidget(QLabel(self.tr("Reason:")))
        why.addWidget(self.reason_edit, 2)
        why.addWidget(QLabel(self.tr("Professor:")))
        why.addWidget(self.professor_edit, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        layout.addWidget(self._build_history())
        layout.addWidget(self._build_pending())
        layout.addLayout(why)
        layout.addLayout(footer)
        self._update_counts()

    def _build_history(self) -> QGroupBox:
        self.history_box = QGroupBox(self.tr("History"))
        self.history_view = QTableView()
        self.history_view.setModel(self.history_model)
        self.history_view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.history_view.setSelectionMode(QAbstractItemView.NoSelection)
        self.history_view.verticalHeader().hide()
        self.history_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.history_view.horizontalHeader().setSectionResizeMode(HistoryModel.REASON, QHeaderView.Stretch)
        view = self.history_view
        view.setFixedHeight(
            view.horizontalHeader().sizeHint().height()
            + 2 * view.frameWidth()
            + HISTORY_ROWS_SHOWN * view.verticalHeader().defaultSectionSize()
        )
        QVBoxLayout(self.history_box).addWidget(view)
        return self.history_box

    def _build_pending(self) -> QGroupBox:
        self.pending_box = QGroupBox()
        self.pending_view = QTableView()
        self.pending_view.setModel(self.pending_model)
        self.pending_view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.pending_view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.pending_view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.pending_view.verticalHeader().hide()
        self.pending_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.pending_view.horizontalHeader().setSectionResizeMode(PendingModel.CANDIDATES, QHeaderView.Stretch)
        self.pending_view.selectionModel().currentRowChanged.connect(self._pending_selected)
        self.confirm_choice = QComboBox()
        self.confirm_choice.setMinimumWidth(260)
        self.confirm_button = QPushButton(self.tr("&Confirm"))
        self.confirm_button.clicked.connect(self.confirm_pending)
        self.reject_button = QPushButton(self.tr("Re&ject"))
        self.reject_button.clicked.connect(self.reject_pending)
        actions = QHBoxLayout()
        actions.addWidget(QLabel(self.tr("Confirm as:")))
        actions.addWidget(self.confirm_choice, 1)
        actions.addWidget(self.confirm_button)
        actions.addWidget(self.reject_button)
        note = QLabel(
            self.tr(
                "The server was not sure who these faces are. Look at the student: confirm "
                "the check-in as them (marked present), or reject it."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        box_layout = QVBoxLayout(self.pending_box)
        box_layout.addWidget(note)
        box_layout.addWidget(self.pending_view)
        box_layout.addLayout(actions)
        self.pending_box.hide()
        return self.pending_box

    # -- loading --------------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> None:
        """Load the roster and the uncertain check-ins again (``force``: even when a load of the
        same lecture is on its way, whose answer may predate a change)."""
        lecture = self.lecture()
        self.date_edit.setMaximumDate(QDate.currentDate())  # the app may run past midnight
        if self._loading and lecture == self._loading_lecture and not force:
            return  # that request is on its way
        if not lecture:
            self.model.clear()
            self.pending_model.clear()
            self._show_pending_box()
            self._show_banner(self.tr("Enter the lecture code at the top to load its roster."))
            return
        self._loading, self._loading_lecture = True, lecture
        self.session_label.setText(self.tr("Loading the roster of %1…").replace("%1", lecture))
        self._load(lecture)

    def _auto_refresh(self) -> None:
        if self.isVisible() and not self._loading and self.lecture():
            self._load(self.lecture())

    def shown_date(self) -> str | None:
        """The past session chosen in the date picker (YYYY-MM-DD), or None for today's."""
        chosen = self.date_edit.date()
        return None if chosen >= QDate.currentDate() else chosen.toString(DATE_FORMAT)

    def show_date(self, day: str | None) -> None:
        """Show the session of ``day`` (YYYY-MM-DD), or today's (None)."""
        self.date_edit.setDate(QDate.currentDate() if day is None else QDate.fromString(day, DATE_FORMAT))

    def show_today(self) -> None:
        self.show_date(None)

    def _date_changed(self, *_) -> None:
        if self.model.counts().changed:
            self.message.emit(self.tr("Unsent changes of the other session were dropped."))
        self.history_model.clear()
        self.refresh(force=True)

    def _load(self, lecture: str) -> None:
        """Ask for the roster of ``lecture``'s shown session, and today's uncertain check-ins."""
        day = self.shown_date()
        self.server.request(
            lambda client: client.roster(lecture, day),
            lambda reply: self._roster_ready(reply, day),
            lambda code, detail: self._roster_failed(lecture, code, detail),
        )
        if day is not None:  # uncertain check-ins wait in today's session only
            self.pending_model.clear()
            self._show_pending_box()
            return
        self.server.request(
            lambda client: client.pending(lecture),
            self._pending_ready,
            lambda code, detail: self._pending_failed(lecture, code, detail),
        )

    def configure_server(self, host: str, port: int, token: str = "", ssl_context=None) -> None:
        self.server.configure(host, port, token, ssl_context)

    def _roster_ready(self, reply, day: str | None = None) -> None:
        self._loading = False
        if reply.lecture != self.lecture() or day != self.shown_date():
            return  # the professor switched lectures or sessions meanwhile
        self.banner.hide()
        self.model.set_roster(reply.lecture, reply.session_date, reply.students, past=day is not None)
        label = self.tr("Lecture %1 · session of %2").replace("%1", reply.lecture).replace("%2", reply.session_date)
        if day is not None:
            label += " · " + self.tr("a past session: changes need a reason")
        self.session_label.setText(label)
        if self.view.currentIndex().row() < 0 and self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(0, RosterModel.STATUS))
        else:
            self._student_selected()
        self._pending_selected()  # the roster's students are choices too
        self.rosterLoaded.emit(reply.lecture)

    # -- mark history ---------------------------------------------------------------------------

    def _student_selected(self, *_) -> None:
        """Load the history of the chosen student's mark in the shown session."""
        row = self.view.currentIndex().row()
        lecture, day = self.model.lecture, self.model.session_date
        if not 0 <= row < self.model.rowCount() or not lecture or not day:
            self._history_for = None
            self.history_model.clear()
            self.history_box.setTitle(self.tr("History"))
            return
        student = self.model.row(row)
        self._history_for = (student.student_id, day)
        self.history_box.setTitle(
            self.tr("History of %1 (%2) on %3")
            .replace("%1", student.name)
            .replace("%2", student.student_id)
            .replace("%3", day)
        )
        self.server.request(
            lambda client: client.history(lecture, student_id=student.student_id, session_date=day),
            lambda reply: self._history_ready(reply, student.student_id, day),
            self._history_failed,
            still_wanted=lambda: self._history_wanted(student.student_id, day),
        )

    def _history_wanted(self, student_id: str, day: str) -> bool:
        """Asked on the worker thread when the request's turn comes: a plain attribute only."""
        return self._history_for == (student_id, day)

    def _history_ready(self, reply, student_id: str, day: str) -> None:
        if reply.lecture != self.model.lecture or self._history_for != (student_id, day):
            return  # another student or session was chosen meanwhile
        self.history_model.set_history(student_id, day, reply.entries)
        if not self.history_model.rowCount():
            self.history_box.setTitle(self.history_box.title() + " · " + self.tr("no change recorded"))
        self.historyLoaded.emit(student_id, day)

    def _history_failed(self, code: str, detail: str) -> None:
        if code not in CONNECTION_FAILURES:
            self.message.emit(
                self.tr("History: %1").replace("%1", failure_text(code, detail, self.server.connection.address))
            )

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

    # -- uncertain check-ins --------------------------------------------------------------------

    def _pending_ready(self, reply) -> None:
        if reply.lecture != self.lecture():
            return
        current = self.selected_pending()
        self.pending_model.set_checkins(reply.lecture, reply.checkins)
        row = self.pending_model.find(current.pending_id) if current is not None else -1
        if self.pending_model.rowCount():
            self.pending_view.setCurrentIndex(self.pending_model.index(max(row, 0), PendingModel.CANDIDATES))
        self._show_pending_box()
        self.pendingLoaded.emit(reply.lecture)

    def _pending_failed(self, lecture: str, code: str, detail: str) -> None:
        """Said in the status bar when the server refused (a server that cannot be reached is
        said by the roster's banner already)."""
        if lecture == self.lecture() and code not in CONNECTION_FAILURES:
            self.message.emit(
                self.tr("Uncertain check-ins: %1").replace(
                    "%1", failure_text(code, detail, self.server.connection.address)
                )
            )

    def _show_pending_box(self) -> None:
        count = self.pending_model.rowCount()
        self.pending_box.setTitle(self.tr("Uncertain check-ins waiting for you: %1").replace("%1", str(count)))
        self.pending_box.setVisible(count > 0)
        rows = min(max(count, 1), PENDING_ROWS_SHOWN)  # the list takes the height of its rows, up to a few
        view = self.pending_view
        view.setFixedHeight(
            view.horizontalHeader().sizeHint().height()
            + 2 * view.frameWidth()
            + rows * view.verticalHeader().defaultSectionSize()
        )
        self._pending_selected()

    def selected_pending(self):
        """The uncertain check-in chosen in the list (framed.PendingCheckin), or None."""
        row = self.pending_view.currentIndex().row()
        return self.pending_model.checkin(row) if 0 <= row < self.pending_model.rowCount() else None

    def _pending_selected(self, *_) -> None:
        """Offer the chosen check-in's candidates first, then the rest of the roster (keeping the
        professor's choice when the list is filled again for the same check-in)."""
        checkin = self.selected_pending()
        kept = self.confirm_choice.currentData()
        same = checkin is not None and checkin.pending_id == self._choices_for
        self.confirm_choice.clear()
        self._choices_for = checkin.pending_id if checkin is not None else None
        for choice in confirm_choices(checkin, self.model.rows()) if checkin is not None else []:
            text = f"{choice.name} ({choice.student_id})"
            if choice.candidate:
                text += " · " + self.tr("distance %1").replace("%1", f"{choice.distance:.2f}")
            self.confirm_choice.addItem(text, choice)
            if choice.student_id == getattr(kept, "student_id", None) and same:
                self.confirm_choice.setCurrentIndex(self.confirm_choice.count() - 1)
            if choice.candidate and self.confirm_choice.count() == len(checkin.candidates):
                self.confirm_choice.insertSeparator(self.confirm_choice.count())
        self.confirm_button.setEnabled(checkin is not None)
        self.reject_button.setEnabled(checkin is not None)

    def ask_confirm_other(self, name: str, student_id: str) -> bool:
        """Asked before confirming a check-in as a student the server did not name (tests replace this)."""
        box = question_box(  # the name as plain text
            self,
            self.tr("Not a candidate"),
            self.tr("The server did not find this face near %1 (%2). Confirm the check-in as them anyway?")
            .replace("%1", name)
            .replace("%2", student_id),
        )
        return box.exec_() == QMessageBox.Yes

    def confirm_pending(self) -> None:
        """Confirm the chosen check-in as the chosen student."""
        checkin, choice = self.selected_pending(), self.confirm_choice.currentData()
        if checkin is None or choice is None:
            return
        if not choice.candidate and not self.ask_confirm_other(choice.name, choice.student_id):
            return
        self._resolve(checkin.pending_id, choice.student_id)

    def reject_pending(self) -> None:
        checkin = self.selected_pending()
        if checkin is not None:
            self._resolve(checkin.pending_id, None)

    def _resolve(self, pending_id: int, student_id: str | None) -> None:
        self.confirm_button.setEnabled(False)
        self.reject_button.setEnabled(False)
        self.server.request(  # confirm as student_id (marked present), or reject (None)
            lambda client: client.resolve_pending(pending_id, student_id),
            self._resolved,
            lambda code, detail: self._resolve_failed(pending_id, code, detail),
        )

    def _resolved(self, reply) -> None:
        if reply.resolution == "confirmed":
            row = self.model.find(reply.student_id)
            name = self.model.row(row).name if row >= 0 else reply.student_id
            self.message.emit(
                self.tr("Check-in confirmed: %1 is marked %2.")
                .replace("%1", name)
                .replace("%2", status_label(reply.status))
            )
        else:
            self.message.emit(self.tr("Check-in rejected: nobody was marked."))
        self.pendingResolved.emit(reply)
        self.refresh(force=True)

    def _resolve_failed(self, pending_id: int, code: str, detail: str) -> None:
        if code == ErrorCode.NOT_FOUND:
            self.message.emit(self.tr("That check-in was decided already (on another PC?)."))
        else:
            self._show_banner(failure_text(code, detail, self.server.connection.address))
        self._pending_selected()
        self.refresh(force=True)

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
        text = (
            self.tr("Marked %1 of %2 · unmarked %3")
            .replace("%1", str(counts.marked))
            .replace("%2", str(counts.total))
            .replace("%3", str(counts.unmarked))
        )
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

    def finish(self) -> BatchEntry | None:
        """Send every change in one batch (queued first); returns the queue entry, or None."""
        marks = self.model.local_marks()
        lecture = self.model.lecture
        if not marks or not lecture:
            self.message.emit(self.tr("No changes to send."))
            return None
        reason = self.reason_edit.text().strip()
        past = self.model.session_date if self.model.past else None
        if past and not reason:
            text = self.tr("Say why the marks of the session of %1 change (Reason), then press Finish.").replace(
                "%1", past
            )
            self._show_banner(text)
            self.message.emit(text)
            self.reason_edit.setFocus()
            return None
        unmarked = self.model.counts().unmarked
        if unmarked and not past and not self.ask_finish_with_unmarked(unmarked):
            return None
        entry = batch_entry(
            lecture,
            marks,
            source="rollcall",
            session_date=past,
            reason=reason,
            professor=self.professor_edit.text().strip(),
        )
        self.reason_edit.clear()
        self._my_batches.add(entry.id)
        self._pending_entries.append(entry)
        self.model.set_pending(self._pending_entries)
        self.model.clear_local()
        self.message.emit(self.tr("Sending the roll call (marks: %1)…").replace("%1", str(len(marks))))
        self.submitBatch.emit(entry)
        self.batchSubmitted.emit(entry)
        return entry

    def pending_changed(self, entries: list[QueueEntry]) -> None:
        self._pending_entries = list(entries)
        self.model.set_pending(entries)

    def mark_delivered(self, entry: QueueEntry, reply) -> None:
        if entry.lecture == self.model.lecture:
            self.refresh(force=True)
        if isinstance(entry, BatchEntry):
            self._my_batches.discard(entry.id)
            self.message.emit(self.tr("Roll call saved (marks: %1).").replace("%1", str(reply.applied)))

    def delivery_failed(self, code: str, detail: str) -> None:
        pending = sum(e.mark_count for e in self._pending_entries if isinstance(e, BatchEntry))
        if pending:
            self._show_banner(
                failure_text(code, detail, self.server.connection.address)
                + " "
                + self.tr("Marks saved on this PC, sent automatically when the server answers: %1.").replace(
                    "%1", str(pending)
                )
            )

    def mark_rejected(self, entry: QueueEntry, code: str, detail: str) -> None:
        if isinstance(entry, BatchEntry):
            if code == INVALID_ENTRY:  # never sent: it is not a valid request
                text = self.tr("A queued roll call can never be sent (%1); it is in the rejected log.")
                self._show_banner(text.replace("%1", detail))
            else:
                self._show_banner(
                    self.tr("The server refused the roll call: %1").replace(
                        "%1", failure_text(code, detail, self.server.connection.address)
                    )
                )
            self.refresh()

    def shutdown(self) -> None:
        self._refresh_timer.stop()
        self.server.shutdown()
