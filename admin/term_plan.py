"""The term's calendar as ``attendance-db schedule`` reads it (pure code, no database).

    meetings = parse_weekly("MON 09:00-10:15, WED 09:00-10:15")
    holidays = read_holidays(Path("holidays-2027.txt"))
    plan = plan_term(meetings, date(2027, 3, 2), date(2027, 6, 19), skip=holidays)

``--weekly``: meetings separated by commas, each ``DAY HH:MM-HH:MM`` with DAY one of MON TUE WED
THU FRI SAT SUN (any case; MONDAY... too). At most one meeting a day: a session is one lecture
on one date (db/schema.sql, class_sessions).

The holidays file (UTF-8 text, docs/maintenance.md "The term's calendar"): one entry a line,
``YYYY-MM-DD`` or a range ``YYYY-MM-DD..YYYY-MM-DD`` (both ends included), optionally followed
by a name after a space; ``#`` starts a comment; blank lines are ignored::

    # Korean public holidays, spring 2027
    2027-03-01 삼일절
    2027-05-05 어린이날
    2027-04-19..2027-04-23 midterm week
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_FULL_DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
#: Longest term ``schedule`` accepts, in days (a typo in a year makes thousands of sessions).
MAX_TERM_DAYS = 366

_MEETING = re.compile(r"([A-Za-z]+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")
_HOLIDAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?(?:\s+(.*))?")


class PlanError(ValueError):
    """The weekly meetings, the dates or the holidays file cannot be used; the message says where."""


@dataclass(frozen=True)
class Meeting:
    weekday: int  # 0 = Monday, as date.weekday()
    start: dt.time
    end: dt.time

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


@dataclass(frozen=True)
class PlannedSession:
    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class TermPlan:
    sessions: tuple[PlannedSession, ...]
    skipped: tuple[tuple[dt.date, str], ...]  # meeting days left out, with why (holiday name, --skip)


def parse_weekly(text: str) -> list[Meeting]:
    """The meetings of ``--weekly``, by weekday. :raises PlanError: naming the bad part."""
    meetings: dict[int, Meeting] = {}
    parts = [part.strip() for part in text.split(",")]
    if not any(parts):
        raise PlanError("--weekly: no meeting given (e.g. 'MON 09:00-10:15, WED 09:00-10:15')")
    for part in parts:
        match = _MEETING.fullmatch(part)
        if match is None:
            raise PlanError(f"--weekly: {part!r} is not 'DAY HH:MM-HH:MM' (e.g. 'MON 09:00-10:15')")
        name, start_text, end_text = match.groups()
        weekday = _weekday(name.upper(), part)
        start, end = _time(start_text, part), _time(end_text, part)
        if end <= start:
            raise PlanError(f"--weekly: {part!r} ends before it starts")
        if weekday in meetings:
            raise PlanError(
                f"--weekly: two meetings on {DAYS[weekday]}: a lecture has at most one session a day "
                "(make the second meeting a lecture of its own)"
            )
        meetings[weekday] = Meeting(weekday, start, end)
    return [meetings[day] for day in sorted(meetings)]


def read_holidays(path: Path) -> dict[dt.date, str]:
    """The dates of a holidays file (see the module docstring) -> their names ('' when none).

    :raises PlanError: naming the file and line; OSError when it cannot be read.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PlanError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_holidays(text, str(path))


def parse_holidays(text: str, source: str = "holidays") -> dict[dt.date, str]:
    holidays: dict[dt.date, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _HOLIDAY.fullmatch(line)
        if match is None:
            raise PlanError(
                f"{source}, line {number}: {line!r} is not YYYY-MM-DD [name] or YYYY-MM-DD..YYYY-MM-DD [name]"
            )
        first_text, last_text, name = match.groups()
        first = _date(first_text, source, number)
        last = _date(last_text, source, number) if last_text else first
        if last < first:
            raise PlanError(f"{source}, line {number}: the range ends before it starts")
        if (last - first).days > MAX_TERM_DAYS:
            raise PlanError(f"{source}, line {number}: a range of more than {MAX_TERM_DAYS} days")
        day = first
        while day <= last:
            holidays[day] = (name or "").strip()
            day += dt.timedelta(days=1)
    return holidays


def plan_term(
    meetings: Iterable[Meeting],
    first: dt.date,
    last: dt.date,
    *,
    holidays: Mapping[dt.date, str] | None = None,
    skip: Iterable[dt.date] = (),
) -> TermPlan:
    """The sessions of the meetings from ``first`` to ``last`` (both included), without the
    holidays and the ``skip`` dates. :raises PlanError: for dates out of order or too far apart."""
    if last < first:
        raise PlanError(f"--to {last} is before --from {first}")
    if (last - first).days >= MAX_TERM_DAYS:
        raise PlanError(f"--from {first} --to {last}: more than {MAX_TERM_DAYS} days (one term at a time)")
    by_weekday = {meeting.weekday: meeting for meeting in meetings}
    holidays = holidays or {}
    skipped_dates = set(skip)
    sessions, skipped = [], []
    day = first
    while day <= last:
        meeting = by_weekday.get(day.weekday())
        if meeting is not None:
            if day in skipped_dates:
                skipped.append((day, "--skip"))
            elif day in holidays:
                skipped.append((day, holidays[day] or "holiday"))
            else:
                sessions.append(
                    PlannedSession(day, dt.datetime.combine(day, meeting.start), dt.datetime.combine(day, meeting.end))
                )
        day += dt.timedelta(days=1)
    return TermPlan(tuple(sessions), tuple(skipped))


def _weekday(name: str, part: str) -> int:
    if name in DAYS:
        return DAYS.index(name)
    if name in _FULL_DAYS:
        return _FULL_DAYS.index(name)
    raise PlanError(f"--weekly: {part!r}: the day must be one of {' '.join(DAYS)}")


def _time(text: str, part: str) -> dt.time:
    try:
        hours, minutes = (int(x) for x in text.split(":"))
        return dt.time(hours, minutes)
    except ValueError:
        raise PlanError(f"--weekly: {part!r}: {text!r} is not a time HH:MM") from None


def _date(text: str, source: str, number: int) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PlanError(f"{source}, line {number}: {text!r} is not a date") from None
