"""The sample photos' manifest (../shared/faces/manifest.csv): what each photo shows; photos
written in another format."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import PIL.Image

#: x265's options (pillow-heif's HEIF encoder): no thread pool. With it, writing one photo took
#: 10 s instead of 1 s while other test processes kept both cores busy; without it, 2 s, busy or not.
HEIF_ENCODER_OPTIONS = {"x265:pools": "none"}


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


def encoded(image: PIL.Image.Image, fmt: str, **options) -> bytes:
    """``image`` written by Pillow as ``fmt`` (JPEG, PNG, WEBP, HEIF...) with Pillow's ``options``.
    HEIF is written by pillow-heif's plugin (registered here, none of its options changed), with
    :data:`HEIF_ENCODER_OPTIONS`."""
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
        options = {"enc_params": HEIF_ENCODER_OPTIONS, **options}
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
