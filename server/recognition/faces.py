"""Finding faces in an RGB image and turning each into a 128-number encoding (dlib, as face_recognition does).

Detection (HOG) costs time in proportion to the number of pixels, so it runs on a copy of the
image scaled down to at most ``DEFAULT_DETECT_MAX_SIDE`` pixels on its longest side; the boxes
found are scaled back to the full image. Encoding costs the same at any image size (dlib cuts a
150 x 150 face chip out of the image), so it runs on the full-resolution image, which gives the
best chip.

Images are numpy arrays as returned by :mod:`server.recognition.images`: (height, width, 3), uint8,
RGB. A face box is a plain tuple ``(top, right, bottom, left)`` of ints in pixels of that array,
the convention of face_recognition. No dlib object leaves this module.

Encodings are computed by :mod:`server.recognition.encoder` (dlib's network in numpy, all faces
of a call in one batch: about 10-13 ms per face on one core) or, with ``encoder="dlib"``, by dlib's
own ``compute_face_descriptor`` (about 77 ms per face with the dlib-bin wheel). Both give the same
encodings to within about 1e-6 (docs/recognition.md, "The encoder"), under one :data:`MODEL_NAME`.

The models (about 30 MB, 0.6 s to load) are loaded on first use, or by :func:`load_models`.
dlib is not meant to be shared by threads: call these functions from one thread per process, or
use :class:`server.recognition.pool.RecognitionPool`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import PIL.ImageFile

from server.recognition import encoder as numpy_encoder
from server.recognition.encoder import ModelsUnavailableError

#: Stored with each encoding, so that encodings of another model are never compared with these.
MODEL_NAME = "dlib_face_recognition_resnet_model_v1"
#: The model name of enrolment encodings: each is the mean of the face's encoding and its mirror
#: image's (``encode_faces(..., mirrored=True)``), which makes a student's template steadier.
ENROLMENT_MODEL = MODEL_NAME + "+mirror"

#: Detect faces on a copy whose longest side is at most this many pixels (None or 0: full size).
#: With upsample=1 the HOG detector finds faces from about 40 px wide in the copy, i.e. faces
#: wider than ~5% of the image's longest side (96 px in a 1920 x 1080 frame). Measured on the
#: sample photos (one process, decode + detect + encode): every probe and group face is still
#: found and recognized, and images over 1500 px with 1-3 faces take 2.4x to 5.2x less time than
#: plain face_recognition (1920 x 1080: 0.83 s -> 0.22 s; 2333 x 1434: 1.31 s -> 0.25 s). At 1024,
#: a 1548 x 1024 photo gained only 1.8x. With many faces encoding dominates (24 faces: 1.4x).
#: For a wide classroom shot with small faces, raise it or use None.
DEFAULT_DETECT_MAX_SIDE = 800

#: A face box: (top, right, bottom, left) in pixels of the full-resolution image.
Box = tuple[int, int, int, int]

ENCODING_SIZE = numpy_encoder.ENCODING_SIZE
#: The face encoders (the server's ``--encoder``): "numpy", :mod:`server.recognition.encoder`;
#: "dlib", dlib's compute_face_descriptor (dlib-bin: about 6x slower, the same encodings).
ENCODERS = ("numpy", "dlib")
DEFAULT_ENCODER = "numpy"
#: The face chip dlib's encoder reads: size in pixels and padding around the landmarks (dlib's
#: compute_face_descriptor uses these).
CHIP_SIZE = 150
CHIP_PADDING = 0.25

#: The two model files used, from the face_recognition_models package (the 5-point landmark model
#: is what face_recognition uses with model="small"; its 68-point and CNN models are not needed).
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
ENCODER_FILE = MODEL_NAME + ".dat"

_models = None  # a _Models once loaded
_models_lock = threading.Lock()

_HINT = (
    "install them into this environment with `make venv`, or with "
    "`pip install 'setuptools<81' face_recognition_models==0.3.0 dlib-bin` "
    "(face_recognition_models needs pkg_resources, which setuptools 81 removed)"
)


@dataclass
class _Models:
    detector: Any  # dlib.fhog_object_detector (HOG)
    landmarks: Any  # dlib.shape_predictor, 5 points
    rectangle: type  # dlib.rectangle
    face_chip: Any  # dlib.get_face_chip
    folder: Path  # the models/ folder of face_recognition_models
    #: The encoders loaded so far, by name (ENCODERS): a numpy_encoder.Encoder, a
    #: dlib.face_recognition_model_v1. Each is loaded on first use (under _models_lock).
    encoders: dict[str, Any] = field(default_factory=dict)


def load_models(encoder: str = DEFAULT_ENCODER) -> None:
    """Load dlib's HOG detector, the 5-point landmark model and the encoder named (one of
    :data:`ENCODERS`) once (about 0.6 s); later calls are free. The calls below load them on
    first use otherwise.

    Only these are loaded: ``import face_recognition`` would also load a 68-point landmark
    model and a CNN detector that are never used here (1.8 s instead of 0.6 s per worker process).

    :raises ModelsUnavailableError: with the command that fixes the environment.
    :raises ValueError: an encoder that is not one of :data:`ENCODERS`.
    """
    _encoder(_loaded(), encoder)


def _loaded() -> _Models:
    global _models
    with _models_lock:
        if _models is None:
            _models = _load()
        return _models


def _encoder(models: _Models, name: str) -> Any:
    """The encoder ``name`` (loaded on first use)."""
    check_encoder(name)
    with _models_lock:
        if name not in models.encoders:
            path = models.folder / ENCODER_FILE
            if name == "numpy":
                models.encoders[name] = numpy_encoder.load(path)
            else:
                import dlib

                try:
                    models.encoders[name] = dlib.face_recognition_model_v1(str(path))
                except RuntimeError as exc:  # dlib's "Unable to open ..." / a damaged file
                    raise ModelsUnavailableError(f"cannot load the models in {models.folder}: {exc}; {_HINT}") from exc
        return models.encoders[name]


def encoder_model_path() -> Path:
    """The encoding network's model file (``dlib_face_recognition_resnet_model_v1.dat``, of the
    face_recognition_models package), which both encoders read."""
    return _loaded().folder / ENCODER_FILE


def check_encoder(name: str) -> None:
    """:raises ValueError: ``name`` is not one of :data:`ENCODERS`."""
    if name not in ENCODERS:
        raise ValueError(f"unknown face encoder {name!r}: expected one of {', '.join(ENCODERS)}")


def _load() -> _Models:
    try:
        import dlib
    except ImportError as exc:
        raise ModelsUnavailableError(f"face recognition is not installed ({exc}); {_HINT}") from exc
    # The package's files are found without importing it: its __init__ imports pkg_resources,
    # slow to import (0.1 s) and missing with setuptools >= 81.
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    models = next((Path(f) / "models" for f in folders if (Path(f) / "models" / ENCODER_FILE).is_file()), None)
    if models is None:
        raise ModelsUnavailableError(f"the face_recognition_models package cannot be imported; {_HINT}")
    try:
        loaded = _Models(
            detector=_frontal_face_detector(dlib),
            landmarks=dlib.shape_predictor(str(models / LANDMARKS_FILE)),
            rectangle=dlib.rectangle,
            face_chip=dlib.get_face_chip,
            folder=models,
        )
    except RuntimeError as exc:  # dlib's "Unable to open ..." / a damaged file
        raise ModelsUnavailableError(f"cannot load the models in {models}: {exc}; {_HINT}") from exc
    # Pillow must refuse truncated images (face_recognition, when imported, allows them).
    PIL.ImageFile.LOAD_TRUNCATED_IMAGES = False
    return loaded


#: The environment variable naming the folder where :func:`_frontal_face_detector` keeps dlib's
#: detector (default: ``$XDG_CACHE_HOME/attendance``, else ``~/.cache/attendance``).
CACHE_ENV = "ATTENDANCE_CACHE_DIR"


def cache_dir() -> Path:
    """Where the models' derived files are kept (nothing personal: see :func:`_frontal_face_detector`)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "attendance"


