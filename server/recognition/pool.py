"""Worker processes that decode, detect and encode faces, for many server threads at once.

dlib holds the GIL for much of its work, so threads cannot run two recognitions at a time; each
worker process loads the models once and then serves requests. Only image bytes (or a file path)
go to a worker and only boxes and encodings come back.

Workers are forked by multiprocessing's fork server: the server is multi-threaded, and forking a
threaded process can leave the child with a lock held by a thread that does not exist there, so
the fork server, a process of its own started when the first pool starts, imports the recognition
code once and forks every worker from there. A worker then costs about 0.17 s of a core (it loads
the models) where a spawned one, importing numpy, OpenCV and dlib again, costs 0.35 s; so do the
workers started after a crash or an overrunning job. Workers see the server's environment
variables as they were when the fork server started, and its current ``sys.path`` and working
directory. They are spawned where there is no fork server, or no room for its socket's path
(:func:`_worker_context`).

    with RecognitionPool(2) as pool:
        faces = pool.analyze(jpeg_bytes)          # [DetectedFace(box, encoding), ...]
        photos = pool.encode_photos(paths)        # [PhotoEncoding(face_count, encoding), ...]
        frames = pool.encode_frames(jpegs)        # the largest face of each check-in frame

Requests are cut into jobs (one image, or a few faces of one) that wait in a :class:`FairQueue`:
one queue per client (named with :func:`on_behalf_of`), served in turn, so one client's backlog
delays another's request by at most one job per worker. The queue is bounded (per client and in
all). A job that runs longer than ``task_timeout`` seconds gets the workers replaced (the
overrunning one is killed; the other jobs under way are run again) and fails with
:class:`WorkerTimeoutError`; decoding an image has its own, smaller budget (``decode_timeout``,
enforced by an alarm in the worker, and ``max_jpeg_scans``).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np

from server.recognition import encoder as encoder_module
from server.recognition import faces, images, liveness, whole_room
from server.recognition.faces import Box, ModelsUnavailableError

log = logging.getLogger(__name__)

#: Seconds start() waits for every worker to import dlib and load the models (about 1-2 s each).
DEFAULT_START_TIMEOUT = 120.0

#: :meth:`RecognitionPool.analyze` encodes up to this many faces in the worker that found them;
#: more are shared out among all workers, so a group photo is encoded on every core. Sharing
#: costs a decoding of the image per job (~0.02 s per Mpx); one encoding costs ~0.012 s with the
#: numpy encoder (~0.075 s with ``--encoder dlib``): below about 8 faces of a 3 Mpx photo,
#: encoding them where they were found is as fast.
ENCODE_IN_PLACE_MAX = 8
#: Faces encoded by one job of :meth:`RecognitionPool.encode_boxes` (~0.2 s of a worker with
#: the numpy encoder): a request with many faces becomes several short jobs, which the fair queue
#: interleaves with other clients' jobs, and each job decodes the image once.
ENCODE_JOB_FACES = 16

#: Defaults of the cost budget (ServerConfig has them as settings, docs/deploy.md).
DEFAULT_MAX_FACES = 200  # faces encoded per image (recognize, identify boxes, tracks encoded): a lecture hall
DEFAULT_DECODE_TIMEOUT = 5.0  # seconds of decoding one image, in the worker
DEFAULT_TASK_TIMEOUT = 60.0  # seconds of one job before its worker is killed and replaced
DEFAULT_MAX_QUEUED = 512  # jobs waiting, all clients together
DEFAULT_MAX_QUEUED_PER_CLIENT = 64  # jobs waiting for one client

#: The client the current thread works for (:func:`on_behalf_of`); "" is the server itself
#: (start-up enrolment, the evaluation tool), whose jobs are not counted against the bounds.
_client: contextvars.ContextVar[str] = contextvars.ContextVar("recognition_client", default="")


@contextlib.contextmanager
def on_behalf_of(client: str) -> Iterator[None]:
    """Queue the recognition jobs this thread asks for in the block as ``client``'s."""
    token = _client.set(client)
    try:
        yield
    finally:
        _client.reset(token)


#: Liveness challenge frames are searched for a face on a copy at most this wide first: faces
#: from about 80 px in that copy (107 px in a 640-pixel frame), as a person at the PC shows.
LIVENESS_DETECT_MAX_SIDE = 480


class WorkerCrashedError(RuntimeError):
    """A worker process died during the request (the workers have been restarted)."""


class WorkerTimeoutError(RuntimeError):
    """A job ran longer than the pool's ``task_timeout``: its worker was killed and replaced."""


