"""The classroom camera's whole-room decision end to end: real server, real database, real
photos (the six sample students enrolled from ../shared/faces/knowns).

- a room of two group photos: each of its four students is given to the right face, the
  stranger to nobody, and only faces that need more evidence are encoded again;
- a second face nearer a student than the one tracked first takes that student (the best
  overall assignment, not first come first served), also when the first face can be another
  student (a room of tracks built from the enrolled encodings);
- a face of the sample clip decided from two samples is not accepted where its better sample
  alone is;
- identify_room on the wire: its errors, and a change of person in a tracked seat.
"""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np
import pytest

from client.connection import ServerError
from client.reconnecting import ReconnectingClient
from client.watch.watcher import Watcher
from protocol import framed
from protocol.errors import ErrorCode
from testkit.databases import fresh_database
from testkit.servers import LECTURE, running_server

OBAMA, BIDEN, ALEX, KIT, ROSE, LIN = (f"20191100{n}" for n in range(1, 7))
DAY = dt.datetime(2019, 11, 8, 9, 0)


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        # trust_client_clocks: the lectures are replayed on 2019 dates.
        with running_server(url, faces_dir / "knowns", workers=2, trust_client_clocks=True) as running:
            yield running


def room_picture(faces_dir, *, second_obama: bool = False) -> tuple[np.ndarray, dict[str, tuple[int, int]]]:
    """A 1600 x 720 room: groups/kit_rose.jpg on the left, groups/obama_biden_stranger.jpg at
    half size on the right (Biden, Obama, and a child nobody enrolled); with ``second_obama``,
    Obama's face from groups/obama_biden_1.jpg too, bottom left. Returns the picture (BGR) and
    where each person's face is: name -> (x, y) of a point inside it."""
    canvas = np.full((720, 1600, 3), 110, np.uint8)
    kit_rose = cv2.imread(str(faces_dir / "groups" / "kit_rose.jpg"))
    canvas[10 : 10 + kit_rose.shape[0], : kit_rose.shape[1]] = kit_rose
    group = cv2.imread(str(faces_dir / "groups" / "obama_biden_stranger.jpg"))
    group = cv2.resize(group, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    canvas[: group.shape[0], 560 : 560 + group.shape[1]] = group
    faces = {KIT: (300, 150), ROSE: (118, 176), BIDEN: (977, 271), OBAMA: (1174, 242), "child": (1395, 571)}
    if second_obama:
        canvas[460:700, 20:220] = cv2.imread(str(faces_dir / "groups" / "obama_biden_1.jpg"))[20:260, 230:430]
        faces["second obama"] = (107, 562)
    return canvas, faces


def who_is_where(report, faces: dict[str, tuple[int, int]]) -> dict[str, str | None]:
    """Person (as named by room_picture) -> the student the room decision gave their face."""

    def person_at(box):
        top, right, bottom, left = box
        [name] = [name for name, (x, y) in faces.items() if left <= x <= right and top <= y <= bottom]
        return name

    return {person_at(face.box): face.student_id for face in report.faces}


def test_a_room_of_group_photos_gives_each_student_the_right_face(server, faces_dir):
    picture, faces = room_picture(faces_dir)
    with ReconnectingClient(server.host, server.port, token=server.token) as client:
        watcher = Watcher(client, LECTURE, start=DAY)
        reports = [watcher.sample(picture, 60.0 * k) for k in range(3)]
    for report in reports:
        assert who_is_where(report, faces) == {KIT: KIT, ROSE: ROSE, BIDEN: BIDEN, OBAMA: OBAMA, "child": None}
        assert report.students == tuple(sorted((KIT, ROSE, BIDEN, OBAMA)))
    # Only the child, whom nobody is enrolled as, is encoded again (more evidence might decide it).
    assert [r.encoded for r in reports] == [5, 1, 1]
    child = [f for f in reports[-1].faces if f.student_id is None]
    assert [(f.decision, f.frames) for f in child] == [("unknown", 3)]
    stored = server.query(
        "SELECT COUNT(*) FROM presence_sightings JOIN presence_samples USING (sample_id)"
        " WHERE sampled_at >= %s AND sampled_at < %s",
        (DAY, DAY + dt.timedelta(hours=1)),
    )
    assert stored == [(12,)]


def test_a_nearer_face_takes_the_student_from_the_face_tracked_first(server, faces_dir):
    first_room, _ = room_picture(faces_dir)
    room, faces = room_picture(faces_dir, second_obama=True)
    with server.client() as client:
        watcher = Watcher(client, LECTURE, start=DAY + dt.timedelta(days=1))
        assert OBAMA in watcher.sample(first_room, 0.0).students
        report = watcher.sample(room, 60.0)
    assert who_is_where(report, faces) == {
        KIT: KIT,
        ROSE: ROSE,
        BIDEN: BIDEN,
        OBAMA: None,
        "second obama": OBAMA,
        "child": None,
    }
    tracked_first = [f for f in report.faces if f.decision == "uncertain"]
    assert [(f.candidates[0], f.encoded_now) for f in tracked_first] == [(OBAMA, False)]
    assert report.students.count(OBAMA) == 1 and report.uncertain == 1


def test_the_best_overall_assignment_wins_over_first_come(server):
    """Tracks built from the enrolled encodings (identify_room takes kept encodings as they
    are): one face between Obama and Biden, nearer Obama; then a second face near Obama only."""
    gallery = server.app.service.gallery
    obama, biden = (gallery.encodings_of(s)[0].astype(np.float64) for s in (OBAMA, BIDEN))
    between = obama + 0.44 * (biden - obama)
    away = np.random.default_rng(3).normal(size=128)
    away -= (away @ (biden - obama)) / ((biden - obama) @ (biden - obama)) * (biden - obama)
    near_obama = obama + 0.45 * away / np.linalg.norm(away)
    seat_1, seat_2 = (100, 200, 200, 100), (100, 500, 200, 400)
    with server.client() as client:
        [alone] = client.identify_room(b"", [(seat_1, [framed.pack_encoding(between)], False)], LECTURE).decisions
        assert (alone.decision, alone.student_id) == ("accepted", OBAMA)  # alone, it is Obama
        reply = client.identify_room(
            b"",
            [
                (seat_1, [framed.pack_encoding(between)], False),
                (seat_2, [framed.pack_encoding(near_obama)], False),
            ],
            LECTURE,
        )
    # First come first served would keep Obama for the first face and leave the second one
    # without a student; the best overall assignment gives both faces one.
    assert [(d.decision, d.student_id, d.frames, d.encoding) for d in reply.decisions] == [
        ("accepted", BIDEN, 1, None),
        ("accepted", OBAMA, 1, None),
    ]


def clip_frames(faces_dir, *numbers: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(faces_dir / "video" / "short_hamilton_clip.mp4"))
    frames = {}
    try:
        for number in range(max(numbers) + 1):
            ok, frame = capture.read()
            assert ok
            frames[number] = frame
    finally:
        capture.release()
    return [frames[number] for number in numbers]


def test_one_good_sample_does_not_accept_a_face_that_looked_unlike_anyone(server, faces_dir):
    """Lin-Manuel Miranda in the sample clip: frame 16 alone is not accepted (0.66 from his
    template when these tests were written), frame 5 alone is (0.55, threshold 0.58). The same
    face seen at both samples is decided from both: its frames' mean (0.56) is farther than the
    two-frame threshold (0.52), so it stays uncertain."""
    turned_away, facing = clip_frames(faces_dir, 16, 5)
    with server.client() as client:
        watcher = Watcher(client, LECTURE, start=DAY + dt.timedelta(days=2))
        first = watcher.sample(turned_away, 0.0)
        second = watcher.sample(facing, 60.0)
        alone = Watcher(client, LECTURE, start=DAY + dt.timedelta(days=3)).sample(facing, 0.0)
    [face_first], [face_second], [face_alone] = first.faces, second.faces, alone.faces
    assert face_first.decision != "accepted" and face_second.track_id == face_first.track_id
    assert (face_second.decision, face_second.frames, second.students) == ("uncertain", 2, ())
    assert face_second.candidates[0] == LIN
    assert (face_alone.decision, alone.students) == ("accepted", (LIN,))


def test_identify_room_errors_and_a_change_of_person(server, faces_dir):
    group = (faces_dir / "groups" / "obama_biden_1.jpg").read_bytes()
    with server.client() as client:
        boxes = [(b.top, b.right, b.bottom, b.left) for b in client.detect(group).boxes]
        faces = client.identify_room(group, [(box, [], True) for box in boxes], LECTURE).decisions
        named = {d.student_id: (box, d) for box, d in zip(boxes, faces)}
        assert set(named) == {OBAMA, BIDEN} and all(d.frames == 1 and d.encoding for d in faces)
        (obama_box, obama), (biden_box, _) = named[OBAMA], named[BIDEN]
        # Decided again from the kept encoding only: no image needed, the same decision.
        [again] = client.identify_room(b"", [(obama_box, [obama.encoding], False)], LECTURE).decisions
        assert (again.student_id, again.distance, again.frames, again.encoding) == (OBAMA, obama.distance, 1, None)
        # Biden's face in a track that held Obama's: Obama's encoding is dropped.
        [changed] = client.identify_room(group, [(biden_box, [obama.encoding], True)], LECTURE).decisions
        assert (changed.student_id, changed.frames) == (BIDEN, 1)
        for image, tracks, lecture, code in [
            (b"", [(biden_box, [], True)], LECTURE, ErrorCode.BAD_REQUEST),  # nothing to encode in
            (group, [((5000, 5100, 5100, 5000), [], True)], LECTURE, ErrorCode.BAD_REQUEST),  # outside
            (b"\xff\xd8\xff not a picture", [(biden_box, [], True)], LECTURE, ErrorCode.BAD_IMAGE),
            (b"", [(biden_box, [obama.encoding], False)], "zz9999_9", ErrorCode.NOT_FOUND),
        ]:
            with pytest.raises(ServerError) as err:
                client.identify_room(image, tracks, lecture)
            assert err.value.code == code
        assert client.ping()
