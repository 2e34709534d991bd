"""Face detection scored against the hand-drawn boxes of ../shared/faces/detection/ (imglab XML),
and a synthetic classroom frame made of those photos."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from server.recognition import faces, images

IOU_MATCH = 0.5


def truth_boxes(folder: Path) -> dict[str, list[faces.Box]]:
    """file name -> hand-drawn (top, right, bottom, left) boxes, from both imglab XML files."""
    boxes = {}
    for name in ("testing.xml", "training.xml"):
        for image in ET.parse(folder / name).getroot().iter("image"):
            boxes[image.get("file")] = [
                (
                    int(b.get("top")),
                    int(b.get("left")) + int(b.get("width")),
                    int(b.get("top")) + int(b.get("height")),
                    int(b.get("left")),
                )
                for b in image.iter("box")
            ]
    return boxes


def iou(a: faces.Box, b: faces.Box) -> float:
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    inter = max(0, bottom - top) * max(0, right - left)
    return inter / (faces.box_area(a) + faces.box_area(b) - inter)


def score(found: list[faces.Box], truth: list[faces.Box]) -> tuple[int, int, int]:
    """(true positives, missed, false boxes): each true box matched to at most one found box."""
    used: set[int] = set()
    hits = 0
    for true_box in truth:
        candidates = [(iou(true_box, box), i) for i, box in enumerate(found) if i not in used]
        best = max(candidates, default=(0.0, None))
        if best[0] >= IOU_MATCH:
            used.add(best[1])
            hits += 1
    return hits, len(truth) - hits, len(found) - hits


def classroom(folder: Path, truth) -> tuple[np.ndarray, list[faces.Box]]:
    """The VOC photos side by side at their own size on a 1920 x 1080 frame (rows, left to right),
    and their boxes moved along: small faces in a large frame, as a classroom camera sees them."""
    canvas = np.full((1080, 1920, 3), 90, np.uint8)
    boxes, x, y, row_height = [], 0, 0, 0
    for name in sorted(truth):
        image = images.load_image_file(folder / name)
        height, width = image.shape[:2]
        if x + width > 1920:
            x, y, row_height = 0, y + row_height, 0
        if y + height > 1080:
            break
        canvas[y : y + height, x : x + width] = image
        boxes += [(top + y, right + x, bottom + y, left + x) for top, right, bottom, left in truth[name]]
        x, row_height = x + width, max(row_height, height)
    return canvas, boxes


#: The lecture-hall frame of :func:`lecture_hall`: 3840 x 2160 (4K UHD).
HALL_SIZE = (2160, 3840)
#: The VOC photos are scaled by this much, the 24-face collage by :data:`HALL_COLLAGE_SCALE`.
HALL_PHOTO_SCALE = 1.5
HALL_COLLAGE_SCALE = 0.9


def lecture_hall(folder: Path, truth) -> tuple[np.ndarray, list[faces.Box]]:
    """A 4K lecture-hall frame: the 24-face collage (bald_guys.jpg) at the top right, and the
    nine VOC photos, 1.5x, in rows beside and below it (about 70 faces, 55-230 px wide; half
    that in the frame scaled to 1920 x 1080). Returns the frame and the VOC photos' hand-drawn
    boxes moved along (the collage has none)."""
    height, width = HALL_SIZE
    canvas = np.full((height, width, 3), 90, np.uint8)
    collage = _scaled(images.load_image_file(folder / "bald_guys.jpg"), HALL_COLLAGE_SCALE)
    collage_h, collage_w = collage.shape[:2]
    canvas[:collage_h, width - collage_w :] = collage
    # Free rectangles (top, left, bottom, right), filled in rows left to right.
    regions = [(0, 0, height, width - collage_w), (collage_h, width - collage_w, height, width)]
    boxes: list[faces.Box] = []
    names = [name for name in sorted(truth) if name != "bald_guys.jpg"]
    region, (y, x), row_height = 0, regions[0][:2], 0
    for name in names:
        photo = _scaled(images.load_image_file(folder / name), HALL_PHOTO_SCALE)
        photo_h, photo_w = photo.shape[:2]
        while True:
            top, left, bottom, right = regions[region]
            if x + photo_w > right:
                x, y, row_height = left, y + row_height, 0
            if y + photo_h <= bottom:
                break
            region += 1
            if region == len(regions):
                raise ValueError(f"the lecture hall has no room left for {name}")
            (y, x), row_height = regions[region][:2], 0
        canvas[y : y + photo_h, x : x + photo_w] = photo
        s = HALL_PHOTO_SCALE
        boxes += [
            (round(t * s) + y, round(r * s) + x, round(b * s) + y, round(left_ * s) + x)
            for t, r, b, left_ in truth[name]
        ]
        x, row_height = x + photo_w, max(row_height, photo_h)
    return canvas, boxes


def _scaled(image: np.ndarray, scale: float) -> np.ndarray:
    import PIL.Image

    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return np.asarray(PIL.Image.fromarray(image).resize(size, PIL.Image.Resampling.LANCZOS))
