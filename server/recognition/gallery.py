"""Matching face encodings against the enrolled students (pure numpy, no I/O).

A :class:`Gallery` holds every enrolled encoding (several per student are allowed) as float32:
100,000 encodings take 51 MB. Matching one face is one matrix product over the gallery (or over
the lecture's roster), with no Python loop over the encodings.

Distances are Euclidean, as in face_recognition: two encodings of the same person are usually
below 0.6 apart. A face matches a student when the distance to the nearest of that student's
encodings is <= the threshold (``<=``, like face_recognition.compare_faces); computed in float32,
the distance is exact to about 1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Mapping, Sequence

import numpy as np

#: Largest distance that still counts as the same person (face_recognition's usual tolerance).
DEFAULT_THRESHOLD = 0.6

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
        encodings = _as_encodings(encodings, "encodings")
        if len(student_ids) != len(encodings):
            raise ValueError(f"{len(student_ids)} student IDs for {len(encodings)} encodings")
        ids, owner = np.unique(np.asarray(student_ids, dtype=str), return_inverse=True)
        order = np.argsort(owner, kind="stable")  # rows grouped by student, for the per-student minimum
        self._ids: tuple[str, ...] = tuple(str(i) for i in ids)
        self._index = {student_id: i for i, student_id in enumerate(self._ids)}
        self._owner = owner[order].astype(np.int32)  # (n,) student index of each row
        self._encodings = np.ascontiguousarray(encodings[order])  # (n, 128) float32
        self._squared_norms = np.einsum("ij,ij->i", self._encodings, self._encodings)  # (n,)
        self._names = dict(names or {})

    @classmethod
    def empty(cls) -> "Gallery":
        return cls([], np.empty((0, ENCODING_SIZE)))

    def __len__(self) -> int:
        """Number of encodings (a student may have several)."""
        return len(self._encodings)

    @property
    def student_ids(self) -> tuple[str, ...]:
        """The distinct students that have at least one encoding, sorted."""
        return self._ids

    def name_of(self, student_id: str) -> str | None:
        """The student's name, or None when the gallery was not given one."""
        return self._names.get(student_id)

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
        distances, columns = self._student_distances(faces, allowed)  # (m, k), (k,)
        if distances.shape[1] == 0:
            return [Match(None, None) for _ in range(len(faces))]
        nearest = distances.min(axis=1)
        matches = [Match(None, float(d)) for d in nearest]
        for face, column in _assign_greedily(distances, threshold):
            student_id = self._ids[columns[column]]
            matches[face] = Match(student_id, float(distances[face, column]))
        return matches

    def _student_distances(self, faces: np.ndarray, allowed: Collection[str] | None):
        """Distance from each face to each candidate student (minimum over the student's rows).

        :return: (distances of shape (m, k), student index of each of the k columns).
        """
        if allowed is None:
            rows = slice(None)
        else:
            wanted = np.zeros(len(self._ids), dtype=bool)
            wanted[[self._index[s] for s in allowed if s in self._index]] = True
            rows = np.flatnonzero(wanted[self._owner])
        encodings, squared_norms, owner = self._encodings[rows], self._squared_norms[rows], self._owner[rows]
        if len(owner) == 0 or len(faces) == 0:
            return np.empty((len(faces), 0), dtype=np.float32), np.empty(0, dtype=np.int32)
        # |a - b|^2 = |a|^2 + |b|^2 - 2 a.b: one matrix product instead of an (m, n, 128) difference.
        squared = faces @ encodings.T  # (m, n)
        squared *= -2.0
        squared += squared_norms[None, :]
        squared += np.einsum("ij,ij->i", faces, faces)[:, None]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])  # first row of each student
        nearest_squared = np.minimum.reduceat(squared, starts, axis=1)  # (m, k)
        return np.sqrt(np.maximum(nearest_squared, 0.0)), owner[starts]


def _assign_greedily(distances: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(face, column) pairs within the threshold, closest first, each face and column used once."""
    faces, columns = np.nonzero(distances <= np.float32(threshold))
    order = np.lexsort((columns, faces, distances[faces, columns]))  # by distance, then face, column
    taken_faces, taken_columns, pairs = set(), set(), []
    for face, column in zip(faces[order].tolist(), columns[order].tolist()):
        if face not in taken_faces and column not in taken_columns:
            taken_faces.add(face)
            taken_columns.add(column)
            pairs.append((face, column))
    return pairs


def _as_encodings(values, what: str) -> np.ndarray:
    """values as a float32 array of shape (n, 128), checked."""
    array = np.asarray(values, dtype=np.float32) if len(values) else np.empty((0, ENCODING_SIZE), np.float32)
    if array.ndim != 2 or array.shape[1] != ENCODING_SIZE:
        raise ValueError(f"{what} must have shape (n, {ENCODING_SIZE}), got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contains NaN or infinite values")
    return array
