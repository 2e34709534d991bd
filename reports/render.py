"""Writing a LectureReport (reports/domain.py): text table, Markdown, CSV, XLSX, and the PNG chart.

    data = render(report, "csv")              # bytes, ready for a file or stdout
    data = render(report, "table", below=75)  # the warning list instead of the matrix
    render_chart(report, "term.png")          # rate per session + student × session heat map

Each format is two steps: a :class:`Grid` (title, headers, rows of plain values) is built from
the report, then a writer turns the grid into bytes. The text formats (table, md) use short
headers (MM-DD dates, P/L/A/E/O); the spreadsheet formats (csv, xlsx) use ISO dates and words.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field

from reports.domain import (
    CHANGED_AFTER_MARK,
    LETTERS,
    NOT_ENROLLED,
    UNMARKED,
    LectureReport,
    SessionColumn,
    StudentRow,
)

FORMATS = ("table", "csv", "xlsx", "md")
TOTALS = ("present", "late", "absent", "excused", "left_early")  # the order of the total columns


@dataclass
class Grid:
    title: str
    headers: list[str]
    rows: list[list]  # str, int, or float | None (a rate)
    first_number: int  # columns from this index on are numbers (right-aligned in text)
    sheet_name: str = "Report"
    legend: str = ""
    widths: dict[int, float] = field(default_factory=dict)  # xlsx column widths by index


def render(report: LectureReport, fmt: str, below: float | None = None) -> bytes:
    """The report in one of FORMATS: the matrix, or the warning list when ``below`` is given."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    compact = fmt in ("table", "md")
    grid = matrix_grid(report, compact) if below is None else warning_grid(report, below, compact)
    if fmt == "table":
        return to_text(grid).encode("utf-8")
    if fmt == "md":
        return to_markdown(grid).encode("utf-8")
    if fmt == "csv":
        return to_csv(grid)
    grids = [grid] if below is not None else [grid, sessions_grid(report)]
    return to_xlsx(grids)


# -- grids -------------------------------------------------------------------------------------


def matrix_grid(report: LectureReport, compact: bool) -> Grid:
    """One row per student: ID, name, one cell per session, the totals, the rate. When a
    student dropped the lecture, a column after the name gives the day (blank for the others)."""
    dates = [s.date for s in report.sessions]
    # MM-DD in the text formats when that is unambiguous (under a year; the title has the years).
    if compact and dates and (dates[-1] - dates[0]).days < 365:
        session_headers = [d.strftime("%m-%d") for d in dates]
    else:
        session_headers = [d.isoformat() for d in dates]
    dropped = _has_dropped(report)
    leading = ["student_id", "name", *(["dropped_on"] if dropped else [])]
    first_number = len(leading) + len(dates)

    def lead(s: StudentRow) -> list:
        return [s.student_id, s.name, *([s.dropped_on.isoformat() if s.dropped_on else ""] if dropped else [])]

    return Grid(
        title=_title(report),
        headers=[*leading, *session_headers, *_total_headers(compact)],
        rows=[[*lead(s), *_marked_cells(s), *_totals(s)] for s in report.students],
        first_number=first_number,
        sheet_name="Attendance",
        legend=_legend(report),
        widths={0: 11, 1: 20, **{i: 11 for i in range(2, first_number)}},
    )


def _has_dropped(report: LectureReport) -> bool:
    return any(s.dropped_on is not None for s in report.students)


def warning_grid(report: LectureReport, percent: float, compact: bool) -> Grid:
    """The students under ``percent``, lowest rate first."""
    low = report.below(percent)
    return Grid(
        title=f"{_title(report)}: {len(low) or 'no'} student{'' if len(low) == 1 else 's'} below {percent:g}%",
        headers=["student_id", "name", *_total_headers(compact)],
        rows=[[s.student_id, s.name, *_totals(s)] for s in low],
        first_number=2,
        sheet_name=f"Below {percent:g}%"[:31],
        legend=_legend(report),
        widths={0: 11, 1: 20},
    )


def sessions_grid(report: LectureReport) -> Grid:
    """One row per session: its date, totals and rate (the second sheet of the XLSX file)."""
    return Grid(
        title=_title(report),
        headers=["date", *_total_headers(compact=False)],
        rows=[[s.date.isoformat(), *_totals(s)] for s in report.sessions],
        first_number=1,
        sheet_name="Sessions",
        widths={0: 11},
    )


