"""Importing the registrar's roster: lecture codes, student IDs and names, from CSV or XLSX.

The file, as a registrar exports it::

    학번,이름,과목코드,학과
    2020123490,김민수,COSE101-02,컴퓨터학과
    2020123491,"O'Brien, Pat",COSE101-02,국제학부

- **Formats**: CSV (``.csv`` or any other name) in UTF-8, with or without a byte-order mark, or
  CP949/EUC-KR (what Korean Excel saves), detected; ``encoding`` names another. XLSX (``.xlsx``):
  the workbook's first sheet, numbers written as text (``2020123490``, not ``2.02e9``).
- **Columns**: found by their header (:data:`HEADER_NAMES`: common Korean and English ones, any
  case, spaces and ``_`` ignored), or named with ``columns`` (``--columns
  student_id=학번,student_name=이름,lecture_code=과목코드``). Other columns are ignored. The
  header is the first line naming the student ID and name columns (lines above it, such as a
  title, are skipped). ``lecture``: the file is one lecture's class list and needs no lecture
  column.
- **Rows**: one enrollment each; blank and repeated lines are ignored. Identifiers follow the
  university's pattern (:class:`protocol.identifiers.IdentifierRules`).

Every problem is one :class:`RosterFormatError` naming the file, the line and, where there is
one, the column; the whole file is read before the database is touched.

:func:`import_roster` adds what is missing (lectures, students, enrollments), renames students
whose name changed (the roster is the registrar's truth), and puts a student who had dropped a
lecture back on it. With ``sync``, a lecture's roster becomes the file's: its students not in
the file drop it from ``today`` (db/students.py: their marks stay).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from db.lectures import insert_lecture_if_missing
from db.students import drop, enroll, ensure_student, readmit, rename_student, roster
from protocol.identifiers import IdentifierRules, is_legacy_lecture_code, is_legacy_student_id

#: The roster's fields, in the order of the file of earlier releases.
FIELDS = ("lecture_code", "student_id", "student_name")
#: Headers recognized without --columns (compared without case, spaces or '_').
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "student_id": ("student_id", "student id", "student no", "student number", "학번", "학생번호"),
    "student_name": ("student_name", "student name", "name", "이름", "성명", "학생명", "학생이름"),
    "lecture_code": (
        "lecture_code",
        "lecture code",
        "course code",
        "class code",
        "과목코드",
        "교과목코드",
        "학수번호",
        "강좌번호",
        "학수강좌번호",
    ),
}
MAX_NAME_LENGTH = 100  # students.name is VARCHAR(100)
#: Lines looked at for the header (a title and blank lines may come first).
HEADER_SEARCH_LINES = 20
#: Tried in this order when no encoding is given (CP949 is a superset of EUC-KR).
DETECTED_ENCODINGS = ("utf-8", "cp949")


class RosterFormatError(ValueError):
    """A problem in the roster file; the message starts with ``FILE:LINE:`` (then the column)."""

    def __init__(self, path: str | Path, line: int, problem: str, column: str | None = None):
        where = f"{path}:{line}: " + (f"column {column}: " if column else "")
        super().__init__(where + problem)
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem


@dataclass(frozen=True)
class RosterRow:
    lecture_code: str  # as stored (protocol.identifiers.normalize_lecture_code)
    student_id: str
    student_name: str
    line: int  # line (CSV) or row (XLSX) number in the file, for messages


@dataclass(frozen=True)
class ImportReport:
    lectures_created: int
    students_created: int
    enrollments_created: int
    students_renamed: int = 0
    #: Students who left a lecture's roster (sync), and students back on one they had dropped.
    students_dropped: int = 0
    students_readmitted: int = 0
    #: One line per change, for --dry-run ("drop 2020123490 김민수 from COSE101-02").
    changes: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    def counts(self) -> list[tuple[str, int]]:
        """(what, how many) of each count, in order, for the command's output."""
        return [(f.name.replace("_", " "), getattr(self, f.name)) for f in dataclasses.fields(self) if f.type == "int"]


