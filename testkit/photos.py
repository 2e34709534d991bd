"""The sample photos' manifest (../shared/faces/manifest.csv): what each photo shows; photos
written in another format."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import PIL.Image

from client.desktop.private_files import write_atomically
from testkit.paths import TEST_CACHE

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
    """``image`` written by Pillow as ``fmt`` (JPEG, PNG, WEBP, HEIF...) with Pillow's ``options``;
    HEIF as :func:`heif` writes it."""
    if fmt == "HEIF":
        return heif(image, options)
    return _written(image, fmt, options)


def heif(image: PIL.Image.Image, options: dict, cache: Path = TEST_CACHE) -> bytes:
    """``image`` written as HEIF by pillow-heif's plugin (registered here, none of its options
    changed) with Pillow's ``options`` and :data:`HEIF_ENCODER_OPTIONS`; written once, then read
    from ``cache``: x265 takes 1-2 s of a core per sample photo, the tests write the same photos on
    every run, and the bytes are the same each time. A file is named by the SHA-256 of what the
    plugin writes from (the pixels, the image's info and EXIF, the options), in a folder named by
    the versions of Pillow, pillow-heif and libheif; the folders of other versions are removed."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    options = {"enc_params": HEIF_ENCODER_OPTIONS, **options}
    versions = f"PIL {PIL.__version__} pillow-heif {pillow_heif.__version__} libheif {pillow_heif.libheif_version()}"
    folder = Path(cache) / f"heif-{hashlib.sha256(versions.encode()).hexdigest()[:16]}"
    digest = hashlib.sha256(repr((image.mode, image.size, sorted(options.items()))).encode())
    digest.update(repr(sorted(image.info.items())).encode() + image.getexif().tobytes())
    digest.update(image.tobytes())
    path = folder / f"{digest.hexdigest()}.heic"
    if path.is_file():
        return path.read_bytes()
    data = _written(image, "HEIF", options)
    for stale in folder.parent.glob("heif-*"):  # an earlier version's: never read again
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)
    write_atomically(path, data, prefix=".heif-")  # whole files only, for the other test processes
    return data


def _written(image: PIL.Image.Image, fmt: str, options: dict) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()
