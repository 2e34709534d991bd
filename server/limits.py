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

#: What ConnectionLimit.enter() decides: serve the connection, or answer it "busy" because the
#: server is full (REFUSE) or because its address has its share (REFUSE_ADDRESS).
ADMIT, REFUSE, REFUSE_ADDRESS = "admit", "refuse", "refuse-address"


class ConnectionLimit:
    """Counts connections: up to ``max_connections`` are served, at most ``per_address`` of
    them from one address (so one machine cannot take every slot); up to MAX_REFUSING more get
    a short "busy" reply, and the rest are closed at once (``enter()`` returns None)."""

    def __init__(self, max_connections: int, max_refusing: int = MAX_REFUSING, per_address: int | None = None):
        self.max_connections = max_connections
        self.max_refusing = max_refusing
        self.per_address = per_address or max_connections
        self._served = 0
        self._refusing = 0
        self._by_address: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, address: str = "") -> str | None:
        """ADMIT, REFUSE or REFUSE_ADDRESS (answer busy and close; which limit it was is decided
        here, as a connection's leave() may change the counts before the reply is written) or
        None (close now). Call leave() afterwards, with the same address."""
        with self._lock:
            mine = self._by_address.get(address, 0)
            server_full = self._served >= self.max_connections
            if not server_full and mine < self.per_address:
                self._served += 1
                self._by_address[address] = mine + 1
                return ADMIT
            if self._refusing < self.max_refusing:
                self._refusing += 1
                return REFUSE if server_full else REFUSE_ADDRESS
            return None

    def leave(self, slot: str, address: str = "") -> None:
        with self._lock:
            if slot == ADMIT:
                self._served -= 1
                left = self._by_address[address] - 1
                if left:
                    self._by_address[address] = left
                else:
                    del self._by_address[address]
            else:
                self._refusing -= 1

    def served_from(self, address: str) -> int:
        return self._by_address.get(address, 0)

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

    def allow(self, key: str, cost: float = 1) -> bool:
        """Take ``cost`` tokens from the key's bucket; False (nothing taken) when it holds less
        than ``cost`` (or, for a cost above ``burst``, when it is not full)."""
        if self.rate <= 0:
            return True
        now = self._clock()
        with self._lock:
            tokens = self._tokens(key, now)
            allowed = tokens >= min(cost, self.burst)
            self._buckets[key] = (max(-self.burst, tokens - cost) if allowed else tokens, now)
            if len(self._buckets) > self.PRUNE_ABOVE:
                self._prune(now)
        return allowed

    def charge(self, key: str, cost: float) -> None:
        """Take ``cost`` tokens whatever the bucket holds (a cost known only after the work,
        such as the faces found): the bucket may go below zero, down to ``-burst``, and the
        key's next requests wait until it has refilled."""
        if self.rate <= 0 or cost <= 0:
            return
        now = self._clock()
        with self._lock:
            self._buckets[key] = (max(-self.burst, self._tokens(key, now) - cost), now)

    def seconds_until(self, key: str, cost: float = 1) -> float:
        """Seconds until the key's bucket holds ``cost`` tokens (at most ``burst``); 0 when it does."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            tokens = self._tokens(key, self._clock())
        return max(0.0, (min(cost, self.burst) - tokens) / self.rate)

    def _tokens(self, key: str, now: float) -> float:
        tokens, then = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - then) * self.rate)

    def _prune(self, now: float) -> None:
        full_after = 2 * self.burst / self.rate  # from -burst
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
