"""The lecture roster as a Qt table model: today's marks from the server, the professor's edits
that are not sent yet, and the marks waiting in the queue of unsent marks.

The status a row shows is, in order of precedence: the professor's edit (``local``), a mark that
is queued but not acknowledged (``pending``), the server's mark (``saved``), or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PyQt5.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor, QFont

from client.desktop.mark_queue import BatchEntry, QueueEntry

#: The statuses a professor gives at roll call (``left_early`` is shown when the server has it).
ROLLCALL_STATUSES = ("present", "late", "absent", "excused")
ALL_STATUSES = ROLLCALL_STATUSES + ("left_early",)

STATUS_COLORS = {
    "present": QColor("#d4edda"),
    "late": QColor("#fff3cd"),
    "absent": QColor("#f8d7da"),
    "excused": QColor("#d6e4f0"),
    "left_early": QColor("#ffe5cc"),
}

StatusRole = Qt.UserRole + 1  # the effective status code (str or None)
StudentIdRole = Qt.UserRole + 2
StateRole = Qt.UserRole + 3  # "local", "pending", "saved" or None


def status_label(status: str | None) -> str:
    labels = {
        "present": QCoreApplication.translate("Status", "Present"),
        "late": QCoreApplication.translate("Status", "Late"),
        "absent": QCoreApplication.translate("Status", "Absent"),
        "excused": QCoreApplication.translate("Status", "Excused"),
        "left_early": QCoreApplication.translate("Status", "Left early"),
    }
    if status is None:
        return QCoreApplication.translate("Status", "Unmarked")
    return labels.get(status, status)


def source_label(source: str | None) -> str:
    labels = {
        "checkin": QCoreApplication.translate("Status", "Face check-in"),
        "rollcall": QCoreApplication.translate("Status", "Roll call"),
        "camera": QCoreApplication.translate("Status", "Camera"),
        "manual": QCoreApplication.translate("Status", "Manual"),
    }
    return labels.get(source, source or "")


@dataclass
class RosterRow:
    student_id: str
    name: str
    server_status: str | None = None
    server_source: str | None = None
    marked_at: str | None = None  # ISO 8601 text from the server
    local_status: str | None = None
    pending_status: str | None = None
    pending_source: str | None = None

    @property
    def status(self) -> str | None:
        return self.local_status or self.pending_status or self.server_status

    @property
    def state(self) -> str | None:
        if self.local_status:
            return "local"
        if self.pending_status:
            return "pending"
        if self.server_status:
            return "saved"
        return None


@dataclass(frozen=True)
class Counts:
    total: int
    marked: int
    unmarked: int
    changed: int
    pending: int


class RosterModel(QAbstractTableModel):
    NUMBER, STUDENT_ID, NAME, STATUS, SOURCE, TIME = range(6)
    COLUMN_COUNT = 6

    #: Emitted whenever the numbers of :meth:`counts` may have changed.
    countsChanged = pyqtSignal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lecture: str | None = None
        self.session_date: str | None = None
        #: The roster is of a past session (session_date), not today's.
        self.past = False
        self._rows: list[RosterRow] = []
        self._pending_entries: list[dict] = []

    # -- Qt model interface ---------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Vertical:
            return str(section + 1) if 0 <= section < len(self._rows) else None
        titles = {
            self.NUMBER: self.tr("No."),
            self.STUDENT_ID: self.tr("Student ID"),
            self.NAME: self.tr("Name"),
            self.STATUS: self.tr("Status"),
            self.SOURCE: self.tr("Marked by"),
            self.TIME: self.tr("Time"),
        }
        return titles.get(section)

    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.NoItemFlags
        flags = Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemNeverHasChildren
        if index.column() == self.STATUS:
            flags |= Qt.ItemIsEditable
        return flags

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.DisplayRole:
            return self._display(index.row(), row, column)
        if role == Qt.EditRole:
            return row.status if column == self.STATUS else self._display(index.row(), row, column)
        if role == StatusRole:
            return row.status
        if role == StudentIdRole:
            return row.student_id
        if role == StateRole:
            return row.state
        if role == Qt.BackgroundRole and column in (self.STATUS, self.SOURCE) and row.status:
            return QBrush(STATUS_COLORS.get(row.status, QColor("white")))
        if role == Qt.ForegroundRole and row.status is None and column == self.STATUS:
            return QBrush(QColor("#777777"))
        if role == Qt.FontRole and row.state in ("local", "pending"):
            font = QFont()
            font.setBold(row.state == "local")
            font.setItalic(row.state == "pending")
            return font
        if role == Qt.TextAlignmentRole and column in (self.NUMBER, self.TIME):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ToolTipRole and column in (self.STATUS, self.SOURCE):
            return self._tooltip(row)
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.EditRole) -> bool:
        if role != Qt.EditRole or not index.isValid() or index.column() != self.STATUS:
            return False
        if not 0 <= index.row() < len(self._rows):
            return False
        status = value or None
        if status is not None and status not in ALL_STATUSES:
            return False
        self._set_local(index.row(), status)
        return True

    # -- display helpers ------------------------------------------------------------------------

    def _display(self, number: int, row: RosterRow, column: int):
        if column == self.NUMBER:
            return str(number + 1)
        if column == self.STUDENT_ID:
            return row.student_id
        if column == self.NAME:
            return row.name
        if column == self.STATUS:
            return status_label(row.status)
        if column == self.SOURCE:
            if row.state == "local":
                return self.tr("Changed, not sent")
            if row.state == "pending":
                return self.tr("Pending: %1").replace("%1", source_label(row.pending_source))
            return source_label(row.server_source)
        if column == self.TIME:
            if row.state == "saved" and row.marked_at:
                return row.marked_at.partition("T")[2] or row.marked_at
            return ""
        return None

    def _tooltip(self, row: RosterRow) -> str:
        if row.state == "local":
            return self.tr("Sent to the server when you press Finish")
        if row.state == "pending":
            return self.tr("Saved on this computer; sent again automatically until the server confirms it")
        if row.state == "saved":
            return self.tr("Recorded by the server")
        return self.tr("No mark yet")

    # -- loading --------------------------------------------------------------------------------

    def set_roster(self, lecture: str, session_date: str | None, entries: Iterable, *, past: bool = False) -> None:
        """Show the server's roster (objects with student_id, name, status, source, marked_at) of
        today's session, or of the past session of ``session_date`` (``past``).

        The professor's unsent edits survive a reload of the same lecture and session.
        """
        same_session = lecture == self.lecture and session_date == self.session_date and past == self.past
        local = {r.student_id: r.local_status for r in self._rows if r.local_status} if same_session else {}
        rows = [
            RosterRow(e.student_id, e.name, e.status, e.source, e.marked_at, local_status=local.get(e.student_id))
            for e in entries
        ]
        for row in rows:
            if row.local_status == row.server_status:
                row.local_status = None
        same_students = same_session and [r.student_id for r in rows] == [r.student_id for r in self._rows]
        self.session_date, self.past = session_date, past
        if same_students:
            self._rows = rows
            self._apply_pending()
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, self.COLUMN_COUNT - 1))
        else:
            self.beginResetModel()
            self.lecture = lecture
            self._rows = rows
            self._apply_pending()
            self.endResetModel()
        self.countsChanged.emit()

    def clear(self) -> None:
        self.beginResetModel()
        self.lecture = None
        self.session_date = None
        self.past = False
        self._rows = []
        self.endResetModel()
        self.countsChanged.emit()

    def set_pending(self, entries: Sequence[QueueEntry]) -> None:
        """Show the queued, unacknowledged marks (queue entries of any lecture)."""
        self._pending_entries = list(entries)
        self._apply_pending()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.COLUMN_COUNT - 1))
        self.countsChanged.emit()

    def _apply_pending(self) -> None:
        pending: dict[str, tuple[str, str]] = {}
        shown_date = self.session_date if self.past else None  # a queued roll call's session_date
        for entry in self._pending_entries:
            if entry.lecture != self.lecture or getattr(entry, "session_date", None) != shown_date:
                continue
            if isinstance(entry, BatchEntry):
                for student_id, status in entry.marks:
                    pending[student_id] = (status, entry.source)
            else:
                pending[entry.student_id] = (entry.status, entry.source)
        for row in self._rows:
            row.pending_status, row.pending_source = pending.get(row.student_id, (None, None))

    # -- editing --------------------------------------------------------------------------------

    def _set_local(self, row_number: int, status: str | None) -> None:
        row = self._rows[row_number]
        underlying = row.pending_status or row.server_status
        row.local_status = None if status == underlying else status
        self.dataChanged.emit(self.index(row_number, 0), self.index(row_number, self.COLUMN_COUNT - 1))
        self.countsChanged.emit()

    def set_status(self, row_numbers: Iterable[int], status: str | None) -> None:
        """Give rows a status (None: undo the unsent edit)."""
        for number in sorted(set(row_numbers)):
            if 0 <= number < len(self._rows):
                self._set_local(number, status)

    def mark_unmarked(self, status: str = "absent") -> int:
        """Give every row without a status this one; returns how many rows changed."""
        numbers = [n for n, row in enumerate(self._rows) if row.status is None]
        self.set_status(numbers, status)
        return len(numbers)

    def local_marks(self) -> list[tuple[str, str]]:
        """The professor's unsent edits as (student_id, status), in roster order."""
        return [(row.student_id, row.local_status) for row in self._rows if row.local_status]

    def clear_local(self) -> None:
        for number, row in enumerate(self._rows):
            if row.local_status:
                row.local_status = None
                self.dataChanged.emit(self.index(number, 0), self.index(number, self.COLUMN_COUNT - 1))
        self.countsChanged.emit()

    # -- reading --------------------------------------------------------------------------------

    def row(self, number: int) -> RosterRow:
        return self._rows[number]

    def rows(self) -> list[RosterRow]:
        return list(self._rows)

    def find(self, student_id: str) -> int:
        return next((n for n, row in enumerate(self._rows) if row.student_id == student_id), -1)

    def counts(self) -> Counts:
        marked = sum(1 for row in self._rows if row.status)
        return Counts(
            total=len(self._rows),
            marked=marked,
            unmarked=len(self._rows) - marked,
            changed=sum(1 for row in self._rows if row.local_status),
            pending=sum(1 for row in self._rows if row.pending_status and not row.local_status),
        )
