"""A lecture's attendance report (reports/domain.py LectureReport) as a Qt table model.

One row per enrolled student, by student ID; the columns: student ID, name, one per session
(date order), the totals P L A E O and the attendance rate. Session cells are colored as in the
chart (reports/render.COLORS); a cell whose mark was changed on a later day than its session
shows the letter followed by ``*`` (as in the exports) and says so in its tooltip. The students
below the warning percentage are highlighted.
"""

from __future__ import annotations

from PyQt5.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, Qt
from PyQt5.QtGui import QBrush, QColor, QFont

from client.desktop.plain_text import plain_tooltip
from client.desktop.roster_model import status_label
from reports.domain import CHANGED_AFTER_MARK, LETTERS, NOT_ENROLLED, UNMARKED, LectureReport, StudentRow
from reports.render import COLORS

#: The total columns after the sessions, in this order (as in the CSV), then the rate.
TOTALS = ("present", "late", "absent", "excused", "left_early")
STATUS_OF_LETTER = {letter: status for status, letter in LETTERS.items()}

#: The value behind a cell: the letter (P L A E O, "-" or ""), a count (int), a rate (float or
#: None), or the student ID / name.
ValueRole = Qt.UserRole + 1
#: True for every cell of a student in the warning list (rate below the percentage).
WarningRole = Qt.UserRole + 2
#: True for a session cell whose mark was changed on a later day than its session.
ChangedAfterRole = Qt.UserRole + 3

WARNING_TEXT = QColor("#b00020")
WARNING_BACKGROUND = QColor("#fdecea")


def cell_label(letter: str) -> str:
    """A matrix cell in words (translated), for tooltips and legends."""
    if letter == NOT_ENROLLED:
        return QCoreApplication.translate("ReportModel", "Not enrolled yet")
    if letter == UNMARKED:
        return QCoreApplication.translate("ReportModel", "Open, not marked yet")
    if letter == "A":
        return QCoreApplication.translate("ReportModel", "Absent (or not marked)")
    return status_label(STATUS_OF_LETTER.get(letter, letter))


def format_rate(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1f}"