class QueueFullError(RuntimeError):
    """Too many jobs are waiting: the client's own (``per_client``) or everyone's."""

    def __init__(self, message: str, *, per_client: bool):
        super().__init__(message)
        self.per_client = per_client


class TooManyFacesError(images.ImageDecodeError):
    """An image holds more faces than the pool encodes per image (``max_faces``)."""


class BoxOutsideImageError(ValueError):
    """A face box given to :meth:`RecognitionPool.encode_boxes` has no pixel inside the image."""


@dataclass(frozen=True)
class DetectedFace:
    box: Box  # (top, right, bottom, left) in pixels of the decoded (upright) image
    encoding: np.ndarray  # (128,) float64


@dataclass(frozen=True)
class PhotoEncoding:
    """The result for one enrollment photo (or one check-in frame).

    face_count: faces found (0 when none, or when the file could not be read).
    encoding: (128,) float64 of the largest face, None when there is no face.
    error: why the file could not be used (unreadable, not an image), else None.
    box: the largest face's box, None when there is no face.
    """

    face_count: int
    encoding: np.ndarray | None
    error: str | None = None
    box: Box | None = None


@dataclass(frozen=True)
class LivenessFrame:
    """One frame of a liveness challenge: its largest face measured (eye aspect ratio, head
    pose: :class:`server.recognition.liveness.FaceMeasure`) and encoded, both None when there is
    no face; error: why the bytes could not be used as an image, else None."""

    measure: liveness.FaceMeasure | None
    encoding: np.ndarray | None
    error: str | None = None


@dataclass(frozen=True)
class PhotoViews:
    """One photo for the evaluation, its largest face encoded the three ways the server would:
    as a photo a 2019 client or ``recognize`` sends (``photo``), as a frame of a ``checkin``
    (``frame``: the largest face found first without upsampling), and as an enrolment photo
    (``enrolment``: mirrored). All None when there is no face; error: why the file could not be
    used, else None."""

    face_count: int
    photo: np.ndarray | None
    frame: np.ndarray | None
    enrolment: np.ndarray | None
    error: str | None = None


