"""The classroom camera's face tracker and sample clock: pure code, synthetic boxes, no I/O."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from client.watch.appearance import histogram_distance, hsv_histogram
from client.watch.source import SampleClock
from client.watch.tracker import FaceTracker, TrackerSettings, iou

A = (100, 200, 200, 100)  # (top, right, bottom, left): a 100 x 100 face
B = (100, 500, 200, 400)
A_MOVED = (110, 215, 210, 115)  # IoU with A about 0.6


def look(value: float) -> np.ndarray:
    return np.array([value])


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(abs(a[0] - b[0]))


def tracker(**settings) -> FaceTracker:
    return FaceTracker(TrackerSettings(**settings), distance)


def identify(t: FaceTracker, tracks, answers: dict[int, tuple[str | None, float | None]]) -> list[int]:
    """Answer like the server for the tracks that need it; return the indexes asked."""
    asked = [i for i, track in enumerate(tracks) if t.needs_identity(track)]
    for i in asked:
        student_id, dist = answers[i]
        t.identified(tracks[i], student_id, None, dist)
    return asked


def test_iou():
    assert iou(A, A) == 1.0
    assert iou(A, B) == 0.0
    assert iou(A, A_MOVED) == pytest.approx(85 * 90 / (2 * 100 * 100 - 85 * 90))


def test_a_confident_face_is_encoded_once_then_tracked():
    t = tracker()
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    assert identify(t, tracks, {0: ("201911001", 0.35), 1: ("201911002", 0.40)}) == [0, 1]
    for _ in range(5):  # students sit still: nothing is encoded again
        tracks = t.update([A_MOVED, B], [look(0.12), look(0.5)])
        assert identify(t, tracks, {}) == []
        assert [s.student_id for s in t.seen(tracks)] == ["201911001", "201911002"]


def test_an_unsure_match_is_confirmed_by_a_second_agreeing_one():
    t = tracker()
    tracks = t.update([A], [look(0.1)])
    identify(t, tracks, {0: ("201911001", 0.55)})  # within 0.6, above confident_distance 0.5
    assert not tracks[0].confirmed
    assert [s.student_id for s in t.seen(tracks)] == ["201911001"]  # still counted as seen
    tracks = t.update([A], [look(0.1)])
    assert identify(t, tracks, {0: ("201911001", 0.57)}) == [0]
    assert tracks[0].confirmed
    assert identify(t, t.update([A], [look(0.1)]), {}) == []


def test_unknown_faces_are_identified_at_every_sample():
    t = tracker()
    for _ in range(3):
        tracks = t.update([A], [look(0.1)])
        assert identify(t, tracks, {0: (None, 0.8)}) == [0]
        assert t.seen(tracks) == []


def test_a_change_of_appearance_starts_a_new_track():
    t = tracker()
    first = t.update([A], [look(0.1)])
    identify(t, first, {0: ("201911001", 0.3)})
    # Same place, different look (another person sat down): identified anew.
    second = t.update([A], [look(0.9)])
    assert second[0].track_id != first[0].track_id
    assert identify(t, second, {0: ("201911003", 0.3)}) == [0]
    assert [s.student_id for s in t.seen(second)] == ["201911003"]


def test_a_face_that_moves_far_is_a_new_track():
    t = tracker()
    first = t.update([A], [look(0.1)])
    identify(t, first, {0: ("201911001", 0.3)})
    moved = t.update([B], [look(0.1)])
    assert moved[0].track_id != first[0].track_id
    assert identify(t, moved, {0: ("201911001", 0.3)}) == [0]


def test_a_missed_face_is_not_seen_but_its_track_survives_briefly():
    t = tracker(max_misses=2)
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    identify(t, tracks, {0: ("201911001", 0.3), 1: ("201911002", 0.3)})
    gone = t.update([B], [look(0.5)])  # A's face not found (head down)
    assert [s.student_id for s in t.seen(gone)] == ["201911002"]
    back = t.update([A, B], [look(0.1), look(0.5)])
    assert identify(t, back, {}) == []  # A comes back at its place: not encoded again
    assert back[0].track_id == tracks[0].track_id
    for _ in range(3):  # gone for longer than max_misses: the track ends
        t.update([B], [look(0.5)])
    again = t.update([A, B], [look(0.1), look(0.5)])
    assert again[0].track_id != tracks[0].track_id
    assert identify(t, again, {0: ("201911001", 0.3)}) == [0]


def test_confirmed_tracks_are_checked_again_every_refresh_every_samples():
    t = tracker(refresh_every=3)
    tracks = t.update([A], [look(0.1)])
    identify(t, tracks, {0: ("201911001", 0.3)})
    asked = [identify(t, t.update([A], [look(0.1)]), {0: ("201911001", 0.3)}) for _ in range(6)]
    assert asked == [[], [], [0], [], [], [0]]


def test_each_student_at_most_once_per_sample():
    t = tracker()
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    identify(t, tracks, {0: ("201911001", 0.45), 1: ("201911001", 0.30)})
    seen = t.seen(tracks)
    assert [(s.student_id, s.box) for s in seen] == [("201911001", B)]
    assert tracks[0].student_id is None and not tracks[0].confirmed
    # The loser is identified again at the next sample.
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    assert identify(t, tracks, {0: ("201911003", 0.4)}) == [0]
    assert [s.student_id for s in t.seen(tracks)] == ["201911001", "201911003"]


def test_boxes_are_matched_one_to_one_by_best_overlap():
    t = tracker()
    one = (100, 200, 200, 100)
    two = (100, 260, 200, 160)  # overlaps one
    first = t.update([one, two], [look(0.1), look(0.1)])
    second = t.update([two, one], [look(0.1), look(0.1)])
    assert [tr.track_id for tr in second] == [first[1].track_id, first[0].track_id]


def test_forget_makes_every_face_new():
    t = tracker()
    identify(t, t.update([A], [look(0.1)]), {0: ("201911001", 0.3)})
    t.forget()
    assert identify(t, t.update([A], [look(0.1)]), {0: ("201911001", 0.3)}) == [0]


def test_hsv_histograms_tell_a_shifted_face_from_a_recoloured_one(faces_dir):
    image = cv2.imread(str(faces_dir / "knowns" / "201911001_obama.jpg"))
    height, width = image.shape[:2]
    box = (height // 4, 3 * width // 4, 3 * height // 4, width // 4)
    shifted = (box[0] + 6, box[1] + 6, box[2] + 6, box[3] + 6)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hsv[:, :, 0] = (hsv[:, :, 0].astype(int) + 60) % 180  # another skin, shirt, background
    recoloured = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    reference = hsv_histogram(image, box)
    same = histogram_distance(reference, hsv_histogram(image, shifted))
    other = histogram_distance(reference, hsv_histogram(recoloured, box))
    assert same < TrackerSettings().max_appearance_distance < other
    assert histogram_distance(hsv_histogram(image, (-50, -10, -5, -60)), reference) == 1.0  # outside


def test_sample_clock_takes_the_first_frame_at_or_after_each_interval():
    clock = SampleClock(60)
    frames = [0.0, 0.5, 59.9995, 61.0, 100.0, 119.0, 125.0, 300.0, 301.0]
    assert [t for t in frames if clock.due(t)] == [0.0, 59.9995, 125.0, 300.0]
    with pytest.raises(ValueError):
        SampleClock(0)
