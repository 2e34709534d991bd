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