class RecognitionPool:
    """A fixed set of worker processes; its methods block and may be called from many threads."""

    def __init__(
        self,
        processes: int | None = None,
        *,
        detect_max_side: int | None = faces.DEFAULT_DETECT_MAX_SIDE,
        upsample: int = 1,
        max_pixels: int = images.DEFAULT_MAX_PIXELS,
        max_jpeg_scans: int = images.DEFAULT_MAX_JPEG_SCANS,
        max_faces: int = DEFAULT_MAX_FACES,
        decode_timeout: float = DEFAULT_DECODE_TIMEOUT,
        task_timeout: float = DEFAULT_TASK_TIMEOUT,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_queued_per_client: int = DEFAULT_MAX_QUEUED_PER_CLIENT,
        liveness_model: bool = False,
        encoder: str = faces.DEFAULT_ENCODER,
    ):
        """
        :param processes: worker processes (None: one per CPU core).
        :param detect_max_side, upsample: see :func:`server.recognition.faces.detect_faces`.
        :param max_pixels, max_jpeg_scans: see :func:`server.recognition.images.decode_image`.
        :param max_faces: an image with more faces is refused (:class:`TooManyFacesError`).
        :param decode_timeout: seconds a worker may spend decoding one image.
        :param task_timeout: seconds one job may take before its worker is replaced.
        :param max_queued, max_queued_per_client: bounds of the :class:`FairQueue`.
        :param liveness_model: the server takes liveness challenges: each worker loads the
            68-point landmark model (about 0.8 s and 100 MB) when the first challenge opens
            (:meth:`prepare_liveness`), not at start, which it would delay by as much.
        :param encoder: the face encoder of the workers, one of
            :data:`server.recognition.faces.ENCODERS` (the same encodings, not the same speed).
        """
        faces.check_encoder(encoder)
        self.processes = processes or os.cpu_count() or 1
        self.max_faces = max_faces
        self.task_timeout = task_timeout
        self.liveness_model = liveness_model
        self._settings = _Settings(
            detect_max_side,
            upsample,
            max_pixels,
            ENCODE_IN_PLACE_MAX if self.processes > 1 else None,
            max_jpeg_scans,
            max_faces,
            decode_timeout,
            encoder,
        )
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._warm_ups: list = []  # until start() has seen every worker ready (see start())
        self._liveness_prepared = False
        self._ready_by = 0.0
        self._queue = FairQueue(max_queued, max_queued_per_client)
        self._feeders: list[threading.Thread] = []
        self._killed: ProcessPoolExecutor | None = None  # replaced for a job's overrun (see _feed)
        self._replacing = False  # _replace is starting new workers

    def start(self, timeout: float = DEFAULT_START_TIMEOUT, *, wait: bool = True) -> RecognitionPool:
        """Start every worker and wait until each has loaded the models. Does nothing if started.

        With ``wait=False``, return as soon as the worker processes are launched, while they load
        the models (1-2 s): requests made meanwhile wait in the queue behind the loading, and a
        later ``start()`` waits until every worker is ready (or raises what went wrong). The
        server does its own start-up work (database, enrollment photos, gallery) in the meantime.

        :raises ModelsUnavailableError: the workers cannot load dlib or the models.
        :raises TimeoutError: the workers did not get ready within ``timeout`` seconds.
        """
        with self._lock:
            executor = self._executor
            if executor is None:
                context = _worker_context()
                # One warm-up task per worker, each waiting at this barrier until all workers hold
                # one: so every worker (not just the quickest) has loaded the models once they are
                # done. They are queued first, so any request waits behind them.
                barrier = context.Barrier(self.processes)
                executor = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(barrier, self._settings.encoder),
                )
                self._warm_ups = [executor.submit(_warm_up, timeout) for _ in range(self.processes)]
                self._ready_by = time.monotonic() + timeout + 5
                self._executor = executor
                self._start_feeders()
            warm_ups, ready_by = self._warm_ups, self._ready_by
        if not wait or not warm_ups:
            return self
        try:
            for future in warm_ups:
                future.result(timeout=max(0.0, ready_by - time.monotonic()))
        except BaseException:
            with self._lock:
                if self._executor is executor:
                    self._executor, self._warm_ups = None, []
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        with self._lock:
            if self._executor is executor:
                self._warm_ups = []  # every worker is ready
        return self

    def prepare_liveness(self) -> None:
        """Have the workers load the 68-point landmark model now, in the background (one job per
        worker, about 0.8 s each), once: called when a liveness challenge opens, so that its
        frames, seconds later, find it loaded. A worker that gets a liveness frame first (or was
        started again since) loads it then. Does nothing without ``liveness_model``."""
        with self._lock:
            if not self.liveness_model or self._liveness_prepared or self._executor is None:
                return
            self._liveness_prepared = True
        jobs = [_Job(_load_liveness_model, None, _PREPARING) for _ in range(self.processes)]
        try:
            self._queue.put_all(_PREPARING, jobs)
        except QueueFullError:  # busy: the frames' workers load it themselves
            log.info("the liveness model is loaded with the first frames (the queue is full)")

    def analyze(self, image_bytes: bytes) -> list[DetectedFace]:
        """Every face in an image: its box and encoding, in the order the detector found them.

        One worker decodes and detects; it also encodes when there are at most
        :data:`ENCODE_IN_PLACE_MAX` faces, else the faces are encoded on all workers at once.

        :raises ImageDecodeError: the bytes are not a usable image.
        """
        boxes, encodings = self._results(_analyze, [image_bytes])[0]
        if encodings is None:
            encodings = self.encode_boxes(image_bytes, boxes)
        return [DetectedFace(box, encoding) for box, encoding in zip(boxes, encodings)]

    def encode_photo(self, path: str | os.PathLike) -> PhotoEncoding:
        """The enrolment encoding of the largest face in an image file: the mean of the face's
        and its mirror image's (:data:`server.recognition.faces.ENROLMENT_MODEL`)."""
        return self._results(_encode_photo, [os.fspath(path)])[0]

    def encode_photos(
        self, paths: Sequence[str | os.PathLike], progress: Callable[[int], None] | None = None
    ) -> list[PhotoEncoding]:
        """:meth:`encode_photo` for many files, spread over all workers; results in input order.
        ``progress(done)`` is called in this thread each time one more photo is encoded."""
        return self._results(_encode_photo, [os.fspath(path) for path in paths], progress)

    def encode_enrolment(
        self, images_: Sequence[bytes], progress: Callable[[int], None] | None = None
    ) -> list[PhotoEncoding]:
        """:meth:`encode_photo` for images sent by a client (the ``enroll`` op); an image that
        cannot be decoded gets its ``error`` (the others are still encoded). ``progress``: as
        for :meth:`encode_photos`."""
        return self._results(_encode_enrolment_photo, list(images_), progress)

    def encode_frames(self, images_: Sequence[bytes]) -> list[PhotoEncoding]:
        """The largest face of each frame of a check-in (a photo of one person close to the
        camera: found first without upsampling, 4x faster); results in input order. A frame
        that cannot be decoded gets its ``error``.

        The frames are shared out among the workers in one job per worker, and each worker
        encodes the faces of its frames as one batch (:func:`faces.encode_face_chips`)."""
        size = max(1, math.ceil(len(images_) / self.processes))
        groups = [tuple(images_[start : start + size]) for start in range(0, len(images_), size)]
        return [frame for group in self._results(_encode_frame_group, groups) for frame in group]

    def analyze_liveness_frames(self, images_: Sequence[bytes], encode: Sequence[bool]) -> list[LivenessFrame]:
        """The largest face of each frame of a liveness challenge, measured, and encoded where
        ``encode`` says so (an encoding costs 10-30 times a measure); one frame per worker at a
        time; results in input order. A frame that cannot be decoded gets its ``error``."""
        return self._results(_analyze_liveness_frame, list(zip(images_, encode)))

    def encode_views(self, paths: Sequence[str | os.PathLike]) -> list[PhotoViews]:
        """:class:`PhotoViews` of many files (``attendance-eval``), spread over all workers."""
        return self._results(_encode_views, [os.fspath(path) for path in paths])

    def detect_whole_room(self, image_bytes: bytes, min_face: int = whole_room.DEFAULT_MIN_FACE) -> list[Box]:
        """Every face of a classroom picture down to ``min_face`` pixels wide, without encoding.

        The work is cut into parts (:mod:`server.recognition.whole_room`) that run on all workers
        at once; each worker decodes the image itself.

        :raises ImageDecodeError: the bytes are not a usable image.
        :raises ValueError: ``min_face`` is out of range.
        """
        whole_room.scale_for(1, 1, min_face)  # checks min_face before any work
        parts = whole_room.plan_parts(self.processes)
        found = self._results(_detect_part, [(image_bytes, part, min_face) for part in parts])
        return whole_room.merge_parts([box for boxes in found for box in boxes])

    def encode_boxes(self, image_bytes: bytes, boxes: Sequence[Box]) -> np.ndarray:
        """The encodings of the faces at these boxes (no detection), shape (len(boxes), 128).

        Many boxes are shared out among the workers (each decodes the image).

        :raises ImageDecodeError: the bytes are not a usable image.
        :raises BoxOutsideImageError: a box has no pixel inside the image.
        """
        boxes = [cast(Box, tuple(int(v) for v in box)) for box in boxes]
        if not boxes:
            return np.empty((0, faces.ENCODING_SIZE), dtype=np.float64)
        if len(boxes) > self.max_faces:
            raise TooManyFacesError(
                f"{len(boxes)} faces to encode in one image, more than the limit of {self.max_faces}"
            )
        size = min(ENCODE_JOB_FACES, math.ceil(len(boxes) / self.processes))
        chunks = [boxes[start : start + size] for start in range(0, len(boxes), size)]
        encodings = self._results(_encode_boxes, [(image_bytes, chunk) for chunk in chunks])
        return np.concatenate(encodings)

    def close(self) -> None:
        """Stop the workers (waiting for requests under way). The pool can be started again."""
        with self._lock:
            executor, self._executor = self._executor, None
            feeders, self._feeders = self._feeders, []
        self._queue.close(RuntimeError("the recognition pool is not started (call start())"))
        for feeder in feeders:
            feeder.join()
        self._queue = FairQueue(self._queue.max_jobs, self._queue.max_per_client)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return len(self._queue)

    def __enter__(self) -> RecognitionPool:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _results(self, function, arguments: list, progress: Callable[[int], None] | None = None) -> list:
        """Run ``function(settings, argument)`` in the workers for each argument; ``progress(done)``
        after each one finishes.

        Each argument is one job in the client's queue (see :func:`on_behalf_of`). A worker that
        dies (a crash in native code, the OOM killer) breaks the whole executor: the request gets
        :class:`WorkerCrashedError` and fresh workers are started for the next.

        :raises QueueFullError: the client (or everyone) has too many jobs waiting.
        """
        if self._executor is None and not self._replacing:  # (being replaced: the feeders wait)
            raise RuntimeError("the recognition pool is not started (call start())")
        client = _client.get()
        jobs = [_Job(function, argument, client) for argument in arguments]
        self._queue.put_all(client, jobs)
        futures = [job.future for job in jobs]
        try:
            if progress is not None:
                for done, _ in enumerate(as_completed(futures), 1):
                    progress(done)
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()  # the jobs not started yet, when one failed

    def _start_feeders(self) -> None:
        """One thread per worker, each handing the queue's next job to the executor and waiting
        for it (so each worker has at most one job, and the queue decides the order)."""
        if self._feeders:
            return
        self._feeders = [
            threading.Thread(target=self._feed, name=f"recognition-feeder-{i}", daemon=True)
            for i in range(self.processes)
        ]
        for feeder in self._feeders:
            feeder.start()

    def _feed(self) -> None:
        queue = self._queue
        while (job := queue.get()) is not None:
            if not job.started and not job.future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            job.started = True
            executor = self._executor
            for _ in range(100):  # new workers being started in place of broken ones (_replace)
                if executor is not None or queue.closed:
                    break
                time.sleep(0.05)
                executor = self._executor
            if executor is None:
                job.future.set_exception(RuntimeError("the recognition pool is not started (call start())"))
                continue
            if warm_ups := self._warm_ups:  # new workers loading the models: not the job's time
                wait_for(warm_ups, timeout=self._ready_by - time.monotonic())
            try:
                result = executor.submit(job.function, self._settings, job.argument).result(self.task_timeout)
            except FutureTimeout:
                log.warning(
                    "a recognition job of %s ran for more than %g s; replacing the workers",
                    job.client or "the server",
                    self.task_timeout,
                )
                job.future.set_exception(
                    WorkerTimeoutError(f"the image took more than {self.task_timeout:g} s of a recognition worker")
                )
                self._replace(executor, kill=True)
            except BrokenProcessPool as exc:
                if self._killed is executor and not job.retried:  # not this job's fault: run it again
                    job.retried = True
                    self._replace(executor, kill=False)
                    queue.put_front(job)
                    continue
                self._replace(executor, kill=False)
                crashed = WorkerCrashedError("a recognition worker stopped abruptly; workers restarted")
                crashed.__cause__ = exc
                job.future.set_exception(crashed)
            except BaseException as exc:  # noqa: BLE001 -- the job's own error (ImageDecodeError...) is the caller's
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)

    def _replace(self, broken: ProcessPoolExecutor, *, kill: bool) -> None:
        """Start new workers in place of ``broken``'s (once, whichever thread asks first);
        ``kill``: kill its processes first (a job overran)."""
        with self._lock:
            if self._executor is not broken:  # another thread replaced it already
                return
            self._executor = None
            self._replacing = True
            if kill:
                self._killed = broken
        if kill:
            # ProcessPoolExecutor cannot stop one task: kill its processes (the executor then
            # breaks, and the jobs under way in the other workers are run again).
            for process in list(getattr(broken, "_processes", {}).values()):
                with contextlib.suppress(OSError):
                    process.kill()
        else:
            log.error("a recognition worker died; starting new workers")
        broken.shutdown(wait=False, cancel_futures=True)
        try:
            if not self._queue.closed:
                self.start()
        except Exception:  # the next job sees an unstarted pool
            log.exception("cannot start new recognition workers")
        finally:
            self._replacing = False


