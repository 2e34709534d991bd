"""Where the repository and the sample face photos are."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Set this to the shared/faces folder when it is not next to the repository.
FACES_ENV = "ATTENDANCE_FACES_DIR"
#: The sample photos (manifest.csv, knowns/, probes/, ...).
FACES = Path(os.environ.get(FACES_ENV, REPO.parent / "shared" / "faces"))
#: What tests keep between runs, which only this code would compute again: the sample photos'
#: encodings for the evaluation (``attendance-eval --cache``), the liveness samples' face measures
#: (testkit/measure_cache.py), sample photos written as HEIF (testkit.photos.heif). ``make clean``
#: removes it.
TEST_CACHE = REPO / ".run" / "test-cache"
