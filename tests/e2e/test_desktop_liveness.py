"""The desktop check-in screen runs a liveness challenge (docs/liveness.md, docs/desktop.md)
against the real server with ``--liveness-seed``, its camera a video file (``--video``).

The video is made here from the annotated frames of the turns clip (testkit.liveness): a still
face for a few seconds (the screen collects its frames, then asks for a challenge), then the
actions the seeded server asks first, in that order, each clip frame shown four times (a slow
movement: the screen's own face detection keeps up even on a busy machine). A second video
shows the same face still: refused, naming the first action.
"""

from __future__ import annotations

import cv2
import pytest

from client.frame_source import SourceSpec
from server.challenges import ChallengeBook, LivenessSettings
from testkit import liveness as samples
from testkit.databases import fresh_database
from testkit.desktop import main_windows
from testkit.servers import LECTURE, running_server

WAIT = 90_000  # ms
SEED = 21
FPS = 15.0


@pytest.fixture(scope="module")
def clip(faces_dir):
    return samples.clip_for_challenges(faces_dir)


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir, clip):
    with fresh_database(server_db_url) as url:
        with running_server(
            url, faces_dir / "knowns", workers=2, liveness=True, liveness_seed=SEED, liveness_deadline=15.0
        ) as running:
            with running.client() as client:
                samples.enrol_clip_student(client, url, clip, LECTURE)
            yield running


def write_video(path, frames, repeat: int = 4) -> str:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (width, height))
    assert writer.isOpened()
    for frame in frames:
        for _ in range(repeat):
            writer.write(frame)
    writer.release()
    return str(path)


def run_checkin(qtbot, tmp_path, server, video: str):
    progress = []
    with main_windows(tmp_path, server.token, dwell=0.05, result_hold=60.0) as make:
        window = make(server.port, lecture=LECTURE, source=SourceSpec("video", video, loop=False))
        screen = window.checkin
        screen.challengeProgress.connect(lambda asked, done, next_: progress.append((asked, done, next_)))
        with qtbot.waitSignal(screen.resultShown, timeout=WAIT) as shown:
            pass
        headline = screen.headline.text()
    return shown.args, progress, headline


def test_the_desktop_shows_the_actions_one_at_a_time_and_checks_in(qtbot, tmp_path, server, clip):
    actions = ChallengeBook(LivenessSettings(seed=SEED)).pick_actions()  # the server's first challenge
    still = [clip[i] for i in samples.STILL]
    # Each clip frame twice: the actions fit well within the challenge's 120 frames at 15 a second.
    video = write_video(
        tmp_path / "challenge.avi", still * 3 + samples.challenge_sequence(clip, actions) + still * 2, repeat=2
    )
    (kind, reply), progress, headline = run_checkin(qtbot, tmp_path, server, video)
    assert progress[0] == (actions, (), actions[0])  # the first action, nothing done yet
    shown_next = [next_ for _, _, next_ in progress]
    assert [a for a in dict.fromkeys(shown_next) if a] == list(actions)  # one at a time, in order
    assert progress[-1][1] == actions and shown_next[-1] == ""
    assert kind == "accepted" and reply.student_id == samples.CLIP_STUDENT, headline
    assert server.query("SELECT status, source FROM attendance WHERE student_id = %s", (samples.CLIP_STUDENT,)) == [
        ("present", "checkin")
    ]


def test_a_still_face_on_the_desktop_is_refused_naming_the_action(qtbot, tmp_path, server, clip):
    still = [clip[i] for i in samples.STILL]
    video = write_video(tmp_path / "still.avi", still * 30)  # 10 s of a still face
    (kind, reply), progress, headline = run_checkin(qtbot, tmp_path, server, video)
    assert kind == "liveness_failed" and reply is None
    first = progress[0][0][0]
    assert progress[-1][1] == ()  # nothing seen
    assert {"blink": "Blink", "turn_left": "to your left", "turn_right": "to your right"}[first] in headline
    assert "Nothing was marked" in headline
