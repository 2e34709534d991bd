"""The whole-room decision of the classroom camera, without I/O: the watcher and its tracker
against the server's own camera code (server/camera.py, the decision rules, the wire codec),
with a synthetic gallery and synthetic encodings instead of dlib, sockets and MySQL.

tests/e2e/test_camera_room.py shows the same on real photos, with a real server.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from client.connection import FramedClient
from client.watch.tracker import TrackerSettings
from client.watch.watcher import Watcher, WatchSettings
from protocol import framed
from server.camera import CameraService, same_person_frames
from server.handlers import track_decision, track_frames
from server.matching import FaceMatcher
from server.recognition.decision import DEFAULT_CEILING, DecisionRules
from server.recognition.gallery import Gallery

STUDENTS = [f"20191100{n}" for n in range(1, 7)]
X, Y = STUDENTS[:2]
SEAT_1 = (100, 200, 200, 100)  # (top, right, bottom, left)
SEAT_2 = (100, 500, 200, 400)
FRAME = np.full((300, 600, 3), 128, np.uint8)  # a grey room: every face looks the same


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


class Room:
    """Students enrolled with one synthetic encoding each (about 0.8 apart, as dlib puts
    different Western people), the faces the camera sees at each seat, and the server's camera
    code answering the watcher's requests through the wire codec (sockets and dlib aside)."""

    def __init__(self, seed: int = 7):
        self.rng = np.random.default_rng(seed)
        self.templates = dict(zip(STUDENTS, self.rng.normal(0, 0.85 / 16, (len(STUDENTS), 128))))
        self.gallery = Gallery(list(self.templates), list(self.templates.values()))
        faces = FaceMatcher(self, DecisionRules())  # the server's matcher, this room as its pool
        faces.use_gallery(self.gallery)
        attendance = SimpleNamespace(faces=faces, roster_ids=lambda code: set(STUDENTS))
        self.camera = CameraService(attendance, presence=None)
        self.faces: dict[tuple, np.ndarray] = {}  # box -> the encoding of the face there now
        self.samples: list[tuple[str, ...]] = []  # the students of each presence sample
        self._ids = itertools.count(1)

    def away_from(self, student: str, distance: float, *avoid: str) -> np.ndarray:
        """An encoding ``distance`` from the student's, in a random direction at right angles to
        the way to each ``avoid`` student."""
        direction = self.rng.normal(size=128)
        for other in avoid:
            way = self.templates[other] - self.templates[student]
            direction -= (direction @ way) / (way @ way) * way
        return self.templates[student] + distance * unit(direction)

    def frames_of(self, student: str, count: int, *, alone: float, mean_of_two: float) -> list[np.ndarray]:
        """Encodings of ``count`` frames of the student: each ``alone`` from the student's, the
        mean of two ``mean_of_two``. As with real frames, their errors share a part (the same
        light and pose) and they are closer to each other than to the student (within the
        ceiling of each other, as one person's frames are)."""
        own = (alone**2 - mean_of_two**2) * 2  # squared length of each frame's own error
        shared = np.sqrt(alone**2 - own)
        directions = np.linalg.qr(self.rng.normal(size=(128, count + 1)))[0].T  # orthonormal
        frames = [self.templates[student] + shared * directions[0] + np.sqrt(own) * d for d in directions[1:]]
        assert np.linalg.norm(frames[1] - frames[0]) <= DEFAULT_CEILING
        return frames

    def between(self, student: str, other: str, fraction: float) -> np.ndarray:
        """The encoding ``fraction`` of the way from the student's to the other's."""
        return self.templates[student] + fraction * (self.templates[other] - self.templates[student])

    # -- the recognition pool's one method the camera uses --------------------------------------

    def encode_boxes(self, image: bytes, boxes) -> np.ndarray:
        return np.array([self.faces[tuple(box)] for box in boxes])

    # -- a FramedClient whose requests are served here -----------------------------------------

    detect = FramedClient.detect
    identify_room = FramedClient.identify_room
    presence = FramedClient.presence

    def next_request_id(self) -> int:
        return next(self._ids)

    def call(self, request):
        [request] = framed.FramedDecoder("server", expect_preamble=False).feed(framed.encode(request))
        reply = self.serve(request)
        [reply] = framed.FramedDecoder("client", expect_preamble=False).feed(framed.encode(reply))
        return reply

    def serve(self, request):
        rid = request.request_id
        if isinstance(request, framed.DetectRequest):
            return framed.DetectResponse(rid, tuple(framed.FaceBox(*box) for box in self.faces))
        if isinstance(request, framed.IdentifyRoomRequest):
            tracks = [track_frames(track) for track in request.tracks]
            results = self.camera.identify_room(request.image, tracks, request.lecture)
            return framed.IdentifyRoomResponse(rid, tuple(track_decision(result) for result in results))
        assert isinstance(request, framed.PresenceRequest)
        self.samples.append(request.student_ids)
        return framed.PresenceResponse(rid, len(self.samples), request.sampled_at[:10], False)


def watch(room: Room, watcher: Watcher, faces: dict[tuple, np.ndarray]):
    """One sample with these faces in view."""
    room.faces = faces
    return watcher.sample(FRAME, 60.0 * watcher.samples)


