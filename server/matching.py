"""Recognize and match: faces in images, decided against a lecture's students.

One :class:`FaceMatcher` holds the recognition worker pool, the gallery in use and the decision
rules; the attendance service (recognize, check-in, enrolment) and the camera (detect, identify,
identify_room) share it, so both ask the workers and decide faces the same way. The pool's
exceptions come out as :class:`server.errors.ServiceError` (:func:`server.errors.recognition_errors`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from server.errors import recognition_errors
from server.recognition.decision import Candidate, Decision, DecisionRules
from server.recognition.faces import Box
from server.recognition.gallery import Gallery
from server.recognition.pool import DetectedFace, LivenessFrame, PhotoEncoding, RecognitionPool
from server.recognition.whole_room import DEFAULT_MIN_FACE


@dataclass(frozen=True)
class FaceResult:
    """One face found in an image. box: (top, right, bottom, left) in pixels of the image sent.

    student_id/name: only for an accepted face. decision: accepted, uncertain or unknown;
    candidates: the students an uncertain face may be (the accepted one first when accepted).
    """

    box: tuple[int, int, int, int]
    student_id: str | None
    name: str | None
    distance: float | None
    decision: str = "unknown"
    candidates: tuple[Candidate, ...] = ()


class FaceMatcher:
    """Thread-safe: the pool is, and the gallery is replaced whole, never changed."""

    def __init__(self, pool: RecognitionPool, rules: DecisionRules = DecisionRules()):
        """``rules``: how faces are decided (server/recognition/decision.py; ``--threshold`` is
        their ceiling)."""
        self.pool = pool
        self.rules = rules
        self._gallery = Gallery.empty()

    @property
    def gallery(self) -> Gallery:
        return self._gallery

    def use_gallery(self, gallery: Gallery) -> None:
        self._gallery = gallery  # one assignment: requests see the old gallery or the new one

    # -- the workers' part -----------------------------------------------------------------------

    def find_faces(self, image: bytes) -> list[DetectedFace]:
        """Every face of the image, with its encoding."""
        with recognition_errors():
            return self.pool.analyze(image)

    def encode_boxes(self, image: bytes, boxes: Sequence[Box]) -> np.ndarray:
        """The encoding of the face at each box, shape (len(boxes), 128)."""
        with recognition_errors():
            return self.pool.encode_boxes(image, boxes)

    def encode_frames(self, images: Sequence[bytes]) -> list[PhotoEncoding]:
        """The largest face of each check-in frame."""
        with recognition_errors():
            return self.pool.encode_frames(images)

    def prepare_liveness(self) -> None:
        """Load the liveness model in the workers now, in the background (a challenge opened)."""
        self.pool.prepare_liveness()

    def analyze_liveness_frames(self, images: Sequence[bytes], encode: Sequence[bool]) -> list[LivenessFrame]:
        """The largest face of each liveness challenge frame, measured, and encoded where ``encode`` says."""
        with recognition_errors():
            return self.pool.analyze_liveness_frames(images, encode)

    def encode_enrolment(
        self, images: Sequence[bytes], progress: Callable[[int], None] | None = None
    ) -> list[PhotoEncoding]:
        with recognition_errors():
            return self.pool.encode_enrolment(images, progress=progress)

    def detect_whole_room(self, image: bytes, min_face: int = DEFAULT_MIN_FACE) -> list[Box]:
        """Every face box of a classroom picture down to ``min_face`` pixels wide, no encoding."""
        with recognition_errors():
            return self.pool.detect_whole_room(image, min_face)

    # -- deciding ----------------------------------------------------------------------------

    def match(self, boxes: Sequence[Box], encodings: Sequence, allowed: set[str] | None) -> list[FaceResult]:
        """Decide the faces of one image all at once: the face at ``boxes[i]`` from
        ``encodings[i]`` (one, shape (128,), or several frames of it, (f, 128)), against the
        students in ``allowed`` (None: everyone enrolled); each student is accepted for at most
        one face."""
        gallery = self._gallery
        decisions = gallery.roster_model(allowed, rules=self.rules).decide_room(list(encodings))
        return [_face_result(gallery, box, decision) for box, decision in zip(boxes, decisions)]

    def decide_person(
        self, frames: np.ndarray, allowed: set[str] | None
    ) -> tuple[Decision, str | None, tuple[Candidate, ...]]:
        """Who the one person of these frames (shape (f, 128)) is: the decision, the accepted
        student's name (else None) and the candidates with their names."""
        gallery = self._gallery
        decision = gallery.roster_model(allowed, rules=self.rules).decide(frames)
        return decision, _accepted_name(gallery, decision), tuple(_named(gallery, c) for c in decision.candidates)


def _accepted_name(gallery: Gallery, decision: Decision) -> str | None:
    """The accepted student's name; None for a face not accepted."""
    if not decision.accepted:
        return None
    assert decision.student_id is not None  # an accepted decision names its student
    return gallery.name_of(decision.student_id)


def _face_result(gallery: Gallery, box, decision: Decision) -> FaceResult:
    return FaceResult(
        cast(Box, tuple(int(v) for v in box)),
        decision.student_id,
        _accepted_name(gallery, decision),
        decision.distance,
        decision.outcome,
        tuple(_named(gallery, c) for c in decision.candidates),
    )


def _named(gallery: Gallery, candidate: Candidate) -> Candidate:
    return dataclasses.replace(candidate, name=gallery.name_of(candidate.student_id))
