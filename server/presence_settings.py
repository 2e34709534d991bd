"""The thresholds of the classroom camera's rules (:mod:`server.presence`), with their defaults.

A module of its own, without the server's code, so that ``attendance-db`` can show the defaults
in the help of ``close-session`` without loading the recognition stack (numpy, PIL, the worker
pool) for every command.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Each threshold is within this range, in minutes (a day).
MINUTES_RANGE = (0.0, 24 * 60.0)


@dataclass(frozen=True)
class PresenceSettings:
    """Thresholds of the rules, in minutes (server flags, ``attendance-db close-session`` flags)."""

    #: First seen later than this after the start: late.
    late_after_minutes: float = 10.0
    #: Not seen in this last part of the session (after being on time): left early.
    leave_window_minutes: float = 15.0
    #: The server closes a session this long after its scheduled end.
    close_margin_minutes: float = 10.0

    def __post_init__(self):
        for name in ("late_after_minutes", "leave_window_minutes", "close_margin_minutes"):
            low, high = MINUTES_RANGE
            if not low <= getattr(self, name) <= high:
                raise ValueError(f"{name} must be {low:g}-{high:g} minutes, not {getattr(self, name)}")
