"""A socket fuzzer: random and mutated frames and 2019-style payloads against a real server, and
checks of every reply (bench/fuzz_server.py runs it for a minute; tests/e2e/test_fuzz.py in short).
bench/fuzz_server.py's docstring lists what it sends."""

from __future__ import annotations

import collections
import hashlib
import json
import random
import re
import select
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field

from client.connection import FramedClient, legacy_request
from protocol import framed
from protocol.errors import RemoteProtocolError
from testkit.paths import FACES
from testkit.servers import LECTURE

HOST = "127.0.0.1"  # never anything else
NASTY_TEXT = [
    "'",
    '"',
    ";",
    "--",
    "\x00",
    "\\",
    "'; DROP TABLE students; --",
    "김철수",
    "𝒳",
    "\u202e",
    "ea0017_1' OR '1'='1",
    "%s",
    "{}",
    "\n\r\t",
    "A" * 300,
]
LEGACY_REPLY = re.compile(rb"(success|fail|Unknown|[0-9]{9}|\n|([0-9]{9}\t[^\t\n]*\t[^\t\n]+\t[^\t\n]+\n)+)\Z")


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A valid little PNG (about 1 KB) whose header claims width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    data = b"".join(hashlib.sha256(bytes([n])).digest() for n in range(30))  # never decoded
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@dataclass
class FuzzStats:
    frames: int = 0  # framed frames sent (hello included)
    legacy_payloads: int = 0
    garbage: int = 0
    connections: int = 0
    replies: collections.Counter = field(default_factory=collections.Counter)  # op or error code
    bad_replies: list[str] = field(default_factory=list)  # server bytes that are not valid: bugs
    client_errors: collections.Counter = field(default_factory=collections.Counter)  # resets, timeouts
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def tried(self) -> int:
        return self.frames + self.legacy_payloads + self.garbage

    def bad(self, what: str) -> None:
        with self.lock:
            if len(self.bad_replies) < 50:
                self.bad_replies.append(what)


