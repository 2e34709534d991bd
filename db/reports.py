"""Attendance reports: one lecture's student × session matrix, per-student totals and rates.

    report = build_report(cur, "ea0017_1", date_from=None, date_to=None, late_weight=0.5)

The rules (docs/reports.md) in short. Each (enrolled student, session) cell is:

- the student's mark when there is one: P present, L late, A absent, E excused, O left early;
- ``-`` for a session before the student's enrollment date, when the student has no mark there;
- blank (``""``) for a session still open (closed_at NULL, dated today or later) without a mark;
- A (absent) for any other session without a mark: the student was not marked.

Attendance rate, in percent, rounded to 0.1:
``(present + late_weight × (late + left_early)) / (present + late + left_early + absent)``.
Excused sessions, ``-`` and blank cells are not in the denominator. No counted session: None.

The database does the work: three queries (sessions with their totals, students with their
totals, the cells) share one common table expression, ``cells`` below. Python only places the
cells in the matrix. The views in db/schema.sql apply the same rules with late_weight 0.5.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

DEFAULT_LATE_WEIGHT = 0.5

#: The matrix letter of each status; NOT_ENROLLED and UNMARKED are the two cells without a status.
LETTERS = {"present": "P", "late": "L", "absent": "A", "excused": "E", "left_early": "O"}
NOT_ENROLLED = "-"
UNMARKED = ""

# Stand-ins for "no bound" in --from/--to: the DATE range of MySQL.
_FIRST_DATE = datetime.date(1000, 1, 1)
_LAST_DATE = datetime.date(9999, 12, 31)


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


@dataclass(frozen=True)
class LectureReport:
    lecture_code: str
    title: str | None
    date_from: datetime.date | None  # as asked (None: from the first session)
    date_to: datetime.date | None  # as asked (None: up to the last session)
    late_weight: float
    sessions: tuple[SessionColumn, ...]  # by date
    students: tuple[StudentRow, ...]  # every enrolled student, by student ID

    def below(self, percent: float) -> list[StudentRow]:
        """The warning list: students whose rate is under ``percent``, lowest rate first.

        Students without a counted session (rate None) are not listed.
        """
        low = [s for s in self.students if s.tally.rate is not None and s.tally.rate < percent]
        return sorted(low, key=lambda s: (s.tally.rate, s.student_id))


# -- the queries -------------------------------------------------------------------------------

# One row per (enrolled student, session of the lecture in the date range): the cell's state, a
# status or 'not_enrolled' / 'unmarked'. The mark wins over everything else. The same CASE is in
# the attendance_sessions_v view (db/schema.sql).
_CELLS = """
WITH cells AS (
    SELECT e.student_id, s.session_id,
           CASE
               WHEN a.status IS NOT NULL THEN a.status
               WHEN s.session_date < DATE(e.enrolled_at) THEN 'not_enrolled'
               WHEN s.closed_at IS NULL AND s.session_date >= CURRENT_DATE THEN 'unmarked'
               ELSE 'absent'
           END AS state
    FROM enrollments e
    JOIN class_sessions s ON s.lecture_id = e.lecture_id
    LEFT JOIN attendance a ON a.session_id = s.session_id AND a.student_id = e.student_id
    WHERE e.lecture_id = %(lecture_id)s
      AND s.session_date BETWEEN %(date_from)s AND %(date_to)s
)
"""

# The totals of a group of cells c (a COUNT over no row is 0; the rate is NULL then).
_TALLY = """
    COUNT(CASE WHEN c.state = 'present' THEN 1 END) AS present,
    COUNT(CASE WHEN c.state = 'late' THEN 1 END) AS late,
    COUNT(CASE WHEN c.state = 'absent' THEN 1 END) AS absent,
    COUNT(CASE WHEN c.state = 'excused' THEN 1 END) AS excused,
    COUNT(CASE WHEN c.state = 'left_early' THEN 1 END) AS left_early,
    ROUND(100 * SUM(CASE WHEN c.state = 'present' THEN 1
                         WHEN c.state IN ('late', 'left_early') THEN %(late_weight)s
                         ELSE 0 END)
              / NULLIF(COUNT(CASE WHEN c.state IN ('present', 'late', 'left_early', 'absent')
                                  THEN 1 END), 0), 1) AS rate
