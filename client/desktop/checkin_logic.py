"""The face check-in rules, without Qt, sockets or cameras.

Two parts, each fed by the check-in screen and its capture worker:

- :class:`FrameCollector` decides which camera frames make one check-in: ``count`` frames at
  least ``interval`` seconds apart (4 frames over 0.75 s by default), taken while **exactly one
  face** is in view and it stays **the same face**: its box overlaps the box of the previous
  frame by at least ``min_overlap`` (intersection over union). A second face, a face that jumps,
  or no face for longer than ``max_gap`` seconds starts the collection again.
- :class:`ChallengeRun` is one liveness challenge (docs/liveness.md): the actions the server
  asked for, the frames streamed to it in small batches while the student does them, what the
  server saw so far, and when to ask for the decision.
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
#: Frames a second streamed during a liveness challenge (short blinks fall between frames at 10),
#: and frames per request.
STREAM_FPS = 15.0
STREAM_BATCH = 5


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
LIVENESS_FAILED = "liveness_failed"  # an asked action was not seen (the run's next_action): a new try
PAUSED = "paused"  # too many failed challenges at this PC: check-ins wait
FAILED = "failed"  # unreachable, timed out, refused...: nothing marked, a new try later

#: Error codes of the check-in reply that have an outcome of their own.
_ERROR_OUTCOMES = {
    ErrorCode.DIFFERENT_PEOPLE: DIFFERENT_PEOPLE,
    ErrorCode.BAD_IMAGE: BAD_IMAGE,
    ErrorCode.NOT_FOUND: LECTURE_UNKNOWN,
    ErrorCode.LIVENESS_FAILED: LIVENESS_FAILED,
    ErrorCode.CHECKINS_PAUSED: PAUSED,
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

    def on_challenge_reply(self, reply) -> Outcome:
        """The server's CheckinResponse to a challenge_finish (asked with queue_uncertain: an
        uncertain face is queued for the professor at once; a challenge is not tried twice)."""
        self.reset()
        if reply.decision == "accepted":
            return Outcome(ACCEPTED, reply)
        return Outcome(PENDING if reply.decision == "uncertain" else UNKNOWN, reply)

    def on_error(self, code: str) -> Outcome:
        """The request failed with this error code (a server error or a pseudo code)."""
        self.reset()
        return Outcome(_ERROR_OUTCOMES.get(code, FAILED))

    def reset(self) -> None:
        """Forget the frames of the current check-in (a new lecture, an answer, a failure)."""
        self._kept = self._sending = ()


class ChallengeRun:
    """One liveness challenge on this PC, from the server's ``challenge`` reply.

    ``started``: when the reply came (monotonic seconds, the clock of the frames' times). Frames
    go through :meth:`add` (a batch to send comes back every ``batch`` frames, at most ``fps``
    frames a second); the server's ``challenge_progress`` replies through :meth:`on_progress`.
    :meth:`finished` says when to send the rest (:meth:`flush`) and ask for the decision.
    """

    def __init__(self, reply, started: float, *, fps: float = STREAM_FPS, batch: int = STREAM_BATCH):
        self.challenge_id: str = reply.challenge_id
        self.actions: tuple[str, ...] = tuple(reply.actions)
        self.deadline: float = float(reply.deadline)
        self.max_frames: int = int(reply.max_frames)
        self.started = started
        self.interval = 1.0 / fps
        self.batch = batch
        self.done: tuple[str, ...] = ()
        self.next_action: str | None = self.actions[0] if self.actions else None
        self.sent = 0
        self._pending: list[tuple[float, bytes]] = []
        self._last_at: float | None = None

    def elapsed(self, now: float) -> float:
        return now - self.started

    def add(self, now: float, jpeg: bytes) -> tuple[tuple[bytes, ...], tuple[float, ...]] | None:
        """A frame taken at ``now``: (frames, times) to send when a batch is full, else None.
        Frames from before the challenge, after its deadline, too close to the last one or
        beyond ``max_frames`` are left out."""
        at = self.elapsed(now)
        if at < 0 or at > self.deadline or self.sent + len(self._pending) >= self.max_frames:
            return None
        if self._last_at is not None and at - self._last_at < self.interval * 0.9:
            return None
        self._last_at = at
        self._pending.append((round(at, 3), jpeg))
        return self.flush() if len(self._pending) >= self.batch else None

    def flush(self) -> tuple[tuple[bytes, ...], tuple[float, ...]] | None:
        """The frames not sent yet, as (frames, times), or None."""
        if not self._pending:
            return None
        pending, self._pending = self._pending, []
        self.sent += len(pending)
        return tuple(jpeg for _, jpeg in pending), tuple(at for at, _ in pending)

    def on_progress(self, reply) -> None:
        self.done = tuple(reply.done)
        self.next_action = reply.next_action

    def finished(self, now: float) -> bool:
        """Every asked action seen, the deadline passed, or no more frames wanted."""
        return self.next_action is None or self.elapsed(now) > self.deadline or self.sent >= self.max_frames
