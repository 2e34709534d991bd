"""Limits on who may connect and how much: concurrent connections, request rate, 2019 networks.

Each class is a small thread-safe object the TCP server and the connection handlers share.
The limits' settings are in :class:`server.app.ServerConfig` (docs/deploy.md lists them).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable

#: Connections refused with a `busy` reply (beyond max_connections) that may wait at once for
#: their first bytes; connections beyond that are closed without a word.
MAX_REFUSING = 16

ADMIT, REFUSE = "admit", "refuse"


class ConnectionLimit:
    """Counts connections: up to ``max_connections`` are served, up to MAX_REFUSING more get a
    short "busy" reply, and the rest are closed at once (``enter()`` returns None)."""

    def __init__(self, max_connections: int, max_refusing: int = MAX_REFUSING):
        self.max_connections = max_connections
        self.max_refusing = max_refusing
        self._served = 0
        self._refusing = 0
        self._lock = threading.Lock()

    def enter(self) -> str | None:
        """ADMIT, REFUSE (answer busy and close) or None (close now). Call leave() afterwards."""
        with self._lock:
            if self._served < self.max_connections:
                self._served += 1
                return ADMIT
            if self._refusing < self.max_refusing:
                self._refusing += 1
                return REFUSE
            return None

    def leave(self, slot: str) -> None:
        with self._lock:
            if slot == ADMIT:
                self._served -= 1
            else:
                self._refusing -= 1

    @property
    def served(self) -> int:
        return self._served


class RateLimiter:
    """A token bucket per key (a client name, or ``ip:<address>``): ``rate`` requests per second
    on average, bursts of up to ``burst``. ``rate`` <= 0 turns the limit off."""

    #: Above this many keys, buckets that are full again (idle keys) are dropped.
    PRUNE_ABOVE = 1024

    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, time)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one request's token from the key's bucket; False when it is empty."""
        if self.rate <= 0:
            return True
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            allowed = tokens >= 1
            self._buckets[key] = (tokens - 1 if allowed else tokens, now)
            if len(self._buckets) > self.PRUNE_ABOVE:
                self._prune(now)
        return allowed

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate
        for key in [k for k, (_, then) in self._buckets.items() if now - then >= full_after]:
            del self._buckets[key]

    @property
    def keys(self) -> int:
        return len(self._buckets)


#: Where 2019 clients (which have no token) are accepted from by default: this machine only.
DEFAULT_LEGACY_NETWORKS = ("127.0.0.0/8", "::1/128")


class NetworkAllowList:
    """Is an address inside one of the networks (CIDR text such as ``10.20.0.0/16``)?"""

    def __init__(self, networks: Iterable[str]):
        self.networks = tuple(ipaddress.ip_network(text, strict=False) for text in networks)

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 scope (fe80::1%eth0)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:10.0.0.7 on a dual-stack socket is 10.0.0.7
        return any(ip in network for network in self.networks)

    def __str__(self) -> str:
        return ", ".join(str(n) for n in self.networks) or "nowhere"