"""

_SESSIONS = (
    _CELLS
    + "SELECT s.session_id, s.session_date,"
    + " (s.closed_at IS NULL AND s.session_date >= CURRENT_DATE) AS still_open,"
    + _TALLY
    + """
FROM class_sessions s
LEFT JOIN cells c ON c.session_id = s.session_id
WHERE s.lecture_id = %(lecture_id)s
  AND s.session_date BETWEEN %(date_from)s AND %(date_to)s
GROUP BY s.session_id, s.session_date, s.closed_at
ORDER BY s.session_date
"""
)

_STUDENTS = (
    _CELLS
    + "SELECT st.student_id, st.name, DATE(e.enrolled_at) AS enrolled_on,"
    + _TALLY
    + """
FROM enrollments e
JOIN students st ON st.student_id = e.student_id
LEFT JOIN cells c ON c.student_id = e.student_id
WHERE e.lecture_id = %(lecture_id)s
GROUP BY st.student_id, st.name, e.enrolled_at
ORDER BY st.student_id
"""
)

_CELL_ROWS = _CELLS + "SELECT c.student_id, c.session_id, c.state FROM cells c"


def build_report(
    cur,
    lecture_code: str,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    late_weight: float = DEFAULT_LATE_WEIGHT,
) -> LectureReport:
    """The report of one lecture (code already normalized to lower case), dates inclusive.

    Raises LectureNotFound for an unknown code, ValueError for date_from after date_to or a
    late_weight outside 0..1. A lecture without sessions (in the range) or without students gives
    a report with no sessions or no students: the caller decides what to say.
    """
    if date_from and date_to and date_from > date_to:
        raise ValueError(f"the start date {date_from} is after the end date {date_to}")
    if not 0 <= late_weight <= 1:
        raise ValueError(f"the late weight must be between 0 and 1, got {late_weight}")

    cur.execute("SELECT lecture_id, title FROM lectures WHERE code = %s", (lecture_code,))
    row = cur.fetchone()
    if row is None:
        raise LectureNotFound(f"no lecture {lecture_code}")
    lecture_id, title = row

    params = {
        "lecture_id": lecture_id,
        "date_from": date_from or _FIRST_DATE,
        "date_to": date_to or _LAST_DATE,
        # A Decimal keeps the arithmetic exact in SQL (a float such as 1e-05 would be a DOUBLE).
        "late_weight": Decimal(str(late_weight)),
    }
    cur.execute(_SESSIONS, params)
    sessions = [SessionColumn(r[0], r[1], bool(r[2]), _tally(r[3:])) for r in cur.fetchall()]
    cur.execute(_STUDENTS, params)
    student_rows = cur.fetchall()
    cur.execute(_CELL_ROWS, params)
    cell_rows = cur.fetchall()

    column = {s.session_id: i for i, s in enumerate(sessions)}
    cells = {r[0]: [UNMARKED] * len(sessions) for r in student_rows}
    for student_id, session_id, state in cell_rows:
        cells[student_id][column[session_id]] = _letter(state)
    students = [
        StudentRow(r[0], r[1], r[2], tuple(cells[r[0]]), _tally(r[3:])) for r in student_rows
    ]
    return LectureReport(
        lecture_code=lecture_code,
        title=title,
        date_from=date_from,
        date_to=date_to,
        late_weight=late_weight,
        sessions=tuple(sessions),
        students=tuple(students),
    )


def _letter(state: str) -> str:
    if state == "not_enrolled":
        return NOT_ENROLLED
    if state == "unmarked":
        return UNMARKED
    return LETTERS[state]


def _tally(row) -> Tally:
    present, late, absent, excused, left_early, rate = row
    return Tally(
        int(present), int(late), int(absent), int(excused), int(left_early),
        None if rate is None else float(rate),
    )
