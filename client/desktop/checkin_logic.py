"""When a face check-in becomes a mark: the rules, without Qt, sockets or cameras.

The check-in screen feeds every recognition result to :class:`CheckinDecider` and does what the
returned :class:`Decision` says:

- ``none``: the server found no face: keep looking;
- ``unknown``: a face nobody on the roster matches: show it as unknown, never mark it;
- ``already``: this student was checked in on this PC in this lecture already: say so;
- ``confirm``: ask the student (Yes/No); :meth:`CheckinDecider.confirmed` after a Yes;
- ``wait``: automatic mode, the student was recognized ``streak`` times in a row, not K yet;
- ``mark``: automatic mode, recognized K times in consecutive sends: mark now.

Any send that does not recognize the same student (another student, unknown, no face, an error)
breaks the chain of consecutive recognitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence


def face_area(face: Any) -> int:
    return max(0, face.bottom - face.top) * max(0, face.right - face.left)


def main_face(faces: Sequence[Any]) -> Any | None:
    """The face the check-in is about: the largest one (the person closest to the camera)."""
    return max(faces, key=face_area, default=None)


@dataclass(frozen=True)
class Decision:
    kind: str  # none | unknown | already | confirm | wait | mark
    face: Any = None
    streak: int = 0
    needed: int = 1

    @property
    def student_id(self) -> str | None:
        return getattr(self.face, "student_id", None)


@dataclass
class CheckinDecider:
    auto: bool = False
    needed: int = 3
    checked_in: set[str] = field(default_factory=set)
    _last: str | None = None
    _streak: int = 0

    def configure(self, *, auto: bool, needed: int) -> None:
        self.auto = auto
        self.needed = max(1, int(needed))
        self.break_streak()

    def reset(self) -> None:
        """A new lecture: nobody is checked in on this PC yet."""
        self.checked_in.clear()
        self.break_streak()

    def break_streak(self) -> None:
        self._last = None
        self._streak = 0

    @property
    def streak(self) -> int:
        return self._streak

    def on_result(self, faces: Sequence[Any]) -> Decision:
        face = main_face(faces)
        if face is None:
            self.break_streak()
            return Decision("none")
        student_id = face.student_id
        if student_id is None:
            self.break_streak()
            return Decision("unknown", face)
        if student_id in self.checked_in:
            self.break_streak()
            return Decision("already", face)
        if not self.auto:
            return Decision("confirm", face, needed=1)
        if student_id == self._last:
            self._streak += 1
        else:
            self._last, self._streak = student_id, 1
        if self._streak >= self.needed:
            streak = self._streak
            self.break_streak()
            self.checked_in.add(student_id)
            return Decision("mark", face, streak, self.needed)
        return Decision("wait", face, self._streak, self.needed)

    def on_error(self) -> None:
        self.break_streak()

    def confirmed(self, student_id: str) -> None:
        self.checked_in.add(student_id)
        self.break_streak()

    def declined(self) -> None:
        self.break_streak()

    def forget(self, student_id: str) -> None:
        """The server refused the mark: the student may check in again."""
        self.checked_in.discard(student_id)
