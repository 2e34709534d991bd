"""Connecting to MySQL/MariaDB from an ``ATTENDANCE_DB_URL`` and the one transaction helper."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import quote, unquote, urlsplit

import pymysql
import pymysql.cursors

T = TypeVar("T")
_log = logging.getLogger(__name__)

DEFAULT_DB_URL = "mysql://root@127.0.0.1:3306/attendance"
DB_URL_ENV = "ATTENDANCE_DB_URL"

#: Errors that mean "the database is not reachable right now" (as opposed to a bad query).
UNAVAILABLE_ERRORS = (pymysql.err.OperationalError, pymysql.err.InterfaceError, ConnectionError)

#: MySQL error codes (raised as OperationalError) meaning "this transaction lost to a concurrent
#: one and was rolled back; run it again": deadlock (1213, also Galera's certification failure),
#: lock wait timeout (1205), Group Replication's certification failure (3101). The connection
#: itself is fine.
CONFLICT_ERROR_CODES = frozenset({1205, 1213, 3101})


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is a write conflict (see :data:`CONFLICT_ERROR_CODES`), not an outage."""
    return isinstance(exc, pymysql.err.OperationalError) and bool(exc.args) and exc.args[0] in CONFLICT_ERROR_CODES


def retry_on_conflict(work: Callable[[], T], attempts: int = 3) -> T:
    """``work()``, one whole transaction, called again (up to ``attempts`` calls in all) while it
    raises a write conflict (:func:`is_conflict`): the database rolled that transaction back whole,
    so running it again is safe. The last conflict, and any other error, is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except pymysql.err.OperationalError as exc:
            if not is_conflict(exc) or attempt == attempts:
                raise
            _log.info("write conflict (attempt %d of %d), running the transaction again: %s", attempt, attempts, exc)
            time.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")


#: Hints for the MySQL errors a newcomer meets first.
_ERROR_HINTS = {
    1049: "create it with: attendance-db --db-url URL init",  # unknown database
    1146: "create the tables with: attendance-db --db-url URL init",  # table doesn't exist
}


def describe_error(exc: BaseException) -> str:
    """The server's message of a pymysql error (without its code), plus a hint when we have one."""
    if isinstance(exc, DatabaseConnectError):
        return str(exc)  # one line already, hint included
    args = exc.args
    if len(args) == 2 and isinstance(args[0], int):
        code, message = args
        hint = _ERROR_HINTS.get(code)
        return f"{message} ({hint})" if hint else str(message)
    return str(exc) or type(exc).__name__


def hide_password(message: str, raw_url: str) -> str:
    """The message with the URL's password (if any) replaced by ***."""
    try:
        password = urlsplit(raw_url).password
    except ValueError:
        password = None
    return message.replace(password, "***") if password else message


#: MySQL error codes of a refused login: access denied (1045), to this database (1044).
_LOGIN_ERROR_CODES = frozenset({1044, 1045})
_UNKNOWN_DATABASE = 1049


class DatabaseConnectError(pymysql.err.OperationalError):
    """Connecting failed; ``str()`` is one line saying where, as whom and why, never the password.

    An OperationalError, so code that treats :data:`UNAVAILABLE_ERRORS` as "the database is not
    reachable now" (the server's pool, the services) goes on working; ``args[0]`` is the MySQL
    error code (2003 when nothing answers).
    """

    def __str__(self) -> str:
        return self.args[1]