def _total_headers(compact: bool) -> list[str]:
    if compact:
        return [*(LETTERS[t] for t in TOTALS), "rate %"]
    return [*TOTALS, "rate_percent"]


def _totals(row: StudentRow | SessionColumn) -> list:
    t = row.tally
    return [t.present, t.late, t.absent, t.excused, t.left_early, t.rate]


def _title(report: LectureReport) -> str:
    name = f"{report.lecture_code} {report.title}" if report.title else report.lecture_code
    if not report.sessions:
        return f"{name}: no sessions"
    first, last = report.sessions[0].date, report.sessions[-1].date
    count = len(report.sessions)
    return f"{name}: {count} session{'' if count == 1 else 's'}, {first} to {last}"


def _marked_cells(row: StudentRow) -> list[str]:
    """The row's cells, those changed after their session followed by CHANGED_AFTER_MARK."""
    cells = list(row.cells)
    for index in row.changed_after:
        cells[index] += CHANGED_AFTER_MARK
    return cells


def _legend(report: LectureReport) -> str:
    w = f"{report.late_weight:g}"
    dropped = "- not enrolled (yet, or dropped: dropped_on)" if _has_dropped(report) else "- not enrolled yet"
    legend = (
        "P present, L late, A absent (or not marked), E excused, O left early, "
        f"{dropped}, blank: session still open. "
        f"Rate % = (P + {w} x (L + O)) / (P + L + O + A)."
    )
    if any(row.changed_after for row in report.students):
        legend += f" {CHANGED_AFTER_MARK}: mark changed after its session (attendance-db history)."
    return legend


def _text(value) -> str:
    """A cell as text: a rate with one decimal, None as blank."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


# -- writers -----------------------------------------------------------------------------------


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide characters (Hangul, CJK) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_text(grid: Grid) -> str:
    """An aligned table for a terminal: columns two spaces apart, numbers right-aligned."""
    table = [grid.headers] + [[_text(v) for v in row] for row in grid.rows]
    widths = [max(display_width(row[i]) for row in table) for i in range(len(grid.headers))]

    def line(cells: list[str]) -> str:
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths)):
            pad = " " * (width - display_width(cell))
            out.append(pad + cell if i >= grid.first_number else cell + pad)
        return "  ".join(out).rstrip()

    lines = [grid.title, "", line(table[0]), line(["-" * w for w in widths])]
    lines += [line(row) for row in table[1:]]
    if not grid.rows:
        lines.append("(none)")
    if grid.legend:
        lines += ["", grid.legend]
    return "\n".join(lines) + "\n"


#: Markdown's inline syntax and HTML: escaped with a backslash (HTML as entities) in every cell,
#: so that a name is shown as written, never as markup, a link or HTML.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~#!])")
#: In the title, ``_`` stays (lecture codes have one; within a word it is no markup).
_MARKDOWN_SPECIAL_TITLE = re.compile(r"([\\`*\[\]|~#!])")
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def markdown_text(text: str, special: re.Pattern = _MARKDOWN_SPECIAL) -> str:
    """``text`` as Markdown that shows exactly it: HTML characters as entities, Markdown's
    syntax characters escaped, line breaks as spaces (a cell is one line)."""
    text = re.sub(r"[&<>]", lambda m: _HTML_ENTITIES[m.group()], text)
    return special.sub(r"\\\1", " ".join(text.splitlines()))


def to_markdown(grid: Grid) -> str:
    def line(cells) -> str:
        return "| " + " | ".join(markdown_text(_text(c)) for c in cells) + " |"

    def header(cells) -> str:  # the code's own texts
        return "| " + " | ".join(cells) + " |"

    aligns = [
        ":-:" if 2 <= i < grid.first_number else "---:" if i >= grid.first_number else "---"
        for i in range(len(grid.headers))
    ]
    title = markdown_text(grid.title, _MARKDOWN_SPECIAL_TITLE)
    lines = [f"### {title}", "", header(grid.headers), "| " + " | ".join(aligns) + " |"]
    lines += [line(row) for row in grid.rows]
    if grid.legend:
        lines += ["", grid.legend]
    return "\n".join(lines) + "\n"


#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection"): =, +, -, @, tab
#: and carriage return at the start.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell for CSV: a text that starts like a formula gets a ``'`` in front (OWASP's rule), so
    that Excel and LibreOffice show it as text instead of running it. The report's own "-" (not
    enrolled yet) and numbers are left as they are."""
    text = _text(value)
    if isinstance(value, str) and text.startswith(FORMULA_START) and text != NOT_ENROLLED:
        return "'" + text
    return text


