"""protocol.framed: round trips, stream errors, invalid content, and a fuzz property."""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import framed
from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.framed import (
    DEFAULT_MAX_FRAME_BYTES,
    MAGIC,
    MAX_BATCH_MARKS,
    PREAMBLE,
    REQUEST_TYPES,
    RESPONSE_TYPES,
    VERSION,
    BatchMark,
    BatchMarkRequest,
    BatchMarkResponse,
    ErrorResponse,
    FramedDecoder,
    HelloRequest,
    InvalidMessage,
    MarkRequest,
    MarkResponse,
    PingRequest,
    PongResponse,
    RecognizedFace,
    RecognizeRequest,
    RecognizeResponse,
    RosterEntry,
    RosterRequest,
    RosterResponse,
    WelcomeResponse,
    encode,
)

JPEG_BYTES = b"\xff\xd8\xff\xe0 not really a jpeg, the protocol does not look \xff\xd9"

REQUESTS = [
    PingRequest(0),
    PingRequest(2**32 - 1),
    RosterRequest(1, "ea0017_1"),
    MarkRequest(2, "ea0017_1", "201911001"),
    MarkRequest(3, "zz9999_9", "299999999", "late", "camera", 0.41),
    MarkRequest(4, "ea0017_1", "200000000", "left_early", "manual", 0.0),
    BatchMarkRequest(5, "ea0017_1", "rollcall-2019-11-01T09:00", (BatchMark("201911001", "present"),)),
    BatchMarkRequest(
        6,
        "ea0017_1",
        "b.1:x_Y-9",
        tuple(BatchMark(str(200000000 + i), "absent") for i in range(MAX_BATCH_MARKS)),
        "manual",
    ),
    RecognizeRequest(7, JPEG_BYTES),
    RecognizeRequest(8, b"\x00", "ea0017_1"),
    HelloRequest(9, "Yf3kQ9zE_x-4p0l8mUjz1cHk2w7r5sTq8vN6bA0dGeI"),
]

RESPONSES = [
    PongResponse(1, "0.1.0"),
    RosterResponse(2, "ea0017_1", "2019-11-01", ()),
    RosterResponse(
        3,
        "ea0017_1",
        "2019-11-01",
        (
            RosterEntry("201911001", "Barack Obama", "present", "checkin", "2019-11-01T09:03:12+09:00"),
            RosterEntry("201911002", '홍길동 "quoted"\n', None, None, None),
            RosterEntry("201911003", "", "late", "camera", "2019-11-01T09:15:00.123456"),
        ),
    ),
    MarkResponse(4, "ea0017_1", "201911001", "present", False),
    MarkResponse(5, "ea0017_1", "201911001", "excused", True),
    BatchMarkResponse(6, "rollcall-1", 0, True),
    BatchMarkResponse(7, "rollcall-1", 2000, False),
    RecognizeResponse(8, ()),
    RecognizeResponse(
        9,
        (
            RecognizedFace(10, 200, 110, 100, "201911001", "Barack Obama", 0.38),
            RecognizedFace(0, 5, 5, 0, None, None, None),
            RecognizedFace(1, 2, 3, 4, None, None, 0.72),
        ),
    ),
    ErrorResponse(0, ErrorCode.BAD_FRAME, "closing"),
    ErrorResponse(10, ErrorCode.NOT_ENROLLED, "201911009 is not enrolled in ea0017_1"),
    WelcomeResponse(11, "room-e203.pc_1", "0.1.0"),
    ErrorResponse(12, ErrorCode.UNAUTHORIZED, "unknown client token"),
]


def role_of(message: object) -> str:
    return "server" if type(message) in REQUEST_TYPES.values() else "client"


def feed_all(decoder: FramedDecoder, chunks: list[bytes]) -> list:
    events = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events


def raw_frame(request_id: int, header: Any, blob: bytes = b"") -> bytes:
    """A frame built by hand; ``header`` is a dict (dumped as JSON) or raw bytes."""
    if not isinstance(header, bytes):
        header = json.dumps(header).encode("utf-8")
    body = struct.pack(">II", request_id, len(header)) + header + blob
    return struct.pack(">I", len(body)) + body


