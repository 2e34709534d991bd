"""Matching face encodings against the enrolled students (pure numpy, no I/O).

A :class:`Gallery` holds every enrolled encoding (several per student are allowed) as float32:
100,000 encodings take 51 MB (about 75 MB with the ID and name tables). Matching one face is one
pass over the gallery (or over the lecture's roster): a product with the precomputed squared
norms (``|f - e|^2 = |f|^2 + |e|^2 - 2 f.e``) ranks every encoding; only the few rows that can be
within the threshold, and the nearest one, then get their distance computed from the difference.
With 100,000 encodings that takes about 2-4 ms, bound by reading the 51 MB (bench/gallery.py).

Distances are Euclidean, as in face_recognition: two encodings of the same person are usually
below 0.6 apart. A face matches a student when the distance to the nearest of that student's
encodings is <= the threshold (``<=``, like face_recognition.compare_faces). The distances given
equal face_recognition.face_distance on the float32-rounded encodings to about 1e-7.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from server.recognition.decision import DEFAULT_CEILING, DecisionRules, Population, RosterModel

#: Largest distance that still counts as the same person (face_recognition's usual tolerance):
#: the ceiling of the decision rules.
DEFAULT_THRESHOLD = DEFAULT_CEILING

ENCODING_SIZE = 128


@dataclass(frozen=True)
class Match:
    """The student given to one face, or None (unknown face).

    distance: to the matched student; for an unknown face, to the nearest allowed student (which
    may be within the threshold when that student went to a closer face), or None when the face
    was compared with nobody (empty gallery, or no allowed student enrolled).
    """

    student_id: str | None
    distance: float | None


class Gallery:
    """The encodings of the enrolled students, ready to match. Immutable, so thread-safe."""

    def __init__(
        self,
        student_ids: Sequence[str],
        encodings,
        names: Mapping[str, str] | None = None,
    ):
        """
        :param student_ids: the student of each encoding (one per row; repeats allowed).
        :param encodings: array-like of shape (n, 128), one row per entry of ``student_ids``.
        :param names: student ID -> name, for :meth:`name_of` (optional).
        """
        array = _as_encodings(encodings, "encodings")
        if len(student_ids) != len(array):
            raise ValueError(f"{len(student_ids)} student IDs for {len(array)} encodings")
        ids, owner = np.unique(np.asarray(student_ids, dtype=str), return_inverse=True)
        owner = owner.reshape(-1).astype(np.int32)  # (n,) student index of each row
        if len(owner) > 1 and (owner[1:] < owner[:-1]).any():
            # Group the rows by student (stable: a student's rows keep their order).
            order = np.argsort(owner, kind="stable")
            owner, array = owner[order], array[order]
        elif isinstance(encodings, np.ndarray) and np.may_share_memory(array, encodings):
            array = array.copy()  # the caller's own float32 array: keep a copy of our own
        self._ids: tuple[str, ...] = tuple(str(i) for i in ids)
        self._index = {student_id: i for i, student_id in enumerate(self._ids)}
        self._owner = owner
        self._encodings = np.ascontiguousarray(array)  # (n, 128) float32
        # |e|^2 / 2 of each row, for the distance |f - e|^2 = |f|^2 - 2 (f.e - |e|^2 / 2).
        self._half_squared_norms = 0.5 * np.einsum("ij,ij->i", self._encodings, self._encodings)
        self._max_squared_norm = float(2 * self._half_squared_norms.max()) if len(owner) else 0.0
        # The rows of student i: _starts[i] to _starts[i] + _counts[i] (rows are grouped by student).
        self._starts = np.searchsorted(owner, np.arange(len(self._ids), dtype=np.int32)).astype(np.int32)
        self._counts = np.diff(np.append(self._starts, len(owner))).astype(np.int32)
        # Per student, for the decision rules (server.recognition.decision): the template (mean
        # encoding; the encodings themselves when every student has one, so no extra memory) and
        # the sum of squared distances of their encodings to it.
        if len(owner) == len(self._ids):
            self._templates = self._encodings
            self._within_squares = np.zeros(len(self._ids))
        else:
            sums = np.zeros((len(self._ids), ENCODING_SIZE))
            np.add.at(sums, owner, self._encodings)
            self._templates = (sums / np.maximum(self._counts, 1)[:, None]).astype(np.float32)
            residual = self._encodings - self._templates[owner]
            self._within_squares = np.bincount(  # type: ignore[assignment]  # float64: it has weights
                owner, weights=np.einsum("ij,ij->i", residual, residual).astype(np.float64), minlength=len(self._ids)
            )
        for array_ in (
            self._owner,
            self._encodings,
            self._half_squared_norms,
            self._starts,
            self._counts,
            self._templates,
            self._within_squares,
        ):
            array_.flags.writeable = False
        self._names = dict(names or {})
        self._populations: dict[DecisionRules, Population] = {}  # see roster_model()

    @classmethod
    def empty(cls) -> Gallery:
        return cls([], np.empty((0, ENCODING_SIZE)))

    def __len__(self) -> int:
        """Number of encodings (a student may have several)."""
        return len(self._encodings)

    @property
    def student_ids(self) -> tuple[str, ...]:
        """The distinct students that have at least one encoding, sorted."""
        return self._ids

    def encodings_of(self, student_id: str) -> np.ndarray:
        """The student's encodings, shape (k, 128) float32 (k = 0 when not enrolled)."""
        i = self._index.get(student_id)
        if i is None:
            return np.empty((0, ENCODING_SIZE), dtype=np.float32)
        return self._encodings[self._starts[i] : self._starts[i] + self._counts[i]]

    def name_of(self, student_id: str) -> str | None:
        """The student's name, or None when the gallery was not given one."""
        return self._names.get(student_id)

    def roster_model(
        self, allowed: Collection[str] | None = None, *, rules: DecisionRules = DecisionRules()
    ) -> RosterModel:
        """The decision model of these students (a lecture's roster; None: everyone enrolled).
        Thresholds are calibrated on everyone enrolled (:class:`Population`, built once per rules:
        the gallery never changes); students without an encoding are left out."""
        population = self._populations.get(rules)
        if population is None:
            population = self._populations[rules] = Population(
                self._ids, self._templates, self._counts, self._within_squares, rules
            )
        if allowed is None:
            return RosterModel(population)
        members = sorted({self._index[s] for s in allowed if s in self._index})
        return RosterModel(population, members)

    def match(
        self,
        face_encodings,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        allowed: Collection[str] | None = None,
    ) -> list[Match]:
        """Give each face its student, or None.

        :param face_encodings: array-like of shape (m, 128): the faces of one image.
        :param threshold: largest distance that still matches (inclusive).
        :param allowed: when given, only these students are candidates (a lecture's roster);
            IDs not in the gallery are ignored.
        :return: one :class:`Match` per face, in order. Each student is given to at most one face:
            (face, student) pairs within the threshold are taken by ascending distance, so a face
            whose nearest student went to a closer face gets its next-nearest student within the
            threshold, or none. Equal distances go to the earlier face, then the lower student ID.
        """
        faces = _as_encodings(face_encodings, "face_encodings")
        encodings, half_squared_norms, owner = self._candidates(allowed)
        if len(owner) == 0:
            return [Match(None, None) for _ in range(len(faces))]
        if len(faces) == 0:
            return []
        # One matrix product over the candidates; then only the rows that can be within the
        # threshold (usually none or a few) get their distance computed exactly.
        # score = f.e - |e|^2 / 2 = (|f|^2 - |f - e|^2) / 2: the higher, the nearer.
        if len(faces) == 1:
            # One face (the usual recognize): one single-threaded pass over the gallery, as fast
            # as BLAS's multi-threaded product here (both are limited by reading the matrix),
            # and it never waits for a second thread on a core the workers are keeping busy.
            scores = np.einsum("ij,j->i", encodings, faces[0])[None, :]  # (1, n) float32
        else:
            scores = faces @ encodings.T  # (m, n) float32: one BLAS product reads the matrix once
        scores -= half_squared_norms
        nearest_rows = scores.argmax(axis=1)  # (m,)
        # The product rounds each score by a few float32 units of |f|^2 + |e|^2: rows up to that
        # much beyond the threshold are candidates too, and their exact distance decides.
        face_squared_norms = np.einsum("ij,ij->i", faces, faces)
        slack = 1e-4 * (1.0 + face_squared_norms + self._max_squared_norm)
        floors = 0.5 * (face_squared_norms - np.float32(threshold) ** 2 - slack)  # (m,)
        pair_faces, pair_rows = np.nonzero(scores >= floors[:, None].astype(np.float32))
        nearest = _distances(faces, encodings, np.arange(len(faces)), nearest_rows)
        matches = [Match(None, float(d)) for d in nearest]
        distances = _distances(faces, encodings, pair_faces, pair_rows)
        within = distances <= np.float32(threshold)
        pairs = _assign_greedily(pair_faces[within], owner[pair_rows[within]], distances[within])
        for face, student, distance in pairs:
            matches[face] = Match(self._ids[student], distance)
        return matches

    def _candidates(self, allowed: Collection[str] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(encodings, half squared norms, owner) of the rows of the allowed students (all: None)."""
        if allowed is None:
            return self._encodings, self._half_squared_norms, self._owner
        students = np.array(sorted({self._index[s] for s in allowed if s in self._index}), dtype=np.intp)
        starts, counts = self._starts[students], self._counts[students]
        if (counts == 1).all():
            rows = starts
        else:  # each student's run of rows: start, start + 1, ..., start + count - 1
            rows = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        return self._encodings[rows], self._half_squared_norms[rows], self._owner[rows]


def _distances(faces: np.ndarray, encodings: np.ndarray, face_index: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """|faces[face_index[i]] - encodings[rows[i]]| for each i, from the difference (so as exact as
    face_recognition.face_distance on these float32 values), as float32."""
    if len(rows) == 0:
        return np.empty(0, dtype=np.float32)
    difference = encodings[rows].astype(np.float64) - faces[face_index]
    return np.sqrt(np.einsum("ij,ij->i", difference, difference)).astype(np.float32)


def _assign_greedily(faces: np.ndarray, students: np.ndarray, distances: np.ndarray) -> list[tuple[int, int, float]]:
    """(face, student, distance) of the pairs taken closest first, each face and student used once.

    The same (face, student) may come several times (one per row of the student): after its
    nearest row, the others are skipped, as the face or the student is taken by then.
    """
    order = np.lexsort((students, faces, distances))  # by distance, then face, then student
    taken_faces, taken_students, pairs = set(), set(), []
    for face, student, distance in zip(faces[order].tolist(), students[order].tolist(), distances[order].tolist()):
        if face not in taken_faces and student not in taken_students:
            taken_faces.add(face)
            taken_students.add(student)
            pairs.append((face, student, distance))
    return pairs


def _as_encodings(values, what: str) -> np.ndarray:
    """values as a float32 array of shape (n, 128), checked."""
    array = np.asarray(values, dtype=np.float32) if len(values) else np.empty((0, ENCODING_SIZE), np.float32)
    if array.ndim != 2 or array.shape[1] != ENCODING_SIZE:
        raise ValueError(f"{what} must have shape (n, {ENCODING_SIZE}), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or infinite values")
    return array
