"""The face encoder: dlib's network in numpy (server/recognition/encoder.py) vs. dlib's own.

In one process on one core (OPENBLAS_NUM_THREADS=1 before numpy loads, and numpy's OpenBLAS
told so again), with whatever ``dlib`` this Python imports (the dlib-bin wheel unless
``make fast-dlib``):

- agreement: every face found (``faces.detect_faces``, default settings) in every photo of the
  sample folder (``testkit.photos.every_photo``: 327 photos) is cut into its chip and encoded by
  both: the largest difference of one number, of the distance between a face's two encodings,
  and of the distance between two faces (every pair) as each encoder gives it;
- speed: 24 of those chips, encoded by dlib's ``compute_face_descriptor(chip)`` one at a time,
  and by the numpy encoder one chip per call (batch of 1) and all 24 in one call; ``--rounds``
  rounds alternating the three, the median per face. Chips are cut once beforehand: the cut
  (``get_face_chip``, ~1 ms) is the same for both encoders;
- loading: the numpy encoder reading the model file (median of 3), and dlib's.

Targets: the numpy encoder <= 20 ms per face in a batch of 24 (the issue's), and the two
encoders' distances within 0.002 of each other (the test's bound, which tests/server/recognition/
test_encoder.py checks on every 10th photo). Exit status 1 when one is missed.

    .venv/bin/python -m bench.encoder [--rounds 3]
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy is imported (by everything below)

import argparse
import statistics
import sys
import time

import numpy as np

from bench import results
from server.recognition import encoder, faces
from server.recognition.images import load_image_file
from testkit.paths import FACES
from testkit.photos import every_photo
from testkit.timing import median_seconds

TARGET_MS = 20.0
DISTANCE_TARGET = 0.002
BATCH = 24


def every_face() -> tuple[np.ndarray, list[np.ndarray], int]:
    """(chips of every face found, the images they come from, number of photos)."""
    chips, photos = [], every_photo(FACES)
    for path in photos:
        image = load_image_file(path)
        boxes = faces.detect_faces(image)
        if boxes:
            chips.append(faces.face_chips(image, boxes))
    return np.concatenate(chips), chips, len(photos)


def pairwise(encodings: np.ndarray) -> np.ndarray:
    squares = (encodings**2).sum(axis=1)
    return np.sqrt(np.maximum(squares[:, None] + squares[None, :] - 2 * encodings @ encodings.T, 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    threads_set = encoder.limit_blas_threads(1)

    import dlib

    path = faces.encoder_model_path()
    load_numpy = median_seconds(lambda: encoder.load(path), 3)
    started = time.perf_counter()
    dlib_model = dlib.face_recognition_model_v1(str(path))
    load_dlib = time.perf_counter() - started
    numpy_model = encoder.load(path)

    print("detecting and cutting every face of every sample photo ...", flush=True)
    chips, per_photo, photo_count = every_face()
    print(f"{len(chips)} faces in {len(per_photo)} of {photo_count} photos; encoding each with both ...", flush=True)
    ours = numpy_model.encode_chips(chips)
    theirs = np.array([dlib_model.compute_face_descriptor(chip) for chip in chips])
    dimension = float(np.abs(ours - theirs).max())
    own_distance = float(np.linalg.norm(ours - theirs, axis=1).max())
    pair_distance = float(np.abs(pairwise(ours.astype(np.float64)) - pairwise(theirs)).max())

    timed = chips[np.linspace(0, len(chips) - 1, BATCH).astype(int)]
    dlib_times, single_times, batch_times = [], [], []
    numpy_model.encode_chips(timed)  # warm up
    for _ in range(args.rounds):
        started = time.perf_counter()
        for chip in timed:
            dlib_model.compute_face_descriptor(chip)
        dlib_times.append((time.perf_counter() - started) / BATCH)
        started = time.perf_counter()
        for chip in timed:
            numpy_model.encode_chips(chip[None])
        single_times.append((time.perf_counter() - started) / BATCH)
        started = time.perf_counter()
        numpy_model.encode_chips(timed)
        batch_times.append((time.perf_counter() - started) / BATCH)
    dlib_ms, single_ms, batch_ms = (1000 * statistics.median(t) for t in (dlib_times, single_times, batch_times))

    build = f"dlib {dlib.__version__}" + (" with BLAS" if dlib.DLIB_USE_BLAS else " (no BLAS: dlib-bin)")
    lines = [
        "| encoder | ms per face | vs. dlib |",
        "|---|---|---|",
        f"| {build}, compute_face_descriptor(chip) | {dlib_ms:.1f} | 1.00x |",
        f"| numpy, batch of 1 | {single_ms:.1f} | {single_ms / dlib_ms:.2f}x |",
        f"| numpy, batch of {BATCH} | {batch_ms:.1f} | {batch_ms / dlib_ms:.2f}x |",
        "",
        f"One core, one BLAS thread (numpy's OpenBLAS told so: {threads_set}); median of {args.rounds} rounds "
        f"over {BATCH} chips. Loading the model file: numpy {load_numpy * 1000:.0f} ms (the weights are "
        f"float32 in the file: no cache), dlib {load_dlib * 1000:.0f} ms.",
        "",
        f"Agreement on every face found in the sample photos ({len(chips)} faces in {len(per_photo)} of "
        f"{photo_count} photos): largest difference of one number {dimension:.1e}; of a face's two "
        f"encodings, as a distance, {own_distance:.1e}; of the distance between two faces "
        f"({len(chips) * (len(chips) - 1) // 2} pairs), {pair_distance:.1e}.",
    ]
    table = "\n".join(lines)
    print("\n" + table)
    agreement = max(own_distance, pair_distance)
    rows = [
        results.Row(
            f"numpy face encoder, batch of {BATCH}, one core",
            f"{batch_ms:.1f} ms per face ({batch_ms / dlib_ms:.2f}x; batch of 1: {single_ms:.1f} ms)",
            baseline=f"{build}: {dlib_ms:.1f} ms per face",
            target=f"<= {TARGET_MS:g} ms per face",
            met=batch_ms <= TARGET_MS,
        ),
        results.Row(
            f"numpy vs. dlib encodings, {len(chips)} faces",
            f"distance differences <= {agreement:.1e}, numbers <= {dimension:.1e}",
            target=f"distances within {DISTANCE_TARGET:g}",
            met=agreement < DISTANCE_TARGET,
        ),
    ]
    results.save("encoder", rows, details=table)
    return 0 if all(row.met for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
