"""What a benchmark measured, kept for docs/benchmarks.md.

Every benchmark script ends with::

    results.save("throughput", [
        results.Row("throughput, 4 clients sending images", "13.1 images/s (1.86x)",
                    baseline="1 worker: 7.0 images/s", target=">= 1.7x", met=ratio >= 1.7),
    ], details=table_text)

which writes ``<results dir>/throughput.json`` (``$ATTENDANCE_BENCH_RESULTS``, default
``.run/bench/``). ``bench/write_report.py`` turns every file there into docs/benchmarks.md and
prints the summary table. A benchmark run on its own still prints its own table as before.
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from testkit.paths import REPO


def results_dir() -> Path:
    return Path(os.environ.get("ATTENDANCE_BENCH_RESULTS", REPO / ".run" / "bench"))


@dataclass(frozen=True)
class Row:
    """One line of the summary table. ``met`` is None for a figure without a target."""

    what: str
    measured: str
    baseline: str = ""
    target: str = ""
    met: bool | None = None


def save(bench: str, rows: list[Row], *, details: str = "", command: str | None = None) -> Path:
    """Write this benchmark's rows (and a free-form markdown ``details`` section) for the report."""
    directory = results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{bench}.json"
    record = {
        "bench": bench,
        "command": command or this_command(),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "rows": [asdict(row) for row in rows],
        "details": details,
    }
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def this_command() -> str:
    """How this benchmark was started: ``python -m bench.NAME ARGS``."""
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    name = spec.name if spec is not None else sys.argv[0]
    return " ".join(["python", "-m", name, *sys.argv[1:]])


def load_all(directory: Path | None = None) -> list[dict]:
    """Every saved record, oldest first."""
    directory = directory or results_dir()
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
    return sorted(records, key=lambda record: record["finished"])


def verdict(row: dict) -> str:
    return {True: "met", False: "**missed**", None: ""}[row["met"]]


def markdown_table(rows: list[dict]) -> str:
    lines = ["| what | measured | baseline (same run) | target | |", "|---|---|---|---|---|"]
    for row in rows:
        cells = [row["what"], row["measured"], row["baseline"], row["target"], verdict(row)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def text_table(rows: list[dict]) -> str:
    """The summary for a terminal: fixed-width columns."""
    header = ("what", "measured", "baseline (same run)", "target", "")
    cells = [header] + [
        (r["what"], r["measured"], r["baseline"], r["target"], {True: "met", False: "MISSED", None: ""}[r["met"]])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def seconds(value: float) -> str:
    """1.234 -> '1.23 s'; 0.0123 -> '12.3 ms'."""
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.01:
        return f"{1000 * value:.0f} ms"
    return f"{1000 * value:.2f} ms"
