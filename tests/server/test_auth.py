"""Who may talk to the server: client tokens (add-client, revoke-client, hello), TLS, 2019
payloads only from configured networks."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import ssl
import subprocess
import sys
import time

import pytest

from client.connection import FramedClient, ServerError, legacy_request
from db import clients
from db.connection import connect, transaction
from protocol import framed
from protocol.errors import ErrorCode
from testkit.databases import fresh_database
from testkit.paths import REPO
from testkit.processes import ServerProcess
from testkit.servers import LECTURE, TEST_CLIENT, add_client, exchange, read_until_closed, running_server, seed_roster
from testkit.tls import make_certificates


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1, token_recheck=1.0) as running:
            yield running


def attendance_db(url, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "admin", "--db-url", url.to_url(), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def framed_exchange(server, data: bytes) -> list:
    """Send raw framed bytes (preamble included), read until the server closes, decode."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        reply = read_until_closed(sock)
    return framed.FramedDecoder("client").feed(reply)


# -- tokens on the framed protocol --------------------------------------------------------------


def test_a_request_before_hello_is_refused_and_the_connection_closed(server):
    events = framed_exchange(
        server, framed.PREAMBLE + framed.encode(framed.PingRequest(5)) + framed.encode(framed.PingRequest(6))
    )
    assert len(events) == 1  # the second ping is never answered: the server closed
    assert (events[0].request_id, events[0].code) == (5, ErrorCode.UNAUTHORIZED)


def test_an_unknown_token_is_refused_and_the_connection_closed(server):
    with pytest.raises(ServerError) as err:
        FramedClient(server.host, server.port, token="not-a-token-anyone-was-given")
    assert err.value.code == ErrorCode.UNAUTHORIZED
    events = framed_exchange(
        server, framed.PREAMBLE + framed.encode(framed.HelloRequest(1, "x" * 43)) + framed.encode(framed.PingRequest(2))
    )
    assert [(e.request_id, e.code) for e in events] == [(1, ErrorCode.UNAUTHORIZED)]


def test_an_invalid_hello_is_unauthorized_too(server):
    header = b'{"op":"hello","token":"has a space"}'
    frame = (8 + len(header)).to_bytes(4, "big") + (3).to_bytes(4, "big") + len(header).to_bytes(4, "big") + header
    events = framed_exchange(server, framed.PREAMBLE + frame)
    assert [(e.request_id, e.code) for e in events] == [(3, ErrorCode.UNAUTHORIZED)]


def test_hello_and_pipelined_requests_on_one_send(server):
    data = (
        framed.PREAMBLE
        + framed.encode(framed.HelloRequest(1, server.token))
        + framed.encode(framed.PingRequest(2))
        + framed.encode(framed.RosterRequest(3, LECTURE))
    )
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        events = framed.FramedDecoder("client").feed(read_until_closed(sock))
    assert [type(e) for e in events] == [framed.WelcomeResponse, framed.PongResponse, framed.RosterResponse]
    assert events[0].client_name == TEST_CLIENT


def test_a_second_hello_is_a_bad_request(server):
    with server.client() as client:
        with pytest.raises(ServerError) as err:
            client.hello(server.token)
        assert err.value.code == ErrorCode.BAD_REQUEST
        assert client.ping()


def test_marks_record_the_client_that_made_them(server):
    with server.client() as client:
        assert client.client_name == TEST_CLIENT
        client.mark(LECTURE, "201911004")
        client.batch_mark(LECTURE, "auth-batch", [("201911005", "late")])
    assert exchange(server.host, server.port, b"201911006" + LECTURE.encode()) == b"success"
    names = dict(server.query("SELECT student_id, client_name FROM attendance"))
    assert names["201911004"] == TEST_CLIENT
    assert names["201911005"] == TEST_CLIENT
    assert names["201911006"] == "legacy@127.0.0.1"
    assert server.query("SELECT client_name FROM applied_batches WHERE batch_id = 'auth-batch'") == [(TEST_CLIENT,)]


def test_revoked_client_is_refused_on_its_next_connection_and_on_its_open_one(server):
    token = add_client(server.db_url, "room-e203")
    open_client = FramedClient(server.host, server.port, token=token)
    assert open_client.client_name == "room-e203"
    result = attendance_db(server.db_url, "revoke-client", "room-e203")
    assert result.returncode == 0, result.stderr
    assert "revoked" in result.stdout
    with pytest.raises(ServerError) as err:
        FramedClient(server.host, server.port, token=token)
    assert err.value.code == ErrorCode.UNAUTHORIZED
    time.sleep(2.5)  # the module's server rereads the clients table every second
    with pytest.raises(ServerError) as err:
        open_client.ping()
    assert err.value.code == ErrorCode.UNAUTHORIZED
    open_client.close()


