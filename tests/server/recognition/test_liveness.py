"""server/recognition/liveness.py: the measures (pure, on synthetic landmarks), the event rules
(pure, on synthetic sequences), and both on the real samples: the annotated live clips and the
still photos, also as hand-held "videos" (testkit/liveness.py)."""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import pytest

from server.recognition import liveness as lv
from server.recognition.faces import DEFAULT_DETECT_MAX_SIDE
from server.recognition.images import load_image_file
from testkit import liveness as samples
from testkit.measure_cache import MeasureCache, file_key

# -- measures, on landmarks made from the generic face ----------------------------------------


def projected_landmarks(yaw: float, pitch: float = 0.0, size=(480, 640)) -> np.ndarray:
    """68 'landmarks' whose POSE_POINTS are the generic face turned by ``yaw`` degrees (to the
    person's left when positive), seen by the camera head_pose assumes."""
    height, width = size
    focal = float(max(size))
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1.0]])
    # The face looks at the camera (its model's -z) when unrotated; turning to its own left
    # moves the nose to the image's right.
    rotation = cv2.Rodrigues(np.array([-math.radians(pitch), -math.radians(yaw), 0.0]))[0]
    rotation_vector = cv2.Rodrigues(rotation)[0]
    points, _ = cv2.projectPoints(lv.FACE_MODEL, rotation_vector, np.array([0.0, 0.0, 3000.0]), camera, np.zeros(4))
    landmarks = np.zeros((68, 2))
    landmarks[lv.POSE_POINTS] = points.reshape(-1, 2)
    return landmarks


@pytest.mark.parametrize("yaw", [-25.0, -10.0, 0.0, 10.0, 25.0])
def test_head_pose_reads_the_yaw_of_a_turned_generic_face(yaw):
    measured_yaw, measured_pitch = lv.head_pose(projected_landmarks(yaw), (480, 640))
    assert measured_yaw == pytest.approx(yaw, abs=1.0)
    assert measured_pitch == pytest.approx(0.0, abs=1.0)


def test_head_pose_reads_the_pitch_looking_up_as_positive():
    _, pitch = lv.head_pose(projected_landmarks(0.0, pitch=15.0), (480, 640))
    assert pitch > 10


def eye(width: float, height: float, x0: float = 0.0) -> np.ndarray:
    """Six eye landmarks: corners at x0 and x0 + width, lids height apart."""
    return np.array(
        [
            (x0, 0),
            (x0 + width / 3, -height / 2),
            (x0 + 2 * width / 3, -height / 2),
            (x0 + width, 0),
            (x0 + 2 * width / 3, height / 2),
            (x0 + width / 3, height / 2),
        ]
    )


def test_eye_aspect_ratio_is_lid_distance_over_eye_width_for_both_eyes():
    points = np.zeros((68, 2))
    points[36:42] = eye(30, 9)
    points[42:48] = eye(30, 3, x0=60)
    assert lv.eye_aspect_ratio(points) == pytest.approx((0.3 + 0.1) / 2)


# -- events, on synthetic sequences ------------------------------------------------------------


def sequence(ears, yaws, fps: float = 10.0):
    times = [k / fps for k in range(len(ears))]
    return times, [lv.FaceMeasure((0, 10, 10, 0), e, y, 0.0) for e, y in zip(ears, yaws)]


def test_a_short_closure_is_a_blink_at_its_deepest_frame():
    ears = [0.32] * 10 + [0.25, 0.08, 0.12, 0.30] + [0.32] * 10
    events = lv.find_events(*sequence(ears, [0.0] * len(ears)))
    assert [(e.action, e.index) for e in events] == [(lv.BLINK, 11)]
    assert events[0].time == pytest.approx(1.1)


def test_eyes_shut_for_seconds_or_at_the_ends_are_no_blink():
    long_closure = [0.32] * 10 + [0.1] * 20 + [0.32] * 10  # 2 s at 10 frames a second
    assert lv.find_events(*sequence(long_closure, [0.0] * 40)) == []
    shut_at_the_ends = [0.1] * 3 + [0.32] * 20 + [0.1] * 3
    assert lv.find_events(*sequence(shut_at_the_ends, [0.0] * 26)) == []


def test_a_half_blink_is_no_blink():
    ears = [0.32] * 10 + [0.22] + [0.32] * 10  # 0.69 of the median: above the closed level
    assert lv.find_events(*sequence(ears, [0.0] * 21)) == []


def test_turns_are_read_from_the_median_yaw_each_counted_once():
    yaws = [-15.0] * 10 + [-10, -4, -3, -8, -15] + [-15.0] * 10 + [-20, -27, -28, -18, -14] + [-15.0] * 10
    events = lv.find_events(*sequence([0.32] * len(yaws), yaws))
    assert [(e.action, e.index) for e in events] == [(lv.TURN_LEFT, 12), (lv.TURN_RIGHT, 27)]


def test_a_held_turn_counts_again_only_after_coming_back():
    yaws = [0.0] * 10 + [12.0] * 5 + [7.0] * 2 + [12.0] * 5 + [0.0] * 5 + [12.0] * 3 + [0.0] * 10
    events = lv.find_events(*sequence([0.32] * len(yaws), yaws))
    assert [e.action for e in events] == [lv.TURN_LEFT, lv.TURN_LEFT]


