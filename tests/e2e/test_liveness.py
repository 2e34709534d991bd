"""Liveness challenges end to end (docs/liveness.md): the real server (recognition workers, the
68-point model, MariaDB) with ``--liveness-seed``, the student of a live clip enrolled from some
of its frames, and frame sequences built from the clip's annotated frames
(tests/data/liveness_annotations.json) sent as a PC would send them.

The sequences (testkit.liveness.challenge_sequence): a still stretch before each action and
after the last, the action's annotated frames in between; sent as 10 frames a second.
"""

from __future__ import annotations

import time

import cv2
import pytest

from client.challenge import jpeg, play_challenge
from client.connection import FramedClient, ServerError
from db import clients
from protocol.errors import ErrorCode
from server.recognition import liveness
from testkit import liveness as samples
from testkit.databases import fresh_database
from testkit.servers import LECTURE, add_client, exchange, running_server

STUDENT = samples.CLIP_STUDENT
SEED = 14
STILL = samples.STILL


@pytest.fixture(scope="module")
def clip(faces_dir):
    return samples.clip_for_challenges(faces_dir)


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir, clip):
    with fresh_database(server_db_url) as url:
        with running_server(
            url, faces_dir / "knowns", workers=2, liveness=True, liveness_seed=SEED, liveness_deadline=12.0
        ) as running:
            with running.client() as client:
                samples.enrol_clip_student(client, url, clip, LECTURE)
            yield running


def client_of(server, name: str, role: str = clients.KIOSK) -> FramedClient:
    """A classroom PC of its own (failed challenges are counted per client)."""
    token = add_client(server.db_url, name, role=role)
    return FramedClient(*server.app.address, token=token, timeout=60)


def sequence(clip, actions):
    return samples.challenge_sequence(clip, actions)


def send(client: FramedClient, challenge_id: str, frames, fps: float = 10.0, start: float = 0.0):
    progress = None
    for first in range(0, len(frames), 10):
        batch = frames[first : first + 10]
        times = [start + (first + k) / fps for k in range(len(batch))]
        progress = client.challenge_frames(challenge_id, [jpeg(frame) for frame in batch], times)
    return progress


def marks_of(server, student_id: str) -> list[tuple]:
    return server.query("SELECT status, source FROM attendance WHERE student_id = %s", (student_id,))


def marks_by(server, client_name: str) -> list[tuple]:
    return server.query("SELECT student_id FROM attendance WHERE client_name = %s", (client_name,))


def test_the_asked_actions_in_order_pass_and_mark_the_student(server, clip):
    with client_of(server, "kiosk-pass") as client:
        challenge = client.challenge(LECTURE)
        assert 2 <= len(challenge.actions) <= 3 and len(set(challenge.actions)) == len(challenge.actions)
        assert challenge.deadline == 12.0
        progress = send(client, challenge.challenge_id, sequence(clip, challenge.actions))
        assert progress.done == challenge.actions and progress.next_action is None
        reply = client.challenge_finish(challenge.challenge_id)
    assert (reply.decision, reply.student_id, reply.status) == ("accepted", STUDENT, "present")
    assert marks_of(server, STUDENT) == [("present", "checkin")]


def test_the_seed_makes_the_challenges_reproducible(server):
    """Two servers' books with the same seed ask the same actions (and the server's first
    challenge was the first of that series)."""
    from server.challenges import ChallengeBook, LivenessSettings

    one, two = (ChallengeBook(LivenessSettings(seed=SEED)) for _ in range(2))
    assert [one.pick_actions() for _ in range(5)] == [two.pick_actions() for _ in range(5)]
    assert len({one.pick_actions() for _ in range(50)}) > 3  # not always the same


def test_the_actions_in_another_order_are_refused_naming_the_first_not_seen(server, clip):
    with client_of(server, "kiosk-order") as client:
        challenge = client.challenge(LECTURE)
        wrong = tuple(reversed(challenge.actions))
        progress = send(client, challenge.challenge_id, sequence(clip, wrong))
        assert progress.next_action is not None
        with pytest.raises(ServerError) as refused:
            client.challenge_finish(challenge.challenge_id)
    assert refused.value.code == ErrorCode.LIVENESS_FAILED
    assert refused.value.message.startswith(f"{progress.next_action} was not seen")
    assert marks_by(server, "kiosk-order") == []


def test_a_still_photo_of_the_student_as_video_is_refused(server, clip):
    photo = clip[24]  # the enrolled student's own face: identification alone would accept it
    frames = [
        cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in samples.handheld(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB), 40, 5)
    ]
    with client_of(server, "kiosk-photo") as client:
        challenge = client.challenge(LECTURE)
        progress = send(client, challenge.challenge_id, frames)
        assert progress.done == () and progress.next_action == challenge.actions[0]
        with pytest.raises(ServerError) as refused:
            client.challenge_finish(challenge.challenge_id)
    assert refused.value.code == ErrorCode.LIVENESS_FAILED
    assert refused.value.message.startswith(f"{challenge.actions[0]} was not seen")
    assert marks_by(server, "kiosk-photo") == []


