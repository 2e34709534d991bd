"""docs/benchmarks.md from the benchmarks' saved results (bench/results.py), and the summary table.

    .venv/bin/python -m bench.write_report [--results DIR] [--out docs/benchmarks.md]

The page has: the date, the machine (CPU, cores, memory, OS, Python, dlib build, MariaDB), the
commands, one summary table of every target, each benchmark's own section, and then the analysis
kept by hand in bench/analysis.md (the dlib builds, what the profile says, what was missed).
`make bench` runs this after the benchmarks.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

from bench import results

REPO = results.REPO
ANALYSIS = REPO / "bench" / "analysis.md"

TITLES = {
    "recognition": "Recognition latency: server round trip vs. plain face_recognition",
    "throughput": "Throughput: 4 clients, 1 worker vs. every core",
    "rollcall": "Roll call: one batch vs. 300 single 2019 marks",
    "startup": "Server start with 1,000 enrolled photos",
    "gallery": "Matching against 100,000 encodings, and memory",
    "whole_room": "Whole-room frame (bald_guys.jpg, 24 faces)",
    "dlib_builds": "The dlib builds",
    "encoder": "Face encoder: dlib's network in numpy vs. dlib's own, one core",
    "scale_out": "Two servers behind HAProxy",
    "reports": "Reports",
    "camera": "Classroom camera",
    "attack": "One hostile machine: denial-of-service attacks while 4 clients check in",
    "liveness": "Liveness challenge",
}


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")), 0
    )
    try:
        import dlib

        dlib_text = (
            f"dlib {dlib.__version__} (BLAS {'on' if dlib.DLIB_USE_BLAS else 'off'}, "
            f"AVX {'on' if dlib.USE_AVX_INSTRUCTIONS else 'off'})"
        )
    except ImportError:
        dlib_text = "dlib missing"
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory {memory_kib / 1024 / 1024:.0f} GiB; no GPU",
        f"- OS: {platform.platform()}",
        f"- Python {platform.python_version()}; {dlib_text}; numpy {_version('numpy')}",
        f"- Database: {_mariadb_version()}",
    ]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "missing"


def _mariadb_version() -> str:
    try:
        from db.connection import DatabaseUrl, connect, url_from_env

        conn = connect(DatabaseUrl.parse(url_from_env()), database=False, timeout=3)
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            version = cur.fetchone()[0]
        conn.close()
        return f"MariaDB {version}"
    except Exception as exc:  # noqa: BLE001 - the page is still useful without it
        return f"unknown ({exc})"


def render(records: list[dict]) -> str:
    rows = [row for record in records for row in record["rows"]]
    missed = [row for row in rows if row["met"] is False]
    today = datetime.date.today().isoformat()
    parts = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (bench/write_report.py) on {today}. Every ratio compares two things "
        "measured in the same run, alternating where the benchmark allows, because this machine is "
        "shared and noisy. Re-run with `make bench`; one benchmark with "
        "`make bench BENCHES=throughput`.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Summary",
        "",
        results.markdown_table(rows),
        "",
        f"{len(rows) - len(missed)} of {len(rows)} figures met or without target; "
        + ("no target missed." if not missed else "missed: " + "; ".join(r["what"] for r in missed) + "."),
        "",
        "## Commands",
        "",
        "```",
        *[f"{record['command']}    # {record['finished']}" for record in records],
        "```",
    ]
    for record in records:
        parts += ["", f"## {TITLES.get(record['bench'], record['bench'])}", "", results.markdown_table(record["rows"])]
        if record["details"]:
            parts += ["", record["details"].rstrip()]
    if ANALYSIS.exists():
        parts += ["", ANALYSIS.read_text(encoding="utf-8").rstrip()]
    return "\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    order = list(TITLES)
    records = sorted(
        results.load_all(args.results), key=lambda r: order.index(r["bench"]) if r["bench"] in order else len(order)
    )
    if not records:
        print(f"no benchmark results in {args.results or results.results_dir()}", file=sys.stderr)
        return 1
    args.out.write_text(render(records), encoding="utf-8")
    print(results.text_table([row for record in records for row in record["rows"]]))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