# -- options ---------------------------------------------------------------------------------


def parse_columns(text: str) -> dict[str, str]:
    """``student_id=학번,student_name=이름`` as {field: header}; ValueError naming what is wrong."""
    columns: dict[str, str] = {}
    for part in text.split(","):
        field, equals, header = (piece.strip() for piece in part.partition("="))
        if not equals or not header:
            raise ValueError(f"FIELD=HEADER pairs separated by ',', not {part.strip()!r}")
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r} (fields: {', '.join(FIELDS)})")
        if field in columns:
            raise ValueError(f"{field} named twice")
        columns[field] = header
    return columns


def check_encoding(name: str) -> str:
    """The encoding's name if Python knows it, else ValueError."""
    try:
        codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown encoding {name!r} (e.g. utf-8, cp949, euc-kr)") from None
    return name


# -- reading ---------------------------------------------------------------------------------


def read_roster(
    path: str | Path,
    *,
    rules: IdentifierRules | None = None,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    lecture: str | None = None,
) -> list[RosterRow]:
    """Read and check the whole file (CSV, or XLSX by its name); the first problem raises
    RosterFormatError. ``lecture``: the code of a file that is one lecture's class list."""
    rules = rules or IdentifierRules()
    if lecture is not None:
        try:
            lecture = rules.normalize_lecture_code(lecture)
        except ValueError as exc:
            raise RosterFormatError(path, 1, f"--lecture: {exc}") from None
    if Path(path).suffix.lower() in (".xlsx", ".xlsm"):
        return _rows(path, _xlsx_lines(path), rules, columns or {}, lecture, spreadsheet=True)
    return _rows(path, _csv_lines(path, encoding), rules, columns or {}, lecture, spreadsheet=False)


def read_roster_csv(path: str | Path) -> list[RosterRow]:
    """:func:`read_roster` of a CSV file with the default settings."""
    return read_roster(path)


