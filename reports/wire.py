"""A :class:`~reports.domain.LectureReport` as the framed protocol's ``report`` reply, and back.

    reply = to_response(request_id, report)   # the server, after build_report()
    report = from_response(reply)             # the desktop app: the same LectureReport again

``from_response(to_response(n, report)) == report``: the client gets the very dataclasses the
server built, so ``reports.render`` (the CSV/XLSX writers, the chart) works on either side.
Only pure dataclasses are involved (reports/domain.py imports no database driver); nothing here
touches a database.
"""

from __future__ import annotations

import datetime

from protocol import framed
from reports.domain import LectureReport, SessionColumn, StudentRow, Tally


def to_response(request_id: int, report: LectureReport) -> framed.ReportResponse:
    return framed.ReportResponse(
        request_id,
        lecture=report.lecture_code,
        title=report.title,
        date_from=_iso(report.date_from),
        date_to=_iso(report.date_to),
        late_weight=float(report.late_weight),
        sessions=tuple(
            framed.ReportSession(s.session_id, s.date.isoformat(), s.still_open, *_totals(s.tally))
            for s in report.sessions
        ),
        rows=tuple(_row(s) for s in report.students),
    )


def from_response(reply: framed.ReportResponse) -> LectureReport:
    """The report a ``report`` reply carries. ValueError when a row's cells do not match the
    sessions (the protocol checks each field, not how the fields fit together)."""
    for row in reply.rows:
        if len(row.cells) != len(reply.sessions):
            raise ValueError(
                f"report of {reply.lecture}: student {row.student_id} has {len(row.cells)} cells "
                f"for {len(reply.sessions)} sessions"
            )
    return LectureReport(
        lecture_code=reply.lecture,
        title=reply.title,
        date_from=_date(reply.date_from),
        date_to=_date(reply.date_to),
        late_weight=reply.late_weight,
        sessions=tuple(
            SessionColumn(s.session_id, datetime.date.fromisoformat(s.date), s.still_open, _tally(s))
            for s in reply.sessions
        ),
        students=tuple(
            StudentRow(
                r.student_id,
                r.name,
                datetime.date.fromisoformat(r.enrolled_on),
                tuple(r.cells),
                _tally(r),
                dropped_on=_date(r.dropped_on),
                changed_after=_positions(r.changed_after, len(r.cells), r.student_id),
            )
            for r in reply.rows
        ),
    )


def _row(row: StudentRow) -> framed.ReportRow:
    t = row.tally
    return framed.ReportRow(
        row.student_id,
        row.name,
        row.enrolled_on.isoformat(),
        tuple(row.cells),
        t.present,
        t.late,
        t.absent,
        t.excused,
        t.left_early,
        t.rate,
        _iso(row.dropped_on),
        row.changed_after,
    )


def _positions(changed: tuple[int, ...], cells: int, student_id: str) -> tuple[int, ...]:
    """A row's changed_after, each a position in its cells (ValueError otherwise)."""
    if changed and changed[-1] >= cells:
        raise ValueError(f"student {student_id}: changed_after names cell {changed[-1]} of {cells}")
    return tuple(changed)


def _totals(tally: Tally) -> tuple:
    return tally.present, tally.late, tally.absent, tally.excused, tally.left_early, tally.rate


def _tally(item: framed.ReportSession | framed.ReportRow) -> Tally:
    return Tally(item.present, item.late, item.absent, item.excused, item.left_early, item.rate)


def _iso(day: datetime.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _date(text: str | None) -> datetime.date | None:
    return None if text is None else datetime.date.fromisoformat(text)