def server_decoder(**kwargs: Any) -> FramedDecoder:
    decoder = FramedDecoder("server", **kwargs)
    assert decoder.feed(PREAMBLE) == []
    return decoder


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("message", REQUESTS + RESPONSES, ids=lambda m: type(m).__name__)
def test_round_trip_whole(message: object) -> None:
    decoder = FramedDecoder(role_of(message))
    assert decoder.feed(PREAMBLE + encode(message)) == [message]
    assert decoder.buffered == 0


@pytest.mark.parametrize("message", REQUESTS[:9] + RESPONSES, ids=lambda m: type(m).__name__)
def test_round_trip_byte_by_byte(message: object) -> None:
    data = PREAMBLE + encode(message)
    decoder = FramedDecoder(role_of(message))
    results = [decoder.feed(data[i : i + 1]) for i in range(len(data))]
    assert results[:-1] == [[]] * (len(data) - 1)
    assert results[-1] == [message]


def test_every_request_and_every_response_in_one_feed() -> None:
    for role, messages in (("server", REQUESTS), ("client", RESPONSES)):
        decoder = FramedDecoder(role)
        assert decoder.feed(PREAMBLE + b"".join(encode(m) for m in messages)) == messages


def test_two_frames_then_a_partial_frame() -> None:
    first, second, third = (encode(m) for m in REQUESTS[2:5])
    decoder = server_decoder()
    assert decoder.feed(first + second + third[:7]) == REQUESTS[2:4]
    assert decoder.buffered == 7
    assert decoder.feed(third[7:-1]) == []
    assert decoder.buffered == len(third) - 1
    assert decoder.feed(third[-1:]) == [REQUESTS[4]]
    assert decoder.buffered == 0


def test_preamble_split_across_feeds() -> None:
    decoder = FramedDecoder("client")
    for i in range(len(PREAMBLE)):
        assert not decoder.preamble_received
        assert decoder.feed(PREAMBLE[i : i + 1]) == []
    assert decoder.preamble_received
    assert decoder.buffered == 0
    assert decoder.feed(encode(RESPONSES[0])) == [RESPONSES[0]]


def test_without_preamble() -> None:
    decoder = FramedDecoder("server", expect_preamble=False)
    assert decoder.preamble_received
    assert decoder.feed(encode(PingRequest(9))) == [PingRequest(9)]


def test_preamble_constants() -> None:
    assert PREAMBLE == b"\x00ATT\x01" and MAGIC == b"\x00ATT" and VERSION == 1
    assert DEFAULT_MAX_FRAME_BYTES == 16 * 2**20


def test_encode_normalizes_lecture_codes_and_decode_lower_cases_them() -> None:
    frame = encode(MarkRequest(1, "EA0017_1", "201911001"))
    assert b"ea0017_1" in frame and b"EA0017_1" not in frame
    header = {"op": "roster", "lecture": "Ea0017_1"}
    assert server_decoder().feed(raw_frame(3, header)) == [RosterRequest(3, "ea0017_1")]


def test_fields_with_defaults_may_be_left_out() -> None:
    header = {"op": "mark", "lecture": "ea0017_1", "student_id": "201911001"}
    assert server_decoder().feed(raw_frame(4, header)) == [MarkRequest(4, "ea0017_1", "201911001")]
    header = {"op": "recognize"}
    assert server_decoder().feed(raw_frame(5, header, b"img")) == [RecognizeRequest(5, b"img")]


def test_integer_distance_becomes_float() -> None:
    header = {"op": "mark", "lecture": "ea0017_1", "student_id": "201911001", "distance": 0}
    [event] = server_decoder().feed(raw_frame(4, header))
    assert event.distance == 0.0 and isinstance(event.distance, float)


def test_large_roster_header_over_64_kib_round_trips() -> None:
    students = tuple(
        RosterEntry(str(200000000 + i), "이름" * 20, "present", "camera", "2019-11-01T09:00:00+09:00")
        for i in range(1500)
    )
    message = RosterResponse(1, "ea0017_1", "2019-11-01", students)
    frame = encode(message)
    assert len(frame) > 2**16
    assert FramedDecoder("client", expect_preamble=False).feed(frame) == [message]


