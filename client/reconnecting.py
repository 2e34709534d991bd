"""A connection to the server that is opened on first use and again after the server closed it.

The server closes a connection that stays silent for its idle timeout (10 s by default): the
desktop's screens and a classroom camera (one sample a minute) are silent longer than that. Every
request they send is safe to repeat (marks and batches are stored once, detect/identify change
nothing, a presence sample is stored once per client and time, closing a session twice writes
the same statuses), so a request that fails on a connection that had gone stale is sent once
more on a new one. A failure on a fresh connection, or a timeout, is not retried: the server is
down or slow, and sending again would only double the wait.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from client.connection import FramedClient, ServerError
from protocol.errors import ProtocolError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds to wait for the server to accept a connection (a request waits ``timeout``).
CONNECT_TIMEOUT = 5.0


class ReconnectingClient:
    """:class:`FramedClient` requests (``client.roster(lecture)``, ``client.detect(jpeg)``...)
    over a connection made when needed; ``call(fn)`` runs ``fn(framed_client)`` the same way.

    ``token``: said in a ``hello`` on each new connection. ``ssl_context``: speak TLS.
    Raises what FramedClient raises (ServerError, OSError, ProtocolError). Use it from one
    thread at a time; :meth:`interrupt` alone may be called from any thread.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.host, self.port = host, port
        self.token = token  # from `attendance-db add-client`
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.ssl_context = ssl_context
        self._client: FramedClient | None = None
        self._lock = threading.Lock()  # guards _client and _closed against interrupt()
        self._closed = False
        self.connections_opened = 0  # how many times it connected (a test counts reconnections)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def configure(self, host: str, port: int, token: str | None, ssl_context: ssl.SSLContext | None = None) -> None:
        """Use another server, token or TLS context (None: plain TCP) from the next request on
        (the settings changed)."""
        if (host, port, token, ssl_context) != (self.host, self.port, self.token, self.ssl_context):
            self.close()
            self.host, self.port, self.token, self.ssl_context = host, port, token, ssl_context

    def open(self) -> ReconnectingClient:
        """Connect now (to fail early, e.g. on a wrong address or token)."""
        self._connect()
        return self

    def __enter__(self) -> ReconnectingClient:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, request: Callable[[FramedClient], T]) -> T:
        """``request(client)`` on the open connection, or once more on a new one when the open
        one turns out to be closed."""
        for attempt in range(2):
            reused = self._client is not None
            client = self._connect()
            try:
                return request(client)
            except ServerError:
                raise
            except TimeoutError:
                self.close()
                raise
            except (OSError, ProtocolError):
                self.close()
                if not reused or attempt or self._closed:
                    raise
                log.debug("connection to %s went stale; reconnecting", self.address)
        raise AssertionError("unreachable")

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """Every request method of FramedClient (``roster``, ``mark``, ``detect``...), sent
        through :meth:`call`."""
        method = getattr(FramedClient, name, None)
        if name.startswith("_") or name in ("call", "close", "next_request_id") or not callable(method):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return lambda *args, **kwargs: self.call(lambda client: method(client, *args, **kwargs))

    def _connect(self) -> FramedClient:
        if self._closed:
            raise ConnectionAbortedError("the app is closing")
        if self._client is not None:
            return self._client
        client = FramedClient(self.host, self.port, timeout=self.connect_timeout, ssl_context=self.ssl_context)
        self.connections_opened += 1
        client.sock.settimeout(self.timeout)
        with self._lock:
            if self._closed:
                client.close()
                raise ConnectionAbortedError("the app is closing")
            self._client = client  # from here on, interrupt() can end a waiting hello
        if self.token:
            try:
                client.client_name = client.hello(self.token).client_name
            except BaseException:
                self.close()
                raise
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except OSError:
                pass

    def interrupt(self) -> None:
        """From any thread: end a call that is waiting for the server, and refuse new ones
        (used when the app closes)."""
        with self._lock:
            self._closed = True
            client = self._client
        if client is not None:
            try:
                client.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
