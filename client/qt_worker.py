"""Work off the GUI thread, in the two ways the client needs (both Qt apps: desktop and watch).

- :func:`create_worker` runs one slow call (a server request, an enrolment photo check) on a
  thread pool and says how it ended with ``returned``, ``errored`` and ``finished``, like
  superqt's ``create_worker``. The signals are delivered on the GUI thread, so slots connected
  to them may touch widgets. A pool of one thread (:func:`serial_pool`) runs calls one at a
  time in the order they were started: what a connection that must not be shared needs.
- :class:`WorkerThread` keeps a long-lived worker QObject (a camera read on a timer, the mark
  outbox, the classroom watcher) on a QThread of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import QObject, QRunnable, Qt, QThread, QThreadPool, pyqtSignal

#: Workers started and not finished yet: kept referenced so Python does not collect them (and
#: their signals) while their call runs.
_RUNNING: set[FunctionWorker] = set()


class WorkerSignals(QObject):
    """The signals of one call; created on the GUI thread, so their slots run there."""

    returned = pyqtSignal(object)  # what the call returned
    errored = pyqtSignal(object)  # the exception it raised
    finished = pyqtSignal()  # after returned or errored


class FunctionWorker(QRunnable):
    """``function(*args, **kwargs)`` as a QRunnable; connect to its signals, then :meth:`start`."""

    def __init__(self, function: Callable[..., Any], *args: Any, **kwargs: Any):
        super().__init__()
        self.setAutoDelete(False)  # Python owns it (see _RUNNING)
        self._call = lambda: function(*args, **kwargs)
        self.signals = WorkerSignals()
        self.returned = self.signals.returned
        self.errored = self.signals.errored
        self.finished = self.signals.finished

    def start(self, pool: QThreadPool | None = None) -> FunctionWorker:
        """Run on ``pool`` (default: Qt's global pool)."""
        _RUNNING.add(self)
        self.finished.connect(lambda: _RUNNING.discard(self))  # connected last: runs last
        (pool or QThreadPool.globalInstance()).start(self)
        return self

    def run(self) -> None:
        try:
            result = self._call()
        except Exception as exc:  # noqa: BLE001 - handed to errored's slots
            self.errored.emit(exc)
        else:
            self.returned.emit(result)
        finally:
            self.finished.emit()


def create_worker(
    function: Callable[..., Any], *args: Any, _start_on: QThreadPool | None = None, **kwargs: Any
) -> FunctionWorker:
    """A worker calling ``function(*args, **kwargs)``; started at once when ``_start_on`` (a
    pool) is given, else when its ``start()`` is called (connect its signals first)."""
    worker = FunctionWorker(function, *args, **kwargs)
    if _start_on is not None:
        worker.start(_start_on)
    return worker


def serial_pool(parent: QObject | None = None) -> QThreadPool:
    """A pool of one thread: the calls started on it run one after another, in order."""
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    return pool


class WorkerThread:
    """A worker QObject on a QThread of its own; ``stop()`` ends both and waits.

    The worker's ``start`` slot (if any) runs when the thread starts, and its ``stop`` on the
    thread as it ends (its timers die where they were born); ``interrupt()`` (if any) is called
    first from the caller's thread, to end a blocking wait.
    """

    def __init__(self, worker: QObject, name: str):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        if hasattr(worker, "start"):
            self.thread.started.connect(worker.start)
        if hasattr(worker, "stop"):
            self.thread.finished.connect(worker.stop, Qt.DirectConnection)
        self.thread.start()

    def stop(self, wait_ms: int = 5000) -> bool:
        interrupt = getattr(self.worker, "interrupt", None)
        if interrupt is not None:
            interrupt()  # thread-safe: unblocks a socket wait
        self.thread.quit()
        return self.thread.wait(wait_ms)
