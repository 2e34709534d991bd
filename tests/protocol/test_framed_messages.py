"""protocol.framed.messages: the registry built from the declarations, and the wire bytes of
every message (golden frames captured from the single-module framed.py before it was split:
the bytes must never change, docs/protocol.md)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from protocol import framed
from protocol.framed import FramedDecoder, encode
from protocol.framed.fields import layout
from testkit.paths import REPO

GOLDEN = json.loads((REPO / "tests" / "data" / "framed_golden.json").read_text())

IMG = b"\xff\xd8\xff\xe0golden\xff\xd9"
ENC = framed.pack_encoding([i / 128 for i in range(128)])
CAND = (framed.Candidate("201911001", "Barack Obama", 0.41), framed.Candidate("201911002", None, 0.5))

MESSAGES = {
    "hello": framed.HelloRequest(1, "tok-en_123"),
    "ping": framed.PingRequest(2),
    "roster_req": framed.RosterRequest(3, "EA0017_1"),
    "mark": framed.MarkRequest(4, "ea0017_1", "201911001", "late", "camera", 0.25),
    "mark_defaults": framed.MarkRequest(5, "ea0017_1", "201911001"),
    "batch_mark": framed.BatchMarkRequest(
        6,
        "ea0017_1",
        "b-1",
        (framed.BatchMark("201911001", "present"), framed.BatchMark("201911002", "absent")),
        "manual",
    ),
    "recognize": framed.RecognizeRequest(7, IMG, "ea0017_1"),
    "recognize_nolecture": framed.RecognizeRequest(8, IMG),
    "detect": framed.DetectRequest(9, IMG, 60),
    "identify": framed.IdentifyRequest(10, IMG, (framed.FaceBox(1, 20, 30, 4),), "ea0017_1"),
    "identify_room": framed.IdentifyRoomRequest(
        11, IMG, (framed.RoomTrack(1, 20, 30, 4, (ENC,), True), framed.RoomTrack(5, 50, 60, 6, (ENC,), False)), None
    ),
    "identify_room_empty": framed.IdentifyRoomRequest(12, b"", (framed.RoomTrack(1, 20, 30, 4, (ENC,), False),)),
    "presence": framed.PresenceRequest(13, "ea0017_1", "2019-11-01T09:03:12+09:00", ("201911001", "201911002"), 3),
    "close_session": framed.CloseSessionRequest(14, "ea0017_1", "2019-11-01"),
    "report_req": framed.ReportRequest(15, "ea0017_1", "2019-09-01", "2019-12-20", 0.25),
    "checkin": framed.CheckinRequest(16, "ea0017_1", (IMG, IMG + b"x", b"abc"), False, False),
    "enroll": framed.EnrollRequest(17, "201911001", (IMG, b"zz"), "  홍길동 ", True),
    "pending_req": framed.PendingRequest(18, "ea0017_1"),
    "resolve_pending": framed.ResolvePendingRequest(19, 7, "201911001", "late"),
    "resolve_reject": framed.ResolvePendingRequest(20, 8, None),
    "welcome": framed.WelcomeResponse(21, "room-e203.pc_1", "attendance-server 0.1"),
    "pong": framed.PongResponse(22, "attendance-server 0.1"),
    "roster_resp": framed.RosterResponse(
        23,
        "ea0017_1",
        "2019-11-01",
        (
            framed.RosterEntry("201911001", "Barack Obama", "present", "checkin", "2019-11-01T09:03:12+09:00"),
            framed.RosterEntry("201911002", '홍길동 "q"\n', None, None, None),
        ),
    ),
    "marked": framed.MarkResponse(24, "ea0017_1", "201911001", "present", True),
    "batch_marked": framed.BatchMarkResponse(25, "b-1", 2, False),
    "recognized": framed.RecognizeResponse(
        26,
        (
            framed.RecognizedFace(10, 200, 110, 100, "201911001", "Barack Obama", 0.38, "accepted", CAND[:1]),
            framed.RecognizedFace(0, 5, 5, 0, None, None, None),
        ),
    ),
    "error": framed.ErrorResponse(27, "not_found", "no lecture zz9999_9"),
    "detected": framed.DetectResponse(28, (framed.FaceBox(1, 20, 30, 4), framed.FaceBox(2, 3, 4, 1))),
    "room_identified": framed.IdentifyRoomResponse(
        29,
        (
            framed.TrackDecision("accepted", "201911001", "Barack Obama", 0.3, CAND, 2, ENC),
            framed.TrackDecision("unknown", None, None, None, (), 1),
        ),
    ),
    "presence_recorded": framed.PresenceResponse(30, 99, "2019-11-01", True),
    "session_closed": framed.CloseSessionResponse(31, "ea0017_1", "2019-11-01", 4, 10, 2, 1, 3, 5),
    "report_resp": framed.ReportResponse(
        32,
        "ea0017_1",
        "Computer Vision",
        "2019-09-01",
        None,
        0.5,
        (
            framed.ReportSession(1, "2019-09-02", False, 2, 1, 0, 0, 0, 83.3),
            framed.ReportSession(2, "2019-09-09", True, 0, 0, 0, 0, 0, None),
        ),
        (
            framed.ReportRow("201911001", "Barack Obama", "2019-09-01", ("P", ""), 1, 0, 0, 0, 0, 100.0),
            framed.ReportRow("201911002", "홍길동", "2019-09-05", ("-", "L"), 0, 1, 0, 0, 1, 50),
        ),
    ),
    "checked_in": framed.CheckinResponse(33, "ea0017_1", "uncertain", None, None, 0.55, 0.5, CAND, 3, None, False, 12),
    "enrolled": framed.EnrollResponse(
        34,
        "201911001",
        0,
        4,
        (framed.EnrolledPhoto(0, None), framed.EnrolledPhoto(1, "like_other_student", "201911002", 0.3)),
    ),
    "pending_resp": framed.PendingResponse(
        35, "ea0017_1", "2019-11-01", (framed.PendingCheckin(7, "2019-11-01T09:03:12+09:00", "room-e203", 3, CAND),)
    ),
    "pending_resolved": framed.ResolvePendingResponse(36, 7, "confirmed", "201911001", "present", False),
    # Fields added later (issue 15), sent only when not at their default.
    "presence_recorded_warning": framed.PresenceResponse(
        37, 100, "2019-11-01", False, "the sample at 11:05 is after the end of ea0017_1's session of 2019-11-01 (10:15)"
    ),
    "pending_resp_late": framed.PendingResponse(
        38,
        "ea0017_1",
        "2019-11-01",
        (framed.PendingCheckin(8, "2019-11-01T10:40:00", "room-e203", 1, CAND[:1], "late"),),
    ),
    # liveness challenge (docs/liveness.md)
    "challenge_req": framed.ChallengeRequest(37, "EA0017_1"),
    "challenge": framed.ChallengeResponse(38, "c-7Yx_2", "ea0017_1", ("turn_left", "blink"), 5.0, 120),
    "challenge_frames": framed.ChallengeFramesRequest(39, "c-7Yx_2", (IMG, IMG + b"x"), (0.1, 0.25)),
    "challenge_progress": framed.ChallengeProgressResponse(40, "c-7Yx_2", ("turn_left",), "blink", 12, 3.75),
    "challenge_finish": framed.ChallengeFinishRequest(41, "c-7Yx_2", True, False),
    # mark history (issue 15): the added fields, and the history op
    "roster_past": framed.RosterRequest(47, "ea0017_1", "2019-10-28"),
    "mark_reason": framed.MarkRequest(
        38, "ea0017_1", "201911001", "excused", "manual", None, "2019-10-28", "김교수", " doctor's note "
    ),
    "batch_mark_past": framed.BatchMarkRequest(
        39, "ea0017_1", "b-2", (framed.BatchMark("201911001", "late"),), "rollcall", "2019-10-28", None, "bus strike"
    ),
    "resolve_reason": framed.ResolvePendingRequest(40, 9, "201911002", "present", "Prof. Kim", "seen in class"),
    "report_changed": framed.ReportResponse(
        41,
        "ea0017_1",
        None,
        None,
        None,
        0.5,
        (framed.ReportSession(1, "2019-09-02", False, 1, 0, 0, 0, 0, 100.0),),
        (
            framed.ReportRow(
                "201911001", "Barack Obama", "2019-09-01", ("P",), 1, 0, 0, 0, 0, 100.0, changed_after=(0,)
            ),
        ),
    ),
    "history_req": framed.HistoryRequest(42, "EA0017_1", "201911001", "2019-10-28"),
    "history_resp": framed.HistoryResponse(
        43,
        "ea0017_1",
        (
            framed.HistoryEntry(
                "2019-10-28",
                "201911001",
                "Barack Obama",
                None,
                None,
                "absent",
                "camera",
                "cam-1",
                None,
                None,
                "2019-10-28T10:30:00",
            ),
            framed.HistoryEntry(
                "2019-10-28",
                "201911001",
                "Barack Obama",
                "absent",
                "camera",
                "excused",
                "manual",
                "prof-app",
                "김교수",
                "doctor's note",
                "2019-10-30T14:02:11",
            ),
        ),
    ),
}


def role_of(message: object) -> str:
    return "server" if type(message) in framed.REQUEST_TYPES.values() else "client"


def test_every_message_class_has_a_golden_frame() -> None:
    assert set(GOLDEN) == set(MESSAGES)
    classes = {type(message) for message in MESSAGES.values()}
    assert classes == {*framed.REQUEST_TYPES.values(), *framed.RESPONSE_TYPES.values()}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_encode_gives_the_golden_bytes(name: str) -> None:
    assert encode(MESSAGES[name]).hex() == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_the_golden_bytes_decode_to_the_message(name: str) -> None:
    message = MESSAGES[name]
    decoded = FramedDecoder(role_of(message), expect_preamble=False).feed(bytes.fromhex(GOLDEN[name]))
    assert decoded == [framed.fields.validated(message)]  # lecture codes lower-cased, names stripped


# -- the registry is built from the classes ------------------------------------------------------


def test_op_tables_hold_each_class_once_under_its_own_op() -> None:
    for table in (framed.REQUEST_TYPES, framed.RESPONSE_TYPES):
        assert len(set(table.values())) == len(table)
        for op, cls in table.items():
            assert cls.op == op
            assert framed.OP_OF_TYPE[cls] == op
    assert set(framed.OP_OF_TYPE) == {*framed.REQUEST_TYPES.values(), *framed.RESPONSE_TYPES.values()}
    assert not set(framed.REQUEST_TYPES.values()) & set(framed.RESPONSE_TYPES.values())


def test_the_op_order_is_the_one_error_messages_list() -> None:
    assert list(framed.REQUEST_TYPES) == [
        "hello",
        "ping",
        "roster",
        "mark",
        "batch_mark",
        "recognize",
        "detect",
        "identify",
        "identify_room",
        "presence",
        "close_session",
        "report",
        "checkin",
        "enroll",
        "pending",
        "resolve_pending",
        "challenge",
        "challenge_frames",
        "challenge_finish",
        "history",
    ]
    assert list(framed.RESPONSE_TYPES) == [
        "welcome",
        "pong",
        "roster",
        "marked",
        "batch_marked",
        "recognized",
        "error",
        "detected",
        "room_identified",
        "presence_recorded",
        "session_closed",
        "report",
        "checked_in",
        "enrolled",
        "pending",
        "pending_resolved",
        "challenge",
        "challenge_progress",
        "history",
    ]


def test_every_field_but_request_id_declares_a_check() -> None:
    for cls in (*framed.REQUEST_TYPES.values(), *framed.RESPONSE_TYPES.values(), *framed.ITEM_TYPES):
        names = [f.name for f in dataclasses.fields(cls) if f.name != "request_id"]
        assert [name for name, _ in layout(cls).checks] == names, cls


def test_blob_fields_are_declared_not_found_by_name() -> None:
    blobs = {cls.op: layout(cls).blob for cls in framed.REQUEST_TYPES.values() if layout(cls).blob is not None}
    assert blobs == {
        "recognize": ("image", "image"),
        "detect": ("image", "image"),
        "identify": ("image", "image"),
        "identify_room": ("image", "image"),
        "checkin": ("images", "images"),
        "enroll": ("images", "images"),
        "challenge_frames": ("images", "images"),
    }
    assert all(layout(cls).blob is None for cls in framed.RESPONSE_TYPES.values())


def test_item_types_come_from_each_class_own_fields() -> None:
    assert layout(framed.RecognizedFace).item_types == {"candidates": framed.Candidate}
    assert layout(framed.IdentifyRoomRequest).item_types == {"tracks": framed.RoomTrack}
    assert layout(framed.PresenceRequest).item_types == {}  # student_ids: plain strings
    assert set(framed.ITEM_TYPES) == {
        framed.BatchMark,
        framed.Candidate,
        framed.RosterEntry,
        framed.RecognizedFace,
        framed.FaceBox,
        framed.RoomTrack,
        framed.TrackDecision,
        framed.ReportSession,
        framed.ReportRow,
        framed.EnrolledPhoto,
        framed.PendingCheckin,
        framed.HistoryEntry,
    }


def test_a_declaration_mistake_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="no check"):

        @framed.messages.request
        @dataclasses.dataclass(frozen=True)
        class Unchecked:
            op = "unchecked_test_op"
            request_id: int
            lecture: str

    with pytest.raises(TypeError, match="not used by another message"):

        @framed.messages.request
        @dataclasses.dataclass(frozen=True)
        class Twice:
            op = "ping"
            request_id: int

    assert framed.REQUEST_TYPES["ping"] is framed.PingRequest
    assert "unchecked_test_op" not in framed.REQUEST_TYPES


# -- fields added to a released message (issue 15: reasons, past sessions) -----------------------


def test_an_added_field_at_its_default_is_left_out_so_the_old_bytes_stay() -> None:
    header = encode(framed.MarkRequest(1, "ea0017_1", "201911001"))[12:].decode()
    assert "reason" not in header and "session_date" not in header and "professor" not in header
    with_reason = encode(framed.MarkRequest(1, "ea0017_1", "201911001", reason="late bus"))[12:].decode()
    assert '"reason":"late bus"' in with_reason and "professor" not in with_reason
    assert "changed_after" not in encode(MESSAGES["report_resp"]).decode("utf-8", "replace")


@pytest.mark.parametrize(
    "fields, problem",
    [
        ({"reason": ""}, "reason: must be 1 to 500"),
        ({"reason": "   "}, "reason: must be 1 to 500"),
        ({"reason": "x" * 501}, "reason: must be 1 to 500"),
        ({"professor": "p" * 101}, "professor: must be 1 to 100"),
        ({"session_date": "2019-10-28T09:00"}, "session_date: must be a date"),
        ({"reason": 5}, "reason: must be a string"),
    ],
)
def test_reasons_professors_and_session_dates_are_checked(fields, problem) -> None:
    with pytest.raises(framed.LocalProtocolError, match=problem):
        encode(framed.MarkRequest(1, "ea0017_1", "201911001", **fields))


def test_reasons_are_stripped_and_changed_after_must_increase() -> None:
    decoded = FramedDecoder("server", expect_preamble=False).feed(bytes.fromhex(GOLDEN["mark_reason"]))
    assert decoded[0].reason == "doctor's note" and decoded[0].professor == "김교수"
    row = framed.ReportRow("201911001", "A", "2019-09-01", ("P", "P"), 2, 0, 0, 0, 0, 100.0, changed_after=(1, 0))
    with pytest.raises(ValueError, match="changed_after: must be increasing"):
        framed.fields.validated(row)
