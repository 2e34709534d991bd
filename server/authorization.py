"""What each client may ask: one table, request type -> :class:`Rule`, and the lecture-scope check.

Every framed request after ``hello`` goes through :func:`refusal` before it is carried out
(server/handlers.py); a refusal is answered ``forbidden`` and logged. The roles
(db/clients.py, docs/deploy.md "Roles"):

- ``kiosk`` (a classroom PC at the door): check-ins, where a mark is only ever the result of a
  face accepted in the same request (``checkin``, or the liveness challenge's
  ``challenge_finish``; never ``mark``), and rosters; ``recognize``.
- ``camera`` (attendance-watch): detect, identify, identify_room, presence samples of today's
  session, closing today's session (attendance-watch closes it when the lecture ends), rosters.
- ``professor``: roll call (``batch_mark``) and manual marks (``mark`` with source ``rollcall``
  or ``manual``, never ``checkin`` or ``camera``: those claim a face or a camera saw the
  student), uncertain check-ins (``pending``, ``resolve_pending``), closing sessions, reports,
  rosters (also of a past session), the mark history (``history``).
- ``admin``: every request, every lecture (``enroll`` is admin only: who a face is decides
  every later mark).

A client given lectures (``--lecture``) may name only those; an op whose lecture may be left
out (``recognize``, ``identify``, ``identify_room``: then everyone enrolled is a candidate) must
name one of them. A request type without a rule here is for admin only, so a new op is refused
until it is given one (tests/server/test_authorization.py checks that each op has one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from db.clients import ADMIN, CAMERA, KIOSK, PROFESSOR, ROLES
from protocol import framed
from server.presence import local_naive

#: Sources of a mark a person makes without a face in the same request.
PERSON_SOURCES = frozenset({"rollcall", "manual"})


@dataclass(frozen=True)
class Principal:
    """Who is asking: the client's name, role and lectures (None: every lecture)."""

    name: str
    role: str
    lectures: frozenset[str] | None = None


class Context(Protocol):
    """What some rules need to know beyond the request (server/handlers.py gives it)."""

    def today(self) -> dt.date: ...

    def pending_lecture(self, pending_id: int) -> str | None:
        """The lecture of an uncertain check-in, None when there is no such check-in."""
        ...


LectureOf = Callable[[Any, Context], str | None]
Check = Callable[[Principal, Any, Context], str | None]


@dataclass(frozen=True)
class Rule:
    """``roles``: the roles (besides admin) that may send the request. ``lecture``: the lecture
    it concerns (None: it concerns none). ``lecture_optional``: the request may leave its lecture
    out (``null``: every enrolled student). ``check``: a further condition for those roles,
    returning why the request is refused, or None."""

    roles: frozenset[str]
    lecture: LectureOf | None = None
    lecture_optional: bool = False
    check: Check | None = None


def _field(name: str) -> LectureOf:
    return lambda request, context: getattr(request, name)


_LECTURE = _field("lecture")


def _person_source(principal: Principal, request, context: Context) -> str | None:
    if request.source not in PERSON_SOURCES:
        return (
            f"a {principal.role} client marks with source {' or '.join(sorted(PERSON_SOURCES))}, "
            f"not {request.source} (a check-in mark comes only from a face accepted by op checkin)"
        )
    return None


def _sampled_today(principal: Principal, request: framed.PresenceRequest, context: Context) -> str | None:
    try:
        day = local_naive(dt.datetime.fromisoformat(request.sampled_at)).date()
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset: not today in any case
        return f"a camera client sends samples of today's session ({context.today():%Y-%m-%d}) only"
    if day != context.today():
        return f"a camera client sends samples of today's session ({context.today():%Y-%m-%d}) only, not of {day}"
    return None


def _camera_closes_today(principal: Principal, request: framed.CloseSessionRequest, context: Context) -> str | None:
    if principal.role != CAMERA or request.session_date is None:
        return None
    if dt.date.fromisoformat(request.session_date) != context.today():
        return f"a camera client closes today's session ({context.today():%Y-%m-%d}) only"
    return None


