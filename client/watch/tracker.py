"""Following faces from one sample to the next, so that a face already recognized is not sent
for recognition again at every sample (pure code: boxes and numbers in, decisions out).

At each sample the watcher gives the boxes the server found and, for each, an appearance
descriptor (:mod:`client.watch.appearance`). A box continues a track when it overlaps the track's
last box (IoU >= ``min_iou``; students sit still between two samples) and looks the same
(appearance distance <= ``max_appearance_distance``). Otherwise it starts a new track: a new
face, a face that moved a lot, or another person in the same place.

A track needs an identity (the server's ``identify``) until it is *confirmed*: identified once
with a distance <= ``confident_distance``, or twice in a row as the same student. A confirmed
track keeps its student without any encoding, and is checked again every ``refresh_every``
samples (the appearance check cannot tell every two people apart). A track whose face is not
found survives ``max_misses`` samples (a head turned away for a moment); its student is not
counted as seen meanwhile, but when the face comes back at the same place it is not encoded.

Each student is given to at most one face per sample: when two tracks claim the same student,
the closer match keeps it and the other is identified again at the next sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

Box = tuple[int, int, int, int]  # (top, right, bottom, left) in pixels


@dataclass(frozen=True)
class TrackerSettings:
    #: A box continues a track when their intersection over union is at least this.
    min_iou: float = 0.3
    #: ... and their appearance distance (Bhattacharyya, 0-1) is at most this.
    max_appearance_distance: float = 0.45
    #: One match this close confirms a track's student (the server matches up to 0.6).
    confident_distance: float = 0.5
    #: Samples a track survives without its face being found.
    max_misses: int = 2
    #: Samples between two re-identifications of a confirmed track (0: never again).
    refresh_every: int = 10


@dataclass
class Track:
    """One face followed across samples. ``student_id`` None: not (yet) recognized."""

    track_id: int
    box: Box
    appearance: Any
    last_seen: int  # sample number
    student_id: str | None = None
    name: str | None = None
    distance: float | None = None
    confirmed: bool = False
    identified_at: int | None = None  # sample number of the last identification
    misses: int = 0


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (top, right, bottom, left) boxes (0 when disjoint)."""
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    inter = max(0, bottom - top) * max(0, right - left)
    union = _area(a) + _area(b) - inter
    return inter / union if union else 0.0


class FaceTracker:
    """The tracks of one camera. Call :meth:`update` once per sample, then :meth:`identified`
    for the tracks sent to the server, then :meth:`seen` for the students of the sample."""

    def __init__(
        self,
        settings: TrackerSettings = TrackerSettings(),
        appearance_distance: Callable[[Any, Any], float] | None = None,
    ):
        """``appearance_distance(a, b)``: 0 for the same look, larger for different looks;
        None compares nothing (every overlapping box continues its track)."""
        self.settings = settings
        self.appearance_distance = appearance_distance
        self.tracks: list[Track] = []
        self.sample = 0  # number of the current sample (1 after the first update)
        self._next_id = 1

    def update(self, boxes: Sequence[Box], appearances: Sequence[Any] | None = None) -> list[Track]:
        """Take the boxes of a new sample; return the track of each box, in the boxes' order."""
        if appearances is None:
            appearances = [None] * len(boxes)
        self.sample += 1
        settings = self.settings
        pairs = sorted(
            (
                (iou(track.box, box), t, b)
                for t, track in enumerate(self.tracks)
                for b, box in enumerate(boxes)
            ),
            reverse=True,
        )
        of_box: dict[int, Track] = {}
        used_tracks: set[int] = set()
        ended: set[int] = set()
        for overlap, t, b in pairs:
            if overlap < settings.min_iou:
                break
            if t in used_tracks or b in of_box:
                continue
            used_tracks.add(t)
            track = self.tracks[t]
            if self._looks_different(track.appearance, appearances[b]):
                ended.add(t)  # the box goes to a new track below
                continue
            track.box, track.appearance = tuple(boxes[b]), appearances[b]
            track.last_seen, track.misses = self.sample, 0
            of_box[b] = track
        survivors = []
        for t, track in enumerate(self.tracks):
            if t in ended:
                continue
            if track.last_seen != self.sample:
                track.misses += 1
                if track.misses > settings.max_misses:
                    continue
            survivors.append(track)
        for b, box in enumerate(boxes):
            if b not in of_box:
                of_box[b] = Track(self._next_id, tuple(box), appearances[b], self.sample)
                self._next_id += 1
                survivors.append(of_box[b])
        self.tracks = survivors
        return [of_box[b] for b in range(len(boxes))]

    def needs_identity(self, track: Track) -> bool:
        """True when the track's face should be sent to the server at this sample."""
        if not track.confirmed or track.identified_at is None:
            return True
        every = self.settings.refresh_every
        return bool(every) and self.sample - track.identified_at >= every

    def identified(self, track: Track, student_id: str | None, name: str | None, distance: float | None) -> None:
        """Record the server's answer for a track sent at this sample."""
        agrees = student_id is not None and student_id == track.student_id
        confident = distance is not None and distance <= self.settings.confident_distance
        track.confirmed = student_id is not None and (confident or agrees)
        track.student_id, track.name, track.distance = student_id, name, distance
        track.identified_at = self.sample

    def seen(self, tracks: Sequence[Track]) -> list[Track]:
        """The recognized tracks of this sample, each student once: when two tracks claim a
        student, the closer match keeps it and the other loses its identity (and is identified
        again at the next sample)."""
        best: dict[str, Track] = {}
        for track in tracks:
            if track.student_id is None:
                continue
            other = best.get(track.student_id)
            if other is None or _closer(track, other):
                if other is not None:
                    _forget_identity(other)
                best[track.student_id] = track
            else:
                _forget_identity(track)
        return sorted(best.values(), key=lambda track: track.student_id)

    def forget(self) -> None:
        """Drop every track (the next sample identifies every face again)."""
        self.tracks = []

    def _looks_different(self, before: Any, now: Any) -> bool:
        if self.appearance_distance is None or before is None or now is None:
            return False
        return self.appearance_distance(before, now) > self.settings.max_appearance_distance


def _closer(a: Track, b: Track) -> bool:
    """Whether a's match is better than b's (a confirmed track wins ties; unknown distance loses)."""
    da = a.distance if a.distance is not None else float("inf")
    db = b.distance if b.distance is not None else float("inf")
    return (da, not a.confirmed) < (db, not b.confirmed)


def _forget_identity(track: Track) -> None:
    track.student_id = track.name = track.distance = None
    track.confirmed = False


def _area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[1] - box[3])
