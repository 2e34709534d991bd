"""``attendance-eval``: how well the recognition rules would do on your own photos.

    attendance-eval FOLDER [--enrolled 1,3,5] [--frames 1,3] [--splits 10] [--seed 0]
                           [--plot FILE.png] [--workers N] [--encoder numpy|dlib] [--cache DIR]
                           [--json]

FOLDER holds one sub-folder of photos per person (the folder name is the person), or a
``manifest.csv`` with columns ``path,person`` (paths relative to FOLDER; ``path,student_ids`` as
in the sample photos' manifest works too). Every photo is encoded
with the server's own recognition code (the largest face; photos without a face are skipped), then
lectures are simulated (:mod:`server.recognition.evaluation`): half the people enrolled with K
photos each, the others strangers, check-ins of F photos, several random splits. For each (K, F)
it prints, for the server's rules and for the plain 2019 rule (one photo at 0.6) in the same run:
right, wrong student, uncertain and unknown check-ins of enrolled students, and strangers
accepted. ``--plot`` draws the trade-off (strangers accepted against right) of the rules, each
threshold scaled from 0.7 to 1.3, with the rules' own operating point and the plain rule marked.

Exit status: 0 done, 2 bad input (no such folder, fewer than 2 people with photos).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from attendance_version import add_version_option
from server.recognition.enrollment import PHOTO_EXTENSIONS
from server.recognition.evaluation import (
    DEFAULT_CHECKIN_FRAMES,
    DEFAULT_ENROLLED_PHOTOS,
    DEFAULT_SPLITS,
    Result,
    Tally,
    simulate,
)
from server.recognition.faces import DEFAULT_ENCODER, ENCODERS

PROG = "attendance-eval"
EXIT_OK, EXIT_INPUT = 0, 2
#: Threshold factors of the --plot curve (1.0: the rules as they are).
PLOT_FACTORS = tuple(round(0.7 + 0.05 * i, 2) for i in range(13))

log = logging.getLogger(PROG)


@dataclass(frozen=True)
class EncodedPhotos:
    """The photos with a face, each encoded the three ways the server would (PhotoViews)."""

    persons: list[str]
    photo: np.ndarray  # (n, 128): as recognize and 2019 clients' photos are encoded
    frame: np.ndarray  # (n, 128): as a check-in frame is encoded
    enrolment: np.ndarray  # (n, 128): as an enrolment photo is encoded
    skipped: list[tuple[str, str]]  # (path, why)


def photos_of(folder: Path) -> list[tuple[Path, str]]:
    """(photo path, person) from FOLDER/manifest.csv, else from one sub-folder per person.

    The manifest has the columns ``path,person``, or ``path,student_ids`` as the sample photos'
    manifest (shared/faces/manifest.csv): then the photos of exactly one student are used.
    """
    manifest = folder / "manifest.csv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8-sig", newline="") as file:
            rows = list(csv.DictReader(file))
        columns = set(rows[0]) if rows else set()
        if {"path", "person"} <= columns:
            return [(folder / row["path"], row["person"]) for row in rows]
        if {"path", "student_ids"} <= columns:
            return [
                (folder / row["path"], row["student_ids"])
                for row in rows
                if row["student_ids"]
                and ";" not in row["student_ids"]
                and Path(row["path"]).suffix.lower() in PHOTO_EXTENSIONS
            ]
        raise ValueError(f"{manifest}: needs the columns path,person (or path,student_ids)")
    return [
        (path, person.name)
        for person in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        for path in sorted(person.iterdir())
        if path.is_file() and path.suffix.lower() in PHOTO_EXTENSIONS
    ]


def encode(
    photos: list[tuple[Path, str]], workers: int | None, encoder: str = DEFAULT_ENCODER, cache: Path | None = None
) -> EncodedPhotos:
    """Encode every photo on the recognition workers (as a photo, a frame and an enrolment), with
    the face encoder named (server.recognition.faces.ENCODERS), as the server's ``--encoder``.
    ``cache``: a folder where the encodings are kept between runs (:mod:`server.eval_cache`);
    only photos it does not hold are encoded."""
    from server.eval_cache import ViewCache, photo_key  # dlib: only when photos are encoded
    from server.recognition.pool import PhotoViews, RecognitionPool

    paths = [path for path, _ in photos]
    found: list[PhotoViews | None] = [None] * len(paths)
    keys: list[str | None] = [None] * len(paths)
    stored = ViewCache(cache, encoder) if cache is not None else None
    if stored is not None:
        keys = [photo_key(path) for path in paths]
        found = [None if key is None else stored.get(key) for key in keys]
    missing = [i for i, view in enumerate(found) if view is None]
    if missing:
        with RecognitionPool(workers, encoder=encoder) as pool:
            for i, view in zip(missing, pool.encode_views([paths[i] for i in missing]), strict=True):
                found[i] = view
        if stored is not None:
            stored.update((key, view) for key, view in zip(keys, found) if key is not None and view is not None)
            stored.save()
    log.info("%d photos encoded, %d found in the cache", len(missing), len(photos) - len(missing))
    views = cast("list[PhotoViews]", found)  # every photo has its views now
    kept, skipped = [], []
    for (path, person), view in zip(photos, views):
        if view.error or view.photo is None:
            skipped.append((str(path), view.error or "no face found"))
            continue
        if view.face_count > 1:
            log.info("%s: %d faces; the largest is used", path, view.face_count)
        kept.append((person, view))

    def matrix(field: str) -> np.ndarray:
        return np.array([getattr(view, field) for _, view in kept]).reshape(-1, 128)

    return EncodedPhotos([person for person, _ in kept], matrix("photo"), matrix("frame"), matrix("enrolment"), skipped)


def format_results(results: list[Result], photos: EncodedPhotos, splits: int) -> str:
    """The tables attendance-eval prints (Markdown, so docs can quote them)."""
    people = len(set(photos.persons))
    lines = [
        f"{len(photos.persons)} photos of {people} people ({len(photos.skipped)} skipped); "
        f"{splits} splits, each with {people // 2} people enrolled and {people - people // 2} strangers",
        "",
        "| K enrolled | F per check-in | rule | right | wrong student | uncertain | unknown | strangers accepted |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for name, tally in (("ours", result.rules), ("plain (1 photo, 0.6)", result.plain)):
            lines.append(
                f"| {result.enrolled_photos} | {result.checkin_frames} | {name} | "
                + " | ".join(_cell(tally, field) for field in ("right", "wrong", "uncertain", "unknown"))
                + f" | {_cell(tally, 'strangers_accepted')} |"
            )
    return "\n".join(lines)


def _cell(tally: Tally, field: str) -> str:
    total = tally.strangers if field.startswith("strangers") else tally.checkins
    return f"{getattr(tally, field)}/{total} ({100 * tally.rate(field):.2f}%)"


def plot(results: list[Result], path: Path) -> None:
    """The trade-off curves (one per (K, F)), the rules' point and the plain rule's marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 5))
    for result in results:
        label = f"K={result.enrolled_photos}, F={result.checkin_frames}"
        strangers = [100 * s for _, s, _ in result.tradeoff]
        right = [100 * r for _, _, r in result.tradeoff]
        (line,) = axes.plot(strangers, right, marker=".", label=label)
        axes.plot(
            100 * result.rules.rate("strangers_accepted"),
            100 * result.rules.rate("right"),
            marker="o",
            markersize=10,
            color=line.get_color(),
            markeredgecolor="black",
        )
        axes.plot(
            100 * result.plain.rate("strangers_accepted"),
            100 * result.plain.rate("right"),
            marker="x",
            markersize=9,
            color=line.get_color(),
        )
    axes.set_xscale("symlog", linthresh=1)
    axes.set_xlabel("strangers accepted (%)")
    axes.set_ylabel("check-ins of enrolled students accepted as the right student (%)")
    axes.set_title("Decision rules: thresholds scaled 0.7-1.3 (o: as set, x: plain 0.6 rule)")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _numbers(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"numbers must be at least 1: {text!r}")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    add_version_option(parser)
    parser.add_argument("folder", type=Path, help="one sub-folder of photos per person, or manifest.csv")
    parser.add_argument(
        "--enrolled",
        type=_numbers,
        default=DEFAULT_ENROLLED_PHOTOS,
        metavar="K,...",
        help="enrolment photos per student (default: %(default)s)",
    )
    parser.add_argument(
        "--frames",
        type=_numbers,
        default=DEFAULT_CHECKIN_FRAMES,
        metavar="F,...",
        help="photos per check-in (default: %(default)s)",
    )
    parser.add_argument("--splits", type=int, default=DEFAULT_SPLITS, help="random splits (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="of the random splits (default: %(default)s)")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the trade-off curves")
    parser.add_argument("--workers", type=int, default=None, help="encoding processes (default: one per core)")
    parser.add_argument(
        "--encoder",
        choices=ENCODERS,
        default=DEFAULT_ENCODER,
        help="face encoder, as the server's --encoder (default: %(default)s; the same encodings)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="keep the photos' encodings in DIR and reuse them in the next runs (off by default: they are "
        "biometric data; see docs/privacy.md)",
    )
    parser.add_argument("--json", action="store_true", help="print the counts as JSON instead of tables")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        if not args.folder.is_dir():
            raise ValueError(f"no such folder: {args.folder}")
        if args.splits < 1:
            raise ValueError("--splits must be at least 1")
        photos = photos_of(args.folder)
    except ValueError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(f"encoding {len(photos)} photos ...", file=sys.stderr)
    encoded = encode(photos, args.workers, args.encoder, cache=args.cache)
    for path, why in encoded.skipped:
        print(f"{PROG}: skipped {path}: {why}", file=sys.stderr)
    if len(set(encoded.persons)) < 2:
        print(f"{PROG}: photos of at least 2 people are needed", file=sys.stderr)
        return EXIT_INPUT
    results = simulate(
        encoded.persons,
        encoded.photo,
        frame_encodings=encoded.frame,
        enrolment_encodings=encoded.enrolment,
        enrolled_photos=args.enrolled,
        checkin_frames=args.frames,
        splits=args.splits,
        seed=args.seed,
        sweep=PLOT_FACTORS if args.plot else (),
    )
    if args.json:
        print(json.dumps([_as_json(result) for result in results], indent=2))
    else:
        print(format_results(results, encoded, args.splits))
    if args.plot:
        plot(results, args.plot)
        print(f"trade-off curves: {args.plot}", file=sys.stderr)
    return EXIT_OK


def _as_json(result: Result) -> dict:
    def tally(t: Tally) -> dict:
        return {**t.__dict__, "checkins": t.checkins}

    return {
        "enrolled_photos": result.enrolled_photos,
        "checkin_frames": result.checkin_frames,
        "rules": tally(result.rules),
        "plain": tally(result.plain),
        "tradeoff": [{"factor": f, "strangers_accepted": s, "right": r} for f, s, r in result.tradeoff],
    }


if __name__ == "__main__":
    sys.exit(main())
