"""protocol.framed: the liveness challenge ops (challenge, challenge_frames, challenge_finish and
their replies; docs/liveness.md). Pure code, no I/O."""

from __future__ import annotations

import json
import struct

import pytest

from protocol.errors import ErrorCode, LocalProtocolError
from protocol.framed import (
    MAX_CHALLENGE_BATCH,
    PREAMBLE,
    ChallengeFinishRequest,
    ChallengeFramesRequest,
    ChallengeProgressResponse,
    ChallengeRequest,
    ChallengeResponse,
    FramedDecoder,
    InvalidMessage,
    PingRequest,
    encode,
)
from protocol.framed.fields import validated
from protocol.framed.messages import REQUEST_TYPES

FRAME = b"\xff\xd8 frame \xff\xd9"

MESSAGES = [
    ChallengeRequest(1, "ea0017_1"),
    ChallengeResponse(2, "abc-_DEF", "ea0017_1", ("blink", "turn_right", "turn_left"), 5, 120),
    ChallengeFramesRequest(3, "abc-_DEF", (FRAME,) * MAX_CHALLENGE_BATCH, tuple(k / 10 for k in range(10))),
    ChallengeFramesRequest(4, "abc-_DEF", (FRAME,), (0,)),
    ChallengeProgressResponse(5, "abc-_DEF", (), "blink", 0, 5.0),
    ChallengeProgressResponse(6, "abc-_DEF", ("blink", "turn_left"), None, 31, 0),
    ChallengeFinishRequest(7, "abc-_DEF"),
    ChallengeFinishRequest(8, "abc-_DEF", mark=False, queue_uncertain=False),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{m.op}-{m.request_id}")
def test_each_message_goes_through_encode_and_decode(message):
    role = "server" if type(message) in REQUEST_TYPES.values() else "client"
    assert FramedDecoder(role, expect_preamble=False).feed(encode(message)) == [validated(message)]


@pytest.mark.parametrize(
    "message, problem",
    [
        (ChallengeRequest(1, "no such code!"), "lecture"),
        (ChallengeResponse(1, "", "ea0017_1", ("blink",), 5.0, 10), "challenge_id"),
        (ChallengeResponse(1, "a b", "ea0017_1", ("blink",), 5.0, 10), "challenge_id"),
        (ChallengeResponse(1, "c", "ea0017_1", (), 5.0, 10), "actions"),
        (ChallengeResponse(1, "c", "ea0017_1", ("nod",), 5.0, 10), "actions"),
        (ChallengeResponse(1, "c", "ea0017_1", ("blink",) * 6, 5.0, 10), "actions"),
        (ChallengeResponse(1, "c", "ea0017_1", ("blink",), -1.0, 10), "deadline"),
        (ChallengeResponse(1, "c", "ea0017_1", ("blink",), 5.0, 0), "max_frames"),
        (ChallengeFramesRequest(1, "c", (FRAME, FRAME), (0.2, 0.1)), "times"),
        (ChallengeFramesRequest(1, "c", (FRAME,), (-0.1,)), "times"),
        (ChallengeFramesRequest(1, "c", (FRAME,), (float("nan"),)), "times"),
        (ChallengeFramesRequest(1, "c", (FRAME,), (True,)), "times"),
        (ChallengeFramesRequest(1, "c", (FRAME,), ()), "times"),
        (ChallengeFramesRequest(1, "c", (FRAME,) * (MAX_CHALLENGE_BATCH + 1), (0.0,)), "images"),
        (ChallengeFramesRequest(1, "c", (b"",), (0.0,)), "images"),
        (ChallengeProgressResponse(1, "c", ("blink",), "wink", 1, 1.0), "next_action"),
        (ChallengeFinishRequest(1, "c", mark=1), "mark"),
    ],
)
def test_bad_fields_cannot_be_sent(message, problem):
    with pytest.raises(LocalProtocolError) as refused:
        encode(message)
    assert refused.value.code == ErrorCode.BAD_REQUEST
    assert problem in refused.value.message


def frame(request_id: int, header: dict, blob: bytes = b"") -> bytes:
    body = json.dumps(header).encode()
    return struct.pack(">III", 8 + len(body) + len(blob), request_id, len(body)) + body + blob


@pytest.mark.parametrize(
    "header, blob",
    [
        ({"op": "challenge_frames", "challenge_id": "c", "times": [0.1], "image_sizes": [5]}, b""),
        ({"op": "challenge_frames", "challenge_id": "c", "times": [0.3, 0.1], "image_sizes": [2, 3]}, b"abcde"),
        ({"op": "challenge_frames", "challenge_id": "c", "image_sizes": [5]}, b"abcde"),
        ({"op": "challenge_finish", "challenge_id": "c", "mark": "yes"}, b""),
        ({"op": "challenge", "lecture": "ea0017_1", "extra": 1}, b""),
    ],
)
def test_a_bad_request_is_refused_and_the_next_one_still_read(header, blob):
    decoder = FramedDecoder("server")
    events = decoder.feed(PREAMBLE + frame(1, header, blob) + encode(PingRequest(2)))
    assert isinstance(events[0], InvalidMessage) and events[0].error.code == ErrorCode.BAD_REQUEST
    assert events[1] == PingRequest(2)


def test_the_frames_request_repr_shows_no_image_bytes():
    text = repr(ChallengeFramesRequest(1, "c", (FRAME,), (0.0,)))
    assert "frame" not in text and "images=<1>" in text
