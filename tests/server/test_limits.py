"""Each limit is a setting with a default, and each has a test: frame size, image pixels, idle
timeout, concurrent connections, request rate."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from client.connection import FramedClient, ServerError
from protocol import framed
from protocol.errors import ErrorCode
from server.app import ServerConfig
from server.limits import ADMIT, REFUSE, REFUSE_ADDRESS, ConnectionLimit, RateLimiter
from server.recognition.images import DEFAULT_MAX_PIXELS
from testkit.databases import fresh_database
from testkit.fuzz import png_bomb
from testkit.servers import LECTURE, add_client, exchange, read_until_closed, running_server

LIMITS = dict(max_connections=3, rate=5.0, burst=8, idle_timeout=1.5, max_frame_bytes=600_000, max_pixels=1_500_000)


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1, **LIMITS) as running:
            yield running


def test_defaults_are_sane():
    config = ServerConfig(db_url=None, knowns_dir=None)
    assert config.max_frame_bytes == framed.DEFAULT_MAX_FRAME_BYTES == 16 * 2**20
    assert config.max_pixels == DEFAULT_MAX_PIXELS == 40_000_000
    assert config.idle_timeout == 10.0
    assert config.max_connections == 64
    assert (config.rate, config.burst) == (20.0, 40)
    assert config.require_token and config.legacy and config.keep_evidence is None
    assert config.legacy_from == ("127.0.0.0/8", "::1/128")
    # issue 13: one machine without a credential cannot stop the service
    assert (config.hello_timeout, config.request_timeout, config.max_hello_frame_bytes) == (5.0, 30.0, 4096)
    assert config.max_connections_per_address == 8
    assert (config.recognition_rate, config.recognition_burst, config.max_faces) == (20.0, 250, 200)
    assert (config.max_jpeg_scans, config.decode_timeout, config.worker_timeout) == (100, 5.0, 60.0)
    assert (config.max_queued, config.max_queued_per_client) == (512, 64)


# -- frame size -----------------------------------------------------------------------------


def test_frame_over_max_frame_bytes_is_refused_from_its_length(server):
    with server.client() as client:
        # The server answers and closes while the client is still sending: the client sees the
        # error, or (when the close reset the connection first) a connection error.
        with pytest.raises((ServerError, OSError)) as err:
            client.recognize(b"\xff\xd8\xff" + b"\x00" * 600_000)
        if isinstance(err.value, ServerError):
            assert err.value.code == ErrorCode.FRAME_TOO_LARGE
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(
            framed.PREAMBLE + framed.encode(framed.HelloRequest(1, server.token)) + struct.pack(">I", 600_001)
        )  # only the length: refused without the body
        events = framed.FramedDecoder("client").feed(read_until_closed(sock))
    assert events[-1].code == ErrorCode.FRAME_TOO_LARGE


# -- image pixels -----------------------------------------------------------------------------


def test_a_1_kb_png_claiming_50000_by_50000_pixels_is_refused_cheaply(server):
    bomb = png_bomb(50_000, 50_000)
    assert 900 < len(bomb) < 1100
    with server.client() as client:
        started = time.monotonic()
        with pytest.raises(ServerError) as err:
            client.recognize(bomb)
        took = time.monotonic() - started
        assert err.value.code == ErrorCode.BAD_IMAGE
        assert "pixels" in err.value.message
        assert took < 2.0  # the header is read, no pixel is decoded (2.5 Gpx would be 7.5 GB)
        assert client.ping()
    started = time.monotonic()
    assert exchange(server.host, server.port, bomb) == b"fail"  # the 2019 payload too
    assert time.monotonic() - started < 2.5


def test_max_pixels_is_a_server_setting(server, faces_dir):
    with server.client() as client:
        big = (faces_dir / "probes/obama_1080p.jpg").read_bytes()  # 1920 x 1080 = 2,073,600 px
        with pytest.raises(ServerError) as err:
            client.recognize(big)
        assert err.value.code == ErrorCode.BAD_IMAGE and "1,500,000" in err.value.message
        small = (faces_dir / "probes/obama_720p.jpg").read_bytes()  # 1280 x 720 = 921,600 px
        assert [f.student_id for f in client.recognize(small).faces] == ["201911001"]


# -- idle timeout -------------------------------------------------------------------------------


def test_a_silent_connection_is_closed_after_the_idle_timeout(server):
    with server.client() as client:
        started = time.monotonic()
        client.sock.settimeout(10)
        assert client.sock.recv(100) == b""  # closed by the server
        assert 1.4 < time.monotonic() - started < 4


# -- concurrent connections ---------------------------------------------------------------------


def test_connections_beyond_max_connections_get_busy(server):
    held = [server.client() for _ in range(3)]
    try:
        with pytest.raises(ServerError) as err:
            server.client()
        assert err.value.code == ErrorCode.BUSY
        assert exchange(server.host, server.port, LECTURE.encode()) == b"fail"
        assert all(client.ping() for client in held)  # the admitted ones go on
    finally:
        for client in held:
            client.close()
    deadline = time.monotonic() + 5
    while True:  # a slot is free once the server noticed a close
        try:
            with server.client() as client:
                assert client.ping()
            break
        except ServerError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_connection_limit_counts():
    limit = ConnectionLimit(2, max_refusing=1)
    assert [limit.enter(), limit.enter(), limit.enter(), limit.enter()] == [ADMIT, ADMIT, REFUSE, None]
    limit.leave(ADMIT)
    limit.leave(REFUSE)
    assert limit.enter() == ADMIT and limit.enter() == REFUSE


def test_connection_limit_per_address_leaves_slots_for_other_machines():
    limit = ConnectionLimit(10, max_refusing=2, per_address=3)
    assert [limit.enter("10.0.0.66") for _ in range(4)] == [ADMIT, ADMIT, ADMIT, REFUSE_ADDRESS]
    assert limit.enter("10.0.0.7") == ADMIT  # another machine still gets in
    assert limit.served == 4 and limit.served_from("10.0.0.66") == 3
    limit.leave(ADMIT, "10.0.0.66")
    limit.leave(REFUSE_ADDRESS, "10.0.0.66")
    assert limit.enter("10.0.0.66") == ADMIT
    for _ in range(3):
        limit.leave(ADMIT, "10.0.0.66")
    assert limit.served_from("10.0.0.66") == 0 and limit.served == 1


# -- request rate -------------------------------------------------------------------------------


def test_requests_above_the_rate_get_rate_limited_per_client(server):
    token = add_client(server.db_url, "rate-test")  # a client with a full bucket
    with FramedClient(server.host, server.port, token=token) as client:  # hello counts for the IP
        data = b"".join(framed.encode(framed.PingRequest(100 + n)) for n in range(12))
        client.sock.sendall(data)
        replies = [client._receive() for _ in range(12)]
        codes = [r.code if isinstance(r, framed.ErrorResponse) else "pong" for r in replies]
        assert 8 <= codes.count("pong") <= 11  # the burst, and maybe a few refilled meanwhile
        assert codes.count(ErrorCode.RATE_LIMITED) == 12 - codes.count("pong")
        other = add_client(server.db_url, "other-room")
        with FramedClient(server.host, server.port, token=other) as neighbour:
            assert neighbour.ping()  # a bucket per client
        time.sleep(0.5)  # 5 requests per second: 2 tokens back
        assert client.ping()


def test_rate_limiter_token_bucket():
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")
    now[0] += 0.5  # one token back
    assert limiter.allow("a") and not limiter.allow("a")
    assert RateLimiter(rate=0, burst=1).allow("x")  # 0: no limit
    many = RateLimiter(rate=1000.0, burst=1, clock=lambda: now[0])
    for n in range(RateLimiter.PRUNE_ABOVE + 10):
        many.allow(str(n))
        now[0] += 0.01
    assert many.keys <= RateLimiter.PRUNE_ABOVE + 1  # idle buckets are dropped: memory is bounded


def test_recognition_cost_counts_images_and_faces_not_requests():
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=10, clock=lambda: now[0])
    assert limiter.allow("camera", 6)  # an image and 5 boxes to encode
    assert not limiter.allow("camera", 6) and limiter.allow("camera", 4)
    assert not limiter.allow("camera", 1)
    limiter.charge("kiosk", 25)  # the faces recognize found, counted after the work
    assert not limiter.allow("kiosk", 1)
    assert limiter.seconds_until("kiosk", 1) == pytest.approx(5.5)  # from -10 (the debt stops at -burst) to 1
    now[0] += 5.0  # 10 tokens back: from -10 (the debt stops at -burst) to 0
    assert not limiter.allow("kiosk", 1)
    now[0] += 0.5
    assert limiter.allow("kiosk", 1)
    assert limiter.allow("new", 50)  # a cost above the burst needs a full bucket
    assert not limiter.allow("new", 50)


def test_a_reply_over_max_frame_bytes_is_an_error_and_the_connection_goes_on(db_url, faces_dir):
    """The server sends no frame larger than its own limit: a roster of 6 students (about 700
    bytes) does not fit in 400, and is answered bad_request on a connection that stays open."""
    with running_server(db_url, faces_dir / "knowns", workers=1, max_frame_bytes=400) as small:
        with small.client() as client:
            with pytest.raises(ServerError) as err:
                client.roster(LECTURE)
            assert err.value.code == ErrorCode.BAD_REQUEST
            assert "too large" in err.value.message
            assert client.ping().server_version  # the same connection carries on
