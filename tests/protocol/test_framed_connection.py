"""protocol.framed.connection: the rules of a connection, without I/O (two FramedConnections
talk through byte strings)."""

from __future__ import annotations

import pytest

from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.framed import (
    CLIENT,
    PREAMBLE,
    SERVER,
    BatchMark,
    BatchMarkRequest,
    ErrorResponse,
    FramedConnection,
    HelloRequest,
    InvalidMessage,
    PingRequest,
    PongResponse,
    RecognizeRequest,
    State,
    WelcomeResponse,
    encode,
)

TOKEN = "Yf3kQ9zE_x-4p0l8mUjz1cHk2w7r5sTq8vN6bA0dGeI"
REQUESTS = [
    HelloRequest(1, TOKEN),
    PingRequest(2),
    BatchMarkRequest(3, "ea0017_1", "b-1", (BatchMark("201911001", "late"),)),
    RecognizeRequest(4, b"\xff\xd8\xff not a real jpeg \xff\xd9", "ea0017_1"),
]


def client_bytes() -> bytes:
    """What a client sends: its preamble, then every request of REQUESTS."""
    client = FramedConnection(CLIENT)
    return client.send_preamble() + b"".join(client.send(request) for request in REQUESTS)


def split_whole(data: bytes) -> list[bytes]:
    return [data]


def split_bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


@pytest.mark.parametrize("split", [split_whole, split_bytewise])
def test_server_receives_every_request_whole_or_byte_by_byte(split) -> None:
    server = FramedConnection(SERVER)
    events = [event for chunk in split(client_bytes()) for event in server.receive_data(chunk)]
    assert events == REQUESTS
    assert server.buffered == 0


def test_trailing_bytes_of_the_next_frame_wait_in_the_buffer() -> None:
    server = FramedConnection(SERVER)
    next_frame = encode(PingRequest(9))
    events = server.receive_data(client_bytes() + next_frame[:7])
    assert events == REQUESTS
    assert server.buffered == 7
    assert server.receive_data(next_frame[7:]) == [PingRequest(9)]
    assert server.buffered == 0


def test_server_states_preamble_then_hello_then_ready() -> None:
    server = FramedConnection(SERVER)
    assert server.state is State.AWAIT_PREAMBLE
    assert server.receive_data(PREAMBLE[:3]) == []
    assert server.state is State.AWAIT_PREAMBLE and not server.preamble_received
    server.receive_data(PREAMBLE[3:])
    assert server.state is State.AWAIT_HELLO and server.preamble_received
    assert server.send_preamble() == PREAMBLE
    assert server.preamble_sent
    with pytest.raises(LocalProtocolError):
        server.send_preamble()
    [hello] = server.receive_data(encode(HelloRequest(1, TOKEN)))
    assert server.before_hello(hello) is None
    assert server.state is State.AWAIT_HELLO  # receiving hello is not enough: the welcome is
    assert server.send(WelcomeResponse(1, "room-e203", "0.1")) == encode(WelcomeResponse(1, "room-e203", "0.1"))
    assert server.state is State.READY
    [ping] = server.receive_data(encode(PingRequest(2)))
    assert server.before_hello(ping) is None


def test_a_request_before_hello_is_answered_unauthorized_and_that_closes() -> None:
    server = FramedConnection(SERVER)
    [ping] = server.receive_data(PREAMBLE + encode(PingRequest(5)))
    refusal = server.before_hello(ping)
    assert refusal == ErrorResponse(
        5, ErrorCode.UNAUTHORIZED, "the first request must be hello with a valid client token"
    )
    data = server.send(refusal)
    assert data == PREAMBLE + encode(refusal)  # the preamble goes in front of the first reply
    assert server.state is State.CLOSED
    with pytest.raises(LocalProtocolError):
        server.send(PongResponse(5, "0.1"))
    with pytest.raises(LocalProtocolError):
        server.receive_data(encode(PingRequest(6)))


def test_an_invalid_message_before_hello_is_refused_too() -> None:
    server = FramedConnection(SERVER)
    bad_hello = bytearray(encode(HelloRequest(7, TOKEN)))
    bad_hello[-3] = ord(" ")  # a space: not a valid token character
    [event] = server.receive_data(PREAMBLE + bytes(bad_hello))
    assert isinstance(event, InvalidMessage)
    assert server.before_hello(event).code == ErrorCode.UNAUTHORIZED


def test_non_fatal_errors_keep_the_connection_waiting_for_hello() -> None:
    server = FramedConnection(SERVER)
    server.receive_data(PREAMBLE)
    for code in (ErrorCode.RATE_LIMITED, ErrorCode.DB_UNAVAILABLE, ErrorCode.BAD_REQUEST):
        server.send(ErrorResponse(1, code, "try again"))
        assert server.state is State.AWAIT_HELLO
    server.send(WelcomeResponse(2, "room-e203", "0.1"))
    server.send(ErrorResponse(3, ErrorCode.NOT_FOUND, "no such lecture"))
    assert server.state is State.READY


@pytest.mark.parametrize("code", ErrorCode.FATAL)
def test_every_fatal_code_closes_the_connection(code: str) -> None:
    server = FramedConnection(SERVER, require_hello=False)
    server.receive_data(PREAMBLE)
    assert server.state is State.READY  # no hello needed
    server.send(ErrorResponse(0, code, "closing"))
    assert server.state is State.CLOSED


