"""The denial-of-service attacks of issue 13, at a small size, against a real server over real
sockets: each attack comes from another loopback address (testkit.attacks.ATTACKER), as a
hostile laptop on the lecture-hall network would; honest clients use 127.0.0.1. bench/attack.py
runs them at full size while honest clients check in."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from client.connection import FramedClient, ServerError
from protocol import framed
from protocol.errors import ErrorCode
from testkit.attacks import (
    ATTACKER,
    Trickle,
    closed_within,
    connect_from,
    endless_jpeg,
    huge_header_frame,
    many_scan_jpeg,
    send_legacy,
    tiled_faces,
)
from testkit.databases import fresh_database
from testkit.servers import add_client, running_server

LIMITS = dict(
    idle_timeout=5.0,
    hello_timeout=1.5,
    request_timeout=2.5,
    max_connections=8,
    max_connections_per_address=3,
    max_hello_frame_bytes=4096,
    max_faces=4,
    recognition_rate=0.5,
    recognition_burst=6,
)


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1, **LIMITS) as running:
            yield running


def _hello(sock: socket.socket, token: str) -> None:
    """Preamble and hello on a raw socket; reads the preamble and the welcome."""
    sock.sendall(framed.PREAMBLE + framed.encode(framed.HelloRequest(1, token)))
    decoder = framed.FramedDecoder("client")
    events: list = []
    while not events:
        events = decoder.feed(sock.recv(65536))
    assert isinstance(events[0], framed.WelcomeResponse), events


def _error(data: bytes, *, preamble: bool = True) -> framed.ErrorResponse:
    """The one error in ``data`` (the server's preamble first, unless it came before)."""
    [event] = framed.FramedDecoder("client", expect_preamble=preamble).feed(data)
    assert isinstance(event, framed.ErrorResponse), event
    return event


def test_bytes_trickled_before_hello_are_cut_at_the_hello_deadline(server):
    with connect_from(server.host, server.port) as sock:
        started = time.monotonic()
        for byte in framed.PREAMBLE + framed.encode(framed.HelloRequest(1, server.token)):
            try:
                sock.sendall(bytes([byte]))  # one byte every 0.3 s: no read ever times out
            except OSError:
                break
            time.sleep(0.3)
            if time.monotonic() - started > LIMITS["idle_timeout"]:
                break
        reply = closed_within(sock, 3.0)
    elapsed = time.monotonic() - started
    assert reply is not None, "the server kept the trickling connection open"
    assert elapsed < LIMITS["hello_timeout"] + 1.5
    assert _error(reply).code == ErrorCode.TIMEOUT


def test_a_request_trickled_after_hello_is_cut_at_the_request_deadline(server, faces_dir):
    frame = framed.encode(framed.RecognizeRequest(2, (faces_dir / "probes/obama_small.jpg").read_bytes()))
    with connect_from(server.host, server.port) as sock:
        _hello(sock, server.token)
        started = time.monotonic()
        sock.settimeout(0.25)
        reply = b""
        for byte in frame:
            try:
                sock.sendall(bytes([byte]))
                reply = sock.recv(65536)
                break  # the server answered (and closes)
            except TimeoutError:
                continue
            except OSError:
                break
            finally:
                assert time.monotonic() - started < LIMITS["request_timeout"] + 3, "never cut"
    assert time.monotonic() - started >= LIMITS["request_timeout"] - 0.3
    error = _error(reply, preamble=False)
    assert error.code == ErrorCode.TIMEOUT and "whole request within 2.5 s" in error.message


def test_a_2019_image_that_never_ends_fails_at_the_request_deadline(server):
    payload = endless_jpeg(1)
    with connect_from(server.host, server.port) as sock:
        started = time.monotonic()
        sock.settimeout(0.2)
        reply = None
        for start in range(0, len(payload), 512):
            try:
                sock.sendall(payload[start : start + 512])  # a little every 0.2 s, forever
                reply = sock.recv(100)
                break
            except TimeoutError:
                continue
            except OSError:
                break
            finally:
                assert time.monotonic() - started < LIMITS["request_timeout"] + 3, "never cut"
    assert reply == b"fail"
    assert time.monotonic() - started >= LIMITS["request_timeout"] - 0.3


def test_one_address_cannot_take_every_connection(server):
    # An earlier test's connection from ATTACKER is closed before its thread lets its slot go:
    # wait for that, or one of these would be refused instead of the extra one.
    limit = server.app.server.connection_limit
    deadline = time.monotonic() + 10
    while limit.served_from(ATTACKER) and time.monotonic() < deadline:
        time.sleep(0.02)
    held = [connect_from(server.host, server.port) for _ in range(LIMITS["max_connections_per_address"])]
    try:
        for sock in held:
            sock.sendall(framed.PREAMBLE)
        time.sleep(0.3)  # every one of them is being served
        assert limit.served_from(ATTACKER) == LIMITS["max_connections_per_address"]
        with connect_from(server.host, server.port) as extra:
            extra.sendall(framed.PREAMBLE)
            reply = closed_within(extra, 3.0)
        assert reply is not None and _error(reply).code == ErrorCode.BUSY
        assert "max-connections-per-address" in _error(reply).message
        with FramedClient(server.host, server.port, token=server.token) as honest:  # from 127.0.0.1
            assert honest.ping()
    finally:
        for sock in held:
            sock.close()


def test_a_slowloris_from_one_machine_leaves_honest_clients_served(server):
    attack = Trickle(server.host, server.port, b"\x00ATT\x01" + b"\x00" * 100, connections=12, interval=0.4).start()
    try:
        time.sleep(1.0)
        for _ in range(5):
            with FramedClient(server.host, server.port, token=server.token, timeout=5) as honest:
                assert honest.ping()
            time.sleep(0.3)
    finally:
        attack.stop()
    assert attack.opened > LIMITS["max_connections_per_address"]  # refused ones, and cut ones, came back


def test_a_large_frame_before_hello_is_refused_from_its_length(server):
    attack = huge_header_frame(1 * 2**20)
    with connect_from(server.host, server.port) as sock:
        sock.sendall(attack[:9])  # the preamble and the length field only
        reply = closed_within(sock, 3.0)
    assert reply is not None
    error = _error(reply)
    assert error.code == ErrorCode.FRAME_TOO_LARGE and "first frame (hello)" in error.message


def test_a_huge_json_header_after_hello_is_refused_unparsed_and_the_connection_goes_on(server):
    attack = huge_header_frame(2 * 2**20)[len(framed.PREAMBLE) :]
    with FramedClient(server.host, server.port, token=server.token) as client:
        client.sock.sendall(attack)
        reply = client._receive()
        assert reply.code == ErrorCode.BAD_REQUEST and "objects and arrays" in reply.message
        assert client.ping()


def test_a_jpeg_of_thousands_of_scans_is_refused_without_a_token_too(server, faces_dir):
    attack = many_scan_jpeg(2000, 3000)
    started = time.monotonic()
    assert send_legacy(server.host, server.port, attack) == b"fail"
    token = add_client(server.db_url, "scans-test")
    with FramedClient(server.host, server.port, token=token) as client:
        with pytest.raises(ServerError) as refused:
            client.recognize(attack)
    assert refused.value.code == ErrorCode.BAD_IMAGE and "3010 scans" in refused.value.message
    assert time.monotonic() - started < 5.0


def test_identify_with_more_boxes_than_max_faces_is_refused(server, faces_dir):
    token = add_client(server.db_url, "boxes-test")
    image = (faces_dir / "probes/obama_small.jpg").read_bytes()
    with FramedClient(server.host, server.port, token=token) as client:
        with pytest.raises(ServerError) as refused:
            client.identify(image, [(10 * n, 10 * n + 9, 10 * n + 9, 10 * n) for n in range(5)])
        assert refused.value.code == ErrorCode.BAD_REQUEST
        assert "5 faces to encode in one image, more than the limit of 4" in refused.value.message
        started = time.monotonic()
        assert client.ping()
        assert time.monotonic() - started >= 1.5  # the connection was not read for a while


def test_an_image_tiled_with_faces_is_refused_above_max_faces(server, faces_dir):
    token = add_client(server.db_url, "crowd-test")
    with FramedClient(server.host, server.port, token=token) as client:
        with pytest.raises(ServerError) as refused:
            client.recognize(tiled_faces(faces_dir / "probes/obama_small.jpg", 6))
    assert refused.value.code == ErrorCode.BAD_IMAGE and "more than the limit of 4" in refused.value.message


def test_recognize_is_rate_limited_by_its_cost_in_images_and_faces(server, faces_dir):
    token = add_client(server.db_url, "cost-test")
    image = (faces_dir / "probes/obama_small.jpg").read_bytes()
    with FramedClient(server.host, server.port, token=token) as client:
        for _ in range(3):  # 1 image + 1 face each: the burst of 6
            assert len(client.recognize(image).faces) == 1
        with pytest.raises(ServerError) as refused:
            client.recognize(image)
        assert refused.value.code == ErrorCode.RATE_LIMITED and "images and faces" in refused.value.message
        started = time.monotonic()
        assert client.ping()  # requests that cost no recognition go on...
        assert time.monotonic() - started >= 0.2  # ...once the refused client was not read for a while


def test_frames_after_hello_may_be_large(server, faces_dir):
    image = (faces_dir / "probes/obama_720p.jpg").read_bytes()
    assert len(image) > LIMITS["max_hello_frame_bytes"]
    token = add_client(server.db_url, "large-frame-test")
    with FramedClient(server.host, server.port, token=token) as client:
        assert len(client.recognize(image).faces) == 1


def test_the_attacker_address_is_not_the_honest_one():
    assert ATTACKER != "127.0.0.1" and struct.unpack("4B", socket.inet_aton(ATTACKER))[0] == 127
