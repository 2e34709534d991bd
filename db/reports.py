"""The SQL of an attendance report (reports/domain.py has the types and the rules).

    report = build_report(cur, "ea0017_1", date_from=None, date_to=None, late_weight=0.5)

The database does the work: three queries (sessions with their totals, students with their
totals, the cells) share one common table expression, ``cells`` below, which applies the cell
rules of reports/domain.py. Python only places the cells in the matrix. The views in
db/schema.sql apply the same rules with late_weight 0.5. A cancelled session
(``attendance-db cancel-session``) is in neither: it counts for nobody.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from db import history
from reports.domain import (
    DEFAULT_LATE_WEIGHT,
    LectureNotFound,
    LectureReport,
    SessionColumn,
    StudentRow,
    Tally,
    check_report_range,
    place_cells,
)

# Stand-ins for "no bound" in --from/--to: the DATE range of MySQL.
_FIRST_DATE = datetime.date(1000, 1, 1)
_LAST_DATE = datetime.date(9999, 12, 31)


# -- the queries -------------------------------------------------------------------------------

# One row per (enrolled student, session of the lecture in the date range): the cell's state, a
# status or 'not_enrolled' (before the enrollment, or from the day the student dropped the
# lecture) / 'unmarked'. The mark wins over everything else. The same CASE is in
# the attendance_sessions_v view (db/schema.sql); the states are reports.domain.cell_letter's.
_CELLS = """
WITH cells AS (
    SELECT e.student_id, s.session_id,
           CASE
               WHEN a.status IS NOT NULL THEN a.status
               WHEN s.session_date < DATE(e.enrolled_at) OR s.session_date >= e.dropped_on THEN 'not_enrolled'
               WHEN s.closed_at IS NULL AND s.session_date >= CURRENT_DATE THEN 'unmarked'
               ELSE 'absent'
           END AS state
    FROM enrollments e
    JOIN class_sessions s ON s.lecture_id = e.lecture_id AND s.cancelled_at IS NULL
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
  AND s.cancelled_at IS NULL
  AND s.session_date BETWEEN %(date_from)s AND %(date_to)s
GROUP BY s.session_id, s.session_date, s.closed_at
ORDER BY s.session_date
"""
)

_STUDENTS = (
    _CELLS
    + "SELECT st.student_id, st.name, DATE(e.enrolled_at) AS enrolled_on, e.dropped_on,"
    + _TALLY
    + """
FROM enrollments e
JOIN students st ON st.student_id = e.student_id
LEFT JOIN cells c ON c.student_id = e.student_id
WHERE e.lecture_id = %(lecture_id)s
GROUP BY st.student_id, st.name, e.enrolled_at, e.dropped_on
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
    check_report_range(date_from, date_to, late_weight)

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

    cells = place_cells(sessions, [r[0] for r in student_rows], cell_rows)
    column = {session.session_id: index for index, session in enumerate(sessions)}
    changed: dict[str, list[int]] = {}
    for session_id, student_id in history.changed_after_session(cur, lecture_id, date_from, date_to):
        if session_id in column:
            changed.setdefault(student_id, []).append(column[session_id])
    students = [
        StudentRow(
            r[0],
            r[1],
            r[2],
            cells[r[0]],
            _tally(r[4:]),
            dropped_on=r[3],
            changed_after=tuple(sorted(changed.get(r[0], ()))),
        )
        for r in student_rows
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


def _tally(row) -> Tally:
    present, late, absent, excused, left_early, rate = row
    return Tally(
        int(present),
        int(late),
        int(absent),
        int(excused),
        int(left_early),
        None if rate is None else float(rate),
    )
