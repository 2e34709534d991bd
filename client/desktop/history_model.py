"""The history of one student's mark in one session, as a Qt table model (the roll-call screen
shows it under the roster): each change the server recorded, oldest first, with who made it,
when, and why (op ``history``, docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Iterable

from PyQt5.QtCore import QAbstractTableModel, QModelIndex, Qt

from client.desktop.roster_model import source_label, status_label


class HistoryModel(QAbstractTableModel):
    TIME, CHANGE, SOURCE, BY, REASON = range(5)
    COLUMN_COUNT = 5

    def __init__(self, parent=None):
        super().__init__(parent)
        self.student_id: str | None = None
        self.session_date: str | None = None
        self._entries: list = []

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):
        if role != Qt.DisplayRole or orientation != Qt.Horizontal:
            return None
        titles = {
            self.TIME: self.tr("Changed at"),
            self.CHANGE: self.tr("Change"),
            self.SOURCE: self.tr("How"),
            self.BY: self.tr("By"),
            self.REASON: self.tr("Reason"),
        }
        return titles.get(section)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == Qt.ToolTipRole and index.column() == self.REASON:
            return entry.reason or None
        if role != Qt.DisplayRole:
            return None
        column = index.column()
        if column == self.TIME:
            return entry.changed_at.replace("T", " ")
        if column == self.CHANGE:
            if entry.old_status is None:
                return self.tr("%1 (new)").replace("%1", status_label(entry.new_status))
            return f"{status_label(entry.old_status)} → {status_label(entry.new_status)}"
        if column == self.SOURCE:
            return source_label(entry.source)
        if column == self.BY:
            return f"{entry.professor} ({entry.client_name})" if entry.professor else entry.client_name
        if column == self.REASON:
            return entry.reason or ""
        return None

    def set_history(self, student_id: str, session_date: str, entries: Iterable) -> None:
        """Show the changes (framed.HistoryEntry objects) of one student in one session."""
        self.beginResetModel()
        self.student_id, self.session_date = student_id, session_date
        self._entries = [e for e in entries if e.student_id == student_id and e.session_date == session_date]
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self.student_id = self.session_date = None
        self._entries = []
        self.endResetModel()

    def entries(self) -> list:
        return list(self._entries)
