"""Lectures simulated on photos of known people, to measure the decision rules (pure, no I/O).

One *split*: the people are shuffled; the first half are enrolled with K photos each (chosen at
random), the others are strangers who walk in. Every remaining photo of an enrolled student, and
every photo of a stranger, is used in check-ins of F photos (consecutive, non-overlapping). Each
check-in is decided by :class:`server.recognition.decision.RosterModel` (the server's rules), and
beside it by the *plain rule* of the 2019 system: the first photo of the check-in alone, given to
the enrolled student with the nearest single encoding when that is within 0.6. A check-in of one
photo is what a 2019 client (or ``recognize``) sends; of several, the frames of the ``checkin``
op.

Counted per (K, F), over all splits: for enrolled students' check-ins right / wrong student /
uncertain / unknown; for strangers' check-ins accepted (as anyone) / uncertain / unknown. A
check-in whose photos are refused as different people (two of them farther apart than the
ceiling, as photos of one person taken years apart may be) counts as unknown.

``attendance-eval`` (server/eval_cli.py) encodes a folder of photos and prints these tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from server.recognition.decision import (
    ACCEPTED,
    DEFAULT_CEILING,
    UNCERTAIN,
    UNKNOWN,
    Decision,
    DecisionRules,
    DifferentPeopleError,
    RosterModel,
    check_one_person,
)
from server.recognition.gallery import Gallery

#: The (K, F) pairs simulated by default: enrolment photos per student, photos per check-in.
DEFAULT_ENROLLED_PHOTOS = (1, 3, 5)
DEFAULT_CHECKIN_FRAMES = (1, 3)
DEFAULT_SPLITS = 100
#: Splits the trade-off curve (``sweep``) is measured on.
SWEEP_SPLITS = 20


@dataclass
class Tally:
    """Counts of one rule for one (K, F)."""

    right: int = 0
    wrong: int = 0
    uncertain: int = 0
    unknown: int = 0
    strangers: int = 0
    strangers_accepted: int = 0
    strangers_uncertain: int = 0

    @property
    def checkins(self) -> int:
        return self.right + self.wrong + self.uncertain + self.unknown

    def add_student(self, outcome: str, right: bool) -> None:
        if outcome == ACCEPTED:
            if right:
                self.right += 1
            else:
                self.wrong += 1
        elif outcome == UNCERTAIN:
            self.uncertain += 1
        else:
            self.unknown += 1

    def add_stranger(self, outcome: str) -> None:
        self.strangers += 1
        self.strangers_accepted += outcome == ACCEPTED
        self.strangers_uncertain += outcome == UNCERTAIN

    def rate(self, name: str) -> float:
        """A count as a fraction of its check-ins (students' or strangers'), 0 when none."""
        value = getattr(self, name)
        total = self.strangers if name.startswith("strangers_") else self.checkins
        return value / total if total else 0.0


@dataclass
class Result:
    """The tallies of one (K, F): ``rules`` (ours) and ``plain`` (one photo at 0.6)."""

    enrolled_photos: int
    checkin_frames: int
    rules: Tally = field(default_factory=Tally)
    plain: Tally = field(default_factory=Tally)
    #: (factor, strangers accepted rate, right rate) of ours for each scale of the thresholds.
    tradeoff: list[tuple[float, float, float]] = field(default_factory=list)


def simulate(
    persons: Sequence[str],
    photo_encodings,
    *,
    frame_encodings=None,
    enrolment_encodings=None,
    enrolled_photos: Iterable[int] = DEFAULT_ENROLLED_PHOTOS,
    checkin_frames: Iterable[int] = DEFAULT_CHECKIN_FRAMES,
    splits: int = DEFAULT_SPLITS,
    seed: int = 0,
    rules: DecisionRules = DecisionRules(),
    sweep: Sequence[float] = (),
) -> list[Result]:
    """Simulate lectures (see the module docstring); one :class:`Result` per (K, F).

    Each photo is given encoded the ways the server encodes it (:class:`server.recognition.pool.PhotoViews`):

    :param persons: the person of each photo (any labels; at least 2 distinct).
    :param photo_encodings: (n, 128), as ``recognize`` and 2019 clients' photos are encoded: the
        check-ins of one photo (F = 1), and the plain rule's gallery and probes.
    :param frame_encodings: (n, 128), as ``checkin`` encodes a frame: check-ins of F >= 2
        photos (default: ``photo_encodings``).
    :param enrolment_encodings: (n, 128), as enrolment stores a photo (mirrored): the rules'
        gallery (default: ``photo_encodings``).
    :param sweep: factors applied to every calibrated threshold for the trade-off curve, on the
        first :data:`SWEEP_SPLITS` splits (each factor costs one more pass over them).
    """
    labels = np.asarray(persons, dtype=str)
    photo_array = np.asarray(photo_encodings, dtype=np.float64)
    frame_array = photo_array if frame_encodings is None else np.asarray(frame_encodings, dtype=np.float64)
    enrolled_array = photo_array if enrolment_encodings is None else np.asarray(enrolment_encodings, dtype=np.float64)
    if len(set(labels.tolist())) < 2:
        raise ValueError("the evaluation needs photos of at least 2 people")
    results = []
    for k in enrolled_photos:
        for f in checkin_frames:
            result = Result(k, f)
            curve = {factor: [0, 0, 0, 0] for factor in sweep}  # right, check-ins, accepted, strangers
            checkin_array = photo_array if f == 1 else frame_array
            for number, lecture in enumerate(lectures(labels, k, f, splits=splits, seed=seed)):
                student_of = student_ids(lecture)
                rows = [(student_of[p], i) for p, photos in lecture.enrollment.items() for i in photos]
                owners, enrolled = [sid for sid, _ in rows], [i for _, i in rows]
                model = Gallery(owners, enrolled_array[enrolled]).roster_model(rules=rules)
                plain_gallery = Gallery(owners, photo_array[enrolled])  # the 2019 server's encodings
                for person, photos in lecture.checkins:
                    frames = checkin_array[photos]
                    own = student_of.get(person)
                    decision = decide_checkin(model, frames, rules)
                    plain = _plain(plain_gallery, photo_array[photos[0]])
                    if own is None:
                        result.rules.add_stranger(decision.outcome)
                        result.plain.add_stranger(ACCEPTED if plain else UNKNOWN)
                    else:
                        result.rules.add_student(decision.outcome, decision.student_id == own)
                        result.plain.add_student(ACCEPTED if plain else UNKNOWN, plain == own)
                    for factor in sweep if number < SWEEP_SPLITS else ():
                        scaled = decide_checkin(model, frames, rules, factor)
                        counts = curve[factor]
                        if own is None:
                            counts[2] += scaled.accepted
                            counts[3] += 1
                        else:
                            counts[0] += scaled.accepted and scaled.student_id == own
                            counts[1] += 1
            result.tradeoff = [
                (factor, counts[2] / max(counts[3], 1), counts[0] / max(counts[1], 1))
                for factor, counts in sorted(curve.items())
            ]
            results.append(result)
    return results


@dataclass(frozen=True)
class Lecture:
    """One split: who is enrolled (with which photos) and the check-ins of everyone."""

    enrolled: list[str]  # people, in the order of their made-up student IDs
    enrollment: dict[str, np.ndarray]  # person -> photo indices
    checkins: list[tuple[str, np.ndarray]]  # (person, photo indices)


def lectures(persons: Sequence[str] | np.ndarray, k: int, f: int, *, splits: int, seed: int) -> Iterator[Lecture]:
    """The ``splits`` lectures :func:`simulate` runs for (K, F), the same for the same seed
    (whatever F: the enrolled people and photos depend on K and the seed only)."""
    labels = np.asarray(persons, dtype=str)
    people = sorted(set(labels.tolist()))
    photos_of = {person: np.flatnonzero(labels == person) for person in people}
    rng = np.random.default_rng(seed)
    for _ in range(splits):
        order = [people[i] for i in rng.permutation(len(people))]
        enrolled, strangers = order[: len(order) // 2], order[len(order) // 2 :]
        enrollment, checkins = {}, []
        for person in enrolled:
            photos = rng.permutation(photos_of[person])
            enrollment[person] = photos[:k]
            checkins.extend(_chunks(person, photos[k:], f))
        for person in strangers:
            checkins.extend(_chunks(person, rng.permutation(photos_of[person]), f))
        yield Lecture(enrolled, enrollment, checkins)


def student_ids(lecture: Lecture) -> dict[str, str]:
    """person -> the made-up 9-digit student ID of an enrolled person."""
    return {person: f"2{i:08d}" for i, person in enumerate(lecture.enrolled)}


def _chunks(person: str, photos: np.ndarray, f: int) -> list[tuple[str, np.ndarray]]:
    return [(person, photos[i : i + f]) for i in range(0, len(photos) - f + 1, f)]


def decide_checkin(model: RosterModel, frames: np.ndarray, rules: DecisionRules, factor: float = 1.0) -> Decision:
    """The server's decision about a check-in's frames (refused as different people: unknown,
    with that reason). ``factor`` scales the thresholds (the trade-off curve)."""
    try:
        check_one_person(frames, rules.ceiling)
    except DifferentPeopleError:
        return Decision(UNKNOWN, None, None, None, reason="different people", frames=len(frames))
    if factor != 1.0:
        model = model.scaled(factor)
    return model.decide(frames)


def _plain(gallery: Gallery, encoding: np.ndarray) -> str | None:
    """The 2019 rule: the student of the nearest single encoding, if within 0.6."""
    match = gallery.match([encoding], threshold=DEFAULT_CEILING)[0]
    return match.student_id
