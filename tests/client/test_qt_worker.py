"""client.qt_worker: a call off the GUI thread says how it ended on the GUI thread; a one-thread
pool runs its calls one at a time, in order."""

from __future__ import annotations

import threading
import time

from PyQt5.QtCore import QThread

from client.qt_worker import create_worker, serial_pool


def test_returned_then_finished_on_the_gui_thread(qtbot):
    gui = QThread.currentThread()
    seen = []
    worker = create_worker(lambda a, b=0: (threading.current_thread().name, a + b), 2, b=3)
    worker.returned.connect(lambda value: seen.append(("returned", value, QThread.currentThread() is gui)))
    worker.errored.connect(lambda exc: seen.append(("errored", exc)))
    worker.finished.connect(lambda: seen.append(("finished", QThread.currentThread() is gui)))
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    (kind, (thread_name, total), on_gui), finished = seen
    assert (kind, total, on_gui) == ("returned", 5, True)
    assert thread_name != threading.main_thread().name  # the call ran on a pool thread
    assert finished == ("finished", True)


def test_an_exception_is_errored_not_raised(qtbot):
    def fail():
        raise ConnectionRefusedError("nothing listens")

    errors, returned = [], []
    worker = create_worker(fail)
    worker.errored.connect(errors.append)
    worker.returned.connect(returned.append)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        worker.start()
    assert returned == [] and len(errors) == 1
    assert isinstance(errors[0], ConnectionRefusedError) and str(errors[0]) == "nothing listens"


def test_a_serial_pool_runs_calls_one_at_a_time_in_order(qtbot):
    pool = serial_pool()
    running, overlaps, order, results = [0], [], [], []

    def call(n: int) -> int:
        running[0] += 1
        overlaps.append(running[0])
        time.sleep(0.02)
        order.append(n)
        running[0] -= 1
        return n

    workers = [create_worker(call, n) for n in range(6)]
    for worker in workers:
        worker.returned.connect(results.append)
    with qtbot.waitSignal(workers[-1].finished, timeout=5000):
        for worker in workers:
            worker.start(pool)
    assert order == list(range(6)) and results == list(range(6))
    assert max(overlaps) == 1
    assert pool.waitForDone(1000)


def test_started_at_creation_when_given_a_pool(qtbot):
    pool = serial_pool()
    done = []
    create_worker(done.append, "configured", _start_on=pool)  # fire and forget, as ServerCalls.configure
    qtbot.waitUntil(lambda: done == ["configured"], timeout=5000)