def _frontal_face_detector(dlib) -> Any:
    """dlib's HOG face detector. ``dlib.get_frontal_face_detector()`` rebuilds it from text
    compiled into dlib, 0.3-0.5 s in every worker at every start, while its saved form loads in a
    millisecond: so it is saved once in :func:`cache_dir` (one file per dlib version, written
    whole or not at all) and loaded from there. A missing, damaged or unwritable file only costs
    the rebuild."""
    path = cache_dir() / f"dlib-{dlib.__version__}-frontal_face_detector.svm"
    try:
        return dlib.fhog_object_detector(str(path))
    except (RuntimeError, OSError):  # no file yet, or not one dlib can read
        pass
    detector = dlib.get_frontal_face_detector()
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        detector.save(str(partial))
        os.replace(partial, path)
    except (RuntimeError, OSError):
        with contextlib.suppress(OSError):
            partial.unlink()
    return detector


def detect_faces(
    image: np.ndarray,
    *,
    detect_max_side: int | None = DEFAULT_DETECT_MAX_SIDE,
    upsample: int = 1,
) -> list[Box]:
    """Find the faces in an image with dlib's HOG detector.

    :param image: (height, width, 3) uint8 RGB, or (height, width) uint8 grey (:func:`to_grey`):
        the detector then computes one gradient per pixel instead of three, about 1.6x faster
        (measured on a 4K lecture-hall frame; it found every hand-marked face there, 43 of 43,
        where RGB found 41). Check-ins detect on RGB, as their thresholds were settled with.
    :param detect_max_side: detect on a copy scaled down to this longest side, in pixels
        (None or 0: on the image itself). Smaller is faster but misses smaller faces.
    :param upsample: times the detector doubles the (scaled) image to find smaller faces;
        each time costs about 4x. With 1, faces from about 40 px wide (in the copy) are found.
    :return: boxes (top, right, bottom, left) in pixels of ``image``, clipped to it.
    """
    _check_image(image, grey=True)
    models = _loaded()
    small = _shrink(image, detect_max_side)
    # As face_recognition.face_locations(model="hog"): dlib rectangles -> (top, right, bottom, left).
    found = [(r.top(), r.right(), r.bottom(), r.left()) for r in models.detector(small, upsample)]
    height, width = image.shape[:2]
    scale_y = height / small.shape[0]
    scale_x = width / small.shape[1]
    return [
        clip_box(
            (round(top * scale_y), round(right * scale_x), round(bottom * scale_y), round(left * scale_x)),
            height,
            width,
        )
        for top, right, bottom, left in found
    ]


