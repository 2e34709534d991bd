"""Timing figures: the median of repeated calls, percentiles of latencies."""

from __future__ import annotations

import time


def median_seconds(function, repeat: int, *, warm_up: bool = False) -> float:
    """Median wall-clock seconds of ``repeat`` calls of ``function`` (after one untimed call
    when ``warm_up``)."""
    import statistics

    if warm_up:
        function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` fall (nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[rank]