@dataclass
class _Job:
    function: Callable
    argument: Any
    client: str
    future: Future = field(default_factory=Future)
    started: bool = False  # its future is running (set once, even when the job is run again)
    retried: bool = False


class FairQueue:
    """Jobs waiting for a worker, one FIFO per client, served in turn (round robin): a client
    with many jobs waiting delays another client's next job by at most one of its own.

    Each client waiting has a turn number; :meth:`get` serves the lowest (the oldest client
    among equals), and a served client's next job takes the turn after. A client that had
    nothing waiting joins at the turn being served: before every client with a backlog.

    At most ``max_per_client`` jobs of one client and ``max_jobs`` in all wait at once (the
    server's own jobs, client "", are not counted against the bounds); :meth:`put_all` refuses
    more with :class:`QueueFullError`.
    """

    def __init__(self, max_jobs: int, max_per_client: int):
        self.max_jobs = max_jobs
        self.max_per_client = max_per_client
        self._queues: dict[str, deque[_Job]] = {}
        self._turns: dict[str, tuple[int, int]] = {}  # client -> (turn, order of arrival)
        self._turn = 0  # the turn of the job served last
        self._arrivals = 0
        self._counted = 0  # jobs of clients other than ""
        self._condition = threading.Condition()
        self._closed: BaseException | None = None

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def __len__(self) -> int:
        with self._condition:
            return sum(len(queue) for queue in self._queues.values())

    def put_all(self, client: str, jobs: Sequence[_Job]) -> None:
        """Queue the jobs of one request, all or none."""
        if not jobs:
            return
        with self._condition:
            if self._closed is not None:
                raise RuntimeError("the recognition pool is not started (call start())")
            if client:
                mine = len(self._queues.get(client, ()))
                if mine + len(jobs) > self.max_per_client:
                    raise QueueFullError(
                        f"{mine} recognition jobs of this client are waiting already (the limit is "
                        f"{self.max_per_client}); wait for the replies",
                        per_client=True,
                    )
                if self._counted + len(jobs) > self.max_jobs:
                    raise QueueFullError(
                        f"{self._counted} recognition jobs are waiting (the limit is {self.max_jobs}); try again later",
                        per_client=False,
                    )
                self._counted += len(jobs)
            self._waiting(client).extend(jobs)
            self._condition.notify(len(jobs))

    def put_front(self, job: _Job) -> None:
        """Queue a job again, first of its client's (a job run again after the workers were
        replaced); not bounded."""
        with self._condition:
            if self._closed is not None:
                job.future.set_exception(self._closed)
                return
            if job.client:
                self._counted += 1
            self._waiting(job.client).appendleft(job)
            self._turns[job.client] = (self._turn, -1)  # first of all
            self._condition.notify()

    def _waiting(self, client: str) -> deque[_Job]:
        """The client's queue; a client with nothing waiting joins at the current turn."""
        if client not in self._queues:
            self._queues[client] = deque()
            self._arrivals += 1
            self._turns[client] = (self._turn, self._arrivals)
        return self._queues[client]

    def get(self) -> _Job | None:
        """The next job (the first of the client with the lowest turn), waiting for one; None
        once the queue is closed."""
        with self._condition:
            while not self._queues and self._closed is None:
                self._condition.wait()
            if self._closed is not None:
                return None
            client = min(self._turns, key=self._turns.__getitem__)
            queue = self._queues[client]
            job = queue.popleft()
            self._turn = self._turns[client][0]
            if queue:
                self._turns[client] = (self._turn + 1, self._turns[client][1])
            else:
                del self._queues[client], self._turns[client]
            if client:
                self._counted -= 1
            return job

    def close(self, error: BaseException) -> None:
        """Fail every waiting job with ``error``; :meth:`get` returns None from now on."""
        with self._condition:
            self._closed = error
            waiting = [job for queue in self._queues.values() for job in queue]
            self._queues.clear()
            self._turns.clear()
            self._counted = 0
            self._condition.notify_all()
        for job in waiting:
            if job.started or job.future.set_running_or_notify_cancel():
                job.future.set_exception(error)