def test_frames_without_a_face_are_left_out():
    times, measures = sequence([0.32] * 10 + [0.08] + [0.32] * 10, [0.0] * 21)
    measures[5] = measures[15] = None
    assert [(e.action, e.index) for e in lv.find_events(times, measures)] == [(lv.BLINK, 10)]


def test_bad_sequences_are_refused():
    times, measures = sequence([0.3] * 5, [0.0] * 5)
    with pytest.raises(ValueError, match="times"):
        lv.find_events(times[:4], measures)
    with pytest.raises(ValueError, match="decrease"):
        lv.find_events([0.0, 0.2, 0.1, 0.3, 0.4], measures)


def test_first_action_missing_follows_the_asked_order():
    events = [lv.Event(lv.TURN_LEFT, 3, 0.3), lv.Event(lv.BLINK, 8, 0.8), lv.Event(lv.TURN_RIGHT, 12, 1.2)]
    assert lv.first_action_missing(events, [lv.TURN_LEFT, lv.BLINK, lv.TURN_RIGHT]) is None
    assert lv.first_action_missing(events, [lv.BLINK, lv.TURN_RIGHT]) is None  # others in between
    assert lv.first_action_missing(events, [lv.BLINK, lv.TURN_LEFT]) == lv.TURN_LEFT  # the wrong order
    assert lv.first_action_missing(events, [lv.BLINK, lv.BLINK]) == lv.BLINK
    assert lv.first_action_missing([], [lv.TURN_RIGHT]) == lv.TURN_RIGHT


# -- the real samples ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def measured() -> MeasureCache:
    """The frames' measures, kept between runs (testkit/measure_cache.py): measured again
    whenever the recognition code, dlib, its models or the frame-making code change."""
    return MeasureCache()


def clip_events(measured: MeasureCache, path):
    times, frames = samples.read_clip(path)
    measures = measured.measures(f"clip {file_key(path)}", lambda: frames, detect_max_side=640)
    return lv.find_events(times, measures)


@pytest.mark.parametrize("clip", [samples.TURNS_CLIP, samples.BLINKS_CLIP])
def test_the_events_of_the_live_clips_match_the_annotation_within_one_frame(faces_dir, measured, clip):
    annotated, not_events = samples.annotations(clip)
    found = clip_events(measured, faces_dir / "liveness" / clip)
    unmatched = list(annotated)
    extra = []
    for event in found:
        match = next((s for s in unmatched if s.action == event.action and s.holds(event.index)), None)
        if match is None:
            extra.append((event.action, event.index))
        else:
            unmatched.remove(match)
    assert extra == [], f"events found where none is annotated: {extra}"
    assert unmatched == [], f"annotated events not found: {unmatched}"
    for span in not_events:
        assert not [e for e in found if e.action == lv.BLINK and span.holds(e.index, slack=0)], span


@pytest.mark.parametrize("photo", samples.PHOTOS)
def test_a_photo_shown_for_five_seconds_shows_no_event(faces_dir, measured, photo):
    path = faces_dir / "liveness" / photo
    key = f"photo {file_key(path)}"
    image = functools.cache(lambda: samples.fit(load_image_file(path)))
    times = [k / 10 for k in range(50)]  # 5 s at 10 frames a second
    still = measured.measures(key, lambda: [image()], detect_max_side=DEFAULT_DETECT_MAX_SIDE) * 50
    assert still[0] is not None, f"no face found in {photo}"
    assert lv.find_events(times, still) == []
    for seed in (1, 2, 3):
        moving = measured.measures(
            f"{key} hand-held 50 {seed}",
            lambda seed=seed: samples.handheld(image(), 50, seed),
            detect_max_side=DEFAULT_DETECT_MAX_SIDE,
        )
        assert sum(m is not None for m in moving) >= 40, f"{photo}: the face is lost in the hand-held frames"
        assert lv.find_events(times, moving) == [], f"{photo}, hand-held with seed {seed}"


def test_the_kept_measures_are_what_measuring_the_frames_gives(faces_dir, tmp_path, caplog):
    """What the two tests above read from MeasureCache: on a second run, from the file, the same
    measures as measuring now (None where there is no face); a damaged file is measured again,
    and an earlier code's file removed."""
    image = samples.fit(load_image_file(faces_dir / "liveness" / samples.PHOTOS[0]))
    frames = [image, np.zeros_like(image)]
    now = [lv.measure_largest_face(frame, detect_max_side=640) for frame in frames]
    assert now[0] is not None and now[1] is None
    assert MeasureCache(tmp_path).measures("two", lambda: frames, detect_max_side=640) == now
    assert MeasureCache(tmp_path).measures("two", list, detect_max_side=640) == now  # read back, nothing measured
    [stored] = tmp_path.iterdir()
    stale = tmp_path / "liveness-0123456789abcdef.json"  # an earlier code's file: removed
    stale.write_text("{}")
    stored.write_text("{not json")
    assert MeasureCache(tmp_path).measures("two", lambda: frames, detect_max_side=640) == now
    assert "measured again" in caplog.text
    assert list(tmp_path.iterdir()) == [stored]
