"""The campus clock (db/campus_clock.py): pure code, with a fixed UTC clock."""

from __future__ import annotations

import datetime as dt

import pytest

from db.campus_clock import CampusClock, describe_skew, zone_problem

#: 2027-03-02 15:30 UTC: 2027-03-03 00:30 in Seoul (already the next day there).
UTC_NOW = dt.datetime(2027, 3, 2, 15, 30, tzinfo=dt.UTC)
SEOUL = dt.timezone(dt.timedelta(hours=9))


def seoul_clock() -> CampusClock:
    return CampusClock("Asia/Seoul", utc_now=lambda: UTC_NOW)


def test_now_and_today_are_campus_time_whatever_the_server_zone():
    clock = seoul_clock()
    assert clock.now() == dt.datetime(2027, 3, 3, 0, 30)
    assert clock.today() == dt.date(2027, 3, 3)
    assert clock.utc_offset() == "+09:00"
    assert clock.describe() == "Asia/Seoul"


def test_client_times_are_converted_to_campus_time():
    clock = seoul_clock()
    assert clock.to_campus(dt.datetime(2027, 3, 2, 15, 31, tzinfo=dt.UTC)) == dt.datetime(2027, 3, 3, 0, 31)
    assert clock.to_campus(dt.datetime(2027, 3, 3, 0, 31, tzinfo=SEOUL)) == dt.datetime(2027, 3, 3, 0, 31)
    # Without an offset, a time is taken as campus time.
    assert clock.to_campus(dt.datetime(2027, 3, 3, 0, 31)) == dt.datetime(2027, 3, 3, 0, 31)


def test_skew_is_how_far_a_client_clock_is_from_the_server():
    clock = seoul_clock()
    assert clock.skew(dt.datetime(2027, 3, 3, 0, 32, tzinfo=SEOUL)) == dt.timedelta(minutes=2)
    # A watcher in Seoul sending its wall time without an offset to a campus clock in UTC: 9 h ahead.
    in_utc = CampusClock("UTC", utc_now=lambda: UTC_NOW)
    assert in_utc.skew(dt.datetime(2027, 3, 3, 0, 30)) == dt.timedelta(hours=9)
    assert describe_skew(dt.timedelta(hours=9)) == "9 h 0 min ahead of"
    assert describe_skew(-dt.timedelta(minutes=3, seconds=5)) == "3 min 5 s behind"


def test_offsets_west_of_utc_and_daylight_saving_time():
    summer = CampusClock("America/New_York", utc_now=lambda: dt.datetime(2027, 7, 1, 12, 0, tzinfo=dt.UTC))
    winter = CampusClock("America/New_York", utc_now=lambda: dt.datetime(2027, 1, 1, 12, 0, tzinfo=dt.UTC))
    assert (summer.utc_offset(), winter.utc_offset()) == ("-04:00", "-05:00")


def test_unknown_zones_are_refused():
    assert zone_problem("Asia/Seoul") is None
    assert "not a known IANA time zone" in zone_problem("Asia/Busan")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        CampusClock("Mars/Olympus")
