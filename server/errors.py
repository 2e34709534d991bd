"""How the service layer fails: :class:`ServiceError`, and the two places lower layers' exceptions
become one (an unreachable database, a recognition worker's refusal).

Both protocol handlers turn a ServiceError into their own error reply; nothing below the service
layer (db/, server/recognition/) knows it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from db.connection import UNAVAILABLE_ERRORS, is_conflict
from protocol.errors import ErrorCode
from server.recognition.images import ImageDecodeError
from server.recognition.pool import QueueFullError, WorkerCrashedError, WorkerTimeoutError

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A request that cannot be served; ``code`` is one of :class:`protocol.errors.ErrorCode`."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def unavailable_error(exc: BaseException) -> ServiceError:
    """The db_unavailable reply for a database error (logged): every client retries it, and the
    connection to the client stays open. A write conflict that outlasted its retries says so."""
    if is_conflict(exc):
        log.warning("write conflict, given up: %s", exc)
        return ServiceError(ErrorCode.DB_UNAVAILABLE, "the database is busy with concurrent writes; try again")
    log.warning("database unavailable: %s", exc)
    return ServiceError(ErrorCode.DB_UNAVAILABLE, "the attendance database is not reachable")


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A database that is unreachable or goes away inside the block becomes
    ServiceError(db_unavailable) (its transaction was rolled back: nothing half-written)."""
    try:
        yield
    except UNAVAILABLE_ERRORS as exc:
        raise unavailable_error(exc) from exc


@contextlib.contextmanager
def recognition_errors() -> Iterator[None]:
    """Turn the recognition pool's exceptions into ServiceError: bad_image (not a usable image,
    or beyond the decoding budget or the faces per image), internal (a worker died), timeout (a
    job overran: its worker was replaced), rate_limited (the client's queue of jobs is full),
    busy (everyone's is), bad_request (a box outside the image, min_face out of range). Each
    refusal of a limit is logged."""
    try:
        yield
    except ImageDecodeError as exc:  # (a ValueError: caught first)
        raise ServiceError(ErrorCode.BAD_IMAGE, str(exc)) from exc
    except WorkerCrashedError as exc:
        raise ServiceError(ErrorCode.INTERNAL, str(exc)) from exc
    except WorkerTimeoutError as exc:
        raise ServiceError(ErrorCode.TIMEOUT, str(exc)) from exc
    except QueueFullError as exc:
        log.warning("recognition queue full: %s", exc)
        raise ServiceError(ErrorCode.RATE_LIMITED if exc.per_client else ErrorCode.BUSY, str(exc)) from exc
    except ValueError as exc:  # BoxOutsideImageError, or min_face out of range
        raise ServiceError(ErrorCode.BAD_REQUEST, str(exc)) from exc
