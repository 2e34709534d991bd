"""Who is this face? Three outcomes, decided against the enrolled students of one roster.

Pure numpy, no I/O. dlib's encodings put East Asian faces much closer together than Western ones
(on the Korean sample photos 81.6% of pairs of different people are within 0.6), so one photo
against the fixed 0.6 of face_recognition marks strangers and look-alikes as students. The rules
here (measured and explained in docs/recognition.md):

1. **Templates.** Each student is the mean of their enrolled encodings; a check-in of F frames is
   the mean of its F encodings. Averaging removes each photo's noise (pose, light, expression).
2. **A threshold calibrated from the enrolled faces.** Two quantities are read off the enrolled
   encodings: how much one person's photos vary (*photo variance* s², the mean squared distance
   of a photo to its student's mean) and how far apart the enrolled students are (*separation*
   Δ², the median over pairs of students of their templates' squared distance, less the part the
   photo noise adds). A probe of F frames against a student with K photos is expected at
   squared distance s²(1/F + 1/K) from its own template and Δ² further from anyone else's; the
   threshold sits between them::

       t² = noise_weight · s² (1/F + 1/K) + (separation_weight + separation_weight_per_frame / F) · Δ²

   and never above the ceiling (0.6 by default, the 2019 card's rule). On compressed faces
   (small Δ²) the threshold shrinks with them; on well separated faces it reaches the ceiling.
   The weights were chosen on some people and checked on others (docs/recognition.md).
3. **A margin.** The nearest student must be clearly nearer than the second nearest
   (``d1 <= ratio · d2``): a face between two look-alikes is not given to either.
4. **Agreement across frames.** More than half of the frames, each on its own, must have the same
   nearest student as their mean.

A face that passes all four is **accepted**. One that fails but is near a student (within
``uncertain_factor`` times that student's threshold, and within the ceiling) is **uncertain**,
with its candidates; anything else is **unknown**. :meth:`RosterModel.decide_room` decides all the
faces of one room at once, giving each student to at most one face (the best overall assignment).

Distances are Euclidean between 128-number dlib encodings, as in face_recognition.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ENCODING_SIZE = 128
#: Nothing farther than this is ever accepted (face_recognition's usual tolerance, the 2019 rule).
DEFAULT_CEILING = 0.6

#: Students sampled to measure a population's separation (all of them when fewer).
SEPARATION_SAMPLE = 500
#: The nearest templates whose distance is computed exactly (the others' may differ by ~1e-5).
EXACT_NEAREST = 8

ACCEPTED = "accepted"
UNCERTAIN = "uncertain"
UNKNOWN = "unknown"
OUTCOMES = (ACCEPTED, UNCERTAIN, UNKNOWN)


@dataclass(frozen=True)
class DecisionRules:
    """The settings of the decision, each default in one place (see the module docstring)."""

    #: Largest distance ever accepted, whatever the calibration says.
    ceiling: float = DEFAULT_CEILING
    #: Weight of the expected same-person squared distance, s²(1/F + 1/K), in t².
    noise_weight: float = 0.2
    #: Weight of the separation Δ² in t², for many frames ...
    separation_weight: float = 0.36
    #: ... plus this much divided by the number of frames (one frame: the sum of both).
    separation_weight_per_frame: float = 0.24
    #: The nearest student's distance must be at most this times the second nearest's.
    ratio: float = 0.9
    #: A face not accepted but within this times the threshold (and the ceiling) is uncertain.
    uncertain_factor: float = 1.25
    #: Candidates an uncertain face carries, nearest first.
    max_candidates: int = 3
    #: Photo variance s² assumed before any student has two photos, and the weight of that prior
    #: in photos (measured on the Korean sample photos with mirrored enrolment encodings: 0.074;
    #: dlib's same-person distances are about the same for Western faces).
    prior_photo_variance: float = 0.075
    prior_photo_weight: float = 4.0
    #: Separation Δ² assumed before two students are enrolled, and its weight in pairs of
    #: students: more compressed than the Korean sample photos (0.13), so that the first
    #: students enrolled get a strict threshold.
    prior_separation: float = 0.09
    prior_separation_weight: float = 2.0

    def __post_init__(self):
        if not 0 < self.ceiling <= 2:
            raise ValueError(f"ceiling must be in (0, 2], not {self.ceiling}")
        if not 0 < self.ratio <= 1:
            raise ValueError(f"ratio must be in (0, 1], not {self.ratio}")
        if self.uncertain_factor < 1:
            raise ValueError(f"uncertain_factor must be >= 1, not {self.uncertain_factor}")


@dataclass(frozen=True)
class Candidate:
    """A student a face may be: distance from the face (its frames' mean) to their template.
    ``name``: filled in by whoever knows the names (the server's gallery)."""

    student_id: str
    distance: float
    name: str | None = None


@dataclass(frozen=True)
class Decision:
    """The decision about one face (one or several frames of it).

    distance: from the frames' mean to the nearest student's template (None: nobody to compare).
    threshold: the calibrated threshold of that student for this many frames.
    candidates: the students it may be (within the uncertain band), nearest first; for an
    accepted face, the accepted student first.
    reason: why it was not accepted ("" when it was), for logs and the evaluation.
    """

    outcome: str
    student_id: str | None
    distance: float | None
    threshold: float | None
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""
    frames: int = 1

    @property
    def accepted(self) -> bool:
        return self.outcome == ACCEPTED


class DifferentPeopleError(ValueError):
    """The frames of one check-in (or enrolment) cannot all be one person."""


@dataclass(frozen=True)
class Calibration:
    """What a roster's thresholds are computed from (shown by the evaluation and in logs)."""

    students: int  # on the roster
    photos: int  # their enrolled encodings
    photo_variance: float  # s², of the population
    separation: float  # Δ², of the population


class Population:
    """Everyone enrolled: the templates, and what every threshold is calibrated from: the
    photo variance s² pooled over all students, and their separation Δ² (see
    :attr:`separation`).

    Δ² is a median over pairs of students, not a mean: one pair of look-alikes (or one person
    under two IDs) does not make everyone's threshold strict, and a minority of faces far from
    the others (a few Western students among Korean ones) does not loosen the majority's.
    Immutable apart from the lazily computed Δ², so thread-safe (two threads may compute it
    twice).
    """

    def __init__(
        self,
        student_ids: Sequence[str],
        templates,
        photo_counts,
        within_squares,
        rules: DecisionRules = DecisionRules(),
    ):
        """
        :param student_ids: one per student, distinct.
        :param templates: (n, 128): each student's mean encoding (float32 is kept as is).
        :param photo_counts: (n,): encodings averaged into each template (>= 1).
        :param within_squares: (n,): sum over each student's encodings of the squared distance to
            their template (0 for a student with one photo).
        """
        self.student_ids = tuple(student_ids)
        array = np.asarray(templates)
        if array.dtype not in (np.float32, np.float64):
            array = array.astype(np.float64)
        self.templates = array.reshape(len(self.student_ids), ENCODING_SIZE)
        self.squared_norms = np.einsum("ij,ij->i", self.templates, self.templates).astype(np.float64)
        self.photo_counts = np.asarray(photo_counts, dtype=np.float64).reshape(len(self.student_ids))
        within = np.asarray(within_squares, dtype=np.float64).reshape(len(self.student_ids))
        if len(set(self.student_ids)) != len(self.student_ids):
            raise ValueError("a student appears twice")
        if (self.photo_counts < 1).any():
            raise ValueError("every student needs at least one encoding")
        self.rules = rules
        degrees = float((self.photo_counts - 1).sum())
        #: s², pooled over everyone (the photo noise is the camera's and the model's, not a
        #: student's), pulled toward the prior.
        self.photo_variance = (float(within.sum()) + rules.prior_photo_weight * rules.prior_photo_variance) / (
            degrees + rules.prior_photo_weight
        )
        self._index = {student_id: i for i, student_id in enumerate(self.student_ids)}
        self._separation: float | None = None  # see separation

    @classmethod
    def from_encodings(
        cls, student_ids: Sequence[str], encodings, rules: DecisionRules = DecisionRules()
    ) -> Population:
        """Build from one row per enrolled photo: ``student_ids[i]`` owns ``encodings[i]``."""
        array = as_encodings(encodings)
        if len(student_ids) != len(array):
            raise ValueError(f"{len(student_ids)} student IDs for {len(array)} encodings")
        ids, owner = np.unique(np.asarray(student_ids, dtype=str), return_inverse=True)
        owner = owner.reshape(-1)
        counts = np.bincount(owner, minlength=len(ids)).astype(np.float64)
        sums = np.zeros((len(ids), ENCODING_SIZE))
        np.add.at(sums, owner, array)
        templates = sums / np.maximum(counts, 1)[:, None]
        residual = array - templates[owner]
        within = np.bincount(owner, weights=np.einsum("ij,ij->i", residual, residual), minlength=len(ids))
        return cls([str(i) for i in ids], templates, counts, within, rules)

    def __len__(self) -> int:
        return len(self.student_ids)

    def index_of(self, student_id: str) -> int | None:
        """The student's row in :attr:`templates` (None: not enrolled)."""
        return self._index.get(student_id)

    def squared_distances(self, probe, rows: np.ndarray | None = None) -> np.ndarray:
        """Squared distance from one encoding to the templates (of ``rows``; None: all), by one
        matrix-vector product (``|t - p|² = |t|² + |p|² - 2 t.p``; float32 templates: about
        1e-5 off)."""
        probe = np.asarray(probe, dtype=np.float64)
        templates = self.templates if rows is None else self.templates[rows]
        norms = self.squared_norms if rows is None else self.squared_norms[rows]
        products = templates @ probe.astype(templates.dtype)
        return np.maximum(norms + float(probe @ probe) - 2 * products, 0.0)

    @property
    def separation(self) -> float:
        """Δ²: the median, over pairs of students, of their templates' squared distance less the
        part the photo noise adds (s²/K_a + s²/K_b); measured on a random sample of at most
        :data:`SEPARATION_SAMPLE` students, pulled toward the rules' prior by
        ``prior_separation_weight`` pseudo-pairs. Computed once, when first needed."""
        if self._separation is None:
            self._separation = self._sample_separation()
        return self._separation

    def _sample_separation(self) -> float:
        rules, n = self.rules, len(self)
        rows = np.arange(n)
        if n > SEPARATION_SAMPLE:
            rows = np.sort(np.random.default_rng(0).choice(n, SEPARATION_SAMPLE, replace=False))
        templates = self.templates[rows].astype(np.float64)
        norms = self.squared_norms[rows]
        squared = norms[:, None] + norms[None, :] - 2 * templates @ templates.T
        upper = np.triu_indices(len(rows), 1)
        squared = np.maximum(squared[upper], 0.0)
        inverse = 1.0 / self.photo_counts[rows]
        observed = np.maximum(squared - self.photo_variance * (inverse[upper[0]] + inverse[upper[1]]), 0.0)
        if len(observed) == 0:
            return rules.prior_separation
        weight = rules.prior_separation_weight
        median = float(np.median(observed))
        return (median * len(observed) + weight * rules.prior_separation) / (len(observed) + weight)


class RosterModel:
    """The students of one roster (a lecture, or everyone) and the thresholds calibrated for
    them from the population they belong to. Immutable apart from the population's cache."""

    def __init__(self, population: Population, members: Sequence[int] | None = None):
        """``members``: the population's rows that are on this roster (None: everyone)."""
        self.population = population
        self.rules = population.rules
        # None: everyone, whose arrays are used as they are (100,000 templates are 51 MB: a
        # copy per request would cost more than the matching).
        self._members = None if members is None else np.asarray(members, dtype=np.intp)
        if self._members is None:
            self.student_ids = population.student_ids
            self.templates, self.photo_counts = population.templates, population.photo_counts
        else:
            self.student_ids = tuple(population.student_ids[i] for i in self._members)
            self.templates = population.templates[self._members]
            self.photo_counts = population.photo_counts[self._members]
        self._index = (
            population._index
            if self._members is None
            else {student_id: i for i, student_id in enumerate(self.student_ids)}
        )
        self._scale = 1.0  # see scaled()

    @classmethod
    def from_encodings(
        cls, student_ids: Sequence[str], encodings, rules: DecisionRules = DecisionRules()
    ) -> RosterModel:
        """Everyone of the population of these rows (``student_ids[i]`` owns ``encodings[i]``)."""
        return cls(Population.from_encodings(student_ids, encodings, rules))

    def __len__(self) -> int:
        return len(self.student_ids)

    def index_of(self, student_id: str) -> int | None:
        """The student's row in :attr:`templates` (None: not on this roster)."""
        return self._index.get(student_id)

    def scaled(self, factor: float) -> RosterModel:
        """The same roster with every calibrated threshold times ``factor`` (still capped at the
        ceiling): the evaluation's trade-off curve."""
        model = copy.copy(self)
        model._scale = self._scale * factor
        return model

    @property
    def calibration(self) -> Calibration:
        """What this roster's thresholds are computed from."""
        population = self.population
        return Calibration(len(self), int(self.photo_counts.sum()), population.photo_variance, population.separation)

    def threshold(self, frames: int, student_id: str) -> float:
        """The largest distance accepted for a probe of ``frames`` frames against this student."""
        return float(self._thresholds(frames, np.array([self._index[student_id]]))[0])

    def _thresholds(self, frames: int, rows: np.ndarray) -> np.ndarray:
        """The thresholds of the roster's students at ``rows`` for a probe of ``frames`` frames."""
        rules, population = self.rules, self.population
        frames = max(1, int(frames))
        squared = (
            rules.noise_weight * population.photo_variance * (1.0 / frames + 1.0 / self.photo_counts[rows])
            + (rules.separation_weight + rules.separation_weight_per_frame / frames) * population.separation
        )
        return np.minimum(self._scale * np.sqrt(np.maximum(squared, 0.0)), rules.ceiling)

    def distances(self, probe) -> np.ndarray:
        """Distance from one encoding (or a frames' mean) to every student's template, (n,):
        one matrix-vector product, then the nearest few, which the decision reads, computed
        again exactly from the difference."""
        probe = np.asarray(probe, dtype=np.float64)
        distances = np.sqrt(self.population.squared_distances(probe, self._members))
        nearest = _nearest(distances, EXACT_NEAREST)
        difference = self.templates[nearest].astype(np.float64) - probe
        distances[nearest] = np.sqrt(np.einsum("ij,ij->i", difference, difference))
        return distances

    def decide(self, frames) -> Decision:
        """Decide one face from its frames' encodings, shape (F, 128) (or (128,) for one)."""
        return self.decide_room([frames])[0]

    def decide_room(self, faces: Sequence) -> list[Decision]:
        """Decide several faces seen together (one room, one photo): each is decided as by
        :meth:`decide`, and each student is accepted for at most one face.

        The acceptable (face, student) pairs (among each face's nearest students: within the
        student's threshold, with the frames agreeing) are assigned so that as many faces as
        possible are accepted, then with the smallest total distance (the Hungarian
        algorithm). An assigned face must still pass the margin against every student not
        given to another face.
        """
        probes = [_frames(face) for face in faces]
        if not probes:
            return []
        if len(self) == 0:
            return [Decision(UNKNOWN, None, None, None, (), "no enrolled student", len(p)) for p in probes]
        distances = np.array([self.distances(p.mean(axis=0)) for p in probes])  # (faces, students)
        # Thresholds only where they can matter: each face's nearest students within the ceiling.
        thresholds = np.full(distances.shape, -1.0)
        for face, probe in enumerate(probes):
            near = _nearest(distances[face], EXACT_NEAREST)
            near = near[distances[face, near] <= self.rules.ceiling]
            thresholds[face, near] = self._thresholds(len(probe), near)
        agreeing = np.array([self._agreement(p) for p in probes])  # (faces, students) bool
        acceptable = (distances <= thresholds) & agreeing
        assigned = _assign(distances, acceptable)  # face -> student index
        # The margin, against the students not taken by another face; dropping a face frees its
        # student, which may make another face's margin fail: repeat until nothing changes.
        while True:
            dropped = [
                face
                for face, student in assigned.items()
                if not self._clear_margin(distances[face], student, set(assigned.values()) - {student})
            ]
            if not dropped:
                break
            for face in dropped:
                del assigned[face]
        return [
            self._decision(probe, distances[i], thresholds[i], agreeing[i], assigned.get(i))
            for i, probe in enumerate(probes)
        ]

    def _agreement(self, frames: np.ndarray) -> np.ndarray:
        """For each student: do more than half of the frames have them as their own nearest?"""
        if len(frames) == 1:
            return np.ones(len(self), dtype=bool)
        nearest = [int(np.argmin(self.population.squared_distances(frame, self._members))) for frame in frames]
        votes = np.bincount(nearest, minlength=len(self))
        return votes * 2 > len(frames)

    def _clear_margin(self, distances: np.ndarray, student: int, taken: set[int]) -> bool:
        others = np.delete(distances, [student, *taken])
        return len(others) == 0 or distances[student] <= self.rules.ratio * float(others.min())

    def _decision(self, probe, distances, thresholds, agreeing, assigned) -> Decision:
        rules = self.rules
        order = _nearest(distances, EXACT_NEAREST)
        order = order[np.argsort(distances[order], kind="stable")]
        band = np.minimum(thresholds * rules.uncertain_factor, rules.ceiling)
        near = [int(i) for i in order if distances[i] <= band[i]][: rules.max_candidates]
        nearest = int(order[0])
        if assigned is not None:
            near = [assigned] + [i for i in near if i != assigned][: rules.max_candidates - 1]
        candidates = tuple(Candidate(self.student_ids[i], round(float(distances[i]), 4)) for i in near)
        subject = nearest if assigned is None else assigned
        threshold = thresholds[subject]
        common: dict[str, Any] = dict(
            distance=round(float(distances[subject]), 4),
            threshold=round(float(threshold), 4) if threshold >= 0 else None,
            candidates=candidates,
            frames=len(probe),
        )
        if assigned is not None:
            return Decision(ACCEPTED, self.student_ids[assigned], **common)
        if distances[nearest] > thresholds[nearest]:
            reason = "farther than the threshold"
        elif not agreeing[nearest]:
            reason = "the frames disagree"
        else:
            reason = "too close to another student"  # margin, or the student went to another face
        outcome = UNCERTAIN if candidates else UNKNOWN
        return Decision(outcome, None, reason=reason, **common)


def load_assignment_solver() -> None:
    """Import SciPy's assignment solver now (about 0.45 s), for example while the server's
    workers start; else the first room (or face) that two students contend for waits for it."""
    from scipy.optimize import linear_sum_assignment  # noqa: F401


def check_one_person(frames, ceiling: float = DEFAULT_CEILING) -> None:
    """Refuse frames that cannot all show one person: a frame farther than the ceiling from the
    mean of the others (the card's own rule says such faces are not the same person). Against
    the others' mean, not each other frame: single frames of one person at different head
    angles are more than 0.6 apart for about 9% of pairs of the sample clip, 1.4% against the
    mean. Most mixes of two Korean faces are nearer than that: the decision's agreement across
    frames is what keeps them from being accepted.

    :raises DifferentPeopleError: naming the frame (1-based).
    """
    array = _frames(frames)
    if len(array) < 2:
        return
    others = (array.sum(axis=0) - array) / (len(array) - 1)  # the mean of the other frames, per frame
    distances = np.sqrt(np.einsum("ij,ij->i", array - others, array - others))
    odd = int(np.argmax(distances))
    if distances[odd] > ceiling:
        raise DifferentPeopleError(
            f"frame {odd + 1} shows another person than the other frames "
            f"(distance {distances[odd]:.2f} to their mean > {ceiling:g})"
        )


def as_encodings(values) -> np.ndarray:
    """values as a float64 array of shape (n, 128), checked."""
    array = np.asarray(values, dtype=np.float64) if len(values) else np.empty((0, ENCODING_SIZE))
    if array.ndim != 2 or array.shape[1] != ENCODING_SIZE:
        raise ValueError(f"encodings must have shape (n, {ENCODING_SIZE}), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("encodings contain NaN or infinite values")
    return array


def _frames(face) -> np.ndarray:
    array = np.asarray(face, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :]
    array = as_encodings(array)
    if len(array) == 0:
        raise ValueError("a face needs at least one frame's encoding")
    return array


def _nearest(distances: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` smallest distances (all when there are fewer), in no order."""
    if len(distances) <= count:
        return np.arange(len(distances))
    return np.argpartition(distances, count - 1)[:count]


def _assign(distances: np.ndarray, acceptable: np.ndarray) -> dict[int, int]:
    """face -> student for the most acceptable pairs, then the smallest total distance."""
    if not acceptable.any():
        return {}
    if (acceptable.sum(axis=0) <= 1).all() and (acceptable.sum(axis=1) <= 1).all():
        # No face and no student with two choices (one face, or no contention): nothing to assign.
        faces, students = np.nonzero(acceptable)
        return {int(face): int(student) for face, student in zip(faces, students)}
    from scipy.optimize import linear_sum_assignment  # imported here: only contended rooms need it

    faces = np.flatnonzero(acceptable.any(axis=1))
    students = np.flatnonzero(acceptable.any(axis=0))
    sub_distances = distances[np.ix_(faces, students)]
    sub_acceptable = acceptable[np.ix_(faces, students)]
    # A refused pair costs more than every acceptable pair together: fewer refused pairs first.
    refused_cost = 1.0 + float(sub_distances[sub_acceptable].sum())
    cost = np.where(sub_acceptable, sub_distances, refused_cost)
    rows, cols = linear_sum_assignment(cost)
    return {int(faces[r]): int(students[c]) for r, c in zip(rows, cols) if sub_acceptable[r, c]}
