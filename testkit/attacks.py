"""The denial-of-service attacks of issue 13 (one hostile machine on the lecture-hall network),
as building blocks for tests/e2e/test_attacks.py (small sizes) and bench/attack.py (full sizes).

Every attack connects from :data:`ATTACKER` (another loopback address than the honest clients'
127.0.0.1, as a second machine would be) and only to loopback.
"""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import PIL.Image

from protocol import framed

#: The hostile machine's address (Linux answers on all of 127.0.0.0/8).
ATTACKER = "127.0.0.66"


def connect_from(host: str, port: int, source: str = ATTACKER, timeout: float = 10.0) -> socket.socket:
    """A TCP connection to host:port from the address ``source``."""
    return socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))


def closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing the connection, or None when it is still open after
    ``seconds``."""
    sock.settimeout(0.2)
    received = bytearray()
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return bytes(received)
        if not data:
            return bytes(received)
        received += data
    return None


class Trickle:
    """Connections that each send ``payload`` ``chunk`` bytes every ``interval`` seconds from
    the attacker's address (a slowloris), in background threads, until :meth:`stop`; a
    connection the server ended is opened again. Counts the connections opened and ended."""

    def __init__(
        self,
        host: str,
        port: int,
        payload: bytes,
        *,
        connections: int,
        interval: float,
        chunk: int = 1,
        reconnect: bool = True,
    ):
        self.host, self.port, self.payload, self.chunk = host, port, payload, chunk
        self.connections, self.interval, self.reconnect = connections, interval, reconnect
        self.opened = 0
        self.ended = 0  # connections the server closed
        self.bytes_sent = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._one, daemon=True) for _ in range(connections)]

    def start(self) -> Trickle:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _one(self) -> None:
        while not self._stop.is_set():
            try:
                sock = connect_from(self.host, self.port)
            except OSError:
                self._stop.wait(self.interval)
                continue
            self.opened += 1
            with sock:
                sock.settimeout(self.interval)
                for index in range(0, len(self.payload), self.chunk):
                    if self._stop.is_set():
                        return
                    try:
                        sock.sendall(self.payload[index : index + self.chunk])
                        self.bytes_sent += self.chunk
                        if sock.recv(65536) == b"":  # the server sent its answer or closed
                            break
                    except TimeoutError:
                        continue  # still open: the next byte
                    except OSError:
                        break
                self.ended += 1
            if not self.reconnect:
                return
            self._stop.wait(0.05)


def endless_jpeg(megabytes: int = 64) -> bytes:
    """The start of a JPEG whose scan never ends (entropy-coded bytes, no EOI): a 2019 payload
    that is never whole."""
    start = many_scan_jpeg(64, 0)
    sos = start.rindex(b"\xff\xda")
    (length,) = struct.unpack_from(">H", start, sos + 2)
    return start[: sos + 2 + length] + b"\x55" * (megabytes * 2**20)


def huge_header_frame(header_bytes: int, request_id: int = 1) -> bytes:
    """The preamble and one framed frame whose JSON header is ``[{},{},...]`` of about
    ``header_bytes`` bytes (each ``{}`` a Python dict once parsed)."""
    count = max(1, header_bytes // 3)
    header = b"[" + b"{}," * (count - 1) + b"{}]"
    return framed.PREAMBLE + struct.pack(">III", 8 + len(header), request_id, len(header)) + header


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each JPEG segment; a scan's end includes its entropy-coded data."""
    pos, found = 2, []
    while pos < len(data):
        marker = data[pos + 1]
        if marker == 0xD9:
            found.append((marker, pos, pos + 2))
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        end = pos + 2 + length
        if marker == 0xDA:
            while True:
                end = data.index(b"\xff", end)
                if data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7:
                    end += 2
                    continue
                break
        found.append((marker, pos, end))
        pos = end
    return found


def many_scan_jpeg(side: int, extra_scans: int) -> bytes:
    """A valid progressive JPEG of side x side grey pixels with ``extra_scans`` more copies of
    its smallest AC scan (about 12 bytes each): decoding costs a pass over the image per scan."""
    buffer = io.BytesIO()
    PIL.Image.fromarray(np.full((side, side, 3), 128, np.uint8)).save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    scans = [(start, end) for marker, start, end in _segments(data) if marker == 0xDA]

    def spectral_start(scan: tuple[int, int]) -> int:
        start = scan[0]
        components = data[start + 4]
        return data[start + 5 + 2 * components]

    ac_scans = [scan for scan in scans if spectral_start(scan) > 0]
    start, end = min(ac_scans, key=lambda scan: scan[1] - scan[0])
    last = scans[-1][0]
    return data[:last] + data[start:end] * extra_scans + data[last:]


def tiled_faces(face_photo: Path, count: int, columns: int = 8) -> bytes:
    """A JPEG of the photo's face tiled ``count`` times (an image with many faces)."""
    face = PIL.Image.open(face_photo).convert("RGB")
    face.thumbnail((200, 200))
    rows = -(-count // columns)
    canvas = PIL.Image.new("RGB", (face.width * min(count, columns), face.height * rows), "white")
    for index in range(count):
        canvas.paste(face, ((index % columns) * face.width, (index // columns) * face.height))
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def send_legacy(host: str, port: int, payload: bytes, timeout: float = 120.0, source: str = ATTACKER) -> bytes:
    """Send a 2019 payload (for an image: its bytes, no token needed) from ``source`` and read
    the reply until the server closes."""
    with connect_from(host, port, source, timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
        return b"".join(chunks)


@contextlib.contextmanager
def background(target, *args) -> Iterator[threading.Event]:
    """Run ``target(stop_event, *args)`` in a thread for the block; then set the event and join."""
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(stop, *args), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=30)
