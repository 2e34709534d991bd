"""server/challenges.py: the actions asked, one open challenge per client, the pause after too
many failed challenges (a fake clock: pure code)."""

from __future__ import annotations

import pytest

from server.challenges import ChallengeBook, ChallengePaused, LivenessSettings
from server.recognition import liveness


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_two_or_three_different_actions_in_a_random_order():
    book = ChallengeBook(LivenessSettings(seed=3))
    picks = [book.pick_actions() for _ in range(200)]
    assert all(2 <= len(p) <= 3 and len(set(p)) == len(p) and set(p) <= set(liveness.ACTIONS) for p in picks)
    assert {len(p) for p in picks} == {2, 3}
    assert len(set(picks)) == 12  # every ordered choice of 2 or 3 of the 3 actions comes up
    assert all(any(a.startswith("turn_") for a in p) for p in picks)  # a still face never passes


def test_the_seed_makes_the_actions_reproducible_and_no_seed_does_not():
    seeded = [ChallengeBook(LivenessSettings(seed=7)) for _ in range(2)]
    assert [seeded[0].pick_actions() for _ in range(20)] == [seeded[1].pick_actions() for _ in range(20)]
    free = [ChallengeBook(LivenessSettings()) for _ in range(2)]
    assert [free[0].pick_actions() for _ in range(30)] != [free[1].pick_actions() for _ in range(30)]


def test_one_open_challenge_per_client_and_only_its_own():
    book = ChallengeBook()
    first = book.open("room-1", "ea0017_1")
    second = book.open("room-1", "ea0017_1")
    other = book.open("room-2", "ea0017_1")
    assert book.get("room-1", first.challenge_id) is None  # replaced
    assert book.get("room-1", second.challenge_id) is second
    assert book.get("room-1", other.challenge_id) is None  # another client's
    book.close(second)
    assert book.get("room-1", second.challenge_id) is None


def test_five_failures_within_three_minutes_pause_the_client():
    clock = Clock()
    book = ChallengeBook(LivenessSettings(), clock=clock)
    assert [book.record_failure("room-1") for _ in range(4)] == [False] * 4
    clock.now += 181  # the first four are older than the window now
    assert book.record_failure("room-1") is False
    assert [book.record_failure("room-1") for _ in range(3)] == [False] * 3
    assert book.record_failure("room-1") is True  # five within 3 minutes
    assert book.paused_for("room-1") == pytest.approx(120)
    assert book.paused_for("room-2") == 0
    with pytest.raises(ChallengePaused) as paused:
        book.open("room-1", "ea0017_1")
    assert paused.value.seconds == pytest.approx(120)
    book.open("room-2", "ea0017_1")  # other clients go on
    clock.now += 121
    assert book.paused_for("room-1") == 0
    book.open("room-1", "ea0017_1")


def test_challenges_long_past_their_deadline_are_forgotten():
    clock = Clock()
    book = ChallengeBook(LivenessSettings(deadline=5.0, keep_open=60.0), clock=clock)
    old = book.open("room-1", "ea0017_1")
    clock.now += 66
    book.open("room-2", "ea0017_1")  # opening any challenge drops the stale ones
    assert book.get("room-1", old.challenge_id) is None


def test_done_lists_the_asked_actions_seen_in_order():
    book = ChallengeBook(LivenessSettings(seed=1))
    challenge = book.open("room-1", "ea0017_1")
    challenge.actions = (liveness.BLINK, liveness.TURN_LEFT)
    blink = liveness.Event(liveness.BLINK, 3, 0.3)
    left = liveness.Event(liveness.TURN_LEFT, 9, 0.9)
    assert challenge.done([]) == ()
    assert challenge.done([left, blink]) == (liveness.BLINK,)
    assert challenge.done([blink, left]) == (liveness.BLINK, liveness.TURN_LEFT)