@dataclass(frozen=True)
class _Settings:
    detect_max_side: int | None
    upsample: int
    max_pixels: int
    encode_in_place_max: int | None  # None: always encode in the detecting worker
    max_jpeg_scans: int = images.DEFAULT_MAX_JPEG_SCANS
    max_faces: int = DEFAULT_MAX_FACES
    decode_timeout: float = DEFAULT_DECODE_TIMEOUT
    encoder: str = faces.DEFAULT_ENCODER  # faces.ENCODERS


#: What the fork server imports before it forks workers (see the module's docstring). The models
#: are not among them: each worker loads them, so that it finds them where its ``sys.path`` says.
_FORK_SERVER_PRELOAD = [__name__, "dlib"]


#: The longest path of a Unix socket, its final NUL included (Linux's ``sun_path``).
_SOCKET_PATH_MAX = 108
#: The fork server listens on ``$TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX`` (multiprocessing.util).
_FORK_SERVER_SOCKET = "/pymp-XXXXXXXX/listener-XXXXXXXX"


def _worker_context() -> multiprocessing.context.BaseContext:
    """The fork server's multiprocessing context, or spawn's where there is no fork server
    (Windows) or where its socket's path would be too long: Python 3.11 does not choose a shorter
    folder then (CPython issue 132124) and the workers could not start at all. The preload takes
    effect when the fork server starts (once per process)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    if len(tempfile.gettempdir() + _FORK_SERVER_SOCKET) >= _SOCKET_PATH_MAX:
        log.info(
            "recognition workers are spawned: the temporary folder's path is too long for the fork server's socket"
        )
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_FORK_SERVER_PRELOAD)
    return context


# -- in the worker processes ------------------------------------------------------------------

_barrier = None
_load_error: ModelsUnavailableError | None = None


def _init_worker(barrier, encoder: str = faces.DEFAULT_ENCODER) -> None:
    """Load the models once per worker. A failure is kept and raised by every task, with its message
    (an exception in an initializer would only say "the process pool is broken")."""
    global _barrier, _load_error
    # Ctrl-C in a terminal reaches the whole process group: let the server stop its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_the_server()
    # One worker per core already: neither numpy's OpenBLAS (the numpy encoder's matrix products)
    # nor a dlib built with OpenBLAS (make fast-dlib) may start a BLAS thread per core in every
    # worker. numpy is imported by now (unpickling this function imported this module), so its
    # OpenBLAS is told directly; the variable is read by dlib's, imported by load_models.
    encoder_module.limit_blas_threads(1)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _barrier = barrier
    try:
        faces.load_models(encoder)
    except ModelsUnavailableError as exc:
        _load_error = exc


def _exit_with_the_server() -> None:
    """End this worker as soon as the server process is gone, however it went (SIGKILL, a crash,
    a SIGTERM before its handler was set): else the worker waits for tasks forever, holding its
    models (~150 MiB). A daemon thread waits on the sentinel multiprocessing keeps of the parent."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not a worker (the pool's functions called in-process)
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-the-server", daemon=True).start()