class Mutator:
    """Random frames and payloads, from a seeded random generator."""

    def __init__(self, rng: random.Random, images: list[bytes], student_ids: list[str]):
        self.rng = rng
        self.images = images
        self.student_ids = student_ids
        self.lectures = [LECTURE, LECTURE.upper(), "cs0001_1", "zz9999_9"]

    # -- framed ------------------------------------------------------------------------------

    def valid_request(self, request_id: int):
        r = self.rng
        kind = r.choice(["ping", "roster", "mark", "mark", "batch", "recognize"])
        lecture = r.choice(self.lectures)
        student = r.choice(self.student_ids + ["200000000", "299999999"])
        if kind == "ping":
            return framed.PingRequest(request_id)
        if kind == "roster":
            return framed.RosterRequest(request_id, lecture)
        if kind == "mark":
            return framed.MarkRequest(
                request_id,
                lecture,
                student,
                r.choice(["present", "late", "excused"]),
                r.choice(["checkin", "camera", "manual"]),
                r.choice([None, 0.0, r.random()]),
            )
        if kind == "batch":
            chosen = r.sample(self.student_ids, r.randint(1, len(self.student_ids)))
            return framed.BatchMarkRequest(
                request_id,
                lecture,
                f"fuzz-{r.getrandbits(40):x}",
                tuple(framed.BatchMark(sid, r.choice(["present", "absent"])) for sid in chosen),
            )
        image = self.mutate(r.choice(self.images)) if r.random() < 0.5 else r.choice(self.images)
        return framed.RecognizeRequest(request_id, image or b"\xff", r.choice([None, lecture]))

    def random_json(self, depth: int = 0):
        r = self.rng
        choice = r.randrange(9 if depth < 6 else 6)
        if choice == 0:
            return None
        if choice == 1:
            return r.choice([True, False])
        if choice == 2:
            return r.choice([0, -1, 2**31, 2**64, 10**400 if r.random() < 0.1 else 7, 1.5, -0.0])
        if choice in (3, 4, 5):
            return r.choice(NASTY_TEXT + self.lectures + self.student_ids + ["present", "rollcall"])
        if choice == 6:
            return [self.random_json(depth + 1) for _ in range(r.randint(0, 4))]
        if choice == 7:
            return {
                r.choice(["lecture", "student_id", "status", "marks", "op", "token", "x"]): self.random_json(depth + 1)
                for _ in range(r.randint(0, 4))
            }
        nested = "[" * r.randint(50, 5000)  # deep nesting
        return nested

    def random_header_frame(self, request_id: int) -> bytes:
        r = self.rng
        header = {"op": r.choice(list(framed.REQUEST_TYPES) + ["nope", "welcome", "error"])}
        for _ in range(r.randint(0, 6)):
            header[
                r.choice(
                    [
                        "lecture",
                        "student_id",
                        "status",
                        "source",
                        "distance",
                        "batch_id",
                        "marks",
                        "token",
                        "image",
                        "min_face",
                        "boxes",
                        "x",
                    ]
                )
            ] = self.random_json()
        text = json.dumps(header, ensure_ascii=r.random() < 0.5)
        if r.random() < 0.1:
            text = text.replace('"', "'", 1)  # not JSON
        raw = text.encode("utf-8", "surrogatepass")
        blob = r.choice([b"", b"", r.randbytes(r.randint(1, 64))])
        body = struct.pack(">II", request_id, len(raw)) + raw + blob
        return struct.pack(">I", len(body)) + body

    def mutate(self, data: bytes) -> bytes:
        r = self.rng
        data = bytearray(data)
        for _ in range(r.randint(1, 4)):
            if not data:
                data += r.randbytes(4)
            op = r.randrange(6)
            at = r.randrange(len(data))
            if op == 0:
                data[at] = r.randrange(256)
            elif op == 1:
                data[at:at] = r.randbytes(r.randint(1, 16))
            elif op == 2:
                del data[at : at + r.randint(1, 64)]
            elif op == 3:
                data = data[:at]
            elif op == 4 and len(data) >= 4:
                data[0:4] = struct.pack(">I", r.choice([0, 7, 8, len(data), r.getrandbits(32)]))
            elif op == 5 and len(data) >= 12:
                data[8:12] = struct.pack(">I", r.getrandbits(r.choice([4, 16, 32])))
        return bytes(data)

    def mutate_content(self, frame: bytes) -> bytes:
        """The frame with its header (and blob) changed but its length fields right again: the
        stream stays in step, the content is what is fuzzed."""
        request_id, header_len = struct.unpack_from(">II", frame, 4)
        header, blob = frame[12 : 12 + header_len], frame[12 + header_len :]
        if self.rng.random() < 0.7:
            header = self.mutate(header)
        else:
            blob = self.mutate(blob) if blob else self.rng.randbytes(8)
        body = struct.pack(">II", request_id, len(header)) + header + blob
        return struct.pack(">I", len(body)) + body

    def frame(self, request_id: int) -> bytes:
        r = self.rng
        roll = r.random()
        if roll < 0.30:
            return framed.encode(self.valid_request(request_id))
        if roll < 0.60:
            return self.mutate_content(framed.encode(self.valid_request(request_id)))
        if roll < 0.75:
            return self.random_header_frame(request_id)
        if roll < 0.88:
            return self.mutate(framed.encode(self.valid_request(request_id)))  # lengths too
        if roll < 0.92:
            return r.randbytes(r.randint(1, 200))
        if roll < 0.94:
            return struct.pack(">I", r.choice([framed.DEFAULT_MAX_FRAME_BYTES + 1, 2**32 - 1]))
        return framed.encode(framed.HelloRequest(request_id, r.choice(["x", "A" * 256, "wrong-token"])))

    # -- 2019 payloads -------------------------------------------------------------------------

    def legacy_payload(self) -> bytes:
        r = self.rng
        student, lecture = r.choice(self.student_ids), r.choice(self.lectures)
        roll = r.random()
        if roll < 0.25:
            payload = (student + lecture).encode()
        elif roll < 0.4:
            payload = lecture.encode()
        elif roll < 0.7:
            payload = r.choice(self.images)
        elif roll < 0.75:
            return png_bomb()
        else:
            return bytes([r.randrange(256)]) + r.randbytes(r.randint(0, 40))
        if r.random() < 0.8:
            payload = self.mutate(payload)
        if r.random() < 0.2:
            payload += r.choice([b"\n", b"\r\n", b"'; DROP TABLE attendance; --", b"\x00"])
        return payload or b"x"


# -- sessions ------------------------------------------------------------------------------------


def _send_in_pieces(sock: socket.socket, data: bytes, rng: random.Random) -> None:
    if rng.random() < 0.8 or len(data) < 2:
        sock.sendall(data)
        return
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 5))))
    for start, end in zip([0, *cuts], [*cuts, len(data)]):
        sock.sendall(data[start:end])


def _drain(sock: socket.socket, decoder: framed.FramedDecoder, stats: FuzzStats, wait: float) -> bool:
    """Read what the server sent within ``wait`` seconds; False once it closed the connection."""
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        readable, _, _ = select.select([sock], [], [], max(0.0, left))
        if not readable:
            return True
        data = sock.recv(65536)
        if not data:
            return False
        try:
            events = decoder.feed(data)
        except RemoteProtocolError as exc:
            stats.bad(f"framed reply cannot be decoded: {exc}")
            return False
        for event in events:
            if isinstance(event, framed.InvalidMessage):
                stats.bad(f"invalid framed reply: {event.error}")
            else:
                name = event.code if isinstance(event, framed.ErrorResponse) else type(event).__name__
                with stats.lock:
                    stats.replies[name] += 1
        if left <= 0:
            return True


