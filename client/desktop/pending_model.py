"""Today's uncertain and late check-ins of a lecture, waiting for the professor's decision, as a
Qt table model (op ``pending``), and the students the professor may confirm one as. A late
check-in (``kind`` "late") is a recognized student's check-in after the session closed: the
student was told to see the professor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from PyQt5.QtCore import QAbstractTableModel, QModelIndex, Qt

PendingIdRole = Qt.UserRole + 1


@dataclass(frozen=True)
class Choice:
    """A student the professor can confirm a check-in as; ``candidate``: one the server named."""

    student_id: str
    name: str
    candidate: bool
    distance: float | None = None


def confirm_choices(checkin, roster: Iterable) -> list[Choice]:
    """The check-in's candidates (nearest first), then every other student of the roster (objects
    with ``student_id`` and ``name``) in roster order."""
    choices = [Choice(c.student_id, c.name or "", True, c.distance) for c in checkin.candidates]
    named = {c.student_id for c in choices}
    choices += [Choice(row.student_id, row.name, False) for row in roster if row.student_id not in named]
    return choices


class PendingModel(QAbstractTableModel):
    """One row per uncertain check-in (framed.PendingCheckin), oldest first."""

    TIME, CANDIDATES, FRAMES, CLIENT = range(4)
    COLUMN_COUNT = 4

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lecture: str | None = None
        self._checkins: list = []

    def set_checkins(self, lecture: str, checkins: Sequence) -> None:
        self.beginResetModel()
        self.lecture = lecture
        self._checkins = list(checkins)
        self.endResetModel()

    def clear(self) -> None:
        self.set_checkins(None, [])

    def checkin(self, row: int):
        return self._checkins[row]

    def find(self, pending_id: int) -> int:
        return next((n for n, c in enumerate(self._checkins) if c.pending_id == pending_id), -1)

    # -- Qt model interface ---------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # Qt name
        return 0 if parent.isValid() else len(self._checkins)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # Qt name
        return 0 if parent.isValid() else self.COLUMN_COUNT

    def headerData(self, section: int, orientation, role: int = Qt.DisplayRole):  # Qt name
        if role != Qt.DisplayRole or orientation != Qt.Horizontal:
            return None
        titles = {
            self.TIME: self.tr("Time"),
            self.CANDIDATES: self.tr("May be (nearest first)"),
            self.FRAMES: self.tr("Frames"),
            self.CLIENT: self.tr("From"),
        }
        return titles.get(section)

    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemNeverHasChildren

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._checkins):
            return None
        checkin = self._checkins[index.row()]
        if role == Qt.DisplayRole:
            return self._display(checkin, index.column())
        if role == PendingIdRole:
            return checkin.pending_id
        if role == Qt.ToolTipRole and index.column() == self.CANDIDATES and _is_late(checkin):
            return self.tr("This student checked in after the session closed; confirm to mark them (e.g. late).")
        if role == Qt.ToolTipRole and index.column() == self.CANDIDATES:
            return self.tr(
                "The students this face is near, with the face distance (smaller: more alike). "
                "Look at the student, then confirm or reject."
            )
        if role == Qt.TextAlignmentRole and index.column() in (self.TIME, self.FRAMES):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def _display(self, checkin, column: int):
        if column == self.TIME:
            return checkin.requested_at.partition("T")[2] or checkin.requested_at
        if column == self.CANDIDATES and _is_late(checkin):
            names = ", ".join(f"{c.name or '?'} ({c.student_id})" for c in checkin.candidates)
            return self.tr("Late check-in, after the close: %s") % names
        if column == self.CANDIDATES:
            return ", ".join(f"{c.name or '?'} ({c.student_id}) {c.distance:.2f}" for c in checkin.candidates) or "—"
        if column == self.FRAMES:
            return str(checkin.frames)
        if column == self.CLIENT:
            return checkin.client_name
        return None


def _is_late(checkin) -> bool:
    """A check-in made after the session closed (framed.PendingCheckin.kind)."""
    return getattr(checkin, "kind", "uncertain") == "late"
