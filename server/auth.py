"""Who a client token belongs to (the framed protocol's ``hello``), its role and lectures, and
revocation: the ``clients`` table, and the server's copy of it in memory.

- ``hello`` asks the database (:meth:`TokenChecker.check`): a client added a second ago is known.
- The server also keeps **every** client of the table in memory (active and revoked, by token
  hash, with role and lectures), reloaded every ``refresh_every`` seconds by a thread of its own
  (:meth:`TokenChecker.start`). Each request after ``hello`` is checked against that copy
  (:meth:`TokenChecker.current`), so a client revoked with ``attendance-db revoke-client``, or
  given another role with ``set-role``, is refused (or restricted) on its open connections
  within ``refresh_every`` seconds, without a query per request.
- While the database does not answer, ``hello`` is answered from that copy, as long as the copy
  was read from the database less than ``stale_for`` seconds ago (so that classroom PCs can
  reconnect while the database restarts): a token the copy holds as active is welcomed, one it
  holds as revoked is refused (``unauthorized``), one it does not hold gets ``db_unavailable``.

Why revocation holds while the database is down: a revocation is a row written to the database,
so the server can only learn of it from there. The copy is read from the whole table every few
seconds (not per token, not only at ``hello``), so once a revocation is committed and the server
has read it, no cached answer can welcome that token again, database up or down. The only window
is a database that goes down within ``refresh_every`` seconds of the revocation being committed
(the copy then still holds the token as active); it is logged, and bounded by ``stale_for``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from db import clients
from db.clients import Client
from db.connection import UNAVAILABLE_ERRORS, ConnectionPool, transaction
from protocol.errors import ErrorCode
from server.service import ServiceError

log = logging.getLogger(__name__)

#: Seconds the copy of the clients table may be used for hello while the database is down.
DEFAULT_STALE_FOR = 600.0
#: Seconds between two reads of the clients table (revocations and roles take effect within this).
DEFAULT_REFRESH_EVERY = 5.0


class TokenChecker:
    def __init__(
        self,
        db: ConnectionPool,
        *,
        stale_for: float = DEFAULT_STALE_FOR,
        refresh_every: float = DEFAULT_REFRESH_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.db = db
        self.stale_for = stale_for
        self.refresh_every = refresh_every
        self._clock = clock
        self._lock = threading.Lock()
        self._by_hash: dict[str, Client] = {}  # token hash -> client (active or revoked)
        self._read_at: float | None = None  # when the copy was last read whole from the database
        self._checked_at: dict[str, float] = {}  # token hash -> when hello last read it from the database
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- hello ---------------------------------------------------------------------------------

    def check(self, token: str) -> Client:
        """The active client holding ``token``, from the database, else (database down) from the
        copy in memory.

        :raises ServiceError: ``unauthorized`` (unknown or revoked token), ``db_unavailable``
            (the database does not answer and the copy cannot tell).
        """
        key = clients.token_hash(token)
        try:
            with self.db.connection() as conn, transaction(conn) as cur:
                client = clients.client_for_token(cur, token)
        except UNAVAILABLE_ERRORS as exc:
            return self._check_from_memory(key, exc)
        with self._lock:
            if client is None:
                self._by_hash.pop(key, None)
            else:
                self._by_hash[key] = client
            self._checked_at[key] = self._clock()
        if client is None or not client.active:
            reason = "unknown client token" if client is None else f"the token of client {client.name} is revoked"
            raise ServiceError(ErrorCode.UNAUTHORIZED, reason)
        return client

    def client_name(self, token: str) -> str:
        """The name of the active client holding ``token`` (see :meth:`check`)."""
        return self.check(token).name

    def _check_from_memory(self, key: str, exc: BaseException) -> Client:
        with self._lock:
            known = self._by_hash.get(key)
            read_at = self._read_at
        fresh = read_at is not None and self._clock() - read_at <= self.stale_for
        if known is not None and not known.active:
            log.warning("database unavailable (%s); client %s refused: its token is revoked", exc, known.name)
            raise ServiceError(ErrorCode.UNAUTHORIZED, f"the token of client {known.name} is revoked")
        if known is not None and fresh:
            log.warning("database unavailable (%s); client %s accepted from the clients read last", exc, known.name)
            return known
        raise ServiceError(ErrorCode.DB_UNAVAILABLE, "the attendance database is not reachable") from exc

    # -- each request --------------------------------------------------------------------------

    def current(self, token: str) -> Client | None:
        """The client holding ``token`` as the copy in memory has it now (role and lectures
        included), or None when it is revoked or no longer in the table. No database access."""
        with self._lock:
            client = self._by_hash.get(clients.token_hash(token))
        return client if client is not None and client.active else None

    # -- the copy of the clients table -----------------------------------------------------------

    def refresh(self) -> bool:
        """Read the whole clients table into memory. False (and the copy kept) when the database
        does not answer."""
        started = self._clock()
        try:
            with self.db.connection() as conn, transaction(conn) as cur:
                table = clients.clients_by_token_hash(cur)
        except UNAVAILABLE_ERRORS as exc:
            log.debug("cannot read the clients table: %s", exc)
            return False
        with self._lock:
            # What a hello read while this read was under way is newer than this read: it stays.
            for key in [key for key, at in self._checked_at.items() if at >= started]:
                if key in self._by_hash:
                    table[key] = self._by_hash[key]
                else:
                    table.pop(key, None)
            self._checked_at.clear()
            revoked_now = [c.name for key, c in table.items() if not c.active and self._by_hash.get(key, c).active]
            self._by_hash = table
            self._read_at = self._clock()
        for name in revoked_now:
            log.info("client %s is revoked: its connections are refused from now on", name)
        return True

    def start(self) -> TokenChecker:
        """Read the table now, then every ``refresh_every`` seconds on a thread of its own."""
        self.refresh()
        self._thread = threading.Thread(target=self._run, name="clients-refresh", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.refresh_every):
            try:
                self.refresh()
            except Exception:  # logged; the next round tries again
                log.exception("cannot read the clients table")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
