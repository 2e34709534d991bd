"""Checking client tokens (the framed protocol's ``hello``) against the ``clients`` table.

Every check asks the database, so a client revoked with ``attendance-db revoke-client`` is refused
on its next connection (and on an open connection within ``recheck_after`` seconds, see
:class:`server.handlers.FramedSession`). A token that checked out is remembered for
``stale_for`` seconds only for one case: the database does not answer. Then the remembered
answer is used, so that clients can reconnect while the database restarts (their marks still
fail with ``db_unavailable`` until it is back).
"""

from __future__ import annotations

import logging
import threading
import time

from db import clients
from db.connection import UNAVAILABLE_ERRORS, ConnectionPool, transaction
from protocol.errors import ErrorCode
from server.service import ServiceError

log = logging.getLogger(__name__)

DEFAULT_STALE_FOR = 600.0


class TokenChecker:
    def __init__(self, db: ConnectionPool, *, stale_for: float = DEFAULT_STALE_FOR, clock=time.monotonic):
        self.db = db
        self.stale_for = stale_for
        self._clock = clock
        self._known: dict[str, tuple[str, float]] = {}  # token hash -> (client name, checked at)
        self._lock = threading.Lock()

    def client_name(self, token: str) -> str:
        """The name of the active client holding ``token``.

        :raises ServiceError: ``unauthorized`` (unknown or revoked token), ``db_unavailable``
            (the database does not answer and the token was not checked recently).
        """
        key = clients.token_hash(token)
        try:
            with self.db.connection() as conn, transaction(conn) as cur:
                client = clients.client_for_token(cur, token)
        except UNAVAILABLE_ERRORS as exc:
            with self._lock:
                known = self._known.get(key)
            if known is not None and self._clock() - known[1] <= self.stale_for:
                log.warning("database unavailable (%s); client %s accepted from its last check", exc, known[0])
                return known[0]
            raise ServiceError(ErrorCode.DB_UNAVAILABLE, "the attendance database is not reachable") from exc
        if client is None or not client.active:
            with self._lock:
                self._known.pop(key, None)
            reason = "unknown client token" if client is None else f"the token of client {client.name} is revoked"
            raise ServiceError(ErrorCode.UNAUTHORIZED, reason)
        with self._lock:
            self._known[key] = (client.name, self._clock())
        return client.name
