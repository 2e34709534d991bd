"""The photos of one enrolment as a Qt list model: one row per asked pose (straight, a little to
the left, right, up, down), with its photo, the local check, and the server's verdict.

Photos are kept in memory only (never on disk: biometric data) until the next student.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import QAbstractListModel, QCoreApplication, QModelIndex, QSize, Qt
from PyQt5.QtGui import QBrush, QColor, QImage, QPixmap

from client.desktop import enrol_checks as checks
from client.frame_source import FaceFrame

#: The server's problems that "Enrol anyway" (force) lifts; the others need a new photo.
FORCEABLE_PROBLEMS = frozenset({"unlike_student", "like_other_student"})
THUMBNAIL_SIZE = QSize(56, 56)


_translate = QCoreApplication.translate  # the name pylupdate5 looks for


def pose_label(pose: str) -> str:
    labels = {
        "straight": _translate("Enrol", "Straight"),
        "left": _translate("Enrol", "A little to the left"),
        "right": _translate("Enrol", "A little to the right"),
        "up": _translate("Enrol", "A little up"),
        "down": _translate("Enrol", "A little down"),
    }
    return labels[pose]


def pose_instruction(pose: str) -> str:
    """What the student is asked to do."""
    instructions = {
        "straight": _translate("Enrol", "Look straight at the camera."),
        "left": _translate("Enrol", "Turn your head a little to your left."),
        "right": _translate("Enrol", "Turn your head a little to your right."),
        "up": _translate("Enrol", "Tilt your head up a little."),
        "down": _translate("Enrol", "Tilt your head down a little."),
    }
    return instructions[pose]


def problem_text(problem: str) -> str:
    """What to do about a problem of the local check (enrol_checks)."""
    texts = {
        checks.TOO_SMALL: _translate("Enrol", "Come closer to the camera."),
        checks.BLURRY: _translate("Enrol", "Hold still: the picture is blurred."),
        checks.EYES_CLOSED: _translate("Enrol", "Open your eyes."),
        checks.TURN_LEFT: _translate("Enrol", "Turn a little more to your left."),
        checks.TURN_RIGHT: _translate("Enrol", "Turn a little more to your right."),
        checks.TILT_UP: _translate("Enrol", "Tilt your head up a little more."),
        checks.TILT_DOWN: _translate("Enrol", "Tilt your head down a little more."),
    }
    return texts.get(problem, problem)


def verdict_text(verdict, stored: bool) -> str:
    """The server's verdict on one photo (framed.EnrolledPhoto)."""
    if verdict.problem is None:
        return _translate("Enrol", "stored ✓") if stored else _translate("Enrol", "fine")
    distance = "" if verdict.distance is None else f"{verdict.distance:.2f}"
    texts = {
        "no_face": _translate("Enrol", "the server found no face: take it again"),
        "several_faces": _translate("Enrol", "the server found several faces: take it again"),
        "bad_image": _translate("Enrol", "the server could not read the photo: take it again"),
        "unlike_student": _translate("Enrol", "unlike this student's other photos (distance %1)").replace(
            "%1", distance
        ),
        "like_other_student": _translate("Enrol", "looks like student %1 (distance %2)")
        .replace("%1", verdict.other_student or "?")
        .replace("%2", distance),
    }
    text = texts.get(verdict.problem, verdict.problem)
    return text + " · " + _translate("Enrol", "stored anyway") if stored else text


@dataclass
class EnrolStep:
    """One asked pose: its photo (with a thumbnail and the local check), or skipped; the server's
    verdict after a send (``stored``: the photos were stored)."""

    pose: str
    frame: FaceFrame | None = None
    thumbnail: QImage | None = None
    check: checks.PhotoCheck | None = None
    skipped: bool = False
    verdict: object = None  # framed.EnrolledPhoto
    stored: bool = False

    @property
    def done(self) -> bool:
        return self.frame is not None or self.skipped