def test_frames_after_the_deadline_are_refused(server, clip):
    frames = sequence(clip, [liveness.BLINK, liveness.TURN_RIGHT, liveness.TURN_LEFT])
    with client_of(server, "kiosk-late") as client:
        challenge = client.challenge(LECTURE)
        with pytest.raises(ServerError) as refused:  # frame times past the 12 s
            send(client, challenge.challenge_id, frames, fps=10.0, start=8.0)
        assert refused.value.code == ErrorCode.LIVENESS_FAILED and "deadline" in refused.value.message
        with pytest.raises(ServerError) as closed:  # the challenge is over
            client.challenge_finish(challenge.challenge_id)
        assert closed.value.code == ErrorCode.LIVENESS_FAILED

        challenge = client.challenge(LECTURE)
        book = server.app.service.challenges
        book.clock = lambda: time.monotonic() + 15.0  # the frames arrive 15 s after the challenge
        try:
            with pytest.raises(ServerError) as late:
                send(client, challenge.challenge_id, frames[:10])
        finally:
            book.clock = time.monotonic
        assert late.value.code == ErrorCode.LIVENESS_FAILED and "deadline" in late.value.message
    assert marks_by(server, "kiosk-late") == []


def test_a_plain_checkin_does_not_mark_while_challenges_are_on(server, clip):
    with client_of(server, "kiosk-plain") as client:
        with pytest.raises(ServerError) as refused:
            client.checkin(LECTURE, [jpeg(clip[i]) for i in STILL])
        assert refused.value.code == ErrorCode.CHALLENGE_REQUIRED
        decided = client.checkin(LECTURE, [jpeg(clip[i]) for i in STILL], mark=False)  # decide only
        assert decided.student_id == STUDENT and decided.status is None
    assert marks_by(server, "kiosk-plain") == []


def test_five_failed_challenges_pause_the_client_and_the_professor_sees_it(server, clip):
    still = [clip[i] for i in STILL]
    with client_of(server, "kiosk-pause") as client:
        for attempt in range(5):
            challenge = client.challenge(LECTURE)
            send(client, challenge.challenge_id, still)
            with pytest.raises(ServerError) as refused:
                client.challenge_finish(challenge.challenge_id)
            assert refused.value.code == ErrorCode.LIVENESS_FAILED, attempt
        assert "pause" in refused.value.message
        with pytest.raises(ServerError) as paused:
            client.challenge(LECTURE)
        assert paused.value.code == ErrorCode.CHECKINS_PAUSED
        with server.client() as professor:
            listed = professor.pending(LECTURE)
    notices = [c for c in listed.checkins if c.client_name == "kiosk-pause"]
    assert [(c.frames, c.candidates) for c in notices] == [(0, ())]


def test_the_client_plays_a_video_file_as_the_camera(server, faces_dir):
    """attendance-client checkin --video: the selfie clip (blinks, no head turn) played at its own
    times; every challenge asks for a turn (2-3 different actions of 3), so it is refused, and
    its frames went at the video's own pace until the deadline."""
    with client_of(server, "kiosk-video") as client:
        started = time.monotonic()
        seen = []
        with pytest.raises(ServerError) as refused:
            play_challenge(client, LECTURE, faces_dir / "liveness" / samples.BLINKS_CLIP, on_progress=seen.append)
        elapsed = time.monotonic() - started
    assert refused.value.code == ErrorCode.LIVENESS_FAILED and "turn_" in refused.value.message
    assert seen and seen[-1].frames <= 120  # 15 a second at most, until the deadline or 120 frames
    assert elapsed >= 7.5  # frames are not sent before their time: 120 frames at 15 a second
    assert marks_by(server, "kiosk-video") == []


def test_the_2019_payloads_are_served_as_before_with_liveness_on(server, faces_dir):
    """A 2019 client cannot do a challenge: its image payload still answers the student ID (it
    never marked), and its mark payload still marks (docs/liveness.md: turn 2019 payloads off
    with --no-legacy where that matters)."""
    host, port = server.app.address
    photo = (faces_dir / "probes" / "obama_2.jpg").read_bytes()
    assert exchange(host, port, photo) == b"201911001"
    assert exchange(host, port, b"201911002" + LECTURE.encode()) == b"success"
    assert server.query("SELECT status, source, client_name FROM attendance WHERE student_id = %s", ("201911002",)) == [
        ("present", "checkin", "legacy@127.0.0.1")
    ]


def test_a_face_that_changes_during_the_challenge_is_refused(server, clip, faces_dir):
    """The asked actions by the clip's student, then the last still stretch by someone else
    (the man of the selfie clip): different_people, nothing marked."""
    _, others = samples.read_clip(faces_dir / "liveness" / samples.BLINKS_CLIP, every=20)
    stranger = [cv2.cvtColor(samples.fit(frame), cv2.COLOR_RGB2BGR) for frame in others[:5]]
    with client_of(server, "kiosk-swap") as client:
        challenge = client.challenge(LECTURE)
        frames = sequence(clip, challenge.actions)[: -len(STILL)] + stranger
        progress = send(client, challenge.challenge_id, frames)
        assert progress.next_action is None  # the actions were seen
        with pytest.raises(ServerError) as refused:
            client.challenge_finish(challenge.challenge_id)
    assert refused.value.code == ErrorCode.DIFFERENT_PEOPLE
    assert marks_by(server, "kiosk-swap") == []


def test_the_challenge_ops_are_for_classroom_pcs(server):
    """A kiosk (the classroom PC) opens challenges; a professor's or a camera's client does not."""
    for role in (clients.PROFESSOR, clients.CAMERA):
        with client_of(server, f"not-a-kiosk-{role}", role=role) as client:
            with pytest.raises(ServerError) as refused:
                client.challenge(LECTURE)
            assert refused.value.code == ErrorCode.FORBIDDEN
            with pytest.raises(ServerError) as refused:
                client.challenge_finish("c-1")
            assert refused.value.code == ErrorCode.FORBIDDEN