def _csv_lines(path: str | Path, encoding: str | None) -> Iterator[tuple[int, list[str]]]:
    data = Path(path).read_bytes()
    text = _decode(path, data, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            yield reader.line_num, fields  # a quoted field may span lines: this is where the row ends
    except csv.Error as exc:
        raise RosterFormatError(path, reader.line_num, f"bad CSV: {exc}") from None


def _decode(path: str | Path, data: bytes, encoding: str | None) -> str:
    if data.startswith(codecs.BOM_UTF8) and encoding in (None, "utf-8", "utf-8-sig"):
        encoding = "utf-8-sig"
    tried = (encoding,) if encoding else DETECTED_ENCODINGS
    first_error: UnicodeDecodeError | None = None
    for name in tried:
        try:
            return data.decode(name)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    assert first_error is not None  # every encoding tried failed
    line = data[: first_error.start].count(b"\n") + 1
    if encoding:
        raise RosterFormatError(path, line, f"not {encoding} text")
    raise RosterFormatError(path, line, "neither UTF-8 nor CP949/EUC-KR text; name the encoding with --encoding")


def _xlsx_lines(path: str | Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # here: only an XLSX roster needs it

    data = Path(path).read_bytes()  # OSError: the caller's "cannot read"
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = [[_cell_text(value) for value in values] for values in sheet.iter_rows(values_only=True)]
        workbook.close()
    except Exception as exc:  # noqa: BLE001 - zipfile, XML and openpyxl errors alike: the file is not a workbook
        raise RosterFormatError(path, 1, f"not an XLSX workbook: {exc}") from None
    yield from enumerate(rows, 1)


def _cell_text(value) -> str:
    """A cell as the registrar sees it: an ID typed as a number stays digits (2020123490)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    return str(value)


def _header_key(text: str) -> str:
    return re.sub(r"[\s_]+", "", unicodedata.normalize("NFC", text)).casefold()


_DEFAULT_KEYS = {field: {_header_key(name) for name in names} for field, names in HEADER_NAMES.items()}


def _column_name(index: int) -> str:
    """The spreadsheet letter of a 0-based column: A, B, ..., Z, AA..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _find_columns(header: list[str], needed: tuple[str, ...], columns: Mapping[str, str]) -> dict[str, int] | None:
    """{field: index} when ``header`` names every needed field, else None. Raises ValueError
    when a header names a field twice."""
    keys = [_header_key(cell) for cell in header]
    found: dict[str, int] = {}
    for field in needed:
        wanted = {_header_key(columns[field])} if field in columns else _DEFAULT_KEYS[field]
        matches = [index for index, key in enumerate(keys) if key and key in wanted]
        if not matches:
            return None
        if len(matches) > 1:
            named = " and ".join(f"{_column_name(i)} ({header[i].strip()})" for i in matches)
            raise ValueError(f"columns {named} could both be the {field}; choose one with --columns {field}=HEADER")
        found[field] = matches[0]
    return found


def _rows(
    path,
    lines: Iterable[tuple[int, list[str]]],
    rules: IdentifierRules,
    columns: Mapping[str, str],
    lecture: str | None,
    *,
    spreadsheet: bool,
) -> list[RosterRow]:
    """The rows after the header. A CSV line must have the header's number of fields (empty ones
    after it aside); a spreadsheet row's missing cells at its end are empty."""
    needed = ("student_id", "student_name") + (() if lecture else ("lecture_code",))
    if lecture and "lecture_code" in columns:
        raise RosterFormatError(path, 1, "give --lecture or a lecture_code column in --columns, not both")
    found: dict[str, int] | None = None
    width = 0
    header: list[str] = []
    rows: list[RosterRow] = []
    names: dict[str, RosterRow] = {}  # student ID -> first row naming them
    for line, fields in lines:
        if not any(field.strip() for field in fields):
            continue  # blank line
        if found is None:
            try:
                found = _find_columns(fields, needed, columns)
            except ValueError as exc:
                raise RosterFormatError(path, line, str(exc)) from None
            if found is None and line >= HEADER_SEARCH_LINES:
                break
            if found is not None:
                width = len(fields)
                while width and not fields[width - 1].strip():
                    width -= 1  # an XLSX header row may have empty cells after the last name
                header = fields
            continue
        if spreadsheet:
            fields = fields + [""] * (width - len(fields))
        row = _check_row(path, line, fields, found, header, width, rules, lecture)
        first = names.setdefault(row.student_id, row)
        if first.student_name != row.student_name:
            raise RosterFormatError(
                path,
                line,
                f"student {row.student_id} is named {row.student_name!r} here but {first.student_name!r} on line {first.line}",
            )
        rows.append(row)
    if found is None:
        wanted = "; ".join(
            f"{field}: {columns[field]!r}" if field in columns else f"{field}: one of {', '.join(HEADER_NAMES[field])}"
            for field in needed
        )
        raise RosterFormatError(
            path,
            1,
            f"the first line must be exactly: {','.join(FIELDS)}, or a header naming the columns ({wanted}); "
            "name yours with --columns student_id=HEADER,...",
        )
    return rows


def _check_row(path, line, fields, found, header, width, rules: IdentifierRules, lecture) -> RosterRow:
    if len(fields) < width or any(cell.strip() for cell in fields[width:]):
        raise RosterFormatError(path, line, f"expected {width} fields, found {len(fields)}")

    def cell(field: str) -> tuple[str, str]:
        index = found[field]
        return fields[index].strip(), f"{_column_name(index)} ({header[index].strip()})"

    student_id, id_column = cell("student_id")
    name, name_column = cell("student_name")
    try:
        rules.check_student_id(student_id)
    except ValueError as exc:
        raise RosterFormatError(path, line, str(exc), id_column) from None
    if lecture is not None:
        code = lecture
    else:
        text, code_column = cell("lecture_code")
        try:
            code = rules.normalize_lecture_code(text)
        except ValueError as exc:
            raise RosterFormatError(path, line, str(exc), code_column) from None
    if not name:
        raise RosterFormatError(path, line, "the student name is empty", name_column)
    if len(name) > MAX_NAME_LENGTH:
        raise RosterFormatError(
            path, line, f"the student name is longer than {MAX_NAME_LENGTH} characters", name_column
        )
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise RosterFormatError(path, line, f"the student name contains a control character: {name!r}", name_column)
    return RosterRow(code, student_id, name, line)


def out_of_reach_of_2019_clients(rows: Iterable[RosterRow]) -> tuple[list[str], list[str]]:
    """The lecture codes and student IDs of ``rows`` that do not fit the 2019 payloads' fixed
    formats (protocol.legacy), each once, in file order: 2019 clients cannot reach them."""
    rows = list(rows)
    codes = [code for code in dict.fromkeys(row.lecture_code for row in rows) if not is_legacy_lecture_code(code)]
    ids = [sid for sid in dict.fromkeys(row.student_id for row in rows) if not is_legacy_student_id(sid)]
    return codes, ids


# -- importing -------------------------------------------------------------------------------


def import_roster(
    cur, rows: list[RosterRow], *, sync: Iterable[str] = (), today: datetime.date | None = None
) -> ImportReport:
    """Create the missing lectures, students and enrollments; rename students whose name
    changed; readmit students listed again in a lecture they had dropped. ``sync``: lecture
    codes whose roster becomes the file's (their other students drop them from ``today``).

    Importing the same rows again changes nothing and reports all zeros. When a student appears
    on several rows, the name on the last one is used (read_roster refuses differing names).
    """
    changes: list[str] = []
    lecture_ids: dict[str, int] = {}  # code as given -> lecture (the database compares codes without case)
    codes: dict[int, str] = {}  # lecture -> its code as stored
    lectures_created = 0
    for code in dict.fromkeys([*(row.lecture_code for row in rows), *sync]):  # each once, file order
        lecture, created = insert_lecture_if_missing(cur, code)
        lecture_ids[code], codes[lecture.lecture_id] = lecture.lecture_id, lecture.code
        lectures_created += created
        if created:
            changes.append(f"create lecture {lecture.code}")

    names = {row.student_id: row.student_name for row in rows}
    students_created = students_renamed = 0
    for student_id, name in names.items():
        if ensure_student(cur, student_id, name):
            students_created += 1
            changes.append(f"create student {student_id} {name}")
        elif rename_student(cur, student_id, name):
            students_renamed += 1
            changes.append(f"rename student {student_id} to {name}")

    enrollments_created = readmitted = 0
    listed: dict[int, set[str]] = {lecture_id: set() for lecture_id in codes}  # student IDs, casefolded
    for code, student_id in dict.fromkeys((row.lecture_code, row.student_id) for row in rows):
        lecture_id = lecture_ids[code]
        if student_id.casefold() in listed[lecture_id]:
            continue
        listed[lecture_id].add(student_id.casefold())
        if enroll(cur, lecture_id, student_id):
            enrollments_created += 1
            changes.append(f"enrol {student_id} {names[student_id]} in {codes[lecture_id]}")
        elif readmit(cur, lecture_id, student_id):
            readmitted += 1
            changes.append(f"readmit {student_id} {names[student_id]} to {codes[lecture_id]} (had dropped it)")

    dropped = 0
    day = today or datetime.date.today()
    for lecture_id in dict.fromkeys(lecture_ids[code] for code in sync):
        for student in roster(cur, lecture_id):
            if student.student_id.casefold() not in listed[lecture_id] and drop(
                cur, lecture_id, student.student_id, day
            ):
                dropped += 1
                changes.append(f"drop {student.student_id} {student.name} from {codes[lecture_id]} from {day}")

    return ImportReport(
        lectures_created,
        students_created,
        enrollments_created,
        students_renamed,
        dropped,
        readmitted,
        tuple(changes),
    )
