"""Liveness challenges for check-ins (docs/liveness.md): which actions to ask for, the challenges
open, the frames' measures, and the pause after too many failed ones.

A challenge is kept in memory only (one per client: opening another replaces it), with what the
frames gave (measures and encodings, never the frames), until it is finished or forgotten
(``keep_open`` seconds after its deadline). Failed challenges are counted per client; after
``failures`` of them within ``failure_window`` seconds the client's check-ins pause for
``pause`` seconds. Thread-safe: every connection thread shares one :class:`ChallengeBook`.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from protocol.framed import MAX_CHALLENGE_FRAMES
from server.recognition import liveness


@dataclass(frozen=True)
class LivenessSettings:
    """``enabled``: check-ins need a challenge (``--no-liveness`` turns it off). ``seed``: for
    tests only, makes the asked actions reproducible (None: unpredictable, as they must be).
    ``deadline``: seconds from the challenge to its last frame; ``grace``: seconds a frame may
    still arrive after the deadline (transit, a busy server), its own time within the deadline.
    ``encode_every``: one frame in that many is encoded (every frame is measured; an encoding
    costs 10-30 measures); ``min_overlap``: the face's box in a frame overlaps its box in the
    frame before by at least this (intersection over union), or the face jumped."""

    enabled: bool = True
    seed: int | None = None
    deadline: float = 5.0
    grace: float = 2.0
    min_actions: int = 2
    max_actions: int = 3
    max_frames: int = MAX_CHALLENGE_FRAMES
    failures: int = 5
    failure_window: float = 180.0
    pause: float = 120.0
    keep_open: float = 60.0
    encode_every: int = 5
    min_overlap: float = 0.3
    thresholds: liveness.Thresholds = liveness.DEFAULT_THRESHOLDS


@dataclass
class Challenge:
    """An open challenge: its client, lecture and actions, when it was given (monotonic
    seconds), and what its frames gave so far (their times, measures and encodings)."""

    challenge_id: str
    client_name: str
    lecture: str
    actions: tuple[str, ...]
    opened_at: float
    deadline: float
    max_frames: int
    times: list[float] = field(default_factory=list)
    measures: list[liveness.FaceMeasure | None] = field(default_factory=list)
    encodings: list[np.ndarray] = field(default_factory=list, repr=False)
    #: One frame with a face, kept only for --keep-evidence (else None).
    evidence_frame: bytes | None = field(default=None, repr=False)

    def events(self, thresholds: liveness.Thresholds) -> list[liveness.Event]:
        return liveness.find_events(self.times, self.measures, thresholds)

    def done(self, events: list[liveness.Event]) -> tuple[str, ...]:
        """The asked actions seen so far, in the asked order."""
        missing = liveness.first_action_missing(events, self.actions)
        return self.actions if missing is None else self.actions[: self.actions.index(missing)]


class ChallengePaused(Exception):
    """The client's check-ins are paused for ``seconds`` more."""

    def __init__(self, seconds: float):
        super().__init__(f"paused for {seconds:.0f} s")
        self.seconds = seconds


class ChallengeBook:
    """The open challenges and the failures of every client."""

    def __init__(self, settings: LivenessSettings = LivenessSettings(), *, clock: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.clock = clock
        self._random: random.Random = (
            random.Random(settings.seed) if settings.seed is not None else secrets.SystemRandom()
        )
        self._lock = threading.Lock()
        self._open: dict[str, Challenge] = {}  # client name -> its challenge
        self._failures: dict[str, list[float]] = {}
        self._paused_until: dict[str, float] = {}

    def pick_actions(self) -> tuple[str, ...]:
        """``min_actions`` to ``max_actions`` different actions in a random order."""
        with self._lock:
            count = self._random.randint(self.settings.min_actions, self.settings.max_actions)
            return tuple(self._random.sample(liveness.ACTIONS, min(count, len(liveness.ACTIONS))))

    def paused_for(self, client_name: str) -> float:
        """Seconds the client's check-ins are still paused (0: not paused)."""
        with self._lock:
            return max(0.0, self._paused_until.get(client_name, 0.0) - self.clock())

    def open(self, client_name: str, lecture: str) -> Challenge:
        """A new challenge for the client (its open one, if any, is dropped).

        :raises ChallengePaused: the client failed too many challenges lately.
        """
        paused = self.paused_for(client_name)
        if paused > 0:
            raise ChallengePaused(paused)
        settings = self.settings
        challenge = Challenge(
            secrets.token_urlsafe(18),
            client_name,
            lecture,
            self.pick_actions(),
            self.clock(),
            settings.deadline,
            settings.max_frames,
        )
        with self._lock:
            self._forget_stale()
            self._open[client_name] = challenge
        return challenge

    def get(self, client_name: str, challenge_id: str) -> Challenge | None:
        """The client's open challenge with this ID (a challenge is only its own client's)."""
        with self._lock:
            challenge = self._open.get(client_name)
        if challenge is None or not secrets.compare_digest(challenge.challenge_id, challenge_id):
            return None
        return challenge

    def close(self, challenge: Challenge) -> None:
        with self._lock:
            if self._open.get(challenge.client_name) is challenge:
                del self._open[challenge.client_name]

    def elapsed(self, challenge: Challenge) -> float:
        return self.clock() - challenge.opened_at

    def record_failure(self, client_name: str) -> bool:
        """Count a failed challenge; True when this failure starts a pause."""
        now = self.clock()
        window = self.settings.failure_window
        with self._lock:
            recent = [t for t in self._failures.get(client_name, []) if now - t < window] + [now]
            if len(recent) >= self.settings.failures:
                self._failures.pop(client_name, None)
                self._paused_until[client_name] = now + self.settings.pause
                return True
            self._failures[client_name] = recent
            return False

    def _forget_stale(self) -> None:
        """Drop challenges long past their deadline, and pauses that are over (lock held)."""
        now = self.clock()
        for name, challenge in list(self._open.items()):
            if now - challenge.opened_at > challenge.deadline + self.settings.keep_open:
                del self._open[name]
        for name, until in list(self._paused_until.items()):
            if until <= now:
                del self._paused_until[name]