#: The queue's client name of the jobs of :meth:`RecognitionPool.prepare_liveness`.
_PREPARING = "(liveness model)"


def _load_liveness_model(settings: _Settings, _argument: None) -> None:
    if _load_error is not None:
        raise _load_error
    liveness.load_landmark_model()


def _warm_up(timeout: float) -> int:
    assert _barrier is not None  # set in each worker by its initializer
    try:
        _barrier.wait(timeout)
    except threading.BrokenBarrierError:
        raise TimeoutError(f"the recognition workers did not all start within {timeout:g} s") from None
    if _load_error is not None:
        raise _load_error
    return os.getpid()


class _DecodeTimeout(BaseException):
    """Raised by the alarm; a BaseException, so that no ``except Exception`` on the way (Pillow's,
    images.py's) takes it for a broken image."""


def _on_alarm(signum, frame):
    raise _DecodeTimeout


def _decode(settings: _Settings, image_bytes: bytes) -> np.ndarray:
    """:func:`images.decode_image` within the decoding budget: ``max_jpeg_scans``, and
    ``decode_timeout`` seconds (an alarm; the worker's main thread runs the task)."""
    if settings.decode_timeout <= 0 or threading.current_thread() is not threading.main_thread():
        return images.decode_image(image_bytes, max_pixels=settings.max_pixels, max_jpeg_scans=settings.max_jpeg_scans)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, settings.decode_timeout)
    try:
        return images.decode_image(image_bytes, max_pixels=settings.max_pixels, max_jpeg_scans=settings.max_jpeg_scans)
    except _DecodeTimeout:
        raise images.ImageDecodeError(
            f"image of {len(image_bytes)} bytes: decoding took more than {settings.decode_timeout:g} s; "
            f"the server does not decode images this costly"
        ) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _analyze(settings: _Settings, image_bytes: bytes) -> tuple[list[Box], np.ndarray | None]:
    """(boxes, their encodings), or (boxes, None) when there are too many faces to encode here."""
    if _load_error is not None:
        raise _load_error
    image = _decode(settings, image_bytes)
    boxes = _detect(settings, image)
    if len(boxes) > settings.max_faces:
        raise TooManyFacesError(f"{len(boxes)} faces in the image, more than the limit of {settings.max_faces}")
    if settings.encode_in_place_max is not None and len(boxes) > settings.encode_in_place_max:
        return boxes, None
    return boxes, faces.encode_faces(image, boxes, encoder=settings.encoder)