# -- attendance-db add-client / revoke-client / list-clients -------------------------------------


def test_add_client_prints_the_token_once_and_stores_only_its_hash(db_url):
    result = attendance_db(db_url, "add-client", "prof-kim.laptop", "--role", "professor")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert len(token) == 64 and int(token, 16) >= 0 and "\n" not in token  # the token alone on stdout
    assert "shown only this once" in result.stderr
    conn = connect(db_url)
    with transaction(conn) as cur:
        cur.execute("SELECT name, token_sha256, revoked_at FROM clients")
        rows = cur.fetchall()
        cur.execute("SELECT COUNT(*) FROM clients WHERE token_sha256 = %s OR name = %s", (token, token))
        assert cur.fetchone()[0] == 0  # the token itself is nowhere
    conn.close()
    assert rows == (("prof-kim.laptop", hashlib.sha256(token.encode()).hexdigest(), None),)
    assert "(professor, every lecture) added" in result.stderr

    again = attendance_db(db_url, "add-client", "prof-kim.laptop", "--role", "professor")
    assert again.returncode == 2 and "revoke it first" in again.stderr
    assert attendance_db(db_url, "revoke-client", "prof-kim.laptop").returncode == 0
    listing = attendance_db(db_url, "list-clients")
    assert "prof-kim.laptop" in listing.stdout and "revoked" in listing.stdout
    renewed = attendance_db(db_url, "add-client", "prof-kim.laptop", "--role", "professor")
    assert renewed.returncode == 0 and renewed.stdout.strip() != token
    assert "active" in attendance_db(db_url, "list-clients").stdout
    conn = connect(db_url)
    with transaction(conn) as cur:
        assert clients.client_for_token(cur, token) is None  # the old token is gone
        assert clients.client_for_token(cur, renewed.stdout.strip()).active
    conn.close()


def test_roles_and_lectures_on_the_command_line(db_url, faces_dir):
    assert attendance_db(db_url, "add-client", "room-1").returncode == 2  # --role is required
    unknown = attendance_db(db_url, "add-client", "room-1", "--role", "kiosk", "--lecture", "ea0017_1")
    assert unknown.returncode == 2 and "no lecture ea0017_1 in the database" in unknown.stderr
    admin = attendance_db(db_url, "add-client", "room-1", "--role", "admin", "--lecture", "ea0017_1")
    assert admin.returncode == 2 and "an admin client serves every lecture" in admin.stderr
    bad = attendance_db(db_url, "add-client", "room-1", "--role", "kiosk", "--lecture", "EA17")
    assert bad.returncode == 2 and "not a lecture code" in bad.stderr
    assert attendance_db(db_url, "list-clients").stdout.startswith("no clients")  # nothing was added

    seed_roster(db_url, faces_dir / "knowns")
    added = attendance_db(db_url, "add-client", "room-1", "--role", "kiosk", "--lecture", "EA0017_1")
    assert added.returncode == 0, added.stderr
    assert "(kiosk, ea0017_1) added" in added.stderr
    changed = attendance_db(
        db_url, "set-role", "room-1", "--role", "camera", "--lecture", "ea0017_1", "--lecture", "cs0001_1"
    )
    assert changed.returncode == 0 and "now camera, cs0001_1, ea0017_1" in changed.stdout
    assert attendance_db(db_url, "set-role", "nobody", "--role", "kiosk").returncode == 2
    listing = attendance_db(db_url, "list-clients").stdout.split()
    assert listing[:2] == ["room-1", "camera"] and listing[-2:] == ["cs0001_1,", "ea0017_1"]
    conn = connect(db_url)
    with transaction(conn) as cur:
        client = clients.get_client(cur, "room-1")
    conn.close()
    assert (client.role, client.lectures) == ("camera", frozenset({"ea0017_1", "cs0001_1"}))


def test_only_the_newest_token_of_a_re_added_client_works(server):
    old = add_client(server.db_url, "re-added")
    new = add_client(server.db_url, "re-added")  # revokes, then adds again with a new token
    with FramedClient(server.host, server.port, token=new) as client:
        assert client.client_name == "re-added"
    with pytest.raises(ServerError):
        FramedClient(server.host, server.port, token=old)


