"""Check-in rules without Qt or a server: which frames make a check-in, what an answer means;
local face detection and frame sources on the sample photos."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from client.desktop import checkin_logic as rules
from client.desktop.checkin_logic import CheckinFlow, FrameCollector, overlap
from client.desktop.faces_local import FaceDetector
from client.frame_source import ImageFolderSource, SourceError, SourceSpec, VideoFileSource, limit_size, open_source
from protocol import framed
from protocol.errors import ErrorCode
from protocol.framed import MAX_CHECKIN_FRAMES

# -- which frames make a check-in ---------------------------------------------------------------


def test_overlap_of_boxes():
    assert overlap((0, 0, 100, 100), (0, 0, 100, 100)) == 1.0
    assert overlap((0, 0, 100, 100), (200, 0, 100, 100)) == 0.0
    assert overlap((0, 0, 100, 100), (50, 0, 100, 100)) == pytest.approx(50 * 100 / (2 * 100 * 100 - 50 * 100))


def feed_all(collector, frames):
    """Feed (time, boxes) pairs; the items are the frame numbers; returns every completed burst."""
    bursts = []
    for number, (now, boxes) in enumerate(frames):
        burst = collector.feed(now, boxes, lambda n=number: n)
        if burst is not None:
            bursts.append(burst)
    return bursts


FACE = (100, 80, 120, 120)


def moved(box, dx):
    x, y, w, h = box
    return (x + dx, y, w, h)


def test_frames_of_one_face_spread_over_the_interval():
    """15 frames a second of one face moving a little: 4 frames about 0.4 s apart, then a new burst."""
    collector = FrameCollector(4, interval=0.39)
    frames = [(n / 15, [moved(FACE, n)]) for n in range(40)]
    bursts = feed_all(collector, frames)
    assert bursts[0] == (0, 6, 12, 18)  # 1.2 s of frames
    assert len(bursts) == 2 and bursts[1][0] > 18


def test_a_second_face_or_a_jump_starts_again():
    collector = FrameCollector(3, interval=0.2)
    frames = [
        (0.0, [FACE]),
        (0.2, [FACE]),
        (0.3, [FACE, (400, 80, 120, 120)]),  # a second face
        (0.4, [FACE]),
        (0.6, [FACE]),
        (0.7, [moved(FACE, 300)]),  # the face jumps
        (0.9, [moved(FACE, 300)]),
        (1.1, [moved(FACE, 302)]),
    ]
    assert feed_all(collector, frames) == [(5, 6, 7)]
    assert collector.restarts == 2


def test_a_short_miss_of_the_detector_is_tolerated_a_long_one_is_not():
    collector = FrameCollector(3, interval=0.15, max_gap=0.5)
    frames = [(0.0, [FACE]), (0.1, []), (0.2, []), (0.3, [FACE]), (0.5, [FACE])]
    assert feed_all(collector, frames) == [(0, 3, 4)]
    frames = [(1.0, [FACE]), (1.2, [FACE]), (1.3, []), (1.9, []), (2.0, [FACE]), (2.2, [FACE]), (2.4, [FACE])]
    assert feed_all(collector, frames) == [(4, 5, 6)]


def test_one_frame_is_a_burst_for_still_images():
    collector = FrameCollector(1)
    assert collector.feed(0.0, [FACE], lambda: "photo") == ("photo",)
    assert collector.feed(0.0, [], lambda: "none") is None


def test_nothing_is_taken_without_exactly_one_face():
    taken = []
    collector = FrameCollector(2, interval=0.0)
    for now in range(5):
        collector.feed(float(now), [], lambda: taken.append(1))
        collector.feed(float(now), [FACE, moved(FACE, 200)], lambda: taken.append(1))
    assert taken == [] and collector.collected == 0


# -- what an answer means ---------------------------------------------------------------------------


def reply(decision, student_id=None, pending_id=None, already=False):
    return SimpleNamespace(decision=decision, student_id=student_id, pending_id=pending_id, already_marked=already)


def frames(count, tag="a"):
    return [f"{tag}{n}".encode() for n in range(count)]


def test_accepted_and_unknown_end_the_check_in():
    flow = CheckinFlow()
    assert flow.request(frames(4)) == rules.CheckinRequest(tuple(frames(4)), queue_uncertain=False)
    assert flow.on_reply(reply("accepted", "201911001")).kind == rules.ACCEPTED
    assert not flow.retrying
    assert flow.request(frames(4)).queue_uncertain is False
    assert flow.on_reply(reply("unknown")).kind == rules.UNKNOWN
    assert flow.request(frames(4, "b")).frames == tuple(frames(4, "b"))


def test_uncertain_gets_a_second_try_with_all_frames_then_waits_for_the_professor():
    flow = CheckinFlow()
    flow.request(frames(4, "first"))
    assert flow.on_reply(reply("uncertain")).kind == rules.RETRY and flow.retrying
    second = flow.request(frames(4, "second"))
    assert second.frames == tuple(frames(4, "first") + frames(4, "second")) and second.queue_uncertain
    assert flow.on_reply(reply("uncertain", pending_id=7)).kind == rules.PENDING
    assert not flow.retrying  # the frames are forgotten
    assert flow.request(frames(4)).queue_uncertain is False


def test_a_second_try_may_be_accepted_and_keeps_the_newest_frames():
    flow = CheckinFlow()
    flow.request(frames(8, "first"))
    flow.on_reply(reply("uncertain"))
    second = flow.request(frames(4, "second"))
    assert len(second.frames) == MAX_CHECKIN_FRAMES
    assert second.frames[-4:] == tuple(frames(4, "second"))
    assert flow.on_reply(reply("accepted", "201911002")).kind == rules.ACCEPTED


@pytest.mark.parametrize(
    "code, kind",
    [
        ("different_people", rules.DIFFERENT_PEOPLE),
        ("bad_image", rules.BAD_IMAGE),
        ("not_found", rules.LECTURE_UNKNOWN),
        ("unreachable", rules.FAILED),
        ("db_unavailable", rules.FAILED),
    ],
)
def test_errors_start_the_check_in_again(code, kind):
    flow = CheckinFlow()
    flow.request(frames(4))
    flow.on_reply(reply("uncertain"))
    flow.request(frames(4, "again"))
    assert flow.on_error(code).kind == kind
    assert not flow.retrying and flow.request(frames(2)).frames == tuple(frames(2))


# -- local face detection and frame sources ----------------------------------------------------


@pytest.fixture(scope="module")
def detector():
    return FaceDetector()


@pytest.mark.parametrize(
    "path, faces",
    [
        ("probes/obama_small.jpg", 1),
        ("probes/biden_2.jpg", 1),
        ("probes/obama_3.jpg", 1),  # 2333x1434: detected on a reduced copy
        ("groups/obama_biden_1.jpg", 2),
        ("negatives/dogs.jpg", 0),
    ],
)
def test_local_detection_counts_faces(detector, faces_dir, path, faces):
    frame = cv2.imread(str(faces_dir / path))
    boxes = detector.detect(frame)
    assert len(boxes) == faces
    height, width = frame.shape[:2]
    for x, y, w, h in boxes:  # in the frame's own pixels
        assert 0 <= x < width and 0 <= y < height and w > 20 and h > 20


def test_detection_of_an_empty_frame(detector):
    assert detector.detect(np.zeros((240, 320, 3), np.uint8)) == []


def test_image_folder_in_name_order_once_or_looping(tmp_path, faces_dir):
    for name in ("b.jpg", "a.png"):
        (tmp_path / name).write_bytes((faces_dir / "probes/obama_small.jpg").read_bytes())
    (tmp_path / "c.jpg").write_bytes(b"broken")  # unreadable: skipped
    (tmp_path / "notes.txt").write_text("not an image")
    source = ImageFolderSource(tmp_path, loop=False)
    assert [p.name for p in source.paths] == ["a.png", "b.jpg", "c.jpg"]
    assert source.next_image() is not None and source.current_path.name == "a.png"
    assert source.next_image() is not None and source.current_path.name == "b.jpg"
    assert source.next_image() is None
    looping = ImageFolderSource(tmp_path, loop=True)
    names = []
    for _ in range(4):
        looping.next_image()
        names.append(looping.current_path.name)
    assert names == ["a.png", "b.jpg", "a.png", "b.jpg"]


def test_video_file_plays_and_skips(faces_dir):
    source = VideoFileSource(faces_dir / "video/short_hamilton_clip.mp4", loop=False)
    assert 29 < source.fps < 31
    frame = source.read()
    assert frame.shape == (360, 640, 3)
    source.read(skip=10)
    assert source.position == 12
    source.close()


def test_bad_sources_say_why(tmp_path):
    with pytest.raises(SourceError, match="no images"):
        open_source(SourceSpec("images", str(tmp_path)))
    with pytest.raises(SourceError, match="no such video"):
        open_source(SourceSpec("video", str(tmp_path / "missing.mp4")))
    with pytest.raises(SourceError, match="no such folder"):
        open_source(SourceSpec("images", str(tmp_path / "missing")))


def test_frames_are_reduced_to_a_webcam_size():
    assert limit_size(np.zeros((1434, 2333, 3), np.uint8)).shape == (787, 1280, 3)
    assert limit_size(np.zeros((240, 320, 3), np.uint8)).shape == (240, 320, 3)


# -- a liveness challenge (ChallengeRun) ------------------------------------------------------------


def challenge_reply(actions=("blink", "turn_left"), deadline=5.0, max_frames=120):
    return framed.ChallengeResponse(1, "c-1", "ea0017_1", actions, deadline, max_frames)


def test_a_challenge_run_sends_frames_in_batches_with_their_times():
    run = rules.ChallengeRun(challenge_reply(), started=100.0, fps=10, batch=3)
    assert run.next_action == "blink" and run.done == ()
    assert run.add(99.9, b"before") is None  # taken before the challenge was given
    assert run.add(100.1, b"a") is None
    assert run.add(100.12, b"too soon") is None  # at most 10 a second
    assert run.add(100.2, b"b") is None
    assert run.add(100.3, b"c") == ((b"a", b"b", b"c"), (0.1, 0.2, 0.3))
    assert run.add(100.4, b"d") is None
    assert run.flush() == ((b"d",), (0.4,)) and run.flush() is None
    assert run.sent == 4


def test_a_challenge_run_follows_the_server_and_knows_when_to_finish():
    run = rules.ChallengeRun(challenge_reply(max_frames=4), started=0.0, fps=10, batch=2)
    run.on_progress(framed.ChallengeProgressResponse(2, "c-1", ("blink",), "turn_left", 6, 4.0))
    assert (run.done, run.next_action) == (("blink",), "turn_left")
    assert not run.finished(1.0)
    assert run.finished(5.1)  # past the deadline
    for k in range(5):
        run.add(0.1 * (k + 1), b"x")
    assert run.sent == 4 and run.finished(1.0)  # max_frames reached
    assert run.add(0.7, b"y") is None and run.flush() is None
    run.on_progress(framed.ChallengeProgressResponse(3, "c-1", ("blink", "turn_left"), None, 8, 3.0))
    assert run.finished(1.0)
    assert run.add(5.5, b"late") is None  # after the deadline


def test_the_flow_of_a_challenge_queues_an_uncertain_face_at_once():
    flow = CheckinFlow()
    uncertain = framed.CheckinResponse(1, "ea0017_1", "uncertain", None, None, 0.3, 0.25, (), 6, pending_id=4)
    assert flow.on_challenge_reply(uncertain).kind == rules.PENDING
    assert flow.on_error(ErrorCode.LIVENESS_FAILED).kind == rules.LIVENESS_FAILED
    assert flow.on_error(ErrorCode.CHECKINS_PAUSED).kind == rules.PAUSED