class ReportModel(QAbstractTableModel):
    STUDENT_ID, NAME = 0, 1
    FIRST_SESSION = 2

    def __init__(self, parent=None):
        super().__init__(parent)
        self._report: LectureReport | None = None
        self._below: float | None = None
        self._warned: set[str] = set()

    # -- contents -------------------------------------------------------------------------------

    @property
    def report(self) -> LectureReport | None:
        return self._report

    @property
    def below(self) -> float | None:
        return self._below

    def set_report(self, report: LectureReport | None, below: float | None = None) -> None:
        self.beginResetModel()
        self._report = report
        self._below = below
        self._warned = self._warning_ids()
        self.endResetModel()

    def clear(self) -> None:
        self.set_report(None, self._below)

    def set_below(self, percent: float | None) -> None:
        """Highlight the students whose rate is under ``percent`` (None: nobody)."""
        self._below = percent
        warned = self._warning_ids()
        if warned != self._warned:
            self._warned = warned
            if self.rowCount():
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def warning_list(self) -> list[StudentRow]:
        """The students under the percentage, lowest rate first (LectureReport.below)."""
        if self._report is None or self._below is None:
            return []
        return self._report.below(self._below)

    def _warning_ids(self) -> set[str]:
        return {s.student_id for s in self.warning_list()}

    # -- columns --------------------------------------------------------------------------------

    @property
    def session_count(self) -> int:
        return len(self._report.sessions) if self._report else 0

    @property
    def first_total(self) -> int:
        return self.FIRST_SESSION + self.session_count

    @property
    def rate_column(self) -> int:
        return self.first_total + len(TOTALS)

    def session_of(self, column: int) -> int | None:
        """The session index of a column, or None for the other columns."""
        index = column - self.FIRST_SESSION
        return index if 0 <= index < self.session_count else None

    # -- Qt model interface ---------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # Qt name
        if parent.isValid() or self._report is None:
            return 0
        return len(self._report.students)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # Qt name
        if parent.isValid() or self._report is None:
            return 0
        return self.rate_column + 1

    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemNeverHasChildren

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):
        if self._report is None:
            return None
        if orientation == Qt.Vertical:
            if role == Qt.DisplayRole and 0 <= section < self.rowCount():
                return str(section + 1)
            return None
        if not 0 <= section < self.columnCount():
            return None
        if role == Qt.DisplayRole:
            return self._header_text(section)
        if role == Qt.ToolTipRole:
            return self._header_tooltip(section)
        return None

    def _header_text(self, section: int) -> str:
        if section == self.STUDENT_ID:
            return self.tr("Student ID")
        if section == self.NAME:
            return self.tr("Name")
        session = self.session_of(section)
        if session is not None:
            sessions = self._report.sessions
            if (sessions[-1].date - sessions[0].date).days < 365:
                return sessions[session].date.strftime("%m-%d")
            return sessions[session].date.isoformat()
        if section == self.rate_column:
            return self.tr("Rate %")
        return LETTERS[TOTALS[section - self.first_total]]

    def _header_tooltip(self, section: int) -> str | None:
        session = self.session_of(section)
        if session is not None:
            column = self._report.sessions[session]
            text = column.date.isoformat()
            if column.still_open:
                text += " · " + self.tr("open (unmarked students are blank)")
            return text + " · " + self.tr("session rate: %1").replace("%1", format_rate(column.tally.rate) or "–")
        if section == self.rate_column:
            return self.tr("Attendance rate in percent: (P + %1 × (L + O)) / (P + L + O + A)").replace(
                "%1", f"{self._report.late_weight:g}"
            )
        if section >= self.first_total:
            return self.tr("Sessions: %1").replace("%1", status_label(TOTALS[section - self.first_total]))
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or self._report is None:
            return None
        row, column = index.row(), index.column()
        if not (0 <= row < self.rowCount() and 0 <= column < self.columnCount()):
            return None
        student = self._report.students[row]
        session = self.session_of(column)
        warned = student.student_id in self._warned
        if role == ValueRole:
            return self._value(student, column, session)
        if role == Qt.DisplayRole:
            value = self._value(student, column, session)
            if column == self.rate_column:
                return format_rate(value)
            if session is not None and session in student.changed_after:
                return value + CHANGED_AFTER_MARK
            return value if isinstance(value, str) else str(value)
        if role == WarningRole:
            return warned
        if role == ChangedAfterRole:
            return session is not None and session in student.changed_after
        if role == Qt.BackgroundRole:
            if session is not None:
                letter = student.cells[session]
                return QBrush(QColor(COLORS[letter])) if letter else None
            if warned and column in (self.STUDENT_ID, self.NAME, self.rate_column):
                return QBrush(WARNING_BACKGROUND)
            return None
        if role == Qt.ForegroundRole and warned and session is None:
            return QBrush(WARNING_TEXT)
        if role == Qt.FontRole and warned and column == self.rate_column:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.TextAlignmentRole:
            if session is not None:
                return int(Qt.AlignCenter)
            if column >= self.first_total:
                return int(Qt.AlignRight | Qt.AlignVCenter)
            return None
        if role == Qt.ToolTipRole:
            if session is not None:
                day = self._report.sessions[session].date.isoformat()
                text = f"{student.student_id} {student.name} · {day}: {cell_label(student.cells[session])}"
                if session in student.changed_after:
                    text += " · " + self.tr("changed after its session (see the history)")
                return plain_tooltip(text)
            if warned and column == self.rate_column:
                return self.tr("Below %1 %").replace("%1", f"{self._below:g}")
        return None

    def _value(self, student: StudentRow, column: int, session: int | None):
        if column == self.STUDENT_ID:
            return student.student_id
        if column == self.NAME:
            return student.name
        if session is not None:
            return student.cells[session]
        if column == self.rate_column:
            return student.tally.rate
        return getattr(student.tally, TOTALS[column - self.first_total])
