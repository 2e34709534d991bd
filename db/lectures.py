"""Lectures: one row per lecture code (``ea0017_1``), stored lower case."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class Lecture:
    lecture_id: int
    code: str
    title: str | None
    starts_at: datetime.time | None  # the usual start time of a session (optional)
    duration_minutes: int | None


_SELECT_LECTURE = "SELECT lecture_id, code, title, starts_at, duration_minutes FROM lectures"


def get_lecture(cur, code: str) -> Lecture | None:
    """The lecture with this code (already normalized to lower case), or None."""
    cur.execute(_SELECT_LECTURE + " WHERE code = %s", (code,))
    row = cur.fetchone()
    return None if row is None else _lecture_from_row(row)


def ensure_lecture(cur, code: str, title: str | None = None) -> Lecture:
    """The lecture with this code, created (with ``title``) if missing.

    An existing lecture is returned unchanged: its title is not replaced.
    """
    lecture, _created = insert_lecture_if_missing(cur, code, title)
    return lecture


def insert_lecture_if_missing(cur, code: str, title: str | None = None) -> tuple[Lecture, bool]:
    """Like :func:`ensure_lecture`, and also tell whether the lecture was created (True)."""
    cur.execute(
        "INSERT INTO lectures (code, title) VALUES (%s, %s) ON DUPLICATE KEY UPDATE code = code",
        (code, title),
    )
    created = cur.rowcount == 1  # 1: inserted, 0: the row was already there
    # FOR UPDATE reads the latest committed row, even one another connection created after this
    # transaction's first read (a plain SELECT would read the older snapshot and find nothing).
    # The INSERT above already locked the row, so this takes no new lock.
    cur.execute(_SELECT_LECTURE + " WHERE code = %s FOR UPDATE", (code,))
    return _lecture_from_row(cur.fetchone()), created


def _lecture_from_row(row) -> Lecture:
    lecture_id, code, title, starts_at, duration_minutes = row
    return Lecture(lecture_id, code, title, _time_of_day(starts_at), duration_minutes)


def _time_of_day(value) -> datetime.time | None:
    """pymysql returns a TIME column as a timedelta (TIME can exceed 24 hours); we want a time."""
    if value is None or isinstance(value, datetime.time):
        return value
    if not datetime.timedelta(0) <= value < datetime.timedelta(days=1):
        raise ValueError(f"lecture start time is not a time of day: {value}")
    return (datetime.datetime.min + value).time()