def test_without_hello_required_requests_go_on() -> None:
    server = FramedConnection(SERVER, require_hello=False)
    [ping] = server.receive_data(PREAMBLE + encode(PingRequest(1)))
    assert server.before_hello(ping) is None


def test_a_stream_that_cannot_be_followed_leaves_one_error_to_send() -> None:
    server = FramedConnection(SERVER)
    with pytest.raises(RemoteProtocolError) as err:
        server.receive_data(b"GET / HTTP/1.1\r\n")
    assert server.state is State.ERROR
    reply = server.error_for(err.value)
    assert reply.request_id == 0 and reply.code == ErrorCode.BAD_FRAME
    with pytest.raises(LocalProtocolError):
        server.send(PongResponse(1, "0.1"))  # only the error may go now
    assert server.send(reply) == PREAMBLE + encode(reply)
    assert server.state is State.CLOSED


def test_a_broken_frame_error_keeps_the_request_id_it_read() -> None:
    server = FramedConnection(SERVER)
    frame = (100).to_bytes(4, "big") + (42).to_bytes(4, "big") + (1000).to_bytes(4, "big")
    with pytest.raises(RemoteProtocolError) as err:
        server.receive_data(PREAMBLE + frame)
    assert server.error_for(err.value).request_id == 42


def test_refusals_concern_the_connection() -> None:
    refusal = FramedConnection.refusal(ErrorCode.BUSY, "full")
    assert refusal == ErrorResponse(0, ErrorCode.BUSY, "full")


def test_a_message_too_large_is_refused_and_changes_nothing() -> None:
    server = FramedConnection(SERVER, max_frame_bytes=60)
    server.receive_data(PREAMBLE)
    with pytest.raises(LocalProtocolError) as err:
        server.send(ErrorResponse(1, ErrorCode.NOT_FOUND, "x" * 100))
    assert err.value.code == ErrorCode.FRAME_TOO_LARGE
    assert not server.preamble_sent and server.state is State.AWAIT_HELLO
    assert server.send(ErrorResponse(1, ErrorCode.NOT_FOUND, "x" * 100), max_frame_bytes=1000)


def test_client_states_follow_the_responses_it_receives() -> None:
    client = FramedConnection(CLIENT)
    client.send_preamble()
    client.send(HelloRequest(1, TOKEN))
    assert client.state is State.AWAIT_PREAMBLE
    welcome = WelcomeResponse(1, "room-e203", "0.1")
    assert client.receive_data(PREAMBLE + encode(welcome)) == [welcome]
    assert client.state is State.READY
    client.receive_data(encode(ErrorResponse(2, ErrorCode.NOT_FOUND, "no such lecture")))
    assert client.state is State.READY
    client.receive_data(encode(ErrorResponse(3, ErrorCode.UNAUTHORIZED, "the client token was revoked")))
    assert client.state is State.CLOSED


def test_a_client_without_token_is_ready_once_the_server_preamble_arrived() -> None:
    client = FramedConnection(CLIENT, require_hello=False)
    client.receive_data(PREAMBLE)
    assert client.state is State.READY


def test_which_errors_concern_a_request() -> None:
    own = ErrorResponse(7, ErrorCode.NOT_FOUND, "no")
    connection = ErrorResponse(0, ErrorCode.BUSY, "full")
    other = ErrorResponse(8, ErrorCode.NOT_FOUND, "no")
    assert FramedConnection.concerns(own, 7)
    assert FramedConnection.concerns(connection, 7)
    assert not FramedConnection.concerns(other, 7)
    assert not FramedConnection.concerns(PongResponse(7, "0.1"), 7)


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError):
        FramedConnection("peer")


def test_a_server_takes_only_a_small_first_frame_the_hello():
    server = FramedConnection(SERVER, max_frame_bytes=10_000, max_hello_frame_bytes=300)
    server.receive_data(PREAMBLE)
    with pytest.raises(RemoteProtocolError) as refused:
        server.receive_data(encode(RecognizeRequest(1, b"x" * 400))[:4])  # refused from its length
    assert refused.value.code == ErrorCode.FRAME_TOO_LARGE
    assert "exceeds the limit of 300 for the first frame (hello)" in refused.value.message


def test_requests_behind_the_hello_may_be_large_sent_at_once_or_after_the_welcome():
    big = RecognizeRequest(2, b"x" * 5000)
    pipelined = FramedConnection(SERVER, max_frame_bytes=10_000, max_hello_frame_bytes=300)
    hello = HelloRequest(1, TOKEN)
    assert pipelined.receive_data(PREAMBLE + encode(hello) + encode(big)) == [hello, big]
    server = FramedConnection(SERVER, max_frame_bytes=10_000, max_hello_frame_bytes=300)
    assert server.receive_data(PREAMBLE + encode(hello)) == [hello]
    server.send(WelcomeResponse(1, "kiosk", "test"))
    assert server.receive_data(encode(big)) == [big]


def test_without_hello_the_small_limit_does_not_apply():
    server = FramedConnection(SERVER, require_hello=False, max_frame_bytes=10_000, max_hello_frame_bytes=300)
    big = RecognizeRequest(2, b"x" * 5000)
    assert server.receive_data(PREAMBLE + encode(big)) == [big]