def _encode_photo(settings: _Settings, path: str) -> PhotoEncoding:
    if _load_error is not None:
        raise _load_error
    try:
        image = images.load_image_file(path, max_pixels=settings.max_pixels)
    except (OSError, images.ImageDecodeError) as exc:
        return PhotoEncoding(0, None, str(exc))
    return _largest_face(settings, image, _detect(settings, image), mirrored=True)


def _encode_enrolment_photo(settings: _Settings, image_bytes: bytes) -> PhotoEncoding:
    """An enrolment photo sent by a client: full detection, the largest face mirrored."""
    if _load_error is not None:
        raise _load_error
    try:
        image = _decode(settings, image_bytes)
    except images.ImageDecodeError as exc:
        return PhotoEncoding(0, None, str(exc))
    return _largest_face(settings, image, _detect(settings, image), mirrored=True)


def _encode_frame_group(settings: _Settings, images_: tuple[bytes, ...]) -> list[PhotoEncoding]:
    """:meth:`RecognitionPool.encode_frames` for some of the frames: each decoded and its faces
    found, then the largest face of every frame encoded in one batch."""
    if _load_error is not None:
        raise _load_error
    found: list[PhotoEncoding] = []
    chips = []
    for image_bytes in images_:
        try:
            image = _decode(settings, image_bytes)
        except images.ImageDecodeError as exc:
            found.append(PhotoEncoding(0, None, str(exc)))
            continue
        boxes = _detect_large_faces_first(settings, image)
        box = faces.largest_box(boxes)
        found.append(PhotoEncoding(len(boxes), None, box=box))
        if box is not None:
            chips.append(faces.face_chips(image, [box])[0])
    if not chips:
        return found
    encodings = iter(faces.encode_face_chips(np.stack(chips), encoder=settings.encoder))
    return [replace(frame, encoding=next(encodings)) if frame.box is not None else frame for frame in found]


