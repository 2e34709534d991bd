"""The authorization rules (server/authorization.py) as pure code: roles, lectures, sources, days.
Over real sockets: tests/server/test_roles.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from protocol import framed
from server.authorization import Principal, refusal

TODAY = dt.date(2026, 3, 4)


class Day:
    """The context the handler gives: today's date and the lecture of pending check-in 7."""

    def today(self) -> dt.date:
        return TODAY

    def pending_lecture(self, pending_id: int) -> str | None:
        return {7: "cs0001_1"}.get(pending_id)


def who(role: str, *lectures: str) -> Principal:
    return Principal(f"{role}-1", role, frozenset(lectures) if lectures else None)


def test_roles_sources_and_lectures():
    mark_manual = framed.MarkRequest(1, "ea0017_1", "201911001", "present", "manual")
    mark_checkin = framed.MarkRequest(1, "ea0017_1", "201911001", "present", "checkin")
    assert refusal(who("admin"), mark_checkin, Day()) is None
    assert refusal(who("professor"), mark_manual, Day()) is None
    assert "not checkin" in refusal(who("professor"), mark_checkin, Day())
    assert "not for a kiosk client" in refusal(who("kiosk"), mark_manual, Day())
    assert refusal(who("professor", "ea0017_1"), mark_manual, Day()) is None
    assert (
        refusal(who("professor", "cs0001_1"), mark_manual, Day()) == "client professor-1 serves cs0001_1, not ea0017_1"
    )
    # pending check-in 7 belongs to cs0001_1; an unknown one is left to the service (not_found)
    resolve = framed.ResolvePendingRequest(1, 7, None)
    assert refusal(who("professor", "cs0001_1"), resolve, Day()) is None
    assert "not cs0001_1" in refusal(who("professor", "ea0017_1"), resolve, Day())
    assert refusal(who("professor", "ea0017_1"), framed.ResolvePendingRequest(1, 8, None), Day()) is None


def test_a_lecture_left_out_is_every_student_so_a_client_with_lectures_must_name_one():
    recognize = framed.RecognizeRequest(1, b"\xff\xd8", None)
    assert refusal(who("kiosk"), recognize, Day()) is None
    assert "must name its lecture (ea0017_1)" in refusal(who("kiosk", "ea0017_1"), recognize, Day())


def test_a_camera_works_on_today_only_and_a_professor_closes_any_day():
    assert refusal(who("camera"), framed.PresenceRequest(1, "ea0017_1", "2026-03-04T09:05:00", (), 0), Day()) is None
    assert "today's session" in refusal(
        who("camera"), framed.PresenceRequest(1, "ea0017_1", "2026-03-03T09:05:00", (), 0), Day()
    )
    for extreme in ("0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-09:00"):  # out of range locally
        assert "today's session" in refusal(who("camera"), framed.PresenceRequest(1, "ea0017_1", extreme, (), 0), Day())
    past = framed.CloseSessionRequest(1, "ea0017_1", "2026-03-03")
    assert "today's session" in refusal(who("camera"), past, Day())
    assert refusal(who("camera"), framed.CloseSessionRequest(1, "ea0017_1", None), Day()) is None
    assert refusal(who("professor"), past, Day()) is None


def test_an_op_without_a_rule_is_for_admin_only():
    @dataclass(frozen=True)
    class NewOpRequest:
        op = "new_op"
        request_id: int

    assert refusal(who("admin"), NewOpRequest(1), Day()) is None
    for role in ("kiosk", "camera", "professor"):
        assert refusal(who(role), NewOpRequest(1), Day()) == f"op new_op is not for a {role} client (roles: admin)"


def test_a_lecture_code_beyond_the_2019_format_is_compared_without_regard_to_case():
    """COSE101-02 is stored as written (only 2019-format codes are lower case) and the database
    compares codes without case: so does the lecture scope."""
    mark = framed.MarkRequest(1, "cose101-02", "2020123490", "present", "manual")
    assert refusal(who("professor", "COSE101-02"), mark, Day()) is None
    assert "not COSE101-03" in refusal(
        who("professor", "COSE101-02"), framed.MarkRequest(1, "COSE101-03", "2020123490", "present", "manual"), Day()
    )


def test_the_mark_history_and_past_sessions_are_for_professors():
    history = framed.HistoryRequest(1, "ea0017_1", "201911001", "2026-03-03")
    assert refusal(who("professor", "ea0017_1"), history, Day()) is None
    assert "not ea0017_1" in refusal(who("professor", "cs0001_1"), history, Day())
    for role in ("kiosk", "camera"):
        assert "not for a" in refusal(who(role), history, Day())
        assert refusal(who(role), framed.RosterRequest(1, "ea0017_1"), Day()) is None
        assert "today's roster only" in refusal(who(role), framed.RosterRequest(1, "ea0017_1", "2026-03-03"), Day())
    assert refusal(who("professor"), framed.RosterRequest(1, "ea0017_1", "2026-03-03"), Day()) is None
    past = framed.BatchMarkRequest(
        1, "ea0017_1", "b", (framed.BatchMark("201911001", "late"),), "rollcall", "2026-03-03"
    )
    assert refusal(who("professor"), past, Day()) is None
