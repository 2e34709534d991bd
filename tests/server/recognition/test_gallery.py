"""server.recognition.gallery with synthetic encodings (no dlib, no I/O).

Distances are built along the first axes, with values exact in float32 (multiples of 1/8 and
the like), so that "exactly at the threshold" is exact.
"""

from __future__ import annotations

import numpy as np
import pytest

from server.recognition.gallery import DEFAULT_THRESHOLD, Gallery, Match

A, B, C = "201900001", "201900002", "201900003"


def vec(*values: float) -> np.ndarray:
    """A 128-number encoding starting with these values, then zeros."""
    v = np.zeros(128)
    v[: len(values)] = values
    return v


def test_distance_equal_to_the_threshold_matches_and_above_does_not():
    gallery = Gallery([A], [vec(0.625)])
    assert gallery.match([vec(0)], threshold=0.625) == [Match(A, 0.625)]
    assert gallery.match([vec(-(2**-12))], threshold=0.625) == [Match(None, 0.625 + 2**-12)]
    # The default threshold, 0.6, has no exact float32 value: a stored 0.6 still matches.
    assert DEFAULT_THRESHOLD == 0.6
    assert Gallery([A], [vec(0.6)]).match([vec(0)])[0].student_id == A
    assert Gallery([A], [vec(0.601)]).match([vec(0)])[0].student_id is None


def test_nearest_student_wins_and_distance_is_euclidean():
    gallery = Gallery([A, B], [vec(0.0, 0.625), vec(0.375)], names={A: "Ann", B: "Bob"})
    [match] = gallery.match([vec(0.0, 0.125)])
    assert match.student_id == B
    assert match.distance == pytest.approx(np.hypot(0.375, 0.125), abs=1e-6)
    assert gallery.name_of(B) == "Bob"
    assert gallery.name_of(C) is None


def test_a_face_matching_nobody_is_unknown_with_its_nearest_distance():
    gallery = Gallery([A, B], [vec(1.0), vec(2.0)])
    assert gallery.match([vec(0.0)]) == [Match(None, 1.0)]


def test_allowed_restricts_the_candidates():
    gallery = Gallery([A, B, C], [vec(0.125), vec(0.25), vec(0.5)])
    face = [vec(0)]
    assert gallery.match(face) == [Match(A, 0.125)]
    assert gallery.match(face, allowed={B, C}) == [Match(B, 0.25)]
    assert gallery.match(face, allowed=[C, "209999999"]) == [Match(C, 0.5)]  # unknown IDs ignored
    assert gallery.match(face, allowed=set()) == [Match(None, None)]  # compared with nobody
    assert gallery.match(face, allowed={"209999999"}) == [Match(None, None)]


def test_each_student_goes_to_at_most_one_face():
    gallery = Gallery([A, B], [vec(0.0), vec(0.5)])
    # Both faces are nearest to A; the closer one gets A, the other its next student within 0.6.
    faces = [vec(0.25), vec(0.125)]
    assert gallery.match(faces) == [Match(B, 0.25), Match(A, 0.125)]
    # Without a second candidate within the threshold, the other face stays unknown and reports
    # its distance to its nearest student (A, taken).
    assert gallery.match(faces, allowed={A}) == [Match(None, 0.25), Match(A, 0.125)]


def test_each_face_gets_at_most_one_student_and_ties_go_to_the_lower_id():
    gallery = Gallery([B, A], [vec(-0.125), vec(0.125)])
    assert gallery.match([vec(0)]) == [Match(A, 0.125)]


def test_a_student_with_several_encodings_is_at_the_distance_of_the_nearest():
    gallery = Gallery([A, B, A], [vec(1.0), vec(0.0, 0.5), vec(0.0, 0.0, 0.25)])
    assert len(gallery) == 3
    assert gallery.student_ids == (A, B)
    assert gallery.match([vec(0)]) == [Match(A, 0.25)]
    # Two faces on two different encodings of A: A goes to one face only (the first, on a tie).
    assert gallery.match([vec(1.0), vec(0, 0, 0.25)], allowed={A}) == [Match(A, 0.0), Match(None, 0.0)]


def test_empty_gallery_and_no_faces():
    empty = Gallery.empty()
    assert len(empty) == 0 and empty.student_ids == ()
    assert empty.match([vec(0), vec(1)]) == [Match(None, None), Match(None, None)]
    assert Gallery([A], [vec(0)]).match(np.empty((0, 128))) == []
    assert empty.match([]) == []


