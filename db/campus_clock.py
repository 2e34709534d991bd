"""The campus clock: the one time zone every date and time of the system is in.

The campus time zone is a setting (``--timezone Asia/Seoul``; unset: the server's own zone).
The server decides from this clock which session a mark, a check-in or a camera sample belongs
to; ``attendance-db`` and ``attendance-report`` compute "today" from it. DATETIME columns hold
campus time without a zone, so every connection's MySQL session gets the campus zone's UTC
offset (:func:`session_time_zone`): CURRENT_TIMESTAMP and CURRENT_DATE are then campus time too,
wherever the database server runs.

A client's timestamp (a camera sample's ``sampled_at``) with a UTC offset is converted to
campus time; one without an offset is taken as campus time. :meth:`CampusClock.skew` says how
far it is from the server's clock (the server refuses it beyond ``--max-clock-skew``).

Pure code (no I/O): ``now`` is injectable for tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Minutes a client's clock may be away from the server's (``--max-clock-skew``).
DEFAULT_MAX_CLOCK_SKEW_MINUTES = 5.0
#: The settings' range for it, in minutes (a day).
MAX_CLOCK_SKEW_RANGE = (0.0, 24 * 60.0)


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone (``Asia/Seoul``), or None when it is one."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"not a known IANA time zone such as Asia/Seoul: {name!r}"
    return None


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CampusClock:
    """Now and today in the campus zone, as naive datetimes (the DATETIME columns' form)."""

    def __init__(self, zone: str | None = None, *, utc_now: Callable[[], dt.datetime] = _utc_now):
        """``zone``: an IANA name; None: the server's local zone. ``utc_now``: an aware clock."""
        if zone is not None and (problem := zone_problem(zone)):
            raise ValueError(problem)
        self.zone_name = zone
        self._zone: dt.tzinfo | None = ZoneInfo(zone) if zone is not None else None
        self._utc_now = utc_now

    def describe(self) -> str:
        """The zone as a person reads it: ``Asia/Seoul`` or ``the server's local time (UTC)``."""
        if self.zone_name is not None:
            return self.zone_name
        return f"the server's local time ({self.aware_now().tzname()})"

    def aware_now(self) -> dt.datetime:
        """Now in the campus zone, with its tzinfo."""
        moment = self._utc_now()
        return moment.astimezone(self._zone) if self._zone is not None else moment.astimezone()

    def now(self) -> dt.datetime:
        """Now as campus wall-clock time, without tzinfo."""
        return self.aware_now().replace(tzinfo=None)

    def today(self) -> dt.date:
        return self.aware_now().date()

    def to_campus(self, moment: dt.datetime) -> dt.datetime:
        """A client's time as campus wall-clock time without tzinfo: a time with a UTC offset is
        converted; one without is taken as campus time already."""
        if moment.tzinfo is None:
            return moment
        return moment.astimezone(self._zone).replace(tzinfo=None) if self._zone else _local_naive(moment)

    def skew(self, moment: dt.datetime) -> dt.timedelta:
        """How far a client's time is from the server's clock (positive: ahead)."""
        return self.to_campus(moment) - self.now()

    def utc_offset(self) -> str:
        """The campus zone's UTC offset now, as MySQL's ``time_zone`` takes it: ``+09:00``."""
        offset = self.aware_now().utcoffset() or dt.timedelta(0)
        sign = "-" if offset < dt.timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _local_naive(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone().replace(tzinfo=None)


def session_time_zone(cur, clock: CampusClock) -> None:
    """Give the MySQL session the campus zone's UTC offset (CURRENT_TIMESTAMP, CURRENT_DATE and
    NOW() in campus time). An offset rather than the zone's name: MySQL knows named zones only
    when its time zone tables are loaded. The offset is made by :meth:`CampusClock.utc_offset`."""
    cur.execute("SET time_zone = %s", (clock.utc_offset(),))


def describe_skew(skew: dt.timedelta) -> str:
    """``9 h 0 min ahead of`` / ``3 min 5 s behind`` (for the clock_skew error)."""
    seconds = abs(int(skew.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"
    return f"{text} {'ahead of' if skew > dt.timedelta(0) else 'behind'}"