class EnrolModel(QAbstractListModel):
    """The steps of one enrolment, in :data:`~client.desktop.enrol_checks.POSES` order. The
    current step is the first one without a photo that is not skipped."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._steps = [EnrolStep(pose) for pose in checks.POSE_NAMES]

    # -- reading --------------------------------------------------------------------------------

    def step(self, row: int) -> EnrolStep:
        return self._steps[row]

    def current(self) -> int | None:
        return next((n for n, step in enumerate(self._steps) if not step.done), None)

    def reference(self) -> checks.FaceMeasures | None:
        """The straight photo's measures, from which the other poses are measured."""
        straight = self._steps[0]
        return straight.check.measures if straight.check is not None else None

    def photos(self) -> list[tuple[int, FaceFrame]]:
        """(row, photo) of every step with a photo, in order: what is sent."""
        return [(n, step.frame) for n, step in enumerate(self._steps) if step.frame is not None]

    def ready(self) -> bool:
        """Every step has a photo or is skipped (the straight one cannot be skipped)."""
        return all(step.done for step in self._steps)

    def forceable(self) -> bool:
        """The last send stored nothing, and only for problems that "Enrol anyway" lifts."""
        problems = [
            step.verdict.problem
            for step in self._steps
            if step.verdict is not None and step.verdict.problem is not None
        ]
        return bool(problems) and all(problem in FORCEABLE_PROBLEMS for problem in problems)

    # -- changing -------------------------------------------------------------------------------

    def set_photo(self, row: int, frame: FaceFrame, thumbnail: QImage, check: checks.PhotoCheck) -> None:
        self._steps[row] = EnrolStep(self._steps[row].pose, frame, thumbnail, check)
        self._changed(row)

    def skip(self, row: int) -> bool:
        """Skip a pose the student cannot take (not the straight one); False when refused."""
        if row <= 0 or row >= len(self._steps):
            return False
        self._steps[row] = EnrolStep(self._steps[row].pose, skipped=True)
        self._changed(row)
        return True

    def retake(self, row: int) -> None:
        """Take this pose again; the straight photo again means every pose again (the others are
        measured from it)."""
        rows = range(len(self._steps)) if row == 0 else [row]
        for number in rows:
            self._steps[number] = EnrolStep(self._steps[number].pose)
            self._changed(number)

    def reset(self) -> None:
        self.beginResetModel()
        self._steps = [EnrolStep(pose) for pose in checks.POSE_NAMES]
        self.endResetModel()

    def clear_verdicts(self) -> None:
        """The verdicts no longer apply (another student ID)."""
        for number, step in enumerate(self._steps):
            if step.verdict is not None:
                step.verdict, step.stored = None, False
                self._changed(number)

    def set_verdicts(self, reply) -> list[int]:
        """Give each sent photo the server's verdict (framed.EnrollResponse, photos in the order
        of :meth:`photos`). The photos the server cannot use at all (no face, several faces,
        unreadable) are dropped to be taken again; returns their rows."""
        retake = []
        for (row, _frame), verdict in zip(self.photos(), reply.photos):
            step = self._steps[row]
            step.verdict, step.stored = verdict, reply.stored > 0
            if verdict.problem is not None and verdict.problem not in FORCEABLE_PROBLEMS:
                step.frame = step.thumbnail = step.check = None
                retake.append(row)
            self._changed(row)
        return retake

    def _changed(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)

    # -- Qt model interface ---------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # Qt name
        return 0 if parent.isValid() else len(self._steps)

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._steps):
            return None
        step = self._steps[index.row()]
        if role == Qt.DisplayRole:
            return f"{index.row() + 1}. {pose_label(step.pose)}\n{self._state(index.row(), step)}"
        if role == Qt.DecorationRole:
            if step.thumbnail is None:
                placeholder = QPixmap(THUMBNAIL_SIZE)
                placeholder.fill(QColor("#e0e0e0"))
                return placeholder
            return QPixmap.fromImage(step.thumbnail).scaled(THUMBNAIL_SIZE, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        if role == Qt.ForegroundRole and step.verdict is not None and step.verdict.problem and not step.stored:
            return QBrush(QColor("#b00020"))
        return None

    def _state(self, row: int, step: EnrolStep) -> str:
        if step.verdict is not None:
            return _translate("Enrol", "Server: %1").replace("%1", verdict_text(step.verdict, step.stored))
        if step.skipped:
            return _translate("Enrol", "skipped")
        if step.frame is not None:
            return _translate("Enrol", "taken ✓")
        if row == self.current():
            return _translate("Enrol", "now: %1").replace("%1", pose_instruction(step.pose))
        return _translate("Enrol", "to do")
