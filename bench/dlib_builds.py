"""The dlib builds side by side: dlib-bin (the default install) and dlib with OpenBLAS (make fast-dlib).

Each build is unpacked into its own folder under ``.run/dlib-builds/`` (``pip install --target``)
and chosen per process with PYTHONPATH, so one run measures both with everything else equal:

- dlib-bin: the wheel pinned in requirements.txt (from pip's cache);
- openblas-avx2 (or openblas on a CPU without AVX2): the wheel ``make fast-dlib`` built into
  ``$ATTENDANCE_WHEEL_CACHE/dlib-<version>-<flavour>/`` (default ~/.cache/attendance-wheels);
  every flavour found there is measured; none, with a note, when it has not been built.

For each build, bench/dlib_micro.py times HOG detection, upsampling, encoding and the whole-room
steps on one core (OPENBLAS_NUM_THREADS=1), alternating builds ``--rounds`` times.

    .venv/bin/python -m bench.dlib_builds
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench import results

REPO = results.REPO
BUILDS_DIR = REPO / ".run" / "dlib-builds"
WHEEL_CACHE = Path(os.environ.get("ATTENDANCE_WHEEL_CACHE", Path.home() / ".cache" / "attendance-wheels"))


def dlib_bin_requirement() -> str:
    text = (REPO / "requirements.txt").read_text()
    return re.search(r"^dlib-bin==\S+", text, re.M).group(0)


def available_builds() -> dict[str, Path]:
    """{build name: folder to put first on PYTHONPATH}, unpacking wheels on first use."""
    builds = {}
    requirement = dlib_bin_requirement()
    folder = BUILDS_DIR / requirement.replace("==", "-")
    _unpack(requirement, folder)
    builds["dlib-bin"] = folder
    for wheel in sorted(WHEEL_CACHE.glob("dlib-*-*/dlib-*.whl")):  # dlib-<version>-<flavour>/
        flavour = wheel.parent.name.split("-", 2)[2]
        folder = BUILDS_DIR / wheel.parent.name
        _unpack(str(wheel), folder)
        builds[flavour] = folder
    return builds


def _unpack(requirement: str, folder: Path) -> None:
    if (folder / "dlib").is_dir():
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(folder),
            requirement,
        ],
        check=True,
    )


def build_env(folder: Path, threads: int = 1) -> dict[str, str]:
    """Environment for a process that imports the dlib in ``folder`` (BLAS limited to ``threads``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    return env


def micro(folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.dlib_micro"],
        env=build_env(folder),
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


FIGURES = [
    ("hog_480p", "HOG detect 480p (upsample 1)"),
    ("hog_960p_no_upsample", "HOG detect on the doubled 480p photo, no upsampling"),
    ("resize_2x_480p", "dlib.resize_image: 480p doubled"),
    ("encode_one_face", "encode one face"),
    ("whole_room_detect", "bald_guys.jpg whole-room detection, one core"),
    ("whole_room_encode", "bald_guys.jpg 24 encodings, one core"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    builds = available_builds()
    runs: dict[str, list[dict]] = {name: [] for name in builds}
    for _ in range(args.rounds):
        for name, folder in builds.items():
            runs[name].append(micro(folder))
    medians = {
        name: {key: statistics.median(run[key] for run in found) for key, _ in FIGURES} for name, found in runs.items()
    }
    names = list(builds)
    header = "| step (one core, median) | " + " | ".join(names) + " |"
    lines = [header, "|---" * (len(names) + 1) + "|"]
    for key, label in FIGURES:
        lines.append(f"| {label} | " + " | ".join(results.seconds(medians[n][key]) for n in names) + " |")
    flags = {n: runs[n][0] for n in names}
    lines.append("")
    lines += [f"- {n}: dlib {flags[n]['version']}, BLAS {flags[n]['blas']}, AVX {flags[n]['avx']}" for n in names]
    if len(builds) == 1:
        lines.append(f"- openblas: not built (no wheel in {WHEEL_CACHE}); run `make fast-dlib` (~11 min once)")
    table = "\n".join(lines)
    print(table)
    rows = []
    for name in names:
        m = medians[name]
        rows.append(
            results.Row(
                f"dlib build {name}: HOG 480p / encode one face (one core)",
                f"{results.seconds(m['hog_480p'])} / {results.seconds(m['encode_one_face'])}",
            )
        )
    results.save("dlib_builds", rows, details=table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
