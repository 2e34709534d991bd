"""Worker processes that decode, detect and encode faces, for many server threads at once.

dlib holds the GIL for much of its work, so threads cannot run two recognitions at a time; each
worker process loads the models once and then serves requests. Only image bytes (or a file path)
go to a worker and only boxes and encodings come back.

Workers are started with "spawn": the server is multi-threaded, and forking a threaded process
can leave the child with a lock held by a thread that does not exist there.

    with RecognitionPool(2) as pool:
        faces = pool.analyze(jpeg_bytes)          # [DetectedFace(box, encoding), ...]
        photos = pool.encode_photos(paths)        # [PhotoEncoding(face_count, encoding), ...]
        frames = pool.encode_frames(jpegs)        # the largest face of each check-in frame
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import cast

import numpy as np

from server.recognition import faces, images, liveness, whole_room
from server.recognition.faces import Box, ModelsUnavailableError

log = logging.getLogger(__name__)

#: Seconds start() waits for every worker to import dlib and load the models (about 1-2 s each).
DEFAULT_START_TIMEOUT = 120.0

#: :meth:`RecognitionPool.analyze` encodes up to this many faces in the worker that found them;
#: more are shared out among all workers (each decodes the image again, ~0.02 s per Mpx, while
#: one encoding costs ~0.075 s), so a group photo is encoded on every core.
ENCODE_IN_PLACE_MAX = 3


#: Liveness challenge frames are searched for a face on a copy at most this wide first: faces
#: from about 80 px in that copy (107 px in a 640-pixel frame), as a person at the PC shows.
LIVENESS_DETECT_MAX_SIDE = 480


class WorkerCrashedError(RuntimeError):
    """A worker process died during the request (the workers have been restarted)."""


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
        liveness_model: bool = False,
    ):
        """
        :param processes: worker processes (None: one per CPU core).
        :param detect_max_side, upsample: see :func:`server.recognition.faces.detect_faces`.
        :param max_pixels: see :func:`server.recognition.images.decode_image`.
        :param liveness_model: each worker also loads the 68-point landmark model when it starts
            (about 1 s and 100 MB), so that the first liveness challenge does not wait for it.
        """
        self.processes = processes or os.cpu_count() or 1
        self.liveness_model = liveness_model
        self._settings = _Settings(
            detect_max_side, upsample, max_pixels, ENCODE_IN_PLACE_MAX if self.processes > 1 else None
        )
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._warm_ups: list = []  # until start() has seen every worker ready (see start())
        self._ready_by = 0.0

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
                context = multiprocessing.get_context("spawn")
                # One warm-up task per worker, each waiting at this barrier until all workers hold
                # one: so every worker (not just the quickest) has loaded the models once they are
                # done. They are queued first, so any request waits behind them.
                barrier = context.Barrier(self.processes)
                executor = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_init_worker,
                    initargs=(barrier, self.liveness_model),
                )
                self._warm_ups = [executor.submit(_warm_up, timeout) for _ in range(self.processes)]
                self._ready_by = time.monotonic() + timeout + 5
                self._executor = executor
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
        return self._results(_encode_largest, [(image, True) for image in images_], progress)

    def encode_frames(self, images_: Sequence[bytes]) -> list[PhotoEncoding]:
        """The largest face of each frame of a check-in (a photo of one person close to the
        camera: found first without upsampling, 4x faster), one frame per worker at a time;
        results in input order. A frame that cannot be decoded gets its ``error``."""
        return self._results(_encode_largest, [(image, False) for image in images_])

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
        size = math.ceil(len(boxes) / self.processes)
        chunks = [boxes[start : start + size] for start in range(0, len(boxes), size)]
        encodings = self._results(_encode_boxes, [(image_bytes, chunk) for chunk in chunks])
        return np.concatenate(encodings)

    def close(self) -> None:
        """Stop the workers (waiting for requests under way). The pool can be started again."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> RecognitionPool:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _results(self, function, arguments: list, progress: Callable[[int], None] | None = None) -> list:
        """Run ``function(settings, argument)`` in the workers for each argument; ``progress(done)``
        after each one finishes.

        A worker that dies (a crash in native code, the OOM killer) breaks the whole executor:
        the request gets :class:`WorkerCrashedError` and fresh workers are started for the next.
        """
        executor = self._executor
        if executor is None:
            raise RuntimeError("the recognition pool is not started (call start())")
        try:
            futures = [executor.submit(function, self._settings, argument) for argument in arguments]
            if progress is not None:
                for done, _ in enumerate(as_completed(futures), 1):
                    progress(done)
            return [future.result() for future in futures]
        except BrokenProcessPool as exc:
            self._restart(executor)
            raise WorkerCrashedError("a recognition worker stopped abruptly; workers restarted") from exc

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is not broken:  # another thread restarted it already
                return
            self._executor = None
        log.error("a recognition worker died; starting new workers")
        broken.shutdown(wait=False, cancel_futures=True)
        self.start()