def framed_session(host, port, token, mutator: Mutator, stats: FuzzStats, deadline: float) -> None:
    r = mutator.rng
    decoder = framed.FramedDecoder("client")
    frames = 0
    with socket.create_connection((host, port), timeout=30) as sock:
        preamble = framed.PREAMBLE
        if r.random() < 0.05:  # a damaged preamble (still starting with 0x00: else it is a 2019 payload)
            preamble = b"\x00" + mutator.mutate(framed.PREAMBLE[1:])
        auth = r.random()
        opening = preamble
        if auth < 0.7:
            opening += framed.encode(framed.HelloRequest(1, token))
            frames += 1
        elif auth < 0.8:
            opening += framed.encode(framed.HelloRequest(1, "not-a-valid-token-" + r.randbytes(8).hex()))
            frames += 1
        sock.sendall(opening)
        alive = True
        for request_id in range(2, 2 + r.randint(1, 25)):
            if not alive or time.monotonic() > deadline:
                break
            data = mutator.frame(request_id)
            try:
                _send_in_pieces(sock, data, r)
            except OSError:
                break
            frames += 1
            alive = _drain(sock, decoder, stats, 0.0)
        if alive and r.random() < 0.7:  # wait for the answers, else leave abruptly
            try:
                sock.shutdown(socket.SHUT_WR)
                while _drain(sock, decoder, stats, 1.0) and time.monotonic() < deadline + 30:
                    pass
            except OSError:
                pass
    with stats.lock:
        stats.frames += frames
        stats.connections += 1


def legacy_session(host, port, mutator: Mutator, stats: FuzzStats) -> None:
    payload = mutator.legacy_payload()
    with socket.create_connection((host, port), timeout=30) as sock:
        _send_in_pieces(sock, payload, mutator.rng)
        if mutator.rng.random() < 0.9:  # else an incomplete payload waits for the idle timeout
            sock.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    with stats.lock:
        stats.legacy_payloads += 1
        stats.connections += 1
        stats.replies[f"legacy {reply[:7].decode('ascii', 'replace') if reply else '(none)'}"] += 1
    if payload[:1] not in (b"\x00", b"\x16") and not LEGACY_REPLY.match(reply):
        stats.bad(f"2019 reply {reply[:60]!r} to {payload[:30]!r}")


def garbage_session(host, port, mutator: Mutator, stats: FuzzStats) -> None:
    r = mutator.rng
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(r.randbytes(r.randint(1, 4096)))
        if r.random() < 0.5:
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
    with stats.lock:
        stats.garbage += 1
        stats.connections += 1


def run_fuzz(
    host: str,
    port: int,
    token: str,
    *,
    seconds: float,
    seed: int = 1,
    threads: int = 4,
    student_ids: list[str],
    images: list[bytes],
) -> FuzzStats:
    """Fuzz for ``seconds`` with ``threads`` loops; returns what was sent and seen."""
    if host != HOST:
        raise ValueError("the fuzzer only connects to 127.0.0.1")
    stats = FuzzStats()
    deadline = time.monotonic() + seconds

    def loop(number: int) -> None:
        mutator = Mutator(random.Random(seed * 7919 + number), images, student_ids)
        while time.monotonic() < deadline:
            kind = mutator.rng.choices(["framed", "legacy", "garbage"], [6, 3, 1])[0]
            try:
                if kind == "framed":
                    framed_session(host, port, token, mutator, stats, deadline)
                elif kind == "legacy":
                    legacy_session(host, port, mutator, stats)
                else:
                    garbage_session(host, port, mutator, stats)
            except OSError as exc:  # the server closed or reset the connection: allowed
                with stats.lock:
                    stats.client_errors[type(exc).__name__] += 1

    workers = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 120)
    return stats


def check_server(host: str, port: int, token: str, probe: bytes, expected: str) -> list[str]:
    """Real requests with known answers; returns the problems found (none: all fine)."""
    problems = []
    try:
        with FramedClient(host, port, token=token, timeout=60) as client:
            client.ping()
            roster = client.roster(LECTURE)
            if len(roster.students) != 6:
                problems.append(f"roster has {len(roster.students)} students, expected 6")
            marked = client.mark(LECTURE, expected)
            if marked.student_id != expected:
                problems.append(f"mark answered {marked}")
            faces = client.recognize(probe, LECTURE).faces
            if [f.student_id for f in faces] != [expected]:
                problems.append(f"recognize answered {[f.student_id for f in faces]}, expected [{expected}]")
        lines = legacy_request(host, port, LECTURE.encode(), timeout=60).decode().splitlines()
        if len(lines) != 6:
            problems.append(f"2019 roster has {len(lines)} lines, expected 6")
    except Exception as exc:  # noqa: BLE001 - any failure is a problem to report
        problems.append(f"{type(exc).__name__}: {exc}")
    return problems


def sample_images() -> list[bytes]:
    return [
        (FACES / name).read_bytes()
        for name in ("probes/obama_240p.jpg", "probes/alex_lacamoire_2.png", "negatives/dogs.jpg")
        if (FACES / name).is_file()
    ] or [(FACES / "knowns/201911001_obama.jpg").read_bytes()]