def _analyze_liveness_frame(settings: _Settings, task: tuple[bytes, bool]) -> LivenessFrame:
    if _load_error is not None:
        raise _load_error
    image_bytes, encode = task
    try:
        image = images.decode_image(image_bytes, max_pixels=settings.max_pixels)
    except images.ImageDecodeError as exc:
        return LivenessFrame(None, None, str(exc))
    # The face of a check-in is close to the camera: found on a copy of at most 480 pixels first
    # (half the cost of the usual 800), as every other check-in frame otherwise.
    box = faces.largest_box(faces.detect_faces(image, detect_max_side=LIVENESS_DETECT_MAX_SIDE, upsample=0))
    if box is None:
        box = faces.largest_box(_detect_large_faces_first(settings, image))
    if box is None:
        return LivenessFrame(None, None)
    encoding = faces.encode_faces(image, [box], encoder=settings.encoder)[0] if encode else None
    return LivenessFrame(liveness.measure_face(image, box), encoding)


def _encode_views(settings: _Settings, path: str) -> PhotoViews:
    if _load_error is not None:
        raise _load_error
    try:
        image = images.load_image_file(path, max_pixels=settings.max_pixels)
    except (OSError, images.ImageDecodeError) as exc:
        return PhotoViews(0, None, None, None, str(exc))
    boxes = _detect(settings, image)
    if not boxes:
        return PhotoViews(0, None, None, None)
    box = faces.largest_box(boxes)
    assert box is not None  # boxes is not empty
    photo, enrolment = faces.encode_face_views(image, box, encoder=settings.encoder)
    frame_box = faces.largest_box(_detect_large_faces_first(settings, image))
    assert frame_box is not None  # it finds at least the faces _detect found
    frame = photo if frame_box == box else faces.encode_faces(image, [frame_box], encoder=settings.encoder)[0]
    return PhotoViews(len(boxes), photo, frame, enrolment)


def _largest_face(settings: _Settings, image: np.ndarray, boxes: list[Box], *, mirrored: bool) -> PhotoEncoding:
    if not boxes:
        return PhotoEncoding(0, None)
    box = faces.largest_box(boxes)
    assert box is not None  # boxes is not empty
    encoding = faces.encode_faces(image, [box], mirrored=mirrored, encoder=settings.encoder)[0]
    return PhotoEncoding(len(boxes), encoding, box=box)


def _detect(settings: _Settings, image: np.ndarray) -> list[Box]:
    return faces.detect_faces(image, detect_max_side=settings.detect_max_side, upsample=settings.upsample)


def _detect_large_faces_first(settings: _Settings, image: np.ndarray) -> list[Box]:
    """The faces of a check-in frame (one person close to the camera): first without
    upsampling (faces from ~80 px wide in the detection copy, 4x faster), then, when that finds
    none, as :func:`_detect` does. The boxes differ a little from :func:`_detect`'s (measured on
    the Korean sample photos: about 0.4 point fewer right check-ins at the same false accepts)."""
    boxes = faces.detect_faces(image, detect_max_side=settings.detect_max_side, upsample=0)
    if boxes or settings.upsample == 0:
        return boxes
    return _detect(settings, image)


def _detect_part(settings: _Settings, task: tuple) -> list[Box]:
    if _load_error is not None:
        raise _load_error
    image_bytes, part, min_face = task
    image = _decode(settings, image_bytes)
    return whole_room.detect_part(image, part, min_face)


def _encode_boxes(settings: _Settings, task: tuple) -> np.ndarray:
    if _load_error is not None:
        raise _load_error
    image_bytes, boxes = task
    image = _decode(settings, image_bytes)
    height, width = image.shape[:2]
    clipped = [faces.clip_box(box, height, width) for box in boxes]
    for box, inside in zip(boxes, clipped):
        if faces.box_area(inside) == 0:
            raise BoxOutsideImageError(f"face box {box} has no pixel inside the {width}x{height} image")
    return faces.encode_faces(image, clipped, encoder=settings.encoder)
