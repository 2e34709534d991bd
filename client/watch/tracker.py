"""Following faces from one sample to the next, and what each followed face (a *track*) has
shown so far (pure code: boxes and numbers in, decisions out).

At each sample the watcher gives the boxes the server found and, for each, an appearance
descriptor (:mod:`client.watch.appearance`). A box continues a track when it overlaps the track's
last box (IoU >= ``min_iou``; students sit still between two samples) and looks the same
(appearance distance <= ``max_appearance_distance``). Otherwise it starts a new track: a new
face, a face that moved a lot, or another person in the same place.

A track keeps the encodings of its face from the samples at which it was encoded (the newest
``max_frames``, in memory only: they are biometric data), as the server returned them. At every
sample the watcher sends the server every track in view with its kept encodings (op
``identify_room``), and asks it to encode the face again for the tracks that need more
evidence (:meth:`FaceTracker.needs_encoding`: not accepted yet, or accepted ``refresh_every``
samples ago: a refresh starts the track's evidence again). The server decides all of them at
once, each student given to at most one track, and the track's student is what that latest
decision says: only an accepted track counts as seen.

A track whose face is not found survives ``max_misses`` samples (a head turned away for a
moment); it is not counted as seen meanwhile, and when the face comes back at the same place
its encodings are still there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from protocol.framed import DECISIONS, MAX_TRACK_FRAMES, TrackDecision

Box = tuple[int, int, int, int]  # (top, right, bottom, left) in pixels
ACCEPTED, UNCERTAIN, UNKNOWN = DECISIONS  # the outcomes of a room decision about a track


@dataclass(frozen=True)
class TrackerSettings:
    #: A box continues a track when their intersection over union is at least this.
    min_iou: float = 0.3
    #: ... and their appearance distance (Bhattacharyya, 0-1) is at most this.
    max_appearance_distance: float = 0.45
    #: Samples a track survives without its face being found.
    max_misses: int = 2
    #: Samples between two encodings of an accepted track's face (0: never again).
    refresh_every: int = 10
    #: Encodings a track is decided from at most (its newest), 1 to MAX_TRACK_FRAMES.
    max_frames: int = MAX_TRACK_FRAMES

    def __post_init__(self):
        if not 1 <= self.max_frames <= MAX_TRACK_FRAMES:
            raise ValueError(f"max_frames must be 1 to {MAX_TRACK_FRAMES}, not {self.max_frames}")
        if self.refresh_every < 0:
            raise ValueError(f"refresh_every must be >= 0, not {self.refresh_every}")


@dataclass
class Track:
    """One face followed across samples, and the latest room decision about it.

    ``encodings``: the kept encodings of its face, oldest first (opaque here: the wire's text).
    ``decision``: accepted, uncertain, unknown, or None before the first decision;
    ``student_id``/``name``: only when accepted; ``candidates``: the student IDs it may be,
    nearest first. ``frames``: encodings the latest decision used.
    """

    track_id: int
    box: Box
    appearance: Any
    last_seen: int  # sample number
    misses: int = 0
    encodings: list = field(default_factory=list, repr=False)
    encoded_at: int | None = None  # sample number of the last encoding
    decision: str | None = None
    student_id: str | None = None
    name: str | None = None
    distance: float | None = None
    candidates: tuple[str, ...] = ()
    frames: int = 0

    @property
    def accepted(self) -> bool:
        return self.decision == ACCEPTED


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (top, right, bottom, left) boxes (0 when disjoint)."""
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    inter = max(0, bottom - top) * max(0, right - left)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union else 0.0


class FaceTracker:
    """The tracks of one camera. Call :meth:`update` once per sample, then :meth:`decided` for
    each track sent to the server, then :meth:`seen` for the students of the sample."""

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
            ((iou(track.box, box), t, b) for t, track in enumerate(self.tracks) for b, box in enumerate(boxes)),
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

    def needs_encoding(self, track: Track) -> bool:
        """True when the track's face should be encoded at this sample: it is not accepted (more
        evidence may decide it), or it was accepted and last encoded ``refresh_every`` samples
        ago (the appearance check cannot tell every two people apart)."""
        if not track.accepted or track.encoded_at is None:
            return True
        every = self.settings.refresh_every
        return bool(every) and self.sample - track.encoded_at >= every

    def kept_encodings(self, track: Track, encode_now: bool) -> list:
        """The track's encodings to send with it: the newest that fit in ``max_frames`` with the
        one encoded now (when ``encode_now``). Nothing for the refresh of an accepted track: a
        refresh starts its evidence again, so that a change of person the appearance check
        missed is not outvoted by the encodings of the student who sat there before."""
        if encode_now and track.accepted:
            return []
        room = self.settings.max_frames - encode_now
        return track.encodings[max(0, len(track.encodings) - room) :]

    def decided(self, track: Track, decision: TrackDecision) -> None:
        """Record the server's room decision about a track sent at this sample: its new
        encoding (if any) joins the kept ones, of which the newest ``decision.frames`` stay."""
        encodings = track.encodings + ([decision.encoding] if decision.encoding is not None else [])
        track.encodings = encodings[max(0, len(encodings) - decision.frames) :]
        if decision.encoding is not None:
            track.encoded_at = self.sample
        track.decision, track.frames = decision.decision, decision.frames
        track.distance = decision.distance
        track.candidates = tuple(candidate.student_id for candidate in decision.candidates)
        accepted = track.accepted
        track.student_id = decision.student_id if accepted else None
        track.name = decision.name if accepted else None

    def seen(self, tracks: Sequence[Track]) -> list[Track]:
        """The accepted tracks among these (the tracks in view at this sample), by student ID.
        The room decision gives each student to at most one of them."""
        return sorted((track for track in tracks if track.accepted), key=lambda track: track.student_id)

    def forget(self) -> None:
        """Drop every track (the next sample identifies every face again)."""
        self.tracks = []

    def _looks_different(self, before: Any, now: Any) -> bool:
        if self.appearance_distance is None or before is None or now is None:
            return False
        return self.appearance_distance(before, now) > self.settings.max_appearance_distance


def box_area(box: Box) -> int:
    """Area of a (top, right, bottom, left) box in square pixels (0 for an empty box)."""
    return max(0, box[2] - box[0]) * max(0, box[1] - box[3])
