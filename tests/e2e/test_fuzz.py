"""Fuzzing: any bytes into the decoders give a message, "need more" or a typed error, never another
exception; and a short run of the socket fuzzer (bench/fuzz_server.py) leaves the server answering
correctly. The 60-second run is ``bench/fuzz_server.py``."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import framed
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.image_end import BROKEN, COMPLETE, INCOMPLETE, find_image_end
from protocol.legacy import LegacyDecoder, LegacyImage, LegacyMark, LegacyRoster
from testkit.databases import fresh_database
from testkit.fuzz import Mutator, check_server, run_fuzz, sample_images
from testkit.servers import running_server

VALID_FRAMES = [
    framed.encode(m)
    for m in (
        framed.HelloRequest(1, "tok"),
        framed.PingRequest(2),
        framed.RosterRequest(3, "ea0017_1"),
        framed.MarkRequest(4, "ea0017_1", "201911001"),
        framed.WelcomeResponse(5, "room-1", "v"),
        framed.ErrorResponse(6, ErrorCode.RATE_LIMITED, "slow down"),
        framed.PongResponse(7, "v"),
    )
]
chunks = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(VALID_FRAMES + [framed.PREAMBLE, framed.MAGIC]),
    st.builds(
        lambda frame, i, b: frame[:i] + bytes([b]) + frame[i + 1 :],
        st.sampled_from(VALID_FRAMES),
        st.integers(0, 60),
        st.integers(0, 255),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    role=st.sampled_from(["server", "client"]),
    preamble=st.booleans(),
    pieces=st.lists(chunks, max_size=8),
    max_frame_bytes=st.sampled_from([8, 100, 2**24]),
)
def test_framed_decoder_any_bytes_give_messages_need_more_or_a_typed_error(role, preamble, pieces, max_frame_bytes):
    decoder = framed.FramedDecoder(role, max_frame_bytes=max_frame_bytes, expect_preamble=preamble)
    types = tuple((framed.REQUEST_TYPES if role == "server" else framed.RESPONSE_TYPES).values())
    failed = None
    for piece in pieces:
        try:
            events = decoder.feed(piece)  # [] is "need more"
        except RemoteProtocolError as exc:
            assert exc.code in ErrorCode.FATAL
            failed = exc
            continue
        assert failed is None, "after a fatal error every feed raises"
        for event in events:
            assert isinstance(event, (*types, framed.InvalidMessage))
            if isinstance(event, framed.InvalidMessage):
                assert event.error.code == ErrorCode.BAD_REQUEST
        assert decoder.buffered <= max_frame_bytes + 5


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(
        st.binary(max_size=40)
        | st.sampled_from([b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"201911001", b"ea0017_1", b"\n"]),
        max_size=8,
    ),
    max_image_bytes=st.sampled_from([1, 50, 2**20]),
    idle=st.booleans(),
)
def test_legacy_decoder_any_bytes_give_a_request_need_more_or_a_typed_error(pieces, max_image_bytes, idle):
    decoder = LegacyDecoder(max_image_bytes=max_image_bytes)
    try:
        for piece in pieces:
            request = decoder.feed(piece)
            assert request is None or isinstance(request, (LegacyMark, LegacyRoster, LegacyImage))
        if idle and not decoder.done:
            assert isinstance(decoder.on_idle(), LegacyImage)
    except RemoteProtocolError as exc:
        assert exc.code in (ErrorCode.BAD_REQUEST, ErrorCode.FRAME_TOO_LARGE, ErrorCode.TIMEOUT)


@settings(max_examples=400, deadline=None)
@given(
    data=st.binary(max_size=300)
    | st.builds(lambda b: b"\xff\xd8" + b, st.binary(max_size=300))
    | st.builds(lambda b: b"\x89PNG\r\n\x1a\n" + b, st.binary(max_size=300))
)
def test_image_end_finder_any_bytes_give_a_state(data):
    result = find_image_end(data)
    assert result.state in (COMPLETE, INCOMPLETE, BROKEN)
    if result.state is COMPLETE:
        assert 0 < result.length <= len(data)


def test_the_mutator_makes_frames_and_payloads():
    import random

    mutator = Mutator(random.Random(3), [b"\xff\xd8\xff\xe0" + bytes(100)], ["201911001"])
    assert len({mutator.frame(n) for n in range(200)}) > 150
    assert all(mutator.legacy_payload() for _ in range(50))


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1, rate=500, burst=1000, idle_timeout=2) as running:
            yield running


def test_a_short_socket_fuzz_leaves_the_server_answering_correctly(server, faces_dir):
    probe = (faces_dir / "knowns/201911001_obama.jpg").read_bytes()
    stats = run_fuzz(
        "127.0.0.1",
        server.port,
        server.token,
        seconds=4,
        seed=11,
        threads=3,
        student_ids=server.student_ids,
        images=sample_images(),
    )
    assert stats.tried > 100, stats
    assert stats.bad_replies == []
    assert stats.replies["WelcomeResponse"] > 0 and stats.replies[ErrorCode.BAD_REQUEST] > 0
    assert check_server("127.0.0.1", server.port, server.token, probe, "201911001") == []
    assert server.app.server.connection_limit.served <= 1  # every fuzz connection was let go