@dataclass(frozen=True)
class _Settings:
    detect_max_side: int | None
    upsample: int
    max_pixels: int
    encode_in_place_max: int | None  # None: always encode in the detecting worker


# -- in the worker processes ------------------------------------------------------------------

_barrier = None
_load_error: ModelsUnavailableError | None = None


def _init_worker(barrier, liveness_model: bool = False) -> None:
    """Load the models once per worker. A failure is kept and raised by every task, with its message
    (an exception in an initializer would only say "the process pool is broken")."""
    global _barrier, _load_error
    # Ctrl-C in a terminal reaches the whole process group: let the server stop its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One worker per core already: a dlib built with OpenBLAS (make fast-dlib) must not also start
    # a BLAS thread per core in every worker. Set before dlib is imported (by load_models).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _barrier = barrier
    try:
        faces.load_models()
        if liveness_model:
            liveness.load_landmark_model()
    except ModelsUnavailableError as exc:
        _load_error = exc


def _warm_up(timeout: float) -> int:
    assert _barrier is not None  # set in each worker by its initializer
    try:
        _barrier.wait(timeout)
    except threading.BrokenBarrierError:
        raise TimeoutError(f"the recognition workers did not all start within {timeout:g} s") from None
    if _load_error is not None:
        raise _load_error
    return os.getpid()


def _analyze(settings: _Settings, image_bytes: bytes) -> tuple[list[Box], np.ndarray | None]:
    """(boxes, their encodings), or (boxes, None) when there are too many faces to encode here."""
    if _load_error is not None:
        raise _load_error
    image = images.decode_image(image_bytes, max_pixels=settings.max_pixels)
    boxes = _detect(settings, image)
    if settings.encode_in_place_max is not None and len(boxes) > settings.encode_in_place_max:
        return boxes, None
    return boxes, faces.encode_faces(image, boxes)


def _encode_photo(settings: _Settings, path: str) -> PhotoEncoding:
    if _load_error is not None:
        raise _load_error
    try:
        image = images.load_image_file(path, max_pixels=settings.max_pixels)
    except (OSError, images.ImageDecodeError) as exc:
        return PhotoEncoding(0, None, str(exc))
    return _largest_face(image, _detect(settings, image), mirrored=True)


def _encode_largest(settings: _Settings, task: tuple[bytes, bool]) -> PhotoEncoding:
    """An enrolment photo (``enrolment`` true: full detection, mirrored) or a check-in frame."""
    if _load_error is not None:
        raise _load_error
    image_bytes, enrolment = task
    try:
        image = images.decode_image(image_bytes, max_pixels=settings.max_pixels)
    except images.ImageDecodeError as exc:
        return PhotoEncoding(0, None, str(exc))
    boxes = _detect(settings, image) if enrolment else _detect_large_faces_first(settings, image)
    return _largest_face(image, boxes, mirrored=enrolment)


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
    return LivenessFrame(liveness.measure_face(image, box), faces.encode_faces(image, [box])[0] if encode else None)


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
    photo, enrolment = faces.encode_face_views(image, box)
    frame_box = faces.largest_box(_detect_large_faces_first(settings, image))
    assert frame_box is not None  # it finds at least the faces _detect found
    frame = photo if frame_box == box else faces.encode_faces(image, [frame_box])[0]
    return PhotoViews(len(boxes), photo, frame, enrolment)


def _largest_face(image: np.ndarray, boxes: list[Box], *, mirrored: bool) -> PhotoEncoding:
    if not boxes:
        return PhotoEncoding(0, None)
    box = faces.largest_box(boxes)
    assert box is not None  # boxes is not empty
    return PhotoEncoding(len(boxes), faces.encode_faces(image, [box], mirrored=mirrored)[0], box=box)


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
    image = images.decode_image(image_bytes, max_pixels=settings.max_pixels)
    return whole_room.detect_part(image, part, min_face)


def _encode_boxes(settings: _Settings, task: tuple) -> np.ndarray:
    if _load_error is not None:
        raise _load_error
    image_bytes, boxes = task
    image = images.decode_image(image_bytes, max_pixels=settings.max_pixels)
    height, width = image.shape[:2]
    clipped = [faces.clip_box(box, height, width) for box in boxes]
    for box, inside in zip(boxes, clipped):
        if faces.box_area(inside) == 0:
            raise BoxOutsideImageError(f"face box {box} has no pixel inside the {width}x{height} image")
    return faces.encode_faces(image, clipped)