def to_csv(grid: Grid) -> bytes:
    """Header and rows only, UTF-8 with a BOM (so that Excel reads Korean names right), CRLF."""
    out = io.StringIO()
    writer = csv.writer(out)  # the "excel" dialect: commas, quotes where needed, \r\n
    writer.writerow(grid.headers)
    writer.writerows([csv_cell(v) for v in row] for row in grid.rows)
    return out.getvalue().encode("utf-8-sig")


# Cell colors, shared by the XLSX sheet and the chart (light enough to print black letters on).
COLORS = {
    "P": "#a5d6a7",
    "L": "#fff176",
    "O": "#ffb74d",
    "E": "#90caf9",
    "A": "#e57373",
    NOT_ENROLLED: "#d9d9d9",
    UNMARKED: "#ffffff",
}


def to_xlsx(grids: list[Grid]) -> bytes:
    """One sheet per grid: a bold header row, frozen; letters colored; rates as numbers (0.0)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    book.properties.title = grids[0].title
    fills = {k: PatternFill("solid", fgColor=v.lstrip("#")) for k, v in COLORS.items() if k}
    for grid in grids:
        sheet = book.create_sheet(grid.sheet_name)
        sheet.append(grid.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in grid.rows:
            sheet.append([None if v == "" else v for v in row])  # blank cells stay empty
        for cells in sheet.iter_rows(min_row=2):
            for i, cell in enumerate(cells):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # a name starting with '=' stays text, not a formula
                if 2 <= i < grid.first_number:  # a session column of the matrix
                    cell.alignment = Alignment(horizontal="center")
                    letter = cell.value.removesuffix(CHANGED_AFTER_MARK) if isinstance(cell.value, str) else None
                    if letter in fills:
                        cell.fill = fills[letter]
                if isinstance(cell.value, float):
                    cell.number_format = "0.0"
        for i in range(len(grid.headers)):
            sheet.column_dimensions[get_column_letter(i + 1)].width = grid.widths.get(i, 12)
        sheet.freeze_panes = sheet.cell(row=2, column=min(3, len(grid.headers)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- the chart ---------------------------------------------------------------------------------

CHART_DPI = 200
CHART_WIDTH = 11.5  # inches: a landscape A4/Letter page
_TOP, _RATE, _GAP, _BOTTOM, _LEFT, _RIGHT = 0.5, 2.25, 0.5, 1.25, 2.0, 0.3  # inches
_ROW = 0.18  # inches per student in the heat map, within 1 to 24 inches in all
_CELL_CODES = [NOT_ENROLLED, UNMARKED, "P", "L", "O", "E", "A"]  # heat map value = index here
_CELL_NAMES = ["not enrolled yet", "open, not marked", "present", "late", "left early", "excused", "absent"]
# Fonts with Hangul that the chart uses when installed (names in them are drawn; else IDs only).
_CJK_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "NanumGothic",
    "Malgun Gothic",
    "AppleGothic",
    "UnDotum",
    "Baekmuk Gulim",
)


def chart_size(report: LectureReport) -> tuple[float, float]:
    """The chart's size in inches: 11.5 wide; 4.5 + the heat map (0.18 in per student, rounded
    up to 0.25 in, between 1 and 24 in) high. Quarter inches make whole pixels at CHART_DPI."""
    heat = min(24.0, max(1.0, math.ceil(len(report.students) * _ROW / 0.25) * 0.25))
    return CHART_WIDTH, _TOP + _RATE + _GAP + heat + _BOTTOM


def build_figure(report: LectureReport, below: float | None = None):
    """A matplotlib Figure (no pyplot, no global state): the desktop app can embed it as is.

    Top: attendance rate per session over the term (a dashed line at ``below`` when given).
    Bottom: the student × session heat map, with letters in the cells when they are big enough.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if not report.sessions or not report.students:
        raise ValueError(f"{report.lecture_code}: nothing to draw (no sessions or no students)")
    width, height = chart_size(report)
    heat = height - _TOP - _RATE - _GAP - _BOTTOM
    n_sessions, n_students = len(report.sessions), len(report.students)
    fig = Figure(figsize=(width, height), dpi=CHART_DPI)
    family = ["DejaVu Sans", *_installed_cjk_fonts()]

    def box(bottom: float, box_height: float) -> tuple[float, float, float, float]:  # inches -> figure fractions
        return (_LEFT / width, bottom / height, (width - _LEFT - _RIGHT) / width, box_height / height)

    rate_ax = fig.add_axes(box(_BOTTOM + heat + _GAP, _RATE))
    heat_ax = fig.add_axes(box(_BOTTOM, heat), sharex=rate_ax)
    title = _drawable(_title(report)) or f"{report.lecture_code}: {n_sessions} sessions"
    fig.suptitle(title, y=1 - 0.15 / height, fontsize=12, family=family)

    # Rate per session.
    xs = range(n_sessions)
    rates = [math.nan if s.tally.rate is None else s.tally.rate for s in report.sessions]
    rate_ax.plot(xs, rates, marker="o", markersize=3, linewidth=1.5, color="#1565c0")
    if below is not None:
        rate_ax.axhline(below, linestyle="--", linewidth=1, color="#c62828", label=f"{below:g}%")
        rate_ax.legend(loc="lower left", fontsize=8)
    rate_ax.set_ylim(0, 105)
    rate_ax.set_ylabel("attendance rate per session (%)", fontsize=9)
    rate_ax.grid(True, linewidth=0.5, alpha=0.6)
    rate_ax.tick_params(labelbottom=False, labelsize=8)
    rate_ax.tick_params(which="minor", length=0)

    # Heat map: one row per student, one column per session.
    values = [[_CELL_CODES.index(c) for c in s.cells] for s in report.students]
    cmap = ListedColormap([COLORS[c] for c in _CELL_CODES])
    heat_ax.imshow(values, cmap=cmap, vmin=-0.5, vmax=len(_CELL_CODES) - 0.5, aspect="auto", interpolation="nearest")
    heat_ax.set_xlim(-0.5, n_sessions - 0.5)
    heat_ax.set_xticks([x - 0.5 for x in range(1, n_sessions)], minor=True)  # thin white lines
    heat_ax.set_yticks([y - 0.5 for y in range(1, n_students)], minor=True)  # between cells
    heat_ax.grid(which="minor", color="white", linewidth=0.6)
    heat_ax.tick_params(which="minor", length=0)
    row_height = heat / n_students
    cell_width = (width - _LEFT - _RIGHT) / n_sessions
    if row_height >= 0.15 and cell_width >= 0.15:
        for y, student in enumerate(report.students):
            for x, letter in enumerate(student.cells):
                heat_ax.text(x, y, letter, ha="center", va="center", fontsize=6.5)
    step = max(1, math.ceil(0.12 / row_height))  # label every student when the rows allow it
    shown = list(range(0, n_students, step))
    heat_ax.set_yticks(shown, [_student_label(report.students[i]) for i in shown], fontsize=7, family=family)
    dates = [s.date.isoformat() for s in report.sessions]
    heat_ax.set_xticks(list(xs), dates, rotation=90, fontsize=7)
    handles = [
        Patch(facecolor=COLORS[c], edgecolor="#777777", label=f"{c or ' '} {n}")
        for c, n in zip(_CELL_CODES, _CELL_NAMES)
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.02 / height),
    )
    return fig


def render_chart(report: LectureReport, path, below: float | None = None) -> None:
    """Write the chart of :func:`build_figure` as a PNG of chart_size(report) × CHART_DPI pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = build_figure(report, below)
    FigureCanvasAgg(fig).print_png(path)


def _student_label(student: StudentRow) -> str:
    name = student.name if len(student.name) <= 20 else student.name[:19] + "…"
    return f"{student.student_id} {name}" if _drawable(name) else student.student_id


def _drawable(text: str) -> str | None:
    """The text when the chart's fonts have every character of it, else None (no empty boxes)."""
    return text if all(ord(ch) in _font_chars() for ch in text) else None


@functools.lru_cache(maxsize=1)
def _installed_cjk_fonts() -> tuple[str, ...]:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return tuple(name for name in _CJK_FONTS if name in installed)


@functools.lru_cache(maxsize=1)
def _font_chars() -> frozenset[int]:
    from matplotlib import font_manager

    chars: set[int] = set()
    for name in ("DejaVu Sans", *_installed_cjk_fonts()):
        path = font_manager.findfont(font_manager.FontProperties(family=name))
        chars.update(font_manager.get_font(path).get_charmap())
    return frozenset(chars)
