"""Enrolment with several photos, checked (docs/recognition.md): the framed ``enroll`` op, the
``attendance-db enroll`` command, refusals, force, what the knowns sync and ``forget`` do with
enrolled encodings, and the conflicts listed at start-up. Real server, real photos, real MariaDB.
"""

from __future__ import annotations

import json
import logging
import shutil
import time

import pytest

from admin import cli as db_cli
from client import cli as client_cli
from client.connection import ServerError
from db.connection import run_in_transaction
from testkit.databases import fresh_database
from testkit.servers import LECTURE, running_server

#: A student not in shared/faces/knowns, enrolled from photos of a Korean sample person.
NEW_STUDENT = "201911020"


def query(url, sql: str) -> list[tuple]:
    def fetch(cur):
        cur.execute(sql)
        return list(cur.fetchall())

    return run_in_transaction(url, fetch)


def photos(faces_dir, person: str, count: int, start: int = 0) -> list[bytes]:
    files = sorted((faces_dir / "korean" / person).iterdir())[start : start + count]
    return [path.read_bytes() for path in files]


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir, tmp_path_factory):
    knowns = tmp_path_factory.mktemp("knowns")
    shutil.copytree(faces_dir / "knowns", knowns, dirs_exist_ok=True)
    with fresh_database(server_db_url) as url:
        with running_server(url, knowns, workers=2, idle_timeout=30.0, keep_enrolment_photos=True) as running:
            running.knowns = knowns
            yield running


def stored(server, student_id: str) -> list[tuple]:
    return server.query(
        "SELECT source, photo_path, photo IS NOT NULL FROM face_encodings WHERE student_id = %s"
        " AND encoding IS NOT NULL ORDER BY photo_path",
        (student_id,),
    )


def test_a_new_student_is_enrolled_from_several_photos_kept_only_when_asked(server, faces_dir):
    with server.client() as client:
        with pytest.raises(ServerError) as nameless:
            client.enroll(NEW_STUDENT, photos(faces_dir, "jin", 3))
        assert nameless.value.code == "not_found" and "give their name" in nameless.value.message
        reply = client.enroll(NEW_STUDENT, photos(faces_dir, "jin", 3), name="Kim Seokjin")
    assert (reply.stored, reply.total) == (3, 3), reply
    assert [p.problem for p in reply.photos] == [None, None, None]
    rows = stored(server, NEW_STUDENT)
    assert [source for source, _, _ in rows] == ["enrolled"] * 3
    assert all(path.startswith(f"enrolled:{NEW_STUDENT}:") for _, path, _ in rows)
    assert all(kept for _, _, kept in rows)  # the server runs with keep_enrolment_photos
    assert server.app.service.gallery.encodings_of(NEW_STUDENT).shape == (3, 128)  # reloaded at once
    assert server.query("SELECT name FROM students WHERE student_id = %s", (NEW_STUDENT,)) == [("Kim Seokjin",)]


def test_photos_of_another_student_no_face_or_two_faces_are_refused_and_nothing_is_stored(server, faces_dir):
    before = stored(server, "201911001")
    obama = (faces_dir / "probes" / "obama_2.jpg").read_bytes()
    biden = (faces_dir / "probes" / "biden_2.jpg").read_bytes()
    dogs = (faces_dir / "negatives" / "dogs.jpg").read_bytes()
    two = (faces_dir / "groups" / "kit_rose.jpg").read_bytes()
    with server.client() as client:
        reply = client.enroll("201911001", [obama, biden, dogs, two, b"not an image"])
        assert reply.stored == 0 and reply.total == len(before)
        verdicts = [(p.problem, p.other_student) for p in reply.photos]
        assert verdicts == [
            (None, None),
            ("like_other_student", "201911002"),
            ("no_face", None),
            ("several_faces", None),
            ("bad_image", None),
        ]
        assert reply.photos[1].distance < 0.6
        forced = client.enroll("201911001", [obama, biden, dogs], force=True)  # no face: never forced
        assert forced.stored == 0
    assert stored(server, "201911001") == before


def test_force_stores_a_look_alike_after_staff_checked_the_person(server, faces_dir):
    look_alike = photos(faces_dir, "jin", 1, start=5)  # NEW_STUDENT's photos are jin's
    with server.client() as client:
        refused = client.enroll("201911021", look_alike, name="Jin's twin")
        assert refused.stored == 0 and refused.photos[0].problem == "like_other_student"
        assert refused.photos[0].other_student == NEW_STUDENT
        forced = client.enroll("201911021", look_alike, name="Jin's twin", force=True)
    assert (forced.stored, forced.total) == (1, 1)
    assert forced.photos[0].problem == "like_other_student"  # reported, and stored as asked


