"""The classroom camera's face tracker and sample clock: pure code, synthetic boxes, no I/O.

The server's room decisions are given by hand here; tests/server/test_camera.py has the watcher
against the server's real decision code.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from client.watch.appearance import histogram_distance, hsv_histogram
from client.watch.tracker import ACCEPTED, UNCERTAIN, UNKNOWN, FaceTracker, TrackerSettings, iou
from client.watch.watcher import SampleClock
from protocol.framed import MAX_TRACK_FRAMES, Candidate, TrackDecision

A = (100, 200, 200, 100)  # (top, right, bottom, left): a 100 x 100 face
B = (100, 500, 200, 400)
A_MOVED = (110, 215, 210, 115)  # IoU with A about 0.6


def look(value: float) -> np.ndarray:
    return np.array([value])


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(abs(a[0] - b[0]))


def tracker(**settings) -> FaceTracker:
    return FaceTracker(TrackerSettings(**settings), distance)


def decision(
    outcome: str,
    student_id: str | None = None,
    *,
    frames: int = 1,
    encoding: str | None = None,
    candidates: tuple[str, ...] = (),
) -> TrackDecision:
    """A room decision as the server sends it (encodings are opaque to the tracker: any text)."""
    return TrackDecision(
        outcome, student_id, None, 0.4, tuple(Candidate(c, None, 0.4) for c in candidates), frames, encoding
    )


def decide(t: FaceTracker, tracks, answers: dict[int, tuple]) -> list[int]:
    """Answer like the server for every track in view, giving a new encoding ("e<sample>.<index>")
    to the tracks that need one; ``answers[i]`` is (outcome, student ID) or (outcome, student ID,
    frames used). Return the indexes encoded."""
    encoded = []
    for i, track in enumerate(tracks):
        now = t.needs_encoding(track)
        sent = t.kept_encodings(track, now)
        outcome, student_id, *frames = answers[i]
        used = frames[0] if frames else len(sent) + now
        t.decided(track, decision(outcome, student_id, frames=used, encoding=f"e{t.sample}.{i}" if now else None))
        if now:
            encoded.append(i)
    return encoded


def test_iou():
    assert iou(A, A) == 1.0
    assert iou(A, B) == 0.0
    assert iou(A, A_MOVED) == pytest.approx(85 * 90 / (2 * 100 * 100 - 85 * 90))


def test_an_accepted_face_is_encoded_once_then_decided_from_its_kept_encoding():
    t = tracker()
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    assert decide(t, tracks, {0: (ACCEPTED, "201911001"), 1: (ACCEPTED, "201911002")}) == [0, 1]
    for _ in range(5):  # students sit still: nothing is encoded again, the kept encoding is sent
        tracks = t.update([A_MOVED, B], [look(0.12), look(0.5)])
        assert [t.kept_encodings(track, t.needs_encoding(track)) for track in tracks] == [["e1.0"], ["e1.1"]]
        assert decide(t, tracks, {0: (ACCEPTED, "201911001"), 1: (ACCEPTED, "201911002")}) == []
        assert [s.student_id for s in t.seen(tracks)] == ["201911001", "201911002"]


def test_a_face_not_accepted_gathers_an_encoding_at_every_sample_and_is_not_seen():
    t = tracker()
    for sample in range(1, 4):
        tracks = t.update([A], [look(0.1)])
        assert t.kept_encodings(tracks[0], True) == [f"e{n}.0" for n in range(1, sample)]
        assert decide(t, tracks, {0: (UNCERTAIN, None)}) == [0]
        assert t.seen(tracks) == [] and tracks[0].student_id is None
    assert tracks[0].encodings == ["e1.0", "e2.0", "e3.0"] and tracks[0].frames == 3
    tracks = t.update([A], [look(0.1)])
    decide(t, tracks, {0: (ACCEPTED, "201911001")})  # decided from four samples' encodings
    assert [s.student_id for s in t.seen(tracks)] == ["201911001"] and tracks[0].frames == 4


def test_a_track_keeps_its_newest_max_frames_encodings():
    t = tracker(max_frames=3)
    for _ in range(5):
        tracks = t.update([A], [look(0.1)])
        decide(t, tracks, {0: (UNKNOWN, None)})
    assert tracks[0].encodings == ["e3.0", "e4.0", "e5.0"]
    assert t.kept_encodings(tracks[0], True) == ["e4.0", "e5.0"]  # and the new one: 3 frames
    assert t.kept_encodings(tracks[0], False) == ["e3.0", "e4.0", "e5.0"]
    assert tracker(max_frames=1).kept_encodings(tracks[0], True) == []


def test_the_server_drops_the_kept_encodings_of_another_person():
    t = tracker()
    for _ in range(3):
        tracks = t.update([A], [look(0.1)])
        decide(t, tracks, {0: (UNCERTAIN, None)})
    assert tracks[0].encodings == ["e1.0", "e2.0", "e3.0"]
    # The newest encoding cannot be the same person as the older ones: decided from it alone.
    tracks = t.update([A], [look(0.1)])
    decide(t, tracks, {0: (ACCEPTED, "201911003", 1)})
    assert tracks[0].encodings == ["e4.0"] and tracks[0].student_id == "201911003"


def test_the_latest_room_decision_says_who_a_track_is():
    t = tracker()
    tracks = t.update([A], [look(0.1)])
    decide(t, tracks, {0: (ACCEPTED, "201911001")})
    # Another face takes the student (the better overall assignment): this one is uncertain now,
    # is not counted as seen, and gathers more evidence from the next sample on.
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    assert decide(t, tracks, {0: (UNCERTAIN, None), 1: (ACCEPTED, "201911001")}) == [1]
    assert [(s.box, s.student_id) for s in t.seen(tracks)] == [(B, "201911001")]
    assert tracks[0].student_id is None and tracks[0].candidates == ()
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    assert [t.needs_encoding(track) for track in tracks] == [True, False]


def test_an_uncertain_track_carries_its_candidates():
    t = tracker()
    tracks = t.update([A], [look(0.1)])
    t.decided(tracks[0], decision(UNCERTAIN, None, encoding="e", candidates=("201911002", "201911001")))
    assert tracks[0].candidates == ("201911002", "201911001") and t.seen(tracks) == []


def test_a_change_of_appearance_starts_a_new_track():
    t = tracker()
    first = t.update([A], [look(0.1)])
    decide(t, first, {0: (ACCEPTED, "201911001")})
    # Same place, different look (another person sat down): a new track, without encodings.
    second = t.update([A], [look(0.9)])
    assert second[0].track_id != first[0].track_id and second[0].encodings == []
    assert decide(t, second, {0: (ACCEPTED, "201911003")}) == [0]
    assert [s.student_id for s in t.seen(second)] == ["201911003"]


def test_a_face_that_moves_far_is_a_new_track():
    t = tracker()
    first = t.update([A], [look(0.1)])
    decide(t, first, {0: (ACCEPTED, "201911001")})
    moved = t.update([B], [look(0.1)])
    assert moved[0].track_id != first[0].track_id
    assert decide(t, moved, {0: (ACCEPTED, "201911001")}) == [0]


def test_a_missed_face_is_not_seen_but_its_track_and_encodings_survive_briefly():
    t = tracker(max_misses=2)
    tracks = t.update([A, B], [look(0.1), look(0.5)])
    decide(t, tracks, {0: (ACCEPTED, "201911001"), 1: (ACCEPTED, "201911002")})
    gone = t.update([B], [look(0.5)])  # A's face not found (head down)
    decide(t, gone, {0: (ACCEPTED, "201911002")})
    assert [s.student_id for s in t.seen(gone)] == ["201911002"]
    back = t.update([A, B], [look(0.1), look(0.5)])
    assert back[0].track_id == tracks[0].track_id and back[0].encodings == ["e1.0"]
    assert decide(t, back, {0: (ACCEPTED, "201911001"), 1: (ACCEPTED, "201911002")}) == []  # not encoded again
    for _ in range(3):  # gone for longer than max_misses: the track ends
        t.update([B], [look(0.5)])
    again = t.update([A, B], [look(0.1), look(0.5)])
    assert again[0].track_id != tracks[0].track_id
    assert t.needs_encoding(again[0]) and again[0].encodings == []


def test_accepted_tracks_are_encoded_again_every_refresh_every_samples():
    t = tracker(refresh_every=3)
    tracks = t.update([A], [look(0.1)])
    decide(t, tracks, {0: (ACCEPTED, "201911001")})
    encoded = [decide(t, t.update([A], [look(0.1)]), {0: (ACCEPTED, "201911001")}) for _ in range(6)]
    assert encoded == [[], [], [0], [], [], [0]]
    assert tracks[0].encodings == ["e7.0"]  # a refresh starts the evidence again
    never = tracker(refresh_every=0)
    decide(never, never.update([A], [look(0.1)]), {0: (ACCEPTED, "201911001")})
    assert not any(decide(never, never.update([A], [look(0.1)]), {0: (ACCEPTED, "201911001")}) for _ in range(20))


def test_boxes_are_matched_one_to_one_by_best_overlap():
    t = tracker()
    one = (100, 200, 200, 100)
    two = (100, 260, 200, 160)  # overlaps one
    first = t.update([one, two], [look(0.1), look(0.1)])
    second = t.update([two, one], [look(0.1), look(0.1)])
    assert [tr.track_id for tr in second] == [first[1].track_id, first[0].track_id]


def test_forget_makes_every_face_new():
    t = tracker()
    decide(t, t.update([A], [look(0.1)]), {0: (ACCEPTED, "201911001")})
    t.forget()
    assert decide(t, t.update([A], [look(0.1)]), {0: (ACCEPTED, "201911001")}) == [0]


def test_tracker_settings_are_checked():
    with pytest.raises(ValueError):
        TrackerSettings(max_frames=0)
    with pytest.raises(ValueError):
        TrackerSettings(max_frames=MAX_TRACK_FRAMES + 1)
    with pytest.raises(ValueError):
        TrackerSettings(refresh_every=-1)


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
