"""The face check-in rules, without Qt, sockets or cameras.

Two parts, each fed by the check-in screen and its capture worker:

- :class:`FrameCollector` decides which camera frames make one check-in: ``count`` frames at
  least ``interval`` seconds apart (4 frames over 0.75 s by default), taken while **exactly one
  face** is in view and it stays **the same face**: its box overlaps the box of the previous
  frame by at least ``min_overlap`` (intersection over union). A second face, a face that jumps,
  or no face for longer than ``max_gap`` seconds starts the collection again.
- :class:`CheckinFlow` turns the server's answers (op ``checkin``, which marks an accepted face
  itself) into what the screen does next. An **uncertain** face gets one more try: new frames
  are sent together with the first try's (at most :data:`MAX_CHECKIN_FRAMES`), this time asking
  the server to queue the check-in for the professor when it is still uncertain. The first try's
  frames are kept in memory only until that second answer (never on disk: biometric data).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from protocol.errors import ErrorCode
from protocol.framed import MAX_CHECKIN_FRAMES

#: A face box on this PC: (x, y, width, height) in the frame's pixels.
Box = tuple[int, int, int, int]
T = TypeVar("T")

#: Frames of one check-in try (a folder of still images gives one frame per image).
FRAMES_PER_TRY = 4
#: Seconds between two frames of a try: 4 frames span 0.75 s, about a second with the answer. In
#: the sample clip (a film scene) the longest run of frames with one face is 0.9 s.
FRAME_INTERVAL = 0.25
#: Smallest overlap (intersection over union) of a face's box with the previous frame's box for
#: the face to count as the same one. At 15 frames per second a face that moves stays above 0.6.
MIN_OVERLAP = 0.3
#: Seconds without a face (the local detector misses a frame now and then) before a collection
#: starts again.
MAX_GAP = 0.5


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, width, height) boxes: 0 (apart) to 1 (the same)."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = min(ax + aw, bx + bw) - max(ax, bx)
    height = min(ay + ah, by + bh) - max(ay, by)
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / float(aw * ah + bw * bh - inter)


class FrameCollector:
    """Collects the frames of one face for one check-in try (see the module docstring)."""

    def __init__(
        self,
        count: int = FRAMES_PER_TRY,
        *,
        interval: float = FRAME_INTERVAL,
        min_overlap: float = MIN_OVERLAP,
        max_gap: float = MAX_GAP,
    ):
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count}")
        self.count = count
        self.interval = interval
        self.min_overlap = min_overlap
        self.max_gap = max_gap
        self.restarts = 0  # collections started again (for the status line and tests)
        self._items: list = []
        self._last_box: Box | None = None
        self._last_seen = 0.0
        self._last_taken = 0.0

    @property
    def collected(self) -> int:
        return len(self._items)

    def restart(self) -> None:
        """Drop what was collected; the next frame with one face starts a new collection."""
        if self._items:
            self.restarts += 1
        self._items = []
        self._last_box = None

    def feed(self, now: float, boxes: Sequence[Box], take: Callable[[], T]) -> tuple[T, ...] | None:
        """One frame: ``now`` in seconds (monotonic), ``boxes`` the faces found in it, ``take()``
        makes what is kept of this frame (called only when it is taken). Returns the ``count``
        items once collected (and starts afresh), else None."""
        if len(boxes) > 1:
            self.restart()
            return None
        if not boxes:
            if self._last_box is not None and now - self._last_seen > self.max_gap:
                self.restart()
            return None
        box = tuple(boxes[0])
        if self._last_box is not None and (
            now - self._last_seen > self.max_gap or overlap(box, self._last_box) < self.min_overlap
        ):
            self.restart()
        self._last_box, self._last_seen = box, now
        if self._items and now - self._last_taken < self.interval:
            return None
        self._items.append(take())
        self._last_taken = now
        if len(self._items) < self.count:
            return None
        items = tuple(self._items)
        self._items, self._last_box = [], None
        return items


# -- what the screen does with the server's answer ------------------------------------------------

#: Outcome kinds of :class:`CheckinFlow` (what the screen shows):
ACCEPTED = "accepted"  # the server accepted and marked the student (reply.already_marked: before)
RETRY = "retry"  # uncertain on the first try: collect new frames and send them with the first ones
PENDING = "pending"  # still uncertain: queued for the professor's confirmation
UNKNOWN = "unknown"  # nobody on the roster: never marked
DIFFERENT_PEOPLE = "different_people"  # the frames show more than one person: a new try
BAD_IMAGE = "bad_image"  # the server found no face in a frame: a new try
LECTURE_UNKNOWN = "lecture_unknown"  # the server does not know the lecture: wait for another code
FAILED = "failed"  # unreachable, timed out, refused...: nothing marked, a new try later

#: Error codes of the check-in reply that have an outcome of their own.
_ERROR_OUTCOMES = {
    ErrorCode.DIFFERENT_PEOPLE: DIFFERENT_PEOPLE,
    ErrorCode.BAD_IMAGE: BAD_IMAGE,
    ErrorCode.NOT_FOUND: LECTURE_UNKNOWN,
}


@dataclass(frozen=True)
class Outcome:
    """What a check-in answer means for the screen: ``kind`` (above) and the server's reply."""

    kind: str
    reply: Any = None


@dataclass(frozen=True)
class CheckinRequest:
    """What to send: the frames (JPEG bytes) and whether the server should queue an uncertain
    face for the professor (only on the second try)."""

    frames: tuple[bytes, ...]
    queue_uncertain: bool


class CheckinFlow:
    """One check-in at a time: a first try, and one more try when the face is uncertain."""

    def __init__(self, max_frames: int = MAX_CHECKIN_FRAMES):
        self.max_frames = max_frames
        self._kept: tuple[bytes, ...] = ()  # the first try's frames while a second try is due
        self._sending: tuple[bytes, ...] = ()

    @property
    def retrying(self) -> bool:
        """True between an uncertain first answer and the second answer."""
        return bool(self._kept)

    def request(self, frames: Sequence[bytes]) -> CheckinRequest:
        """The request for these new frames (with the first try's frames on a second try, the
        newest ``max_frames`` in all)."""
        self._sending = (self._kept + tuple(frames))[-self.max_frames :]
        return CheckinRequest(self._sending, queue_uncertain=self.retrying)

    def on_reply(self, reply) -> Outcome:
        """The server's CheckinResponse for the last request."""
        sent, second_try = self._sending, self.retrying
        self.reset()
        if reply.decision == "accepted":
            return Outcome(ACCEPTED, reply)
        if reply.decision == "uncertain":
            if second_try:
                return Outcome(PENDING, reply)
            self._kept = sent
            return Outcome(RETRY, reply)
        return Outcome(UNKNOWN, reply)

    def on_error(self, code: str) -> Outcome:
        """The request failed with this error code (a server error or a pseudo code)."""
        self.reset()
        return Outcome(_ERROR_OUTCOMES.get(code, FAILED))

    def reset(self) -> None:
        """Forget the frames of the current check-in (a new lecture, an answer, a failure)."""
        self._kept = self._sending = ()
