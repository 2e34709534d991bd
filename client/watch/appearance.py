"""What a face looks like, coarsely: a hue-saturation histogram of its box (as the 2016 report's
tracker did). Comparing two of them tells whether the face in a tracked box changed between two
samples (another person sat down, the light changed a lot) without encoding it again.
"""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # (top, right, bottom, left) in pixels

#: Histogram bins: hue (0-180 in OpenCV) x saturation (0-256).
HUE_BINS, SATURATION_BINS = 30, 32


def hsv_histogram(image_bgr: np.ndarray, box: Box) -> np.ndarray:
    """The normalized hue-saturation histogram of the box's pixels (float32, HUE_BINS x
    SATURATION_BINS, summing to 1); all zeros when the box has no pixel in the image."""
    top, right, bottom, left = box
    height, width = image_bgr.shape[:2]
    top, bottom = min(max(0, top), height), min(max(0, bottom), height)
    left, right = min(max(0, left), width), min(max(0, right), width)
    patch = image_bgr[top:bottom, left:right]
    if patch.size == 0:
        return np.zeros((HUE_BINS, SATURATION_BINS), np.float32)
    hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV)
    histogram = cv2.calcHist([hsv], [0, 1], None, [HUE_BINS, SATURATION_BINS], [0, 180, 0, 256])
    total = float(histogram.sum())
    return histogram / total if total else histogram


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance between two histograms: 0 the same, 1 nothing in common.

    Measured on the sample video: the same face one second (or several cuts) apart 0.19-0.39;
    a cut to another person 0.62; faces of different people in different photos 0.3-0.98. So it
    catches most changes of person, not all: tracked identities are also re-checked every few
    samples (TrackerSettings.refresh_every).
    """
    if not a.any() or not b.any():
        return 1.0
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))
