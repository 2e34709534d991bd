"""protocol.framed: the ops of identification from several frames (checkin, enroll, pending,
resolve_pending) and the decision fields of recognize. Pure code, no I/O."""

from __future__ import annotations

import json
import struct

import pytest

from protocol.errors import ErrorCode, LocalProtocolError
from protocol.framed import (
    MAX_CHECKIN_FRAMES,
    MAX_ENROLL_PHOTOS,
    PREAMBLE,
    REQUEST_TYPES,
    Candidate,
    CheckinRequest,
    CheckinResponse,
    EnrolledPhoto,
    EnrollRequest,
    EnrollResponse,
    FramedDecoder,
    InvalidMessage,
    PendingCheckin,
    PendingRequest,
    PendingResponse,
    PingRequest,
    RecognizedFace,
    RecognizeResponse,
    ResolvePendingRequest,
    ResolvePendingResponse,
    encode,
)

FRAMES = (b"\xff\xd8 frame one \xff\xd9", b"\x89PNG frame two", b"RIFF....WEBP three")
CANDIDATES = (Candidate("201911001", "김민지", 0.2511), Candidate("201911002", None, 0.31))

MESSAGES = [
    CheckinRequest(1, "ea0017_1", FRAMES),
    CheckinRequest(2, "EA0017_1".lower(), FRAMES[:1], mark=False, queue_uncertain=False),
    CheckinRequest(3, "ea0017_1", tuple(bytes([i + 1]) * (i + 1) for i in range(MAX_CHECKIN_FRAMES))),
    EnrollRequest(4, "201911001", FRAMES, name="Kim Minji", force=True),
    EnrollRequest(5, "201911001", FRAMES[:1]),
    PendingRequest(6, "ea0017_1"),
    ResolvePendingRequest(7, 12, "201911001", "late"),
    ResolvePendingRequest(8, 13, None),
    CheckinResponse(
        9, "ea0017_1", "accepted", "201911001", "김민지", 0.2511, 0.27, CANDIDATES[:1], 3, "present", False, None
    ),
    CheckinResponse(10, "ea0017_1", "uncertain", None, None, 0.3, 0.25, CANDIDATES, 6, pending_id=41),
    CheckinResponse(11, "ea0017_1", "unknown", None, None, None, None, (), 1),
    EnrollResponse(
        12,
        "201911001",
        0,
        3,
        (
            EnrolledPhoto(0, None),
            EnrolledPhoto(1, "like_other_student", "201911002", 0.29),
            EnrolledPhoto(2, "no_face"),
        ),
    ),
    PendingResponse(
        13, "ea0017_1", "2019-11-01", (PendingCheckin(41, "2019-11-01T09:03:12", "room-e203", 6, CANDIDATES),)
    ),
    ResolvePendingResponse(14, 41, "confirmed", "201911001", "present", False),
    ResolvePendingResponse(15, 42, "rejected", None, None, False),
    RecognizeResponse(16, (RecognizedFace(1, 2, 3, 0, None, None, 0.31, "uncertain", CANDIDATES),)),
]


def decoder_for(message) -> FramedDecoder:
    return FramedDecoder("server" if type(message) in REQUEST_TYPES.values() else "client")


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{type(m).__name__}-{m.request_id}")
def test_round_trip_whole_byte_by_byte_and_with_trailing_bytes(message) -> None:
    data = PREAMBLE + encode(message)
    assert decoder_for(message).feed(data) == [message]
    decoder = decoder_for(message)
    results = [decoder.feed(data[i : i + 1]) for i in range(len(data))]
    assert results[-1] == [message] and all(r == [] for r in results[:-1])
    decoder = decoder_for(message)
    trailing = encode(PingRequest(99))[:5]  # the start of the next frame
    assert decoder.feed(data + trailing) == [message]
    assert decoder.buffered == len(trailing)