def connect_error(url: DatabaseUrl, exc: BaseException) -> DatabaseConnectError:
    """The one-line :class:`DatabaseConnectError` for an error pymysql raised while connecting:
    ``cannot connect to MySQL at HOST:PORT: <reason>``, ``cannot log in to MySQL at HOST:PORT as
    USER: ...`` or ``database X does not exist on HOST:PORT; ...``."""
    where = url.unix_socket or f"{url.host}:{url.port}"
    args = exc.args if isinstance(exc, pymysql.err.MySQLError) else ()
    code, message = args if len(args) == 2 and isinstance(args[0], int) else (2003, str(exc))
    message = str(message)
    if code in _LOGIN_ERROR_CODES:
        text = f"cannot log in to MySQL at {where} as {url.user}: {message}"
    elif code == _UNKNOWN_DATABASE:
        text = f"database {url.database} does not exist on {where}; create it with: attendance-db --db-url URL init"
    else:
        # pymysql wraps a socket error as "Can't connect to MySQL server on 'host' ([Errno 111]
        # Connection refused)": keep only the socket's reason.
        original = getattr(exc, "original_exception", None) or (exc if isinstance(exc, OSError) else None)
        if isinstance(original, OSError):
            message = original.strerror or str(original) or type(original).__name__
        text = f"cannot connect to MySQL at {where}: {message}"
    return DatabaseConnectError(code, " ".join(text.split()))


class DatabaseUrlError(ValueError):
    """The database URL is not of the form mysql://user[:password]@host[:port]/database."""


