"""Checks on new enrolment photos before they are stored (pure numpy, no I/O).

A wrong enrolment photo poisons every later decision about two students, so each new photo is
compared with the student's other photos and with everyone else enrolled:

- ``unlike_student``: the photo is far from the mean of the student's other photos (enrolled
  before, or sent with it): farther than ``sqrt(unlike_factor · s² (1 + 1/n))`` (n other photos,
  s² the photo variance of :mod:`server.recognition.decision`), or than the ceiling. On the
  Korean sample photos (web photos of several years, more varied than one enrolment session)
  this refuses 0.2% of a person's own photos and catches 44% of photos of someone else slipped
  into a set of four (a factor of 2 would refuse 1.8% and catch 74%: too strict for the
  turned-head photos an enrolment asks for).
- ``like_other_student``: the photo is as close to another student as the decision rule accepts
  for one frame (within that student's threshold): a look-alike, or one person under two IDs.

Both can be overridden (``force``) by staff who checked the person. Photos with no face or
several faces are refused before these checks (server.service).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from server.recognition.decision import RosterModel, as_encodings
from server.recognition.gallery import Gallery

UNLIKE_STUDENT = "unlike_student"
LIKE_OTHER_STUDENT = "like_other_student"

#: See the module docstring (the photo-variance multiple of the "unlike the student" bound).
DEFAULT_UNLIKE_FACTOR = 2.5


@dataclass(frozen=True)
class PhotoVerdict:
    """problem None: the photo is fine. other_student and distance: see EnrolledPhoto."""

    problem: str | None
    other_student: str | None = None
    distance: float | None = None


def check_new_photos(
    gallery: Gallery,
    student_id: str,
    encodings,
    *,
    unlike_factor: float = DEFAULT_UNLIKE_FACTOR,
) -> list[PhotoVerdict]:
    """One verdict per new photo of ``student_id`` (encodings of shape (n, 128), as stored).

    The student's photos already in ``gallery`` count as their other photos; everyone else in
    the gallery is a possible look-alike.
    """
    new = as_encodings(encodings)
    everyone = gallery.roster_model()
    own = gallery.encodings_of(student_id).astype(np.float64)
    return [
        _verdict(everyone, student_id, encoding, np.concatenate([own, np.delete(new, index, axis=0)]), unlike_factor)
        for index, encoding in enumerate(new)
    ]


#: knowns_conflicts() compares at most this many (photo, student) pairs (about a second of work).
MAX_STARTUP_COMPARISONS = 50_000_000


def knowns_conflicts(gallery: Gallery, photos: Sequence[tuple[str, str, np.ndarray]]) -> list[tuple[str, PhotoVerdict]]:
    """(photo path, verdict) for each (photo path, student ID, encoding) of knowns/ that a new
    enrolment would refuse: listed at the server's start-up (when there are not more than
    :data:`MAX_STARTUP_COMPARISONS` photo-student pairs to compare). The photo itself, which is
    in the gallery, is left out of its student's other photos."""
    everyone = gallery.roster_model()
    problems = []
    for path, student_id, encoding in photos:
        own = gallery.encodings_of(student_id).astype(np.float64)
        itself = np.flatnonzero(np.linalg.norm(own - encoding, axis=1) < 1e-4)[:1]
        verdict = _verdict(everyone, student_id, encoding, np.delete(own, itself, axis=0), DEFAULT_UNLIKE_FACTOR)
        if verdict.problem is not None:
            problems.append((path, verdict))
    return problems


def _verdict(everyone: RosterModel, student_id: str, encoding, siblings: np.ndarray, factor: float) -> PhotoVerdict:
    """The first problem of one photo (like another student, then unlike its siblings), or none.
    A photo that is both is reported as like the other student: the more useful message."""
    distances = everyone.distances(encoding)
    own = everyone.index_of(student_id)
    if own is not None:
        distances[own] = np.inf
    if np.isfinite(distances).any():
        nearest = int(np.argmin(distances))
        other = everyone.student_ids[nearest]
        if distances[nearest] <= everyone.threshold(1, other):
            return PhotoVerdict(LIKE_OTHER_STUDENT, other, round(float(distances[nearest]), 4))
    if len(siblings):
        distance = float(np.linalg.norm(encoding - siblings.mean(axis=0)))
        variance = everyone.population.photo_variance
        bound = min(everyone.rules.ceiling, float(np.sqrt(factor * variance * (1 + 1 / len(siblings)))))
        if distance > bound:
            return PhotoVerdict(UNLIKE_STUDENT, None, round(distance, 4))
    return PhotoVerdict(None)