def test_the_frames_travel_as_one_blob_with_their_sizes_in_the_header() -> None:
    frame = encode(CheckinRequest(1, "ea0017_1", FRAMES))
    (length,) = struct.unpack(">I", frame[:4])
    _, header_len = struct.unpack(">II", frame[4:12])
    header = json.loads(frame[12 : 12 + header_len])
    assert header["image_sizes"] == [len(f) for f in FRAMES]
    assert "images" not in header
    assert frame[12 + header_len :] == b"".join(FRAMES)
    assert length == 8 + header_len + sum(map(len, FRAMES))


def raw_frame(request_id: int, header: dict, blob: bytes) -> bytes:
    head = json.dumps(header).encode()
    body = struct.pack(">II", request_id, len(head)) + head + blob
    return struct.pack(">I", len(body)) + body


CHECKIN = {"op": "checkin", "lecture": "ea0017_1", "image_sizes": [3, 2]}
ENROLL = {"op": "enroll", "student_id": "201911001", "image_sizes": [5]}

INVALID = {
    "sizes missing": ({"op": "checkin", "lecture": "ea0017_1"}, b"abcde"),
    "sizes beyond the blob": ({**CHECKIN, "image_sizes": [3, 3]}, b"abcde"),
    "sizes short of the blob": ({**CHECKIN, "image_sizes": [3, 1]}, b"abcde"),
    "a zero size": ({**CHECKIN, "image_sizes": [5, 0]}, b"abcde"),
    "size as text": ({**CHECKIN, "image_sizes": ["5"]}, b"abcde"),
    "sizes not a list": ({**CHECKIN, "image_sizes": 5}, b"abcde"),
    "no frame": ({**CHECKIN, "image_sizes": []}, b""),
    "too many frames": ({**CHECKIN, "image_sizes": [1] * (MAX_CHECKIN_FRAMES + 1)}, b"x" * (MAX_CHECKIN_FRAMES + 1)),
    "checkin without lecture": ({"op": "checkin", "image_sizes": [5]}, b"abcde"),
    "checkin mark not a flag": ({**CHECKIN, "mark": 1}, b"abcde"),
    "enroll too many photos": (
        {**ENROLL, "image_sizes": [1] * (MAX_ENROLL_PHOTOS + 1)},
        b"x" * (MAX_ENROLL_PHOTOS + 1),
    ),
    "enroll bad student": ({**ENROLL, "student_id": "1 2"}, b"abcde"),
    "enroll empty name": ({**ENROLL, "name": "  "}, b"abcde"),
    "enroll name too long": ({**ENROLL, "name": "x" * 101}, b"abcde"),
    "pending with a blob": ({"op": "pending", "lecture": "ea0017_1"}, b"x"),
    "resolve negative id": ({"op": "resolve_pending", "pending_id": -1, "student_id": None}, b""),
    "resolve bad status": ({"op": "resolve_pending", "pending_id": 1, "student_id": None, "status": "gone"}, b""),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_requests_are_refused_and_decoding_goes_on(case: str) -> None:
    header, blob = INVALID[case]
    decoder = FramedDecoder("server")
    events = decoder.feed(PREAMBLE + raw_frame(5, header, blob) + encode(PingRequest(6)))
    assert len(events) == 2 and isinstance(events[0], InvalidMessage), events
    assert events[0].error.code == ErrorCode.BAD_REQUEST and events[0].request_id == 5
    assert events[1] == PingRequest(6)


@pytest.mark.parametrize(
    "message",
    [
        CheckinRequest(1, "ea0017_1", ()),
        CheckinRequest(1, "ea0017_1", (b"",)),
        CheckinResponse(1, "ea0017_1", "maybe", None, None, None, None, (), 1),
        EnrollResponse(1, "201911001", 0, 0, (EnrolledPhoto(0, "ugly"),)),
        ResolvePendingResponse(1, 1, "ignored", None, None, False),
    ],
)
def test_encoding_an_invalid_message_raises(message) -> None:
    with pytest.raises(LocalProtocolError):
        encode(message)


def test_reprs_do_not_show_image_bytes() -> None:
    text = repr(CheckinRequest(1, "ea0017_1", FRAMES)) + repr(EnrollRequest(2, "201911001", FRAMES))
    assert "frame one" not in text and "bytes" in text
