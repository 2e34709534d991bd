"""Client roles against a real server and database, over sockets (server/authorization.py):
each role allowed or refused (``forbidden``) for each op, the lectures a client serves, a check-in
mark only from a face, a camera on today's session only, set-role on an open connection, and
batch IDs scoped to their client and lecture."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time

import pytest

from client.connection import FramedClient, ServerError
from db import attendance, clients, lectures, pending
from db.connection import run_in_transaction
from protocol import framed
from protocol.errors import ErrorCode
from server.authorization import RULES
from testkit.databases import fresh_database
from testkit.paths import REPO
from testkit.servers import LECTURE, SMALL_LECTURE, add_client, running_server

OBAMA = "201911001"
BIDEN = "201911002"
RECHECK = 0.3  # the module's server rereads the clients table this often


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1, token_recheck=RECHECK, rate=0) as running:
            yield running


@pytest.fixture(scope="module")
def photos(faces_dir):
    return {
        "face": (faces_dir / "probes" / "obama_240p.jpg").read_bytes(),
        "no_face": (faces_dir / "negatives" / "dogs.jpg").read_bytes(),
    }


def connect_as(server, name: str, role: str, lectures=()) -> FramedClient:
    return FramedClient(server.host, server.port, token=add_client(server.db_url, name, role, lectures))


def answer(client: FramedClient, request):
    """The response, or the error code the server answered."""
    try:
        return client.call(request)
    except ServerError as exc:
        return exc


def requests_of_every_op(client: FramedClient, photos, lecture: str, tag: str) -> dict[str, object]:
    """One request of each op (after hello), about ``lecture``; ``tag`` makes batch IDs unique."""
    rid = client.next_request_id
    now = dt.datetime.now().isoformat(timespec="milliseconds")
    box = framed.FaceBox(0, 120, 120, 0)
    return {
        "ping": framed.PingRequest(rid()),
        "roster": framed.RosterRequest(rid(), lecture),
        "mark": framed.MarkRequest(rid(), lecture, OBAMA, "present", "manual"),
        "batch_mark": framed.BatchMarkRequest(rid(), lecture, f"b-{tag}", (framed.BatchMark(BIDEN, "late"),)),
        "recognize": framed.RecognizeRequest(rid(), photos["face"], lecture),
        "checkin": framed.CheckinRequest(rid(), lecture, (photos["face"],), mark=False),
        "enroll": framed.EnrollRequest(rid(), OBAMA, (photos["no_face"],)),
        "pending": framed.PendingRequest(rid(), lecture),
        "resolve_pending": framed.ResolvePendingRequest(rid(), 987654, None),
        "report": framed.ReportRequest(rid(), lecture),
        "detect": framed.DetectRequest(rid(), photos["face"]),
        "identify": framed.IdentifyRequest(rid(), photos["face"], (box,), lecture),
        "identify_room": framed.IdentifyRoomRequest(
            rid(), photos["face"], (framed.RoomTrack(0, 120, 120, 0, (), True),), lecture
        ),
        "presence": framed.PresenceRequest(rid(), lecture, now, (OBAMA,), 1),
        "close_session": framed.CloseSessionRequest(rid(), lecture),
        # liveness challenge (this server runs with liveness off: answered liveness_off when allowed)
        "challenge": framed.ChallengeRequest(rid(), lecture),
        "challenge_frames": framed.ChallengeFramesRequest(rid(), "c-1", (photos["face"],), (0.1,)),
        "challenge_finish": framed.ChallengeFinishRequest(rid(), "c-1"),
        "history": framed.HistoryRequest(rid(), lecture),
    }


#: op -> the roles allowed it (docs/deploy.md, "Roles"); admin is allowed everything.
ALLOWED = {
    "ping": {"kiosk", "camera", "professor", "admin"},
    "roster": {"kiosk", "camera", "professor", "admin"},
    "mark": {"professor", "admin"},
    "batch_mark": {"professor", "admin"},
    "recognize": {"kiosk", "camera", "admin"},
    "checkin": {"kiosk", "admin"},
    "enroll": {"admin"},
    "pending": {"professor", "admin"},
    "resolve_pending": {"professor", "admin"},
    "report": {"professor", "admin"},
    "detect": {"camera", "admin"},
    "identify": {"camera", "admin"},
    "identify_room": {"camera", "admin"},
    "presence": {"camera", "admin"},
    "close_session": {"camera", "professor", "admin"},
    "challenge": {"kiosk", "admin"},
    "challenge_frames": {"kiosk", "admin"},
    "challenge_finish": {"kiosk", "admin"},
    "history": {"professor", "admin"},
}


def test_every_op_has_a_rule_and_a_line_in_this_test():
    ops = set(framed.REQUEST_TYPES) - {"hello"}
    assert {t.op for t in RULES} == ops, "give each new op a Rule in server/authorization.py"
    assert set(ALLOWED) == ops


@pytest.mark.parametrize("role", ["kiosk", "camera", "professor", "admin"])
def test_each_role_is_allowed_its_ops_and_refused_the_others(server, photos, role, caplog):
    name = f"{role}-all"
    with connect_as(server, name, role) as client:
        requests = requests_of_every_op(client, photos, SMALL_LECTURE, role)
        with caplog.at_level(logging.WARNING, logger="server.handlers"):
            replies = {op: answer(client, request) for op, request in requests.items()}
    forbidden = {op for op, reply in replies.items() if isinstance(reply, ServerError) and reply.code == "forbidden"}
    assert forbidden == set(ALLOWED) - {op for op, roles in ALLOWED.items() if role in roles}, replies
    for op in forbidden:
        assert f"not for a {role} client" in replies[op].message
    # The allowed ones were carried out (an error other than forbidden is the op's own answer).
    allowed_errors = {op: r.code for op, r in replies.items() if isinstance(r, ServerError) and op not in forbidden}
    # resolve_pending 987654: not_found; the challenge ops on a server with liveness off: liveness_off
    assert set(allowed_errors.values()) <= {ErrorCode.NOT_FOUND, ErrorCode.LIVENESS_OFF}, allowed_errors
    # Each refusal is one log line naming the client, its role and the op.
    refusals = [r.getMessage() for r in caplog.records if "forbidden" in r.getMessage()]
    assert len(refusals) == len(forbidden)
    assert all(f"{name} ({role})" in line for line in refusals)
    # Nothing a refused request asked for was written.
    marks = server.query(
        "SELECT COUNT(*) FROM attendance WHERE client_name = %s AND source IN ('manual', 'rollcall')", (name,)
    )
    assert marks == [(0 if "mark" in forbidden else 2,)]  # mark + batch_mark
    samples = server.query("SELECT COUNT(*) FROM presence_samples WHERE client_name = %s", (name,))
    assert samples == [(0 if "presence" in forbidden else 1,)]


def test_a_client_serves_only_its_lectures(server, photos):
    for role in ("kiosk", "camera", "professor"):
        with connect_as(server, f"{role}-small", role, [SMALL_LECTURE]) as client:
            for op, request in requests_of_every_op(client, photos, LECTURE, f"{role}-other").items():
                reply = answer(client, request)
                if op in ("ping", "detect", "enroll", "resolve_pending", "challenge_frames", "challenge_finish"):
                    # no lecture in the request (resolve_pending: see the test below; a challenge's
                    # frames and decision belong to the challenge, whose lecture was checked)
                    continue
                assert isinstance(reply, ServerError) and reply.code == "forbidden", (role, op, reply)
                if role in ALLOWED[op]:
                    assert reply.message == f"client {role}-small serves {SMALL_LECTURE}, not {LECTURE}"
            # Its own lecture is fine.
            assert not isinstance(
                answer(client, framed.RosterRequest(client.next_request_id(), SMALL_LECTURE)), Exception
            )
    assert server.query("SELECT COUNT(*) FROM attendance WHERE client_name LIKE '%%-small'") == [(0,)]


def test_a_client_with_lectures_must_name_one_where_the_lecture_may_be_left_out(server, photos):
    box = framed.FaceBox(0, 120, 120, 0)
    with connect_as(server, "cam-named", "camera", [SMALL_LECTURE]) as client:
        for request in (
            framed.RecognizeRequest(client.next_request_id(), photos["face"], None),
            framed.IdentifyRequest(client.next_request_id(), photos["face"], (box,), None),
        ):
            reply = answer(client, request)
            assert reply.code == "forbidden" and f"must name its lecture ({SMALL_LECTURE})" in reply.message
        assert len(client.identify(photos["face"], [(0, 120, 120, 0)], SMALL_LECTURE).faces) == 1
    with connect_as(server, "cam-everywhere", "camera") as client:  # no --lecture: every lecture
        assert len(client.identify(photos["face"], [(0, 120, 120, 0)], None).faces) == 1


def test_a_professor_resolves_only_the_uncertain_check_ins_of_its_lectures(server):
    def queue(cur, lecture_code):  # an uncertain check-in, as a kiosk's checkin queues it
        session_id = attendance.ensure_session(cur, lectures.get_lecture(cur, lecture_code).lecture_id, dt.date.today())
        return pending.add_pending(
            cur, session_id=session_id, client_name="room-x", frames=2, candidates=[(OBAMA, 0.5)]
        )

    mine = run_in_transaction(server.db_url, lambda cur: queue(cur, SMALL_LECTURE))
    theirs = run_in_transaction(server.db_url, lambda cur: queue(cur, LECTURE))
    with connect_as(server, "prof-small", "professor", [SMALL_LECTURE]) as client:
        with pytest.raises(ServerError) as err:
            client.resolve_pending(theirs, OBAMA)
        assert err.value.code == "forbidden" and LECTURE in err.value.message
        assert client.resolve_pending(mine, OBAMA).resolution == "confirmed"
    assert server.query("SELECT resolution FROM pending_checkins WHERE pending_id = %s", (theirs,)) == [(None,)]


def test_a_check_in_mark_comes_only_from_a_face(server, photos):
    """The kiosk cannot send a mark at all (its marks are checkin's accepted faces); a professor
    marks by roll call or by hand, never with source checkin or camera."""
    with connect_as(server, "kiosk-face", "kiosk", [LECTURE]) as kiosk:
        with pytest.raises(ServerError) as err:
            kiosk.mark(LECTURE, OBAMA)  # source checkin, no face
        assert err.value.code == "forbidden"
        checked = kiosk.checkin(LECTURE, [photos["face"]])
        assert (checked.decision, checked.student_id) == ("accepted", OBAMA)
    with connect_as(server, "prof-sources", "professor") as prof:
        for source in ("checkin", "camera"):
            with pytest.raises(ServerError) as err:
                prof.mark(LECTURE, BIDEN, source=source)
            assert err.value.code == "forbidden" and f"not {source}" in err.value.message
            with pytest.raises(ServerError) as err:
                prof.batch_mark(LECTURE, f"src-{source}", [(BIDEN, "present")], source=source)
            assert err.value.code == "forbidden"
        assert prof.mark(LECTURE, BIDEN, status="excused", source="manual").status == "excused"
    rows = server.query(
        "SELECT client_name, student_id, source FROM attendance WHERE client_name IN ('kiosk-face', 'prof-sources')"
    )
    assert sorted(rows) == [("kiosk-face", OBAMA, "checkin"), ("prof-sources", BIDEN, "manual")]


def test_a_camera_works_on_today_s_session_only(server):
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with connect_as(server, "cam-today", "camera", [LECTURE]) as cam:
        with pytest.raises(ServerError) as err:
            cam.presence(LECTURE, f"{yesterday}T09:05:00", [OBAMA], 1)
        assert err.value.code == "forbidden" and "today's session" in err.value.message
        with pytest.raises(ServerError) as err:
            cam.close_session(LECTURE, yesterday.isoformat())
        assert err.value.code == "forbidden"
        now = dt.datetime.now().isoformat(timespec="milliseconds")
        assert cam.presence(LECTURE, now, [OBAMA], 1).session_date == dt.date.today().isoformat()
    days = server.query(
        "SELECT DISTINCT s.session_date FROM presence_samples p JOIN class_sessions s ON s.session_id = p.session_id"
        " WHERE p.client_name = 'cam-today'"
    )
    assert days == [(dt.date.today(),)]


def test_set_role_applies_to_an_open_connection_within_seconds(server):
    with connect_as(server, "promoted", "kiosk") as client:
        with pytest.raises(ServerError) as err:
            client.report(LECTURE)
        assert err.value.code == "forbidden"
        run_in_transaction(server.db_url, lambda cur: clients.set_role(cur, "promoted", role="professor"))
        time.sleep(RECHECK * 4)
        assert client.report(LECTURE).lecture == LECTURE


# -- batch IDs: the client's own, per lecture ----------------------------------------------------


def test_a_batch_id_is_scoped_to_its_client_and_lecture(server):
    with connect_as(server, "prof-a", "professor") as a, connect_as(server, "prof-b", "professor") as b:
        first = a.batch_mark(SMALL_LECTURE, "rc-1", [(OBAMA, "present")])
        assert (first.applied, first.replayed) == (1, False)
        # Another client's rc-1 is its own roll call: applied, not dropped as a replay.
        other_client = b.batch_mark(SMALL_LECTURE, "rc-1", [(BIDEN, "late")])
        assert (other_client.applied, other_client.replayed) == (1, False)
        # The same client's rc-1 for another lecture: applied too.
        other_lecture = a.batch_mark(LECTURE, "rc-1", [(BIDEN, "present")])
        assert (other_lecture.applied, other_lecture.replayed) == (1, False)
        # A true retry (same client, lecture, ID and marks) is answered as the first time.
        retry = a.batch_mark(SMALL_LECTURE, "rc-1", [(OBAMA, "present")])
        assert (retry.applied, retry.replayed) == (1, True)
        # The same ID with other marks is refused, with a reason, and writes nothing.
        with pytest.raises(ServerError) as err:
            a.batch_mark(SMALL_LECTURE, "rc-1", [(OBAMA, "absent"), (BIDEN, "absent")])
        assert err.value.code == ErrorCode.BAD_REQUEST
        assert "batch_id rc-1 was used by this client for other marks" in err.value.message
        assert "new batch_id" in err.value.message
    rows = server.query(
        "SELECT s.lecture_id = l.lecture_id, a.client_name, a.student_id, a.status FROM attendance a"
        " JOIN class_sessions s ON s.session_id = a.session_id JOIN lectures l ON l.code = %s"
        " WHERE a.client_name IN ('prof-a', 'prof-b') ORDER BY 2, 3, 1",
        (SMALL_LECTURE,),
    )
    assert rows == [
        (1, "prof-a", OBAMA, "present"),
        (0, "prof-a", BIDEN, "present"),
        (1, "prof-b", BIDEN, "late"),
    ]
    assert server.query("SELECT COUNT(*) FROM applied_batches WHERE batch_id = 'rc-1'") == [(3,)]


def test_attendance_client_shows_forbidden_with_its_reason(server):
    token = add_client(server.db_url, "kiosk-cli", "kiosk", [LECTURE])
    result = subprocess.run(
        [sys.executable, "-m", "client.cli", "--server", f"{server.host}:{server.port}", "mark", LECTURE, BIDEN],
        cwd=REPO,
        env={**os.environ, "ATTENDANCE_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error == {"code": "forbidden", "message": "op mark is not for a kiosk client (roles: admin, professor)"}