def encode_faces(
    image: np.ndarray,
    boxes: Sequence[Box],
    *,
    num_jitters: int = 1,
    mirrored: bool = False,
    encoder: str = DEFAULT_ENCODER,
) -> np.ndarray:
    """The 128-number encoding of each face box, at any image size (numpy encoder: about 10-13 ms
    per face on one core, the faces of one call in one batch; dlib's: about 75 ms per face).

    :param image: (height, width, 3) uint8 RGB, the full-resolution image the boxes refer to.
    :param boxes: (top, right, bottom, left) boxes, e.g. from :func:`detect_faces`.
    :param num_jitters: times each face is re-sampled (at random) and averaged; n costs n times
        as much. Above 1 dlib's encoder does it, whichever ``encoder`` is named.
    :param mirrored: the mean of the face's encoding and its mirror image's (twice the cost):
        what enrolment stores (:data:`ENROLMENT_MODEL`). On the Korean sample photos, templates
        made of these accept about 1 point more check-ins at the same false accepts.
    :param encoder: one of :data:`ENCODERS`.
    :return: array of shape (len(boxes), 128), float64, one row per box in order.
    """
    _check_image(image)
    check_encoder(encoder)
    if not boxes:
        return np.empty((0, ENCODING_SIZE), dtype=np.float64)
    models = _loaded()
    chips = np.stack([_chip(models, image, shape) for shape in _shapes(models, image, boxes)])
    return _encode_chips(models, chips, encoder, mirrored=mirrored, num_jitters=num_jitters)