def test_encodings_are_stored_as_float32_and_checked():
    gallery = Gallery([A] * 1000, np.random.default_rng(1).normal(size=(1000, 128)))
    assert gallery._encodings.dtype == np.float32 and gallery._encodings.nbytes == 1000 * 128 * 4
    with pytest.raises(ValueError, match="3 student IDs for 2 encodings"):
        Gallery([A, B, C], [vec(0), vec(1)])
    with pytest.raises(ValueError, match=r"shape \(n, 128\)"):
        Gallery([A], [np.zeros(127)])
    with pytest.raises(ValueError, match="NaN"):
        Gallery([A], [vec(np.nan)])
    with pytest.raises(ValueError, match=r"shape \(n, 128\)"):
        Gallery([A], [vec(0)]).match(np.zeros(128))  # one face is still a list of one


def test_matches_a_brute_force_reference_on_random_data():
    rng = np.random.default_rng(7)
    student_ids = [f"2019{i % 40:05d}" for i in range(200)]  # 40 students, 5 encodings each
    known = rng.normal(scale=0.05, size=(200, 128))
    faces = known[[3, 50, 51, 199]] + rng.normal(scale=0.01, size=(4, 128))
    matches = Gallery(student_ids, known).match(faces, threshold=0.45)
    for face, match in zip(faces, matches):
        distances = np.linalg.norm(known - face, axis=1)
        nearest = int(np.argmin(distances))
        assert match == Match(student_ids[nearest], pytest.approx(distances[nearest], abs=1e-5))


def _reference_match(student_ids, known, faces, threshold, allowed=None):
    """The documented rules, by brute force in float64 on the float32-rounded encodings."""
    known = np.asarray(known, dtype=np.float32).astype(np.float64)
    faces = np.asarray(faces, dtype=np.float32).astype(np.float64)
    candidates = sorted({s for s in student_ids if allowed is None or s in allowed})
    if not candidates:
        return [Match(None, None) for _ in faces]
    distance = np.full((len(faces), len(candidates)), np.inf)
    for column, student in enumerate(candidates):
        rows = known[[i for i, s in enumerate(student_ids) if s == student]]
        distance[:, column] = np.min(np.linalg.norm(faces[:, None, :] - rows[None, :, :], axis=2), axis=1)
    matches = [Match(None, float(d)) for d in distance.min(axis=1)]
    pairs = sorted(
        (distance[f, c], f, c)
        for f in range(len(faces))
        for c in range(len(candidates))
        if np.float32(distance[f, c]) <= np.float32(threshold)
    )
    taken_faces, taken_columns = set(), set()
    for d, f, c in pairs:
        if f not in taken_faces and c not in taken_columns:
            taken_faces.add(f)
            taken_columns.add(c)
            matches[f] = Match(candidates[c], float(d))
    return matches


def test_matches_the_rules_on_a_shuffled_gallery_with_several_rows_per_student_and_rosters():
    rng = np.random.default_rng(11)
    students = [f"2020{i:05d}" for i in range(300)]
    student_ids = [students[i] for i in rng.integers(0, len(students), size=900)]  # 1 to ~8 rows each
    known = rng.normal(scale=0.09, size=(900, 128))
    faces = known[rng.choice(900, size=6, replace=False)] + rng.normal(scale=0.02, size=(6, 128))
    faces = np.vstack([faces, rng.normal(scale=0.09, size=(2, 128))])  # and two strangers
    gallery = Gallery(student_ids, known)
    roster = set(rng.choice(students, size=120, replace=False).tolist())
    for allowed in (None, roster, set(student_ids[:3])):
        for threshold in (0.6, 0.3):
            for group in (faces, faces[:1], faces[3:4]):
                got = gallery.match(group, threshold=threshold, allowed=allowed)
                expected = _reference_match(student_ids, known, group, threshold, allowed)
                assert [m.student_id for m in got] == [m.student_id for m in expected]
                assert [m.distance for m in got] == pytest.approx([m.distance for m in expected], abs=1e-6)


def test_the_callers_array_is_copied_and_the_gallery_is_read_only():
    known = np.zeros((2, 128), dtype=np.float32)
    known[1, 0] = 1.0
    gallery = Gallery([A, B], known)
    known[0, 0] = 5.0  # the caller changes its array afterwards
    assert gallery.match([vec(0)]) == [Match(A, 0.0)]
    with pytest.raises(ValueError, match="read-only"):
        gallery._encodings[0, 0] = 1.0
