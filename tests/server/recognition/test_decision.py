"""The decision rules (server/recognition/decision.py): pure numpy, no I/O.

Encodings here are built by hand in a few dimensions of the 128, so each distance is known.
"""

from __future__ import annotations

import numpy as np
import pytest

from server.recognition.decision import (
    ACCEPTED,
    UNCERTAIN,
    UNKNOWN,
    DecisionRules,
    DifferentPeopleError,
    Population,
    RosterModel,
    check_one_person,
)

BASE = np.full(128, 0.1)  # a common offset, like the mean face every dlib encoding shares


def point(*coordinates: float) -> np.ndarray:
    """BASE moved by these amounts along the first dimensions."""
    vector = BASE.copy()
    vector[: len(coordinates)] += coordinates
    return vector


def noisy(center: np.ndarray, count: int, spread: float, seed: int) -> np.ndarray:
    """``count`` photos around ``center``: Gaussian noise of total variance spread² (on dims 10+)."""
    noise = np.zeros((count, 128))
    noise[:, 10:] = np.random.default_rng(seed).normal(0, spread / np.sqrt(118), (count, 118))
    return center + noise


def roster(centers: dict[str, np.ndarray], photos: int = 5, spread: float = 0.27, seed: int = 0) -> RosterModel:
    ids, rows = [], []
    for n, (student_id, center) in enumerate(centers.items()):
        ids += [student_id] * photos
        rows.append(noisy(center, photos, spread, seed + n))
    return RosterModel.from_encodings(ids, np.concatenate(rows))


def compressed(separation: float) -> dict[str, np.ndarray]:
    """Six students whose templates are ``separation`` apart along their own axis."""
    return {f"2000000{i:02d}": point(*([0.0] * i + [separation])) for i in range(6)}


def test_a_face_near_its_template_is_accepted_and_a_far_one_is_unknown():
    model = roster(compressed(0.5))
    student = model.student_ids[2]
    template = model.templates[2].astype(np.float64)
    near = model.decide(template + 0.01)
    assert near.outcome == ACCEPTED and near.student_id == student
    assert near.candidates[0].student_id == student and near.distance < near.threshold
    far = model.decide(point(*([0.0] * 9 + [3.0])))
    assert far.outcome == UNKNOWN and far.student_id is None and far.candidates == ()


def test_nothing_farther_than_the_ceiling_is_accepted_however_separated_the_students():
    model = roster({"200000001": point(5.0), "200000002": point(-5.0)}, photos=1)
    assert model.threshold(1, "200000001") == pytest.approx(0.6)  # the calibration would go higher
    probe = model.templates[0].astype(np.float64).copy()
    probe[127] += 0.61
    assert model.decide(probe).outcome != ACCEPTED
    probe[127] -= 0.02
    assert model.decide(probe).outcome == ACCEPTED


def test_compressed_faces_get_a_lower_threshold_than_well_separated_ones():
    compressed_model = roster(compressed(0.35))
    separated_model = roster(compressed(0.9))
    student = compressed_model.student_ids[0]
    assert compressed_model.calibration.separation < separated_model.calibration.separation
    assert compressed_model.threshold(3, student) < separated_model.threshold(3, student)


def test_more_frames_and_more_enrolment_photos_mean_a_lower_threshold():
    model = roster(compressed(0.5), photos=5)
    student = model.student_ids[0]
    assert model.threshold(3, student) < model.threshold(1, student)
    fewer = roster(compressed(0.5), photos=2)
    assert model.threshold(1, student) < fewer.threshold(1, student)


def test_the_threshold_follows_the_formula():
    rules = DecisionRules()
    model = roster(compressed(0.5))
    population = model.population
    student = model.student_ids[0]
    frames = 3
    expected = np.sqrt(
        rules.noise_weight * population.photo_variance * (1 / frames + 1 / 5)
        + (rules.separation_weight + rules.separation_weight_per_frame / frames) * population.separation
    )
    assert model.threshold(frames, student) == pytest.approx(min(expected, rules.ceiling))


def test_a_face_between_two_look_alikes_is_uncertain_with_both_as_candidates():
    centers = compressed(0.6)
    centers["200000098"] = point(*([0.0] * 8 + [0.6]))
    centers["200000099"] = point(*([0.0] * 8 + [0.65]))  # 0.05 from 200000098
    model = roster(centers)
    middle = (model.templates[model.index_of("200000098")] + model.templates[model.index_of("200000099")]) / 2
    decision = model.decide(middle.astype(np.float64))
    assert decision.outcome == UNCERTAIN and decision.student_id is None
    assert {c.student_id for c in decision.candidates} >= {"200000098", "200000099"}
    assert decision.reason == "too close to another student"