def test_bad_client_names_are_refused(db_url, capsys):
    from admin.cli import main

    for name in ["", "x" * 65, "room 101", "a'b", "a;b", "a--b\x00", "강의실", "legacy@1.2.3.4"]:
        assert main(["--db-url", db_url.to_url(), "add-client", name, "--role", "kiosk"]) == 2
        assert "not a client name" in capsys.readouterr().err
        assert main(["--db-url", db_url.to_url(), "revoke-client", name]) == 2
        capsys.readouterr()
    conn = connect(db_url)
    with transaction(conn) as cur:
        cur.execute("SELECT COUNT(*) FROM clients")
        assert cur.fetchone() == (0,)
    conn.close()


# -- 2019 payloads only from configured networks --------------------------------------------------


def test_legacy_payloads_from_other_networks_get_fail_and_write_nothing(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1, legacy_from=("10.20.0.0/16",)) as srv:
            assert exchange(srv.host, srv.port, b"201911001" + LECTURE.encode()) == b"fail"
            assert exchange(srv.host, srv.port, LECTURE.encode()) == b"fail"
            assert srv.query("SELECT COUNT(*) FROM attendance") == [(0,)]
            with srv.client() as client:  # the framed protocol is not affected
                assert client.mark(LECTURE, "201911001").status == "present"


def test_network_allow_list():
    from server.limits import DEFAULT_LEGACY_NETWORKS, NetworkAllowList

    default = NetworkAllowList(DEFAULT_LEGACY_NETWORKS)
    assert default.allows("127.0.0.1") and default.allows("127.8.9.10") and default.allows("::1")
    assert default.allows("::ffff:127.0.0.1")  # IPv4 on a dual-stack socket
    assert not default.allows("10.0.0.1") and not default.allows("::2") and not default.allows("bogus")
    rooms = NetworkAllowList(["10.20.0.0/16", "fe80::/10"])
    assert rooms.allows("10.20.3.4") and not rooms.allows("10.21.0.1") and rooms.allows("fe80::1%eth0")
    assert not NetworkAllowList([]).allows("127.0.0.1")


# -- TLS, and the real command line (--tls-cert/--tls-key, --no-legacy, --cafile, --token) -------


def test_tls_server_and_clients_verify_the_certificate(db_url, faces_dir, tmp_path):
    files = make_certificates(tmp_path / "tls")
    other = make_certificates(tmp_path / "tls", "other")
    seed_roster(db_url, faces_dir / "knowns")
    token = add_client(db_url, "tls-client")
    args = ["--tls-cert", str(files.server_cert), "--tls-key", str(files.server_key), "--no-legacy"]
    with ServerProcess(db_url, faces_dir / "knowns", *args, log_level="INFO") as server:
        with FramedClient("127.0.0.1", server.port, token=token, cafile=files.ca_cert) as client:
            assert isinstance(client.sock, ssl.SSLSocket)
            assert client.client_name == "tls-client"
            assert client.roster(LECTURE).lecture == LECTURE
        with FramedClient("localhost", server.port, token=token, cafile=files.ca_cert) as client:
            assert client.ping()
        with pytest.raises(ssl.SSLCertVerificationError):  # a certificate our CA did not sign
            FramedClient("127.0.0.1", server.port, token=token, cafile=other.ca_cert)
        with pytest.raises(ServerError) as err:  # no plain-text framed protocol with TLS on
            FramedClient("127.0.0.1", server.port, token=token)
        assert err.value.code == ErrorCode.UNAUTHORIZED and "TLS" in err.value.message
        assert legacy_request("127.0.0.1", server.port, LECTURE.encode()) == b"fail"  # --no-legacy

        env = {**os.environ, "ATTENDANCE_TOKEN": token}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "client.cli",
                "--server",
                f"localhost:{server.port}",
                "--cafile",
                str(files.ca_cert),
                "mark",
                LECTURE,
                "201911002",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["status"] == "present"
        untrusted = subprocess.run(
            [sys.executable, "-m", "client.cli", "--server", f"localhost:{server.port}", "--tls", "roster", LECTURE],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert untrusted.returncode == 3 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        log = "".join(server.lines)
    assert "framed protocol: TLS" in log and "2019 payloads: off" in log
    assert token not in log  # the token never reaches the log
