"""The sample photos' manifest (../shared/faces/manifest.csv): what each photo shows."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SamplePhoto:
    path: Path
    kind: str
    student_ids: tuple[str, ...]
    note: str


def read_manifest(faces_dir: Path) -> list[SamplePhoto]:
    with open(faces_dir / "manifest.csv", newline="", encoding="utf-8") as f:
        return [
            SamplePhoto(
                path=faces_dir / row["path"],
                kind=row["kind"],
                student_ids=tuple(filter(None, row["student_ids"].split(";"))),
                note=row["note"],
            )
            for row in csv.DictReader(f)
        ]


#: The files of the sample folder that are photos (the videos and annotations are not).
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def every_photo(faces_dir: Path) -> list[Path]:
    """Every photo under the sample folder, in path order (knowns, probes, groups, korean,
    detection, liveness attacks, negatives): what the encoder is checked on."""
    return sorted(p for p in faces_dir.rglob("*") if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