def test_a_new_encoding_unlike_the_kept_ones_drops_them():
    rng = np.random.default_rng(1)
    first = rng.normal(0, 0.05, 128)
    near = first + 0.3 * unit(rng.normal(size=128))
    far = first + 0.9 * unit(rng.normal(size=128))
    assert same_person_frames([first, near], None, DEFAULT_CEILING).shape == (2, 128)
    assert np.array_equal(same_person_frames([first, near], far, DEFAULT_CEILING), far[None, :])
    # Single frames of one person may be farther apart than the ceiling: their mean decides.
    assert np.linalg.norm(far - first) > DEFAULT_CEILING >= np.linalg.norm(far - (first + far) / 2)
    assert same_person_frames([first, far], (first + far) / 2, DEFAULT_CEILING).shape == (3, 128)
    assert same_person_frames([], near, DEFAULT_CEILING).shape == (1, 128)


def test_a_track_is_accepted_from_several_samples_where_each_alone_is_not():
    room = Room()
    model = room.gallery.roster_model(None, rules=DecisionRules())
    one, two = model.threshold(1, X), model.threshold(2, X)
    noisy = room.frames_of(X, 3, alone=one + 0.01, mean_of_two=two - 0.01)
    watcher = Watcher(room, "ea0017_1")
    reports = [watch(room, watcher, {SEAT_1: face}) for face in noisy]
    assert [r.students for r in reports] == [(), (X,), (X,)]
    assert [(f.decision, f.frames, f.encoded_now) for r in reports for f in r.faces] == [
        ("uncertain", 1, True),
        ("accepted", 2, True),
        ("accepted", 2, False),
    ]
    assert reports[0].faces[0].candidates == (X,)
    alone = Watcher(room, "ea0017_1")  # the same second face, seen once
    assert watch(room, alone, {SEAT_1: noisy[1]}).students == ()


def test_two_tracks_competing_for_one_student_get_the_best_overall_assignment():
    room = Room()
    watcher = Watcher(room, "ea0017_1")
    # The first face is nearer X (0.35) than Y (0.45): alone, it is X.
    first = room.between(X, Y, 0.44)
    assert watch(room, watcher, {SEAT_1: first}).students == (X,)
    # A second face arrives, near X only (0.45). First come first served would leave it
    # unknown; the best overall assignment gives both faces a student: the first one is Y.
    second = room.away_from(X, 0.45, Y)
    report = watch(room, watcher, {SEAT_1: first, SEAT_2: second})
    assert [(f.box, f.student_id, f.encoded_now) for f in report.faces] == [(SEAT_1, Y, False), (SEAT_2, X, True)]
    assert room.samples == [(X,), (X, Y)]


def test_a_student_is_given_to_one_of_two_faces_only():
    room = Room()
    watcher = Watcher(room, "ea0017_1")
    report = watch(room, watcher, {SEAT_1: room.away_from(X, 0.3), SEAT_2: room.away_from(X, 0.2)})
    assert [f.decision for f in report.faces] == ["uncertain", "accepted"]
    assert report.students == (X,) and report.uncertain == 1
    assert [f.student_id for f in report.faces] == [None, X]


def test_a_track_whose_face_changed_person_is_decided_from_the_new_face():
    room = Room()
    watcher = Watcher(room, "ea0017_1")
    for face in room.frames_of(X, 3, alone=0.59, mean_of_two=0.55):  # X, uncertain: three kept
        report = watch(room, watcher, {SEAT_1: face})
    assert (report.students, report.faces[0].frames) == ((), 3)
    # Y sits down in X's seat and the appearance check misses it: X's encodings are dropped.
    report = watch(room, watcher, {SEAT_1: room.templates[Y]})
    assert (report.students, report.faces[0].frames) == ((Y,), 1)


def test_a_refresh_decides_an_accepted_track_from_its_new_face_alone():
    room = Room()
    watcher = Watcher(room, "ea0017_1", settings=WatchSettings(tracker=TrackerSettings(refresh_every=2)))
    assert watch(room, watcher, {SEAT_1: room.templates[X]}).students == (X,)
    # Someone else, nearer Y but within the ceiling of X, sits there: not encoded until the
    # refresh, then decided from that face alone (with X's encoding too it would not be Y).
    other = room.between(Y, X, 0.3)
    reports = [watch(room, watcher, {SEAT_1: other}) for _ in range(2)]
    assert [(r.students, r.encoded) for r in reports] == [((X,), 0), ((Y,), 1)]


def test_an_unknown_face_is_encoded_at_every_sample_and_never_seen():
    room = Room()
    watcher = Watcher(room, "ea0017_1")
    stranger = room.rng.normal(0, 0.85 / 16, 128)
    reports = [watch(room, watcher, {SEAT_1: stranger}) for _ in range(12)]
    assert all(r.students == () and r.encoded == 1 for r in reports)
    assert reports[-1].faces[0].frames == framed.MAX_TRACK_FRAMES


@pytest.mark.parametrize("tracking", [True, False])
def test_without_tracking_every_face_is_decided_from_its_sample_alone(tracking):
    room = Room()
    model = room.gallery.roster_model(None, rules=DecisionRules())
    noisy = room.frames_of(X, 3, alone=model.threshold(1, X) + 0.01, mean_of_two=model.threshold(2, X) - 0.01)
    watcher = Watcher(room, "ea0017_1", settings=WatchSettings(tracking=tracking))
    reports = [watch(room, watcher, {SEAT_1: face}) for face in noisy]
    assert [r.students for r in reports] == ([(), (X,), (X,)] if tracking else [(), (), ()])
    assert watcher.encoded == (2 if tracking else 3)
