"""Attendance reports: one lecture's student × session matrix, per-student totals and rates.

The types every side shares (the server builds them, the wire carries them, the renderers and the
desktop read them) and the pure rules. This module imports no database driver: db/reports.py
runs the queries and returns these types.

The rules (docs/reports.md) in short. Each (enrolled student, session) cell is:

- the student's mark when there is one: P present, L late, A absent, E excused, O left early;
- ``-`` for a session before the student's enrollment date, or on or after the day the student
  dropped the lecture (``StudentRow.dropped_on``), when the student has no mark there;
- blank (``""``) for a session still open (closed_at NULL, dated today or later) without a mark;
- A (absent) for any other session without a mark: the student was not marked.

Attendance rate, in percent, rounded to 0.1:
``(present + late_weight × (late + left_early)) / (present + late + left_early + absent)``.
Excused sessions, ``-`` and blank cells are not in the denominator. No counted session: None.
The database computes the rates (db/reports.py); the views in db/schema.sql apply the same rules
with late_weight 0.5.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

DEFAULT_LATE_WEIGHT = 0.5

#: The matrix letter of each status; NOT_ENROLLED and UNMARKED are the two cells without a status.
LETTERS = {"present": "P", "late": "L", "absent": "A", "excused": "E", "left_early": "O"}
NOT_ENROLLED = "-"
UNMARKED = ""


class LectureNotFound(LookupError):
    """No lecture has this code."""


@dataclass(frozen=True)
class Tally:
    """How many cells of each status, and the attendance rate they give."""

    present: int
    late: int
    absent: int
    excused: int
    left_early: int
    rate: float | None  # percent, rounded to 0.1; None when no session counts

    @property
    def counted(self) -> int:
        """The rate's denominator: sessions that count (excused ones do not)."""
        return self.present + self.late + self.left_early + self.absent


@dataclass(frozen=True)
class SessionColumn:
    session_id: int
    date: datetime.date
    still_open: bool  # closed_at is NULL and the date is today or later: unmarked cells are blank
    tally: Tally  # over the students enrolled by that day (the session's rate is for the chart)


@dataclass(frozen=True)
class StudentRow:
    student_id: str
    name: str
    enrolled_on: datetime.date
    cells: tuple[str, ...]  # one per session of the report, in date order: a LETTERS value, "-" or ""
    tally: Tally
    #: The day the student dropped the lecture (import-roster --sync); None while enrolled.
    dropped_on: datetime.date | None = None
    #: Positions in ``cells`` whose mark was changed on a later day than its session (db/history.py).
    changed_after: tuple[int, ...] = ()


@dataclass(frozen=True)
class LectureReport:
    lecture_code: str
    title: str | None
    date_from: datetime.date | None  # as asked (None: from the first session)
    date_to: datetime.date | None  # as asked (None: up to the last session)
    late_weight: float
    sessions: tuple[SessionColumn, ...]  # by date
    students: tuple[StudentRow, ...]  # every enrolled student (dropped ones too), by student ID

    def below(self, percent: float) -> list[StudentRow]:
        """The warning list: students whose rate is under ``percent``, lowest rate first.

        Students without a counted session (rate None) are not listed.
        """
        low = [s for s in self.students if s.tally.rate is not None and s.tally.rate < percent]
        return sorted(low, key=lambda s: (s.tally.rate, s.student_id))


#: What the renderings put after a cell changed after its session (StudentRow.changed_after).
CHANGED_AFTER_MARK = "*"


def check_report_range(date_from: datetime.date | None, date_to: datetime.date | None, late_weight: float) -> None:
    """ValueError for date_from after date_to or a late_weight outside 0..1."""
    if date_from and date_to and date_from > date_to:
        raise ValueError(f"the start date {date_from} is after the end date {date_to}")
    if not 0 <= late_weight <= 1:
        raise ValueError(f"the late weight must be between 0 and 1, got {late_weight}")


def cell_letter(state: str) -> str:
    """A cell's letter from its state: a status, or 'not_enrolled' / 'unmarked' (db/reports.py)."""
    if state == "not_enrolled":
        return NOT_ENROLLED
    if state == "unmarked":
        return UNMARKED
    return LETTERS[state]


def place_cells(sessions: list[SessionColumn], student_ids: list[str], cell_states) -> dict[str, tuple[str, ...]]:
    """Each student's row of cells, in session order, from (student_id, session_id, state) triples.

    A (student, session) pair without a triple stays UNMARKED.
    """
    column = {s.session_id: i for i, s in enumerate(sessions)}
    cells = {student_id: [UNMARKED] * len(sessions) for student_id in student_ids}
    for student_id, session_id, state in cell_states:
        cells[student_id][column[session_id]] = cell_letter(state)
    return {student_id: tuple(row) for student_id, row in cells.items()}
