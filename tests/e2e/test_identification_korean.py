"""Identification on Korean faces (docs/recognition.md): the lecture simulation of
``attendance-eval`` on ``shared/faces/korean`` meets the issue's targets, and a real server, given
one split of it as knowns/ folders, decides every check-in (framed ``checkin``, 2019 image
payloads) exactly as the simulation does. Then uncertain check-ins through the professor.

Real photos, real worker processes, a real server on real sockets, a real MariaDB.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from client.connection import ServerError
from server import eval_cli
from server.recognition.evaluation import decide_checkin, lectures, simulate, student_ids
from server.recognition.gallery import Gallery
from testkit.databases import fresh_database
from testkit.paths import TEST_CACHE
from testkit.servers import LECTURE, exchange, running_server

pytestmark = pytest.mark.slow

#: The issue's targets, on shared/faces/korean with 5 enrolment photos per student.
TARGETS = {  # frames per check-in: (wrong student at most, strangers accepted at most, right at least)
    3: (0.005, 0.01, 0.90),
    1: (0.01, 0.02, 0.0),  # 1 photo (2019 clients): right is what the two limits allow
}
ENROLLED_PHOTOS = 5


@pytest.fixture(scope="module")
def korean(faces_dir) -> eval_cli.EncodedPhotos:
    """Every Korean sample photo encoded by the server's own code (as attendance-eval does), kept
    in the test cache for the next runs (attendance-eval --cache: encoded again whenever the
    recognition code, dlib or the models change)."""
    encoded = eval_cli.encode(eval_cli.photos_of(faces_dir / "korean"), workers=2, cache=TEST_CACHE)
    assert len(encoded.persons) == 284 and not encoded.skipped
    return encoded


def test_the_lecture_simulation_meets_the_targets(korean):
    results = simulate(
        korean.persons,
        korean.photo,
        frame_encodings=korean.frame,
        enrolment_encodings=korean.enrolment,
        enrolled_photos=(ENROLLED_PHOTOS,),
        checkin_frames=tuple(TARGETS),
    )
    for result in results:
        wrong, strangers, right = TARGETS[result.checkin_frames]
        ours, plain = result.rules, result.plain
        assert ours.rate("wrong") <= wrong, result
        assert ours.rate("strangers_accepted") <= strangers, result
        assert ours.rate("right") >= right, result
        # The plain 2019 rule in the same run: strangers are taken for students.
        assert plain.rate("strangers_accepted") > 0.9 and plain.rate("wrong") > 0.02


# -- one split through a real server ------------------------------------------------------------


@pytest.fixture(scope="module")
def split(korean):
    """The first lecture of the simulation (seed 0): its knowns folders, and the simulation's
    own decision for every check-in, for 3 frames and for 1."""
    lecture = next(lectures(korean.persons, ENROLLED_PHOTOS, 3, splits=1, seed=0))
    single = next(lectures(korean.persons, ENROLLED_PHOTOS, 1, splits=1, seed=0))
    assert single.enrollment.keys() == lecture.enrollment.keys()  # the same students and photos
    ids = student_ids(lecture)
    rows = [(ids[p], i) for p in lecture.enrolled for i in lecture.enrollment[p]]
    model = Gallery([s for s, _ in rows], korean.enrolment[[i for _, i in rows]]).roster_model()
    decided = {
        frames: [
            (person, photos, decide_checkin(model, encodings[photos], model.rules)) for person, photos in lec.checkins
        ]
        for frames, lec, encodings in ((3, lecture, korean.frame), (1, single, korean.photo))
    }
    return lecture, ids, decided


@pytest.fixture(scope="module")
def korean_server(server_db_url, faces_dir, korean, split, tmp_path_factory):
    lecture, ids, _ = split
    paths = [path for path, _ in eval_cli.photos_of(faces_dir / "korean")]
    assert [p.parent.name for p in paths] == korean.persons  # every photo was encoded, in order
    knowns = tmp_path_factory.mktemp("korean_knowns")
    for person in lecture.enrolled:
        folder = knowns / f"{ids[person]}_{person}"
        folder.mkdir()
        for i in lecture.enrollment[person]:
            shutil.copy(paths[i], folder / paths[i].name)
    with fresh_database(server_db_url) as url:
        with running_server(url, knowns, workers=2, idle_timeout=30.0) as running:
            running.photo_paths = paths
            yield running


def test_the_server_decides_each_checkin_as_the_simulation(korean_server, split):
    _, ids, decided = split

    def check_in(checkin):
        person, photos, expected = checkin
        frames = [korean_server.photo_paths[i].read_bytes() for i in photos]
        with korean_server.client() as client:
            try:
                return person, expected, client.checkin(LECTURE, frames, mark=False)
            except ServerError as exc:  # photos of other days may be refused as two people
                return person, expected, exc

    with ThreadPoolExecutor(2) as clients:  # two classroom PCs at once: one per server worker
        replies = list(clients.map(check_in, decided[3]))
    outcomes = {"right": 0, "wrong": 0, "strangers accepted": 0, "checkins": 0}
    for person, expected, reply in replies:
        if isinstance(reply, ServerError):
            assert (reply.code, expected.reason) == ("different_people", "different people"), person
            continue
        assert (reply.decision, reply.student_id) == (expected.outcome, expected.student_id), person
        assert reply.distance == pytest.approx(expected.distance, abs=2e-4)
        assert reply.frames == 3 and reply.status is None and reply.pending_id is None
        outcomes["checkins"] += 1
        if reply.student_id is not None:
            key = (
                "right" if ids.get(person) == reply.student_id else ("wrong" if person in ids else "strangers accepted")
            )
            outcomes[key] += 1
    assert outcomes["wrong"] == 0 and outcomes["strangers accepted"] == 0, outcomes
    expected_right = sum(d.student_id is not None and ids.get(p) == d.student_id for p, _, d in decided[3])
    assert outcomes["right"] == expected_right > 0, outcomes
    assert not korean_server.query("SELECT * FROM attendance")  # mark=False wrote nothing


#: The 2019 test sends every this-many-th photo of the split (the simulation decides them all; a
#: 2019 photo costs the server a detection with upsampling, about 0.4 s of a core).
PHOTOS_2019_EVERY = 4


def test_2019_clients_get_a_student_id_only_for_an_accepted_face(korean_server, split):
    _, ids, decided = split

    def send(checkin):
        person, [photo], expected = checkin
        reply = exchange(korean_server.host, korean_server.port, korean_server.photo_paths[photo].read_bytes())
        return person, reply, (expected.student_id or "Unknown").encode()

    with ThreadPoolExecutor(2) as clients:  # two classroom PCs at once: one per server worker
        sent = list(clients.map(send, decided[1][::PHOTOS_2019_EVERY]))
    for person, reply, expected in sent:
        assert reply == expected, person
    replies = [(person, reply) for person, reply, _ in sent]
    strangers = [reply for person, reply in replies if person not in ids]
    students = [(ids[person], reply) for person, reply in replies if person in ids]
    assert strangers and all(reply == b"Unknown" for reply in strangers)
    assert all(reply in (sid.encode(), b"Unknown") for sid, reply in students)
    assert sum(reply != b"Unknown" for _, reply in students) > len(students) / 3


# -- uncertain check-ins: another try, then the professor -----------------------------------------


def _uncertain_student_checkin(split):
    """An enrolled student's 3-frame check-in that the rules find uncertain (the simulation
    says which, from the real photos)."""
    _, ids, decided = split
    for person, photos, decision in decided[3]:
        if person in ids and decision.outcome == "uncertain" and decision.candidates:
            return person, photos, decision
    pytest.fail("no uncertain check-in of an enrolled student in this split")


def test_an_uncertain_checkin_waits_for_the_professor_who_confirms_it(korean_server, split):
    _, ids, _ = split
    person, photos, decision = _uncertain_student_checkin(split)
    frames = [korean_server.photo_paths[i].read_bytes() for i in photos]
    with korean_server.client() as client:
        first = client.checkin(LECTURE, frames, queue_uncertain=False)  # a first try
        assert first.decision == "uncertain" and first.pending_id is None and first.student_id is None
        assert [c.student_id for c in first.candidates] == [c.student_id for c in decision.candidates]
        assert all(c.name for c in first.candidates)
        assert client.pending(LECTURE).checkins == ()
        again = client.checkin(LECTURE, frames)  # still uncertain after another try: queued
        assert again.decision == "uncertain" and again.pending_id is not None
        [waiting] = client.pending(LECTURE).checkins
        assert waiting.pending_id == again.pending_id and waiting.frames == 3
        assert waiting.client_name == "test-client"
        assert [c.student_id for c in waiting.candidates] == [c.student_id for c in decision.candidates]
        assert not korean_server.query("SELECT * FROM attendance")

        confirmed = client.resolve_pending(again.pending_id, ids[person])
        assert (confirmed.resolution, confirmed.student_id, confirmed.status) == ("confirmed", ids[person], "present")
        assert client.pending(LECTURE).checkins == ()
        with pytest.raises(ServerError) as twice:
            client.resolve_pending(again.pending_id, ids[person])
        assert twice.value.code == "not_found"
        roster = {entry.student_id: entry for entry in client.roster(LECTURE).students}
        assert (roster[ids[person]].status, roster[ids[person]].source) == ("present", "checkin")
    [(resolution, by, student)] = korean_server.query(
        "SELECT resolution, resolved_by, resolved_student_id FROM pending_checkins"
    )
    assert (resolution, by, student) == ("confirmed", "test-client", ids[person])


def test_a_rejected_uncertain_checkin_marks_nobody(korean_server, split):
    _, ids, _ = split
    _, photos, _ = _uncertain_student_checkin(split)
    frames = [korean_server.photo_paths[i].read_bytes() for i in photos]
    before = korean_server.query("SELECT COUNT(*) FROM attendance")
    with korean_server.client() as client:
        queued = client.checkin(LECTURE, frames)
        rejected = client.resolve_pending(queued.pending_id, None)
        assert (rejected.resolution, rejected.student_id, rejected.status) == ("rejected", None, None)
        with pytest.raises(ServerError) as outsider:  # confirming as a student not on the roster
            client.resolve_pending(client.checkin(LECTURE, frames).pending_id, "299999999")
        assert outsider.value.code == "not_enrolled"
    assert korean_server.query("SELECT COUNT(*) FROM attendance") == before


def test_frames_of_two_people_in_one_checkin_are_refused(korean_server, split, korean):
    lecture, _, _ = split
    first = lecture.enrolled[0]
    own = lecture.enrollment[first][:2]
    # A photo of someone else farther than the ceiling from the mean of the student's two (most
    # Korean faces are nearer: then the rules, not this refusal, keep a mixed check-in from a mark).
    mean = korean.frame[own].mean(axis=0)
    other = next(
        i
        for i, person in enumerate(korean.persons)
        if person != first and np.linalg.norm(korean.frame[i] - mean) > 0.65
    )
    frames = [korean_server.photo_paths[i].read_bytes() for i in (*own, other)]
    waiting = korean_server.query("SELECT COUNT(*) FROM pending_checkins")
    with korean_server.client() as client:
        with pytest.raises(ServerError) as refused:
            client.checkin(LECTURE, frames)
        assert refused.value.code == "different_people"
        assert "frame 3 shows another person than the other frames" in refused.value.message
        assert client.ping()  # the connection goes on
    assert korean_server.query("SELECT COUNT(*) FROM pending_checkins") == waiting  # nothing queued


def test_the_attendance_eval_command_prints_both_rules(faces_dir, tmp_path, capsys, caplog):
    # Eight photos of four people of the Korean set, few splits: the command's own path, with a
    # cache of its own: the second run encodes nothing and prints the same tables.
    folder = tmp_path / "photos"
    for person in ("jimin", "jin", "lia", "yeji"):
        (folder / person).mkdir(parents=True)
        for photo in sorted((faces_dir / "korean" / person).iterdir())[:8]:
            shutil.copy(photo, folder / person / photo.name)
    plot = tmp_path / "tradeoff.png"
    command = [str(folder), "--enrolled", "5", "--frames", "3", "--splits", "3", "--workers", "2"]
    command += ["--cache", str(tmp_path / "cache")]
    caplog.set_level("INFO", logger=eval_cli.PROG)
    assert eval_cli.main([*command, "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "32 photos of 4 people (0 skipped); 3 splits, each with 2 people enrolled and 2 strangers" in out
    assert "| 5 | 3 | ours |" in out and "| 5 | 3 | plain (1 photo, 0.6) |" in out
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"
    assert "32 photos encoded, 0 found in the cache" in caplog.text
    [cached] = (tmp_path / "cache").iterdir()
    assert cached.name.startswith("views-") and cached.suffix == ".npz"

    caplog.clear()
    assert eval_cli.main(command) == 0
    assert capsys.readouterr().out == out
    assert "0 photos encoded, 32 found in the cache" in caplog.text
    assert eval_cli.main([str(tmp_path / "missing")]) == 2
