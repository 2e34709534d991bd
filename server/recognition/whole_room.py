"""Finding every face in a classroom picture, down to faces about 40 pixels wide.

The default detection (:func:`server.recognition.faces.detect_faces`) looks at a copy of at most
800 pixels: in a 1920 x 1080 classroom frame it misses every face narrower than about 96 px, i.e.
everyone past the first rows. dlib's HOG detector looks at 80 x 80 windows, so a face of
``min_face`` pixels is found once the image is scaled by ``80 / min_face`` (2x for 40 px faces).

Scaling a whole frame up costs time and memory, so the work is cut into **parts** that the
recognition workers run in parallel (:meth:`server.recognition.pool.RecognitionPool.detect_whole_room`):

- a *coarse* part: the default detection on the 800-px copy, which finds the large faces
  (close to the camera);
- *bands*: horizontal strips of the frame, scaled up, which find the small faces. Neighbouring
  bands overlap by more than the smallest face the coarse part finds, so every face too small
  for the coarse part lies whole inside one band.

Every part detects on the grey image (:func:`server.recognition.faces.to_grey`): 1.6x faster
than on RGB for the same faces. A face found by two parts (in the overlap of two bands, or by the
coarse part and a band) is kept once (:func:`merge_boxes`). With a single worker the band is the whole frame and the coarse
part is not needed: the detector's own image pyramid finds the large faces too.

Boxes are ``(top, right, bottom, left)`` tuples in pixels of the full image, as everywhere in
:mod:`server.recognition`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from protocol.framed import DEFAULT_MIN_FACE, DETECT_MIN_FACE_RANGE
from server.recognition import faces
from server.recognition.faces import Box

#: dlib's HOG detector finds faces of at least this many pixels (its window is 80 x 80).
HOG_WINDOW = 80
#: Upper bound on the pixels of the scaled-up image (all bands together): 40 Mpx, e.g. a 4K
#: frame at 2.2x. Beyond it the scale is reduced, so the smallest faces may be missed.
MAX_SCALED_PIXELS = 40_000_000
#: Two boxes are one face when their intersection covers this share of the smaller box.
MERGE_OVERLAP = 0.5


@dataclass(frozen=True)
class Part:
    """One piece of the work: ``band`` None is the coarse part, else band ``band`` of ``bands``."""

    band: int | None
    bands: int


def plan_parts(workers: int) -> list[Part]:
    """The parts to run on this many workers: the whole image as one band for one worker, else
    the coarse part and one band per worker."""
    if workers <= 1:
        return [Part(0, 1)]
    return [Part(None, workers)] + [Part(band, workers) for band in range(workers)]


def scale_for(height: int, width: int, min_face: int = DEFAULT_MIN_FACE) -> float:
    """How much to scale the image so that ``min_face``-pixel faces fill the detector's window,
    limited so the scaled image stays under :data:`MAX_SCALED_PIXELS`."""
    low, high = DETECT_MIN_FACE_RANGE
    if not low <= min_face <= high:
        raise ValueError(f"min_face must be {low}-{high} pixels, not {min_face}")
    scale = HOG_WINDOW / min_face
    limit = math.sqrt(MAX_SCALED_PIXELS / (height * width))
    return min(scale, limit)


def band_rows(height: int, width: int, band: int, bands: int, min_face: int = DEFAULT_MIN_FACE) -> tuple[int, int]:
    """Rows [top, bottom) of band ``band`` of ``bands``, each widened by half the overlap on its
    inner sides. The overlap exceeds the smallest face the coarse part finds.

    The last band is shorter than the others by the coarse part's work: the pool hands out the
    parts in order (:func:`plan_parts`), so the worker that runs the coarse part first is the one
    free for the last band, and every worker ends at about the same time (on bald_guys.jpg with
    2 workers: 0.42 s and 0.44 s, where equal bands took 0.41 s and 0.63 s)."""
    if bands == 1:
        return 0, height
    coarse_min_face = DEFAULT_MIN_FACE * max(1.0, max(height, width) / faces.DEFAULT_DETECT_MAX_SIDE)
    half_overlap = math.ceil(0.75 * coarse_min_face)  # overlap: 1.5x that face
    edges = _band_edges(height, width, bands, min_face)
    top, bottom = edges[band], edges[band + 1]
    return max(0, top - half_overlap), min(height, bottom + half_overlap)


def _band_edges(height: int, width: int, bands: int, min_face: int) -> list[int]:
    """The rows where the bands meet (before the overlap): bands + 1 edges from 0 to height."""
    scale = scale_for(height, width, min_face)
    # The detector's work is about proportional to the pixels it scans (both parts scan the whole
    # image pyramid below their scale): the coarse part's share, relative to all the bands.
    coarse_side = faces.DEFAULT_DETECT_MAX_SIDE / max(height, width)
    coarse = min(1.0, coarse_side) ** 2 * 4 / scale**2  # the coarse part upsamples once (2x)
    share = (1 + coarse) / bands  # each worker's share of all the work, bands = 1 in total
    rows = [share] * (bands - 1) + [max(share - coarse, share / 2)]
    total = sum(rows)
    edges, done = [0], 0.0
    for part in rows:
        done += part
        edges.append(round(height * done / total))
    return edges


def detect_part(image: np.ndarray, part: Part, min_face: int = DEFAULT_MIN_FACE) -> list[Box]:
    """Run one part on an RGB (or grey) image; boxes in pixels of the whole image."""
    height, width = image.shape[:2]
    if part.band is None:  # the coarse part: the default detection
        return faces.detect_faces(_grey(image))
    scale = scale_for(height, width, min_face)
    top, bottom = band_rows(height, width, part.band, part.bands, min_face)
    strip = _grey(image[top:bottom])
    if scale == 1.0:
        scaled = strip
    else:
        size = (max(1, round(strip.shape[1] * scale)), max(1, round(strip.shape[0] * scale)))
        scaled = cv2.resize(strip, size, interpolation=cv2.INTER_LINEAR)
    found = faces.detect_faces(scaled, detect_max_side=None, upsample=0)
    sy = strip.shape[0] / scaled.shape[0]
    sx = strip.shape[1] / scaled.shape[1]
    return [
        faces.clip_box((round(t * sy) + top, round(r * sx), round(b * sy) + top, round(left * sx)), height, width)
        for t, r, b, left in found
    ]


def _grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else faces.to_grey(image)


def merge_boxes(boxes: Sequence[Box], overlap: float = MERGE_OVERLAP) -> list[Box]:
    """Keep one box per face: a box is dropped when its intersection with a box kept before it
    covers at least ``overlap`` of the smaller of the two. Earlier boxes win; order preserved."""
    kept: list[Box] = []
    for box in boxes:
        if faces.box_area(box) == 0:
            continue
        if all(_overlap_of_smaller(box, other) < overlap for other in kept):
            kept.append(box)
    return kept


def detect_whole_room(image: np.ndarray, min_face: int = DEFAULT_MIN_FACE, workers: int = 1) -> list[Box]:
    """Every face in the image, in this process (parts one after another).

    The server runs the same parts on its worker processes instead; this is for tests and
    benchmarks. ``workers`` only changes how the work is cut, to test the merging.
    """
    boxes: list[Box] = []
    for part in plan_parts(workers):
        boxes.extend(detect_part(image, part, min_face))
    return merge_parts(boxes)


def merge_parts(boxes: Sequence[Box]) -> list[Box]:
    """Merge the boxes of all parts, largest first: a box inside a bigger face's box is a piece
    of that face (or the same face found by another part), not another face."""
    return merge_boxes(sorted(boxes, key=faces.box_area, reverse=True))


def _overlap_of_smaller(a: Box, b: Box) -> float:
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    inter = max(0, bottom - top) * max(0, right - left)
    smaller = min(faces.box_area(a), faces.box_area(b))
    return inter / smaller if smaller else 0.0
