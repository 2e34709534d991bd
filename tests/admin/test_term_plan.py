"""The term's calendar as attendance-db schedule reads it (admin/term_plan.py): pure code."""

from __future__ import annotations

import datetime as dt

import pytest

from admin.term_plan import PlanError, parse_holidays, parse_weekly, plan_term, read_holidays

D = dt.date


def test_weekly_meetings_are_read_in_any_case_and_order():
    meetings = parse_weekly("wed 09:00-10:15,  MON 9:00 - 10:15, Friday 13:30-14:45")
    assert [(m.weekday, m.start, m.end, m.minutes) for m in meetings] == [
        (0, dt.time(9, 0), dt.time(10, 15), 75),
        (2, dt.time(9, 0), dt.time(10, 15), 75),
        (4, dt.time(13, 30), dt.time(14, 45), 75),
    ]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "no meeting"),
        ("MON 09:00", "is not 'DAY HH:MM-HH:MM'"),
        ("MOO 09:00-10:00", "the day must be one of"),
        ("MON 10:00-09:00", "ends before it starts"),
        ("MON 25:00-26:00", "is not a time"),
        ("MON 09:00-10:15, MON 13:00-14:15", "at most one session a day"),
    ],
)
def test_bad_weekly_meetings_are_refused_with_the_part_named(text, problem):
    with pytest.raises(PlanError, match=problem):
        parse_weekly(text)


def test_the_holidays_file_has_dates_ranges_names_and_comments(tmp_path):
    path = tmp_path / "holidays.txt"
    path.write_text(
        "\ufeff# spring 2027\n\n2027-03-01 삼일절\n2027-05-05 어린이날  # Children's Day\n"
        "2027-04-19..2027-04-21 midterm week\n2027-06-06\n",
        encoding="utf-8",
    )
    assert read_holidays(path) == {
        D(2027, 3, 1): "삼일절",
        D(2027, 5, 5): "어린이날",
        D(2027, 4, 19): "midterm week",
        D(2027, 4, 20): "midterm week",
        D(2027, 4, 21): "midterm week",
        D(2027, 6, 6): "",
    }


@pytest.mark.parametrize(
    "text, problem",
    [
        ("2027-03-01\nMarch 3\n", "line 2: 'March 3' is not YYYY-MM-DD"),
        ("2027-02-30 leap\n", "line 1: '2027-02-30' is not a date"),
        ("2027-05-05..2027-05-01\n", "line 1: the range ends before it starts"),
    ],
)
def test_a_bad_holidays_line_is_named(text, problem):
    with pytest.raises(PlanError, match=problem):
        parse_holidays(text, "holidays.txt")


def test_a_holidays_file_not_in_utf8_is_refused(tmp_path):
    path = tmp_path / "holidays.txt"
    path.write_bytes("2027-05-05 어린이날\n".encode("cp949"))
    with pytest.raises(PlanError, match="not UTF-8"):
        read_holidays(path)


def test_a_term_with_a_holiday_and_a_skipped_day():
    meetings = parse_weekly("MON 09:00-10:15, WED 09:00-10:15")
    plan = plan_term(
        meetings, D(2027, 3, 2), D(2027, 3, 24), holidays={D(2027, 3, 3): "a holiday"}, skip=[D(2027, 3, 15)]
    )
    # Mondays and Wednesdays from Tue 2 March to Wed 24 March: 3, 8, 10, 15, 17, 22, 24.
    assert [s.day for s in plan.sessions] == [D(2027, 3, d) for d in (8, 10, 17, 22, 24)]
    assert plan.skipped == ((D(2027, 3, 3), "a holiday"), (D(2027, 3, 15), "--skip"))
    first = plan.sessions[0]
    assert (first.starts_at, first.ends_at) == (dt.datetime(2027, 3, 8, 9, 0), dt.datetime(2027, 3, 8, 10, 15))


def test_term_dates_out_of_order_or_too_long_are_refused():
    meetings = parse_weekly("MON 09:00-10:00")
    with pytest.raises(PlanError, match="before --from"):
        plan_term(meetings, D(2027, 6, 19), D(2027, 3, 2))
    with pytest.raises(PlanError, match="more than 366 days"):
        plan_term(meetings, D(2027, 3, 2), D(2207, 6, 19))
