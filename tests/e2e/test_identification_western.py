"""The new decision rules keep the Western results (docs/recognition.md): every probe photo is
still its student, the stranger of obama_biden_stranger.jpg and the 24 people of bald_guys.jpg
(none enrolled) are not accepted. One enrolment photo per student (shared/faces/knowns).

A real server on real sockets, real photos, real MariaDB.
"""

from __future__ import annotations

import pytest

from testkit.databases import fresh_database
from testkit.servers import LECTURE, exchange, running_server


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=2, idle_timeout=30.0) as running:
            yield running


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c


def largest(faces):
    return max(faces, key=lambda f: (f.bottom - f.top) * (f.right - f.left))


def test_every_probe_is_its_student_framed_and_2019(server, client, manifest):
    probes = [photo for photo in manifest if photo.kind == "probe"]
    assert len(probes) == 17
    for photo in probes:
        [student] = photo.student_ids
        face = largest(client.recognize(photo.path.read_bytes(), LECTURE).faces)
        assert (face.decision, face.student_id) == ("accepted", student), photo.path.name
        assert face.distance <= 0.6 and face.candidates[0].student_id == student
        assert exchange(server.host, server.port, photo.path.read_bytes()) == student.encode(), photo.path.name


def test_groups_accept_the_enrolled_faces_and_not_the_stranger(client, manifest):
    for photo in (p for p in manifest if p.kind == "group"):
        faces = client.recognize(photo.path.read_bytes(), LECTURE).faces
        accepted = sorted(f.student_id for f in faces if f.decision == "accepted")
        assert accepted == sorted(photo.student_ids), photo.path.name
        others = [f for f in faces if f.decision != "accepted"]
        assert len(others) == (1 if "stranger" in photo.path.name else 0)
        assert all(f.student_id is None and f.name is None for f in others)


def test_none_of_the_24_unenrolled_people_of_bald_guys_is_accepted(server, client, faces_dir):
    image = (faces_dir / "detection" / "bald_guys.jpg").read_bytes()
    with server.client() as camera:
        boxes = [(b.top, b.right, b.bottom, b.left) for b in camera.detect(image, min_face=20).boxes]
        assert len(boxes) == 24
        faces = camera.identify(image, boxes, LECTURE).faces
    assert len(faces) == 24 and not [f for f in faces if f.decision == "accepted" or f.student_id]
    whole = client.recognize(image, LECTURE).faces  # the recognize path too, on what it finds
    assert whole and not [f for f in whole if f.student_id]
    assert exchange(server.host, server.port, image) == b"Unknown"