def test_a_photo_unlike_the_students_others_is_refused(server, faces_dir):
    with server.client() as client:
        reply = client.enroll(NEW_STUDENT, [(faces_dir / "probes" / "kit_harington_2.jpg").read_bytes()])
    assert reply.stored == 0
    [photo] = reply.photos
    assert photo.problem in ("unlike_student", "like_other_student")
    if photo.problem == "like_other_student":  # Kit Harington is enrolled: named first
        assert photo.other_student == "201911004"


def test_enrolled_encodings_survive_the_knowns_sync_of_a_restart(server):
    assert len(stored(server, NEW_STUDENT)) == 3
    server.app.stop()
    app = type(server.app)(server.app.config).start()  # start-up syncs knowns/ again
    try:
        assert len(stored(server, NEW_STUDENT)) == 3
        assert app.service.gallery.encodings_of(NEW_STUDENT).shape == (3, 128)
    finally:
        app.stop()
    server.app = type(server.app)(server.app.config).start()
    server.app.serve_in_thread()


def test_the_checkin_command_prints_the_decision_as_json(server, faces_dir, tmp_path, capsys):
    frames = []
    for i, data in enumerate(photos(faces_dir, "jin", 3, start=10)):
        frames.append(tmp_path / f"frame{i}.jpg")
        frames[-1].write_bytes(data)
    argv = [
        "--server",
        f"{server.host}:{server.port}",
        "--token",
        server.token,
        "checkin",
        LECTURE,
        *map(str, frames),
        "--no-mark",
    ]
    assert client_cli.main(argv) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["decision"] in ("accepted", "uncertain", "unknown") and reply["frames"] == 3
    assert reply["student_id"] in (None, NEW_STUDENT)  # never anyone else
    assert reply["status"] is None and reply["pending_id"] is None  # --no-mark: nothing written
    assert client_cli.main(["--legacy", "checkin", LECTURE, str(frames[0])]) == 2


def test_attendance_db_enroll_and_forget(db_url, faces_dir, tmp_path, capsys):
    files = []
    for i, data in enumerate(photos(faces_dir, "lia", 4)):
        files.append(tmp_path / f"lia{i}.jpg")
        files[-1].write_bytes(data)
    url = str(db_url)
    assert db_cli.main(["--db-url", url, "enroll", "201911030", *map(str, files[:3])]) == 2  # no name yet
    assert "give their name" in capsys.readouterr().err
    assert db_cli.main(["--db-url", url, "enroll", "201911030", *map(str, files), "--name", "Choi Jisu"]) == 0
    out, err = capsys.readouterr()
    progress = [line.split(",")[0].split(" in ")[0] for line in err.splitlines() if line.startswith("encoded")]
    assert progress == [f"encoded {n}/4 photos" for n in range(1, 5)], err  # on stderr, as they are done
    assert out.count(": ok") == 4 and "4 photos enrolled, 4 encodings in all" in out
    rows = query(db_url, "SELECT source, photo IS NULL FROM face_encodings WHERE student_id = '201911030'")
    assert rows == [("enrolled", 1)] * 4  # no --keep-photos: the encodings only
    dogs = faces_dir / "negatives" / "dogs.jpg"
    assert db_cli.main(["--db-url", url, "enroll", "201911030", str(dogs)]) == 2
    assert "no face found" in capsys.readouterr().out

    assert (
        db_cli.main(
            ["--db-url", url, "enroll", "201911031", str(files[0]), "--name", "Her twin", "--keep-photos", "--force"]
        )
        == 0
    )
    assert "looks like student 201911030" in capsys.readouterr().out
    assert query(db_url, "SELECT photo IS NOT NULL FROM face_encodings WHERE student_id = '201911031'") == [(1,)]
    for student, count in (("201911030", 4), ("201911031", 1)):
        assert db_cli.main(["--db-url", url, "forget", student]) == 0
        assert f"deleted {count} face encoding" in capsys.readouterr().out
    assert query(db_url, "SELECT COUNT(*) FROM face_encodings") == [(0,)]  # encodings and photos


def test_start_up_lists_knowns_photos_that_an_enrolment_would_refuse(server_db_url, faces_dir, tmp_path, caplog):
    knowns = tmp_path / "knowns"
    shutil.copytree(faces_dir / "knowns", knowns)
    (knowns / "201911007_impostor").mkdir()
    shutil.copy(faces_dir / "probes" / "obama_2.jpg", knowns / "201911007_impostor" / "a.jpg")
    expected = "knowns/201911007_impostor/a.jpg looks like student 201911001"
    with fresh_database(server_db_url) as url, caplog.at_level(logging.WARNING, logger="server.app"):
        with running_server(url, knowns, workers=1):
            deadline = time.monotonic() + 30  # listed by the maintenance thread, after the port opens
            while time.monotonic() < deadline and not any(expected in r.getMessage() for r in caplog.records):
                time.sleep(0.1)
    conflicts = [r.getMessage() for r in caplog.records if "looks like student" in r.getMessage()]
    assert any(expected in m for m in conflicts), conflicts