def test_frames_that_disagree_are_not_accepted():
    model = roster(compressed(0.5))
    a, b = (model.templates[i].astype(np.float64) for i in (0, 1))
    # Two frames at student 1 and one far beyond student 0: their mean is clearly student 0's
    # (within the threshold, with a margin), but most frames, each alone, are student 1.
    frames = np.array([b + 0.001, b + 0.002, a + (a - b)])
    distances = model.distances(frames.mean(axis=0))
    assert distances[0] < model.threshold(3, model.student_ids[0]) and distances[0] < 0.9 * distances[1]
    decision = model.decide(frames)
    assert decision.outcome == UNCERTAIN and decision.reason == "the frames disagree"
    assert model.decide(frames[[0, 1]]).student_id == model.student_ids[1]  # without the odd one


def test_check_one_person_refuses_a_frame_farther_than_the_ceiling_from_the_others():
    check_one_person(np.array([point(0.0), point(0.39), point(0.78)]))  # 0.78 apart, 0.59 from the others' mean
    check_one_person(point(0.0))  # one frame: nothing to compare
    check_one_person(np.array([point(0.0), point(0.59)]))  # two frames: within the ceiling
    with pytest.raises(DifferentPeopleError, match="frame 3 shows another person"):
        check_one_person(np.array([point(0.0), point(0.02), point(0.62)]))
    with pytest.raises(DifferentPeopleError, match="frame 1 "):  # of two, the first is named
        check_one_person(np.array([point(0.0), point(0.0, 0.65)]))


def test_a_room_is_assigned_as_a_whole_not_first_come_first_served():
    # Students X and Y 0.4 apart. Face 1 is nearest X (0.20) but close to Y too (0.21); face 2 is
    # X (0.19) and far from Y. First come first served would give X to face 1 and nothing to
    # face 2; the best overall assignment gives X to face 2 and Y to face 1.
    x, y = point(0.2), point(-0.2)
    rules = DecisionRules(ceiling=0.6)
    population = Population(["200000001", "200000002"], [x, y], [5, 5], [0.3, 0.3], rules)
    model = RosterModel(population)
    assert model.threshold(1, "200000001") > 0.21

    def probe(dx: float, dy: float) -> np.ndarray:
        h = 0.2  # x and y are at +h and -h on the first axis
        along = (dy**2 - dx**2) / (4 * h)
        across = np.sqrt(dx**2 - (along - h) ** 2)
        return point(along, across)

    face_1, face_2 = probe(0.20, 0.21), probe(0.19, 0.45)
    assert model.distances(face_1) == pytest.approx([0.20, 0.21], abs=1e-6)
    first, second = model.decide_room([face_1, face_2])
    assert (second.outcome, second.student_id) == (ACCEPTED, "200000001")
    assert (first.outcome, first.student_id) == (ACCEPTED, "200000002")
    # Alone, face 1 is ambiguous between X and Y: the margin refuses it.
    assert model.decide(face_1).outcome == UNCERTAIN


def test_a_room_gives_each_student_to_one_face_at_most():
    model = roster(compressed(0.6))
    template = model.templates[0].astype(np.float64)
    decisions = model.decide_room([template + 0.01, template + 0.02, template - 0.015])
    accepted = [d.student_id for d in decisions if d.accepted]
    assert accepted == [model.student_ids[0]]


def test_distances_are_exact_for_the_nearest_templates():
    model = roster(compressed(0.5))
    probe = model.templates[3].astype(np.float64) + 0.003
    expected = np.linalg.norm(model.templates.astype(np.float64) - probe, axis=1)
    assert np.allclose(model.distances(probe), expected, atol=1e-9)


def test_a_roster_within_a_population_is_calibrated_on_the_population():
    rows = compressed(0.5)
    population = Population.from_encodings(
        [sid for sid in rows for _ in range(5)],
        np.concatenate([noisy(center, 5, 0.27, n) for n, center in enumerate(rows.values())]),
    )
    two = RosterModel(population, [0, 1])
    everyone = RosterModel(population)
    assert two.student_ids == everyone.student_ids[:2]
    assert two.threshold(3, two.student_ids[0]) == everyone.threshold(3, two.student_ids[0])
    # A face of student 4 is not accepted by a roster without them, however near.
    assert two.decide(everyone.templates[4].astype(np.float64)).student_id is None


def test_an_empty_roster_decides_unknown():
    model = RosterModel.from_encodings([], np.empty((0, 128)))
    [decision] = model.decide_room([point(0.0)])
    assert decision.outcome == UNKNOWN and decision.reason == "no enrolled student"


def test_scaled_thresholds_for_the_tradeoff_curve():
    model = roster(compressed(0.5))
    student = model.student_ids[0]
    assert model.scaled(0.8).threshold(3, student) == pytest.approx(0.8 * model.threshold(3, student))
    assert model.scaled(10).threshold(3, student) == pytest.approx(0.6)


@pytest.mark.parametrize("bad", [np.full((2, 127), 0.1), np.array([[np.nan] * 128])])
def test_bad_encodings_are_refused(bad):
    with pytest.raises(ValueError):
        RosterModel.from_encodings(["200000001"] * len(bad), bad)
