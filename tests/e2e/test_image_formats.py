"""WebP and HEIC through a real server: knowns/ enrolment, 2019 clients (WebP) and framed clients
(WebP, HEIC). The server's answer to a photo in these formats is the answer to the same photo in
JPEG (the recognition rules themselves are tested elsewhere)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import PIL.Image
import pytest

from protocol import legacy
from testkit import photos
from testkit.databases import fresh_database
from testkit.servers import LECTURE, exchange, running_server

OBAMA, BIDEN = "201911001", "201911002"


def converted(path: Path, fmt: str) -> bytes:
    """The photo at ``path`` as WEBP or HEIF bytes."""
    with PIL.Image.open(path) as image:
        return photos.encoded(image, fmt, quality=60)


@pytest.fixture(scope="module")
def knowns(faces_dir, tmp_path_factory) -> Path:
    """The sample knowns/, with Obama's photo as .heic and Biden's as .webp (no JPEG of them)."""
    folder = Path(shutil.copytree(faces_dir / "knowns", tmp_path_factory.mktemp("formats") / "knowns"))
    for jpeg, fmt, suffix in [("201911001_obama.jpg", "HEIF", ".heic"), ("201911002_biden.jpg", "WEBP", ".webp")]:
        (folder / jpeg).with_suffix(suffix).write_bytes(converted(folder / jpeg, fmt))
        (folder / jpeg).unlink()
    return folder


@pytest.fixture(scope="module")
def server(server_db_url, knowns):
    with fresh_database(server_db_url) as url:
        with running_server(url, knowns, workers=2, idle_timeout=3.0) as running:
            yield running


def test_heic_and_webp_knowns_are_enrolled_at_server_start(server):
    rows = dict(server.query("SELECT photo_path, face_count FROM face_encodings"))
    assert rows["201911001_obama.heic"] == 1
    assert rows["201911002_biden.webp"] == 1
    assert len(rows) == 6


@pytest.mark.parametrize("name, student_id", [("knowns/201911001_obama.jpg", OBAMA), ("probes/biden_2.jpg", BIDEN)])
def test_2019_client_webp_photo_gets_the_answer_of_its_jpeg(server, faces_dir, name, student_id):
    jpeg = (faces_dir / name).read_bytes()
    webp = converted(faces_dir / name, "WEBP")
    jpeg_reply = exchange(server.host, server.port, jpeg)
    assert exchange(server.host, server.port, webp) == jpeg_reply
    assert exchange(server.host, server.port, webp, chunk=700) == jpeg_reply  # its end found piece by piece
    if name.startswith("knowns/"):  # the very photo enrolled (as HEIC): no rule can doubt it
        assert jpeg_reply == student_id.encode()


def test_2019_client_webp_with_broken_structure_fails_after_one_second_of_silence(server, faces_dir):
    webp = converted(faces_dir / "probes/obama_small.jpg", "WEBP")
    broken = webp[:12] + b"ICCP" + webp[16:]  # not a VP8/VP8L/VP8X first chunk: idle fallback
    started = time.monotonic()
    assert exchange(server.host, server.port, broken) == legacy.FAIL  # then Pillow refuses it
    assert time.monotonic() - started < 2.9  # the 1 s fallback, not the 3 s idle timeout


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF"])
@pytest.mark.parametrize("name", ["knowns/201911002_biden.jpg", "groups/obama_biden_1.jpg"])
def test_framed_client_heic_and_webp_get_the_faces_of_the_jpeg(server, faces_dir, fmt, name):
    path = faces_dir / name
    other = converted(path, fmt)  # before connecting: the server drops a connection idle for 3 s
    with server.client() as client:
        from_jpeg = client.recognize(path.read_bytes(), LECTURE).faces
        from_other = client.recognize(other, LECTURE).faces
    assert sorted(f.student_id or "" for f in from_other) == sorted(f.student_id or "" for f in from_jpeg)
    assert len(from_other) == len(from_jpeg) > 0
    if name.startswith("knowns/"):  # the very photo enrolled (as WebP): no rule can doubt it
        assert [f.student_id for f in from_jpeg] == [BIDEN]