def _past_roster_for_professors(principal: Principal, request: framed.RosterRequest, context: Context) -> str | None:
    if request.session_date is None or principal.role == PROFESSOR:
        return None
    return f"a {principal.role} client reads today's roster only (a past session's is for professors)"


_ANY = frozenset(ROLES)

#: Request type -> who may send it. Admin may send everything, including types not listed.
RULES: dict[type, Rule] = {
    framed.PingRequest: Rule(_ANY),
    framed.RosterRequest: Rule(frozenset({KIOSK, CAMERA, PROFESSOR}), _LECTURE, check=_past_roster_for_professors),
    framed.MarkRequest: Rule(frozenset({PROFESSOR}), _LECTURE, check=_person_source),
    framed.BatchMarkRequest: Rule(frozenset({PROFESSOR}), _LECTURE, check=_person_source),
    framed.RecognizeRequest: Rule(frozenset({KIOSK, CAMERA}), _LECTURE, lecture_optional=True),
    framed.CheckinRequest: Rule(frozenset({KIOSK}), _LECTURE),
    framed.EnrollRequest: Rule(frozenset()),
    framed.PendingRequest: Rule(frozenset({PROFESSOR}), _LECTURE),
    framed.ResolvePendingRequest: Rule(
        frozenset({PROFESSOR}), lambda request, context: context.pending_lecture(request.pending_id)
    ),
    framed.ReportRequest: Rule(frozenset({PROFESSOR}), _LECTURE),
    framed.HistoryRequest: Rule(frozenset({PROFESSOR}), _LECTURE),  # who changed marks, and why
    # classroom camera
    framed.DetectRequest: Rule(frozenset({CAMERA})),  # boxes only, nobody is identified
    framed.IdentifyRequest: Rule(frozenset({CAMERA}), _LECTURE, lecture_optional=True),
    framed.IdentifyRoomRequest: Rule(frozenset({CAMERA}), _LECTURE, lecture_optional=True),
    framed.PresenceRequest: Rule(frozenset({CAMERA}), _LECTURE, check=_sampled_today),
    framed.CloseSessionRequest: Rule(frozenset({CAMERA, PROFESSOR}), _LECTURE, check=_camera_closes_today),
    # liveness challenge (docs/liveness.md): its frames and decision belong to the challenge the
    # same client opened for a lecture its scope allowed, so they name no lecture
    framed.ChallengeRequest: Rule(frozenset({KIOSK}), _LECTURE),
    framed.ChallengeFramesRequest: Rule(frozenset({KIOSK})),
    framed.ChallengeFinishRequest: Rule(frozenset({KIOSK})),
}


def refusal(principal: Principal, request, context: Context) -> str | None:
    """Why ``principal`` may not send ``request`` (one sentence for the ``forbidden`` reply), or
    None when it may."""
    if principal.role == ADMIN:
        return None
    op = getattr(request, "op", type(request).__name__)
    rule = RULES.get(type(request))
    if rule is None or principal.role not in rule.roles:
        allowed = sorted(rule.roles | {ADMIN}) if rule is not None else [ADMIN]
        return f"op {op} is not for a {principal.role} client (roles: {', '.join(allowed)})"
    if rule.lecture is not None and principal.lectures is not None:
        lecture = rule.lecture(request, context)
        if lecture is None and rule.lecture_optional:
            return (
                f"client {principal.name} must name its lecture ({', '.join(sorted(principal.lectures))}) for op {op}"
            )
        # Codes compare without regard to case, as the database does (only 2019-format codes
        # are stored lower case; COSE101-02 is kept as written).
        if lecture is not None and lecture.casefold() not in {code.casefold() for code in principal.lectures}:
            return f"client {principal.name} serves {', '.join(sorted(principal.lectures))}, not {lecture}"
    if rule.check is not None:
        return rule.check(principal, request, context)
    return None