@dataclass(frozen=True)
class DatabaseUrl:
    user: str
    password: str
    host: str
    port: int
    database: str
    unix_socket: str | None = None

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        """Parse ``mysql://user:password@host:port/database``.

        A ``?unix_socket=/path`` query selects a Unix socket instead of host and port.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "mariadb", "mysql+pymysql"):
            raise DatabaseUrlError(f"database URL must start with mysql://, got {url!r}")
        database = parts.path.lstrip("/")
        if not database or "/" in database:
            raise DatabaseUrlError(f"database URL must name one database: {url!r}")
        socket_path = None
        for item in filter(None, parts.query.split("&")):
            key, _, value = item.partition("=")
            if key != "unix_socket":
                raise DatabaseUrlError(f"unknown database URL option {key!r}")
            socket_path = unquote(value)
        try:
            port = parts.port or 3306
        except ValueError as exc:
            raise DatabaseUrlError(f"bad port in database URL {url!r}") from exc
        return cls(
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            host=parts.hostname or "127.0.0.1",
            port=port,
            database=unquote(database),
            unix_socket=socket_path,
        )

    def with_database(self, database: str) -> DatabaseUrl:
        return DatabaseUrl(self.user, self.password, self.host, self.port, database, self.unix_socket)

    def to_url(self) -> str:
        """The full URL, password included (for handing to a child process, never for logs)."""
        auth = quote(self.user, safe="") + (":" + quote(self.password, safe="") if self.password else "")
        query = f"?unix_socket={quote(self.unix_socket)}" if self.unix_socket else ""
        return f"mysql://{auth}@{self.host}:{self.port}/{quote(self.database, safe='')}{query}"

    def __str__(self) -> str:  # never shows the password
        where = self.unix_socket or f"{self.host}:{self.port}"
        return f"mysql://{self.user}@{where}/{self.database}"


def url_from_env() -> str:
    return os.environ.get(DB_URL_ENV, DEFAULT_DB_URL)


def connect(url: DatabaseUrl | str, *, database: bool = True, timeout: float = 5.0) -> pymysql.connections.Connection:
    """Open a connection (autocommit off, utf8mb4, dict rows off).

    ``database=False`` connects to the server without selecting the database, for creating it.

    :raises DatabaseConnectError: nothing answers, the login or the database is refused.
    """
    if isinstance(url, str):
        url = DatabaseUrl.parse(url)
    try:
        return _connect(url, database, timeout)
    except (pymysql.err.MySQLError, OSError) as exc:
        raise connect_error(url, exc) from exc


class _Connection(pymysql.connections.Connection):
    """PyMySQL's connection, with one TLS context per process instead of one per connection.

    Given no TLS option, PyMySQL uses TLS when the server offers it, without verifying the
    certificate (MySQL's "preferred" mode), and builds that context for every connection:
    building it loads the system's CA certificates, about 38 ms of CPU against 1 ms for the rest
    of connecting to a local server. A context that verifies nothing is the same for every
    connection, so the first one is kept. If a PyMySQL release renames the method, this override
    is not called and connecting only costs the CA loading again.
    """

    def _create_ssl_ctx(self, sslp: object) -> ssl.SSLContext:
        global _preferred_tls
        create = super()._create_ssl_ctx  # type: ignore[misc]  # private: not in PyMySQL's stubs
        if sslp != {}:  # TLS options were given: PyMySQL's own context for them
            return create(sslp)
        with _preferred_tls_lock:
            if _preferred_tls is None:
                _preferred_tls = create(sslp)
            return _preferred_tls


_preferred_tls: ssl.SSLContext | None = None
_preferred_tls_lock = threading.Lock()


def _connect(url: DatabaseUrl, database: bool, timeout: float) -> pymysql.connections.Connection:
    return _Connection(
        host=url.host,
        port=url.port,
        unix_socket=url.unix_socket,
        user=url.user,
        password=url.password,
        database=url.database if database else None,
        charset="utf8mb4",
        autocommit=False,
        connect_timeout=timeout,
        read_timeout=30,
        write_timeout=30,
    )


@contextlib.contextmanager
def transaction(conn: pymysql.connections.Connection) -> Iterator[pymysql.cursors.Cursor]:
    """Run a block in one transaction: commit when it ends normally, roll back when it raises.

    Yields a cursor. Query functions in ``db`` take a cursor (or connection) and never commit.
    """
    cursor = conn.cursor()
    try:
        yield cursor
        conn.commit()
    except BaseException:
        with contextlib.suppress(*UNAVAILABLE_ERRORS):
            conn.rollback()
        raise
    finally:
        with contextlib.suppress(Exception):
            cursor.close()


class ConnectionPool:
    """A few open connections shared by server threads; a broken one is dropped, not reused.

    ``with pool.connection() as conn:`` lends a connection. When the block raises one of
    :data:`UNAVAILABLE_ERRORS` the connection is closed and forgotten, so the next request opens a
    new one: the server reconnects by itself once the database is back.
    """

    def __init__(
        self,
        url: DatabaseUrl | str,
        *,
        max_idle: int = 8,
        timeout: float = 5.0,
        time_zone: Callable[[], str] | None = None,
    ):
        """``time_zone``: the MySQL ``time_zone`` every lent connection's session has, asked
        at each lending (a UTC offset such as ``+09:00`` changes with daylight saving time);
        set again only when it changed (db/campus_clock.py). None: the server's default."""
        self.url = DatabaseUrl.parse(url) if isinstance(url, str) else url
        self.max_idle = max_idle
        self.timeout = timeout
        self.time_zone = time_zone
        self._idle: list[pymysql.connections.Connection] = []
        self._zones: weakref.WeakKeyDictionary[pymysql.connections.Connection, str] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self) -> Iterator[pymysql.connections.Connection]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is not None:
            try:
                conn.ping(reconnect=False)  # an idle connection may have died with the server
            except UNAVAILABLE_ERRORS:
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
        if conn is None:
            conn = connect(self.url, timeout=self.timeout)
        try:
            self._set_time_zone(conn)
            yield conn
        except UNAVAILABLE_ERRORS as exc:
            if is_conflict(exc):  # the transaction lost a conflict; the connection is fine
                self._give_back(conn)
                raise
            with contextlib.suppress(Exception):
                conn.close()
            raise
        except BaseException:
            self._give_back(conn)
            raise
        else:
            self._give_back(conn)

    def _set_time_zone(self, conn: pymysql.connections.Connection) -> None:
        if self.time_zone is None:
            return
        zone = self.time_zone()
        if self._zones.get(conn) != zone:
            with conn.cursor() as cur:
                cur.execute("SET time_zone = %s", (zone,))
            self._zones[conn] = zone

    def _give_back(self, conn: pymysql.connections.Connection) -> None:
        if not conn.open:
            return
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with contextlib.suppress(Exception):
                conn.close()


def run_in_transaction(url: DatabaseUrl | str, work: Callable[[pymysql.cursors.Cursor], T]) -> T:
    """Open a connection, run ``work(cursor)`` in one transaction, close the connection.

    For scripts, tests and benchmarks; the server keeps its connections in a ConnectionPool.
    """
    conn = connect(url)
    try:
        with transaction(conn) as cur:
            return work(cur)
    finally:
        conn.close()