# -- stream-level errors (fatal) ----------------------------------------------------------------


def assert_fatal(decoder: FramedDecoder, data: bytes, code: str) -> None:
    """``data`` fed byte by byte is refused at its last byte, and the decoder stays failed."""
    for i in range(len(data) - 1):
        decoder.feed(data[i : i + 1])
    with pytest.raises(RemoteProtocolError) as info:
        decoder.feed(data[-1:])
    assert info.value.code == code
    with pytest.raises(RemoteProtocolError) as again:
        decoder.feed(encode(PingRequest(1)))
    assert again.value.code == code


@pytest.mark.parametrize("data", [b"\x00ATX", b"G", b"\x00B", b"2", b"\xff"])
def test_wrong_magic(data: bytes) -> None:
    assert_fatal(FramedDecoder("server"), data, ErrorCode.BAD_FRAME)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_wrong_version(version: int) -> None:
    assert_fatal(FramedDecoder("client"), MAGIC + bytes([version]), ErrorCode.UNSUPPORTED_VERSION)


def test_oversize_frame_is_refused_after_its_four_length_bytes() -> None:
    decoder = server_decoder(max_frame_bytes=1000)
    assert_fatal(decoder, struct.pack(">I", 1001), ErrorCode.FRAME_TOO_LARGE)
    assert decoder.buffered == 0
    decoder = server_decoder()
    assert_fatal(decoder, struct.pack(">I", DEFAULT_MAX_FRAME_BYTES + 1), ErrorCode.FRAME_TOO_LARGE)
    # A frame exactly at the limit is accepted.
    frame = encode(RecognizeRequest(1, b"x" * 100))
    decoder = server_decoder(max_frame_bytes=len(frame) - 4)
    assert decoder.feed(frame) == [RecognizeRequest(1, b"x" * 100)]


def test_frame_length_below_eight_is_bad_frame() -> None:
    assert_fatal(server_decoder(), struct.pack(">I", 7), ErrorCode.BAD_FRAME)


def test_header_len_beyond_the_frame_is_refused_without_waiting_for_the_body() -> None:
    data = struct.pack(">III", 100, 1, 93)  # N = 100 leaves 92 bytes for the header
    assert_fatal(server_decoder(), data, ErrorCode.BAD_FRAME)


def test_truncated_frame_needs_more() -> None:
    frame = encode(RosterRequest(1, "ea0017_1"))
    decoder = server_decoder()
    assert decoder.feed(frame[:-1]) == []
    assert decoder.buffered == len(frame) - 1  # at EOF: "closed mid-frame"


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError):
        FramedDecoder("peer")  # type: ignore[arg-type]


# -- invalid content (InvalidMessage, the connection goes on) ----------------------------------

MARK = {"op": "mark", "lecture": "ea0017_1", "student_id": "201911001"}
BATCH = {
    "op": "batch_mark",
    "lecture": "ea0017_1",
    "batch_id": "b1",
    "marks": [{"student_id": "201911001", "status": "present"}],
}
PRESENCE = {
    "op": "presence",
    "lecture": "ea0017_1",
    "sampled_at": "2024-03-04T09:05:00+09:00",
    "student_ids": ["201911001"],
    "face_count": 3,
}
MANY_MARKS = [{"student_id": str(200000000 + i), "status": "present"} for i in range(MAX_BATCH_MARKS + 1)]
MARK_JSON = b'{"op": "mark", "lecture": "ea0017_1", "student_id": "201911001"'  # no closing brace