def face_chips(image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """The aligned face chip of each box, as the encoders read them: (len(boxes), 150, 150, 3)
    uint8 RGB (:func:`server.recognition.encoder.Encoder.encode_chips` takes these)."""
    _check_image(image)
    models = _loaded()
    chips = [_chip(models, image, shape) for shape in _shapes(models, image, boxes)]
    return np.stack(chips) if chips else np.empty((0, CHIP_SIZE, CHIP_SIZE, 3), np.uint8)


def encode_face_chips(chips: np.ndarray, *, encoder: str = DEFAULT_ENCODER) -> np.ndarray:
    """The encodings of aligned face chips (:func:`face_chips`), of one image or of many, in one
    batch: (n, 150, 150, 3) uint8 RGB -> (n, 128) float64. The same numbers as
    :func:`encode_faces` of the boxes the chips were cut from."""
    check_encoder(encoder)
    if not (isinstance(chips, np.ndarray) and chips.dtype == np.uint8 and chips.shape[1:] == (CHIP_SIZE, CHIP_SIZE, 3)):
        got = f"{chips.dtype} array of shape {chips.shape}" if isinstance(chips, np.ndarray) else type(chips).__name__
        raise ValueError(f"expected face chips: uint8 array of shape (n, {CHIP_SIZE}, {CHIP_SIZE}, 3), got {got}")
    if not len(chips):
        return np.empty((0, ENCODING_SIZE), dtype=np.float64)
    return _encode_chips(_loaded(), chips, encoder)


def encode_face_views(image: np.ndarray, box: Box, *, encoder: str = DEFAULT_ENCODER) -> tuple[np.ndarray, np.ndarray]:
    """(plain encoding, mirrored encoding) of one face, for the price of the mirrored one:
    what a check-in frame and an enrolment photo of this face would give (the evaluation)."""
    _check_image(image)
    check_encoder(encoder)
    models = _loaded()
    chip = _chip(models, image, _shapes(models, image, [box])[0])
    plain, flipped = _encode_chips(models, np.stack([chip, chip[:, ::-1]]), encoder)
    return plain, (plain + flipped) / 2


def _shapes(models: _Models, image: np.ndarray, boxes: Sequence[Box]) -> list:
    """As face_recognition.face_encodings(model="small"): the 5 landmarks of each box."""
    return [
        models.landmarks(image, models.rectangle(int(left), int(top), int(right), int(bottom)))
        for top, right, bottom, left in boxes
    ]


def _chip(models: _Models, image: np.ndarray, shape) -> np.ndarray:
    """The aligned 150 x 150 chip the encoder reads: the same pixels as dlib's
    ``compute_face_descriptor(image, shape)`` cuts out (tests/server/recognition/test_encoder.py)."""
    return models.face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING)


def _encode_chips(
    models: _Models, chips: np.ndarray, encoder: str, *, mirrored: bool = False, num_jitters: int = 1
) -> np.ndarray:
    """The encodings of (n, 150, 150, 3) chips, (n, 128) float64; mirrored: each the mean with its
    mirror image's (all 2n chips in one batch). The numpy encoder takes them as one batch; dlib's
    (``encoder="dlib"``, or ``num_jitters`` above 1, which only dlib does) one at a time, the same
    numbers as its ``compute_face_descriptor(image, shape)`` (tests/server/recognition/test_encoder.py)."""
    views = np.concatenate([chips, chips[:, :, ::-1]]) if mirrored else chips
    if encoder == "numpy" and num_jitters <= 1:
        encodings = _encoder(models, "numpy").encode_chips(views)
    else:
        dlib_encoder = _encoder(models, "dlib")
        encodings = np.array(
            [dlib_encoder.compute_face_descriptor(np.ascontiguousarray(view), num_jitters) for view in views],
            dtype=np.float64,
        ).reshape(len(views), ENCODING_SIZE)
    if not mirrored:
        return encodings
    return (encodings[: len(chips)] + encodings[len(chips) :]) / 2


def box_area(box: Box) -> int:
    """Area of a (top, right, bottom, left) box in square pixels (0 for an empty box)."""
    top, right, bottom, left = box
    return max(0, bottom - top) * max(0, right - left)


def largest_box(boxes: Sequence[Box]) -> Box | None:
    """The box with the largest area (the first of equals), or None when there is none."""
    return max(boxes, key=box_area, default=None)


def to_grey(image: np.ndarray) -> np.ndarray:
    """The (height, width) uint8 grey image of an RGB one (ITU-R BT.601 luma, as OpenCV computes it)."""
    _check_image(image)
    import cv2  # only the detection of whole rooms needs OpenCV here

    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _check_image(image: np.ndarray, *, grey: bool = False) -> None:
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        if image.ndim == 3 and image.shape[2] == 3:
            return
        if grey and image.ndim == 2:
            return
    got = f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
    kinds = (
        "uint8 array of shape (height, width, 3), or (height, width) grey"
        if grey
        else "uint8 array of shape (height, width, 3)"
    )
    raise ValueError(f"expected an RGB image: {kinds}, got {got}")


def _shrink(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """The image scaled down so its longest side is at most max_side px (the image itself if it fits)."""
    height, width = image.shape[:2]
    if not max_side or max(height, width) <= max_side:
        return image
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(PIL.Image.fromarray(image).resize(size, PIL.Image.Resampling.BILINEAR))


def clip_box(box: Box, height: int, width: int) -> Box:
    """Keep a box inside the image, as face_recognition does (right and bottom may equal the size)."""
    top, right, bottom, left = box
    return max(top, 0), min(right, width), min(bottom, height), max(left, 0)