INVALID_REQUESTS = {
    "bad JSON": (b'{"op": "ping"', b""),
    "not UTF-8": (b'{"op": "ping", "x": "\xff"}', b""),
    "empty header": (b"", b""),
    "header is a list": (b'["ping"]', b""),
    "no op": ({"lecture": "ea0017_1"}, b""),
    "op not a string": ({"op": 1}, b""),
    "unknown op": ({"op": "drop_table"}, b""),
    "response op sent to the server": ({"op": "pong", "server_version": "1"}, b""),
    "duplicate key": (b'{"op": "ping", "op": "ping"}', b""),
    "NaN": (MARK_JSON + b', "distance": NaN}', b""),
    "deep nesting": (b'{"op": "ping", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", b""),
    "lone surrogate": (b'{"op": "roster", "lecture": "\\ud800"}', b""),
    "blob on ping": ({"op": "ping"}, b"x"),
    "blob on mark": (MARK, b"\xff\xd8"),
    "empty image": ({"op": "recognize"}, b""),
    "missing lecture": ({"op": "roster"}, b""),
    "unknown field": ({"op": "ping", "admin": True}, b""),
    "request_id in header": ({"op": "ping", "request_id": 3}, b""),
    "lecture not a string": ({"op": "roster", "lecture": 17}, b""),
    "lecture with SQL": ({"op": "roster", "lecture": "ea0017_1'; DROP TABLE x; --"}, b""),
    "lecture with quote": ({"op": "roster", "lecture": "ea001'_1"}, b""),
    "lecture too long": ({"op": "roster", "lecture": "ea0017_1" + "0" * 13}, b""),  # 21 characters
    "student with a space": ({**MARK, "student_id": "2019 1001"}, b""),
    "student too long": ({**MARK, "student_id": "2" * 21}, b""),
    "student as number": ({**MARK, "student_id": 201911001}, b""),
    "unknown status": ({**MARK, "status": "asleep"}, b""),
    "status null": ({**MARK, "status": None}, b""),
    "unknown source": ({**MARK, "source": "telepathy"}, b""),
    "negative distance": ({**MARK, "distance": -0.1}, b""),
    "infinite distance": (MARK_JSON + b', "distance": 1e400}', b""),
    "huge integer distance": (MARK_JSON + b', "distance": 1' + b"0" * 400 + b"}", b""),
    "distance as text": ({**MARK, "distance": "0.3"}, b""),
    "distance as bool": ({**MARK, "distance": True}, b""),
    "batch_id empty": ({**BATCH, "batch_id": ""}, b""),
    "batch_id too long": ({**BATCH, "batch_id": "x" * 65}, b""),
    "batch_id with space": ({**BATCH, "batch_id": "a b"}, b""),
    "no marks": ({**BATCH, "marks": []}, b""),
    "too many marks": ({**BATCH, "marks": MANY_MARKS}, b""),
    "student twice": ({**BATCH, "marks": BATCH["marks"] * 2}, b""),
    "marks not a list": ({**BATCH, "marks": {"student_id": "201911001", "status": "present"}}, b""),
    "mark not an object": ({**BATCH, "marks": ["201911001"]}, b""),
    "mark missing status": ({**BATCH, "marks": [{"student_id": "201911001"}]}, b""),
    "mark extra field": ({**BATCH, "marks": [{**BATCH["marks"][0], "x": 1}]}, b""),
    "recognize lecture bad": ({"op": "recognize", "lecture": "no pe"}, b"img"),
    # values the database cannot store (issue 13): bad_request, not an internal error later
    "distance beyond FLOAT": ({**MARK, "distance": 1e39}, b""),
    "face_count beyond INT": ({**PRESENCE, "face_count": 2**31}, b""),
    "sampled_at in year 1 with an offset": ({**PRESENCE, "sampled_at": "0001-01-01T00:30:00+09:00"}, b""),
    "sampled_at in year 9999 with an offset": ({**PRESENCE, "sampled_at": "9999-12-31T23:30:00-09:00"}, b""),
    "sampled_at in year 999": ({**PRESENCE, "sampled_at": "0999-06-01T10:00:00"}, b""),
    # mark history (issue 15)
    "history student bad": ({"op": "history", "lecture": "ea0017_1", "student_id": "2019 110'01"}, b""),
    "history date bad": ({"op": "history", "lecture": "ea0017_1", "session_date": "2019-13-01"}, b""),
    "history no lecture": ({"op": "history"}, b""),
    "mark reason blank": ({**MARK, "reason": "  "}, b""),
    "mark reason too long": ({**MARK, "reason": "r" * 501}, b""),
    "batch professor not text": ({**BATCH, "professor": 7}, b""),
    "roster date with time": ({"op": "roster", "lecture": "ea0017_1", "session_date": "2019-11-01T09:00"}, b""),
    "resolve reason null is fine, number is not": (
        {"op": "resolve_pending", "pending_id": 1, "student_id": None, "reason": 3},
        b"",
    ),
}


def test_the_largest_storable_values_are_taken() -> None:
    edge = {**PRESENCE, "face_count": 2**31 - 1, "sampled_at": "9999-12-30T23:59:59+14:00"}
    decoder = server_decoder()
    (presence,) = decoder.feed(raw_frame(5, edge, b""))
    assert (presence.face_count, presence.sampled_at) == (2**31 - 1, "9999-12-30T23:59:59+14:00")
    (mark,) = server_decoder().feed(raw_frame(6, {**MARK, "distance": 3.4e38}, b""))
    assert mark.distance == 3.4e38


@pytest.mark.parametrize("case", sorted(INVALID_REQUESTS))
def test_invalid_request_content_yields_invalid_message_and_decoding_goes_on(case: str) -> None:
    header, blob = INVALID_REQUESTS[case]
    decoder = server_decoder()
    events = decoder.feed(raw_frame(77, header, blob) + encode(PingRequest(78)))
    assert len(events) == 2, events
    invalid, ping = events
    assert isinstance(invalid, InvalidMessage)
    assert invalid.request_id == 77
    assert invalid.error.code == ErrorCode.BAD_REQUEST
    assert invalid.error.request_id == 77
    assert invalid.error.message
    assert ping == PingRequest(78)


def test_error_messages_stay_short_whatever_the_peer_sent() -> None:
    """The server echoes the message in an error frame: it must not grow with the input."""
    huge = "x" * 100_000
    for header in (
        {"op": "roster", "lecture": huge},
        {"op": huge},
        {"op": "ping", huge: 1},
        {**BATCH, "batch_id": huge},
        {**MARK, "status": huge},
        {**BATCH, "marks": [{"student_id": huge, "status": "present"}]},
    ):
        [event] = server_decoder().feed(raw_frame(1, header))
        assert isinstance(event, InvalidMessage)
        # What is ours (the list of ops an unknown op is told) may grow with the protocol;
        # what comes from the peer is cut short.
        ours = len(", ".join(REQUEST_TYPES))
        assert len(event.error.message) < 200 + ours, event.error.message
        assert "x" * 100 not in event.error.message
        encode(ErrorResponse(1, event.error.code, event.error.message))


ROSTER_ENTRY = {"student_id": "201911001", "name": "x", "status": None, "source": None, "marked_at": None}
FACE = {"top": 1, "right": 2, "bottom": 3, "left": 4, "student_id": None, "name": None, "distance": None}

INVALID_RESPONSES = {
    "request op sent to the client": {"op": "ping"},
    "bad session_date": {
        "op": "roster",
        "lecture": "ea0017_1",
        "session_date": "01/11/2019",
        "students": [],
    },
    "bad marked_at": {
        "op": "roster",
        "lecture": "ea0017_1",
        "session_date": "2019-11-01",
        "students": [{**ROSTER_ENTRY, "status": "present", "marked_at": "9 o'clock"}],
    },
    "roster entry not an object": {
        "op": "roster",
        "lecture": "ea0017_1",
        "session_date": "2019-11-01",
        "students": [1],
    },
    "negative applied": {"op": "batch_marked", "batch_id": "b", "applied": -1, "replayed": False},
    "applied as bool": {"op": "batch_marked", "batch_id": "b", "applied": True, "replayed": False},
    "replayed as int": {"op": "batch_marked", "batch_id": "b", "applied": 1, "replayed": 1},
    "already_marked missing": {
        "op": "marked",
        "lecture": "ea0017_1",
        "student_id": "201911001",
        "status": "present",
    },
    "face coordinate float": {"op": "recognized", "faces": [{**FACE, "top": 1.5}]},
    "face student bad": {"op": "recognized", "faces": [{**FACE, "student_id": "12_3"}]},
    "unknown error code": {"op": "error", "code": "oops", "message": "x"},
    "error message null": {"op": "error", "code": "internal", "message": None},
}


@pytest.mark.parametrize("case", sorted(INVALID_RESPONSES))
def test_invalid_response_content_yields_invalid_message(case: str) -> None:
    decoder = FramedDecoder("client", expect_preamble=False)
    events = decoder.feed(raw_frame(5, INVALID_RESPONSES[case]) + encode(PongResponse(6, "1")))
    assert [type(e) for e in events] == [InvalidMessage, PongResponse]
    assert events[0].request_id == 5 and events[0].error.code == ErrorCode.BAD_REQUEST


# -- encoding invalid messages ------------------------------------------------------------------

INVALID_MESSAGES = [
    PingRequest(-1),
    PingRequest(2**32),
    PingRequest(True),  # type: ignore[arg-type]
    PingRequest("1"),  # type: ignore[arg-type]
    RosterRequest(1, "ea0017_1'; DROP TABLE x; --"),
    RosterRequest(1, "ea0017 1"),
    MarkRequest(1, "ea0017_1", "-199999999"),
    MarkRequest(1, "ea0017_1", "201911001", status="asleep"),
    MarkRequest(1, "ea0017_1", "201911001", source="x"),
    MarkRequest(1, "ea0017_1", "201911001", distance=float("nan")),
    MarkRequest(1, "ea0017_1", "201911001", distance=-1.0),
    BatchMarkRequest(1, "ea0017_1", "b1", ()),
    BatchMarkRequest(1, "ea0017_1", "b 1", (BatchMark("201911001", "present"),)),
    BatchMarkRequest(1, "ea0017_1", "b1", (BatchMark("201911001", "present"),) * 2),
    BatchMarkRequest(1, "ea0017_1", "b1", (("201911001", "present"),)),  # type: ignore[arg-type]
    RecognizeRequest(1, b""),
    RecognizeRequest(1, "not bytes"),  # type: ignore[arg-type]
    PongResponse(1, None),  # type: ignore[arg-type]
    RosterResponse(1, "ea0017_1", "yesterday", ()),
    RosterResponse(1, "ea0017_1", "2019-11-01", (RosterEntry("201911001", "\ud800", None, None, None),)),
    MarkResponse(1, "ea0017_1", "201911001", "present", None),  # type: ignore[arg-type]
    BatchMarkResponse(1, "b1", -5, False),
    RecognizeResponse(1, (RecognizedFace(-1, 0, 0, 0, None, None, None),)),
    ErrorResponse(1, "whatever", "x"),
]


@pytest.mark.parametrize("message", INVALID_MESSAGES, ids=repr)
def test_encoding_an_invalid_message_raises_local_protocol_error(message: object) -> None:
    with pytest.raises(LocalProtocolError) as info:
        encode(message)  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.BAD_REQUEST


def test_encoding_something_else_raises() -> None:
    with pytest.raises(LocalProtocolError):
        encode(BatchMark("201911001", "present"))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        encode("ping")  # type: ignore[arg-type]


def test_encoding_a_frame_over_the_limit_raises() -> None:
    with pytest.raises(LocalProtocolError) as info:
        encode(RecognizeRequest(1, b"x" * 1000), max_frame_bytes=1000)
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE


# -- fuzzing: any bytes give events or RemoteProtocolError, never another exception -------------


def replace_byte(data: bytes, index: int, value: int) -> bytes:
    return data[:index] + bytes([value]) + data[index + 1 :]


ALL_OPS = sorted({*REQUEST_TYPES, *RESPONSE_TYPES, "nope"})
ALL_FIELDS = sorted(
    {
        f.name
        for cls in (*REQUEST_TYPES.values(), *RESPONSE_TYPES.values(), *framed.ITEM_TYPES)
        for f in dataclasses.fields(cls)
    }
    - {"request_id"}
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["ea0017_1", "201911001", "present", "checkin", "2019-11-01"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(ALL_FIELDS) | st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
headers = st.builds(
    lambda op, fields: {**fields, "op": op},
    st.sampled_from(ALL_OPS),
    st.dictionaries(st.sampled_from(ALL_FIELDS), json_values, max_size=6),
)
frame_pieces = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([encode(m) for m in REQUESTS[:6] + RESPONSES[:4]]),
    st.builds(
        lambda rid, header, blob: raw_frame(rid, json.dumps(header).encode(), blob),
        st.integers(0, 2**32 - 1),
        headers,
        st.sampled_from([b"", b"\xff\xd8\xff"]),
    ),
    st.builds(raw_frame, st.integers(0, 2**32 - 1), st.binary(max_size=30), st.binary(max_size=5)),
    st.builds(  # a valid frame with one byte changed
        lambda frame, index, value: replace_byte(frame, index % len(frame), value),
        st.sampled_from([encode(m) for m in REQUESTS[:6]]),
        st.integers(0, 10_000),
        st.integers(0, 255),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(frame_pieces, max_size=6),
    cuts=st.lists(st.integers(0, 2000), max_size=8),
    send_preamble=st.booleans(),
    expect_preamble=st.booleans(),
    max_frame_bytes=st.sampled_from([16, 200, DEFAULT_MAX_FRAME_BYTES]),
)
def test_any_bytes_give_events_or_remote_protocol_error(
    pieces: list[bytes],
    cuts: list[int],
    send_preamble: bool,
    expect_preamble: bool,
    max_frame_bytes: int,
) -> None:
    data = (PREAMBLE if send_preamble else b"") + b"".join(pieces)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    decoder = FramedDecoder("server", max_frame_bytes=max_frame_bytes, expect_preamble=expect_preamble)
    allowed = (*REQUEST_TYPES.values(), InvalidMessage)
    failed = False
    for start, end in zip(bounds, bounds[1:]):
        try:
            events = decoder.feed(data[start:end])
        except RemoteProtocolError:
            failed = True
            continue
        assert not failed, "a failed decoder must keep raising"
        assert all(isinstance(event, allowed) for event in events)
        for event in events:  # the server can always answer an invalid request
            if isinstance(event, InvalidMessage):
                encode(ErrorResponse(event.request_id, event.error.code, event.error.message))
        assert decoder.buffered <= max_frame_bytes + 4


# -- bounds on the JSON header (issue 13: a 16 MiB [{},{},...] took 450 MiB to parse) ----------


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (b'{"op": "ping", "x": [' + b"{}," * framed.MAX_HEADER_CONTAINERS + b"{}]}", "objects and arrays"),
        (b'{"op": "ping", "x": [' + b"1," * framed.MAX_HEADER_VALUES + b"1]}", "values"),
        (b'{"op": "ping", "x": ' + b"[" * 8 + b"]" * 8 + b"}", "nests more than 8 deep"),
    ],
    ids=["containers", "values", "depth"],
)
def test_a_header_beyond_the_json_bounds_is_refused_before_it_is_parsed(header: bytes, problem: str) -> None:
    [event] = server_decoder().feed(raw_frame(7, header))
    assert isinstance(event, InvalidMessage) and event.request_id == 7
    assert event.error.code == ErrorCode.BAD_REQUEST and problem in event.error.message


def test_brackets_and_commas_inside_strings_do_not_count_against_the_json_bounds() -> None:
    text = '[[[[[[[[[[,,,:::{{{{{{{{{{ \\" [[[[[[[[['
    header = json.dumps({"op": "roster", "lecture": "ea0017_1", "x": text}).encode()
    [event] = server_decoder().feed(raw_frame(1, header))
    assert "unknown field" in event.error.message  # parsed: only the field is wrong


def test_the_largest_valid_requests_fit_the_json_bounds() -> None:
    marks = tuple(BatchMark(str(200000000 + i), "present") for i in range(MAX_BATCH_MARKS))
    batch = BatchMarkRequest(1, "ea0017_1", "b-1", marks)
    tracks = tuple(
        framed.RoomTrack(0, 10, 10, 0, tuple(framed.pack_encoding(np.zeros(128)) for _ in range(10)))
        for _ in range(framed.MAX_FACE_BOXES)
    )
    room = framed.IdentifyRoomRequest(2, b"\xff\xd8jpeg", tracks, "ea0017_1")
    assert server_decoder().feed(encode(batch) + encode(room)) == [batch, room]
