"""A fixed term of the six sample students written with plain INSERTs, and what every report of
it must say, computed independently of db/reports.py (tests/db/test_reports.py,
tests/reports/test_cli.py)."""

from __future__ import annotations

import contextlib
import datetime
import math
import struct
from dataclasses import dataclass
from fractions import Fraction

from db.connection import connect, transaction
from testkit.databases import fresh_database

LECTURE = "ea0017_1"
TITLE = "Data Structures"
EMPTY_LECTURE = "ea0017_2"  # students enrolled, no session yet
OTHER_LECTURE = "cs1234_1"  # its marks must never show in LECTURE's report

STUDENTS = {
    "201911001": "Barack Obama",
    "201911002": "Joe Biden",
    "201911003": "김민수",
    "201911004": "Kit Harington",
    "201911005": "Rose Leslie",
    "201911006": "Lin-Manuel Miranda",
}
TERM_START = datetime.date(2024, 3, 4)
PAST_SESSIONS = [TERM_START + datetime.timedelta(weeks=k) for k in range(12)]  # Mondays to 05-20
CLOSED = PAST_SESSIONS[:6]  # closed_at set; the others were never closed (it makes no difference)
ENROLLED = {sid: datetime.datetime(2024, 2, 26, 9, 0) for sid in STUDENTS}
ENROLLED["201911005"] = datetime.datetime(2024, 3, 27, 14, 30)  # mid-term: 3 sessions before

# One character per past session: P L A E O = a row with that status, "." = no row at all.
# 201911005 was marked present on 03-25, before enrolling on 03-27: the mark counts. Its rate,
# (4 + 0.5) / 8 = 56.25%, is rounded half up to 56.3 (Python's f"{56.25:.1f}" would give 56.2).
MARKS = {
    "201911001": "PPPPLPPPPPPP",
    "201911002": "PLAPP.PEPPLO",
    "201911003": "PPLLAAPE.PPP",
    "201911004": "A.APAEAPLA.A",
    "201911005": "...PA.LPEPPA",
    "201911006": "PPPPPPPPPPPO",
}
TODAY_MARKS = {"201911001": "P", "201911003": "L"}  # today's session is open: the rest is blank
STATUS = {"P": "present", "L": "late", "A": "absent", "E": "excused", "O": "left_early"}
SOURCES = ("checkin", "rollcall", "camera", "manual")


@dataclass(frozen=True)
class Expected:
    present: int
    late: int
    absent: int
    excused: int
    left_early: int
    rate: float | None


@dataclass
class Term:
    """The term as written to the database, and the independent computation of the reports."""

    today: datetime.date

    @property
    def sessions(self) -> list[datetime.date]:
        return PAST_SESSIONS + [self.today]

    def mark(self, sid: str, day: datetime.date) -> tuple[str, str] | None:
        """(status, source) of the row written for this student and day, or None."""
        if day == self.today:
            letter = TODAY_MARKS.get(sid, ".")
        else:
            letter = MARKS[sid][PAST_SESSIONS.index(day)]
        if letter == ".":
            return None
        k = self.sessions.index(day) + int(sid[-1])
        return STATUS[letter], SOURCES[k % len(SOURCES)]

    def cell(self, sid: str, day: datetime.date) -> str:
        mark = self.mark(sid, day)
        if mark is not None:
            return {v: k for k, v in STATUS.items()}[mark[0]]
        if day < ENROLLED[sid].date():
            return "-"
        if day == self.today:  # open (closed_at NULL) and dated today
            return ""
        return "A"  # not marked

    def dates(self, date_from=None, date_to=None) -> list[datetime.date]:
        return [d for d in self.sessions if (date_from is None or d >= date_from) and (date_to is None or d <= date_to)]

    def expected_cells(self, date_from=None, date_to=None) -> dict[str, list[str]]:
        return {sid: [self.cell(sid, d) for d in self.dates(date_from, date_to)] for sid in STUDENTS}

    def expected_tallies(self, late_weight=0.5, date_from=None, date_to=None) -> dict[str, Expected]:
        return {sid: tally(cells, late_weight) for sid, cells in self.expected_cells(date_from, date_to).items()}

    def expected_session_tallies(self, late_weight=0.5) -> list[Expected]:
        cells = self.expected_cells()
        return [tally([cells[sid][i] for sid in STUDENTS], late_weight) for i in range(len(self.sessions))]


def tally(cells: list[str], late_weight: float) -> Expected:
    n = {letter: cells.count(letter) for letter in "PLAEO"}
    counted = n["P"] + n["L"] + n["O"] + n["A"]
    rate = None
    if counted:
        exact = 100 * (n["P"] + Fraction(str(late_weight)) * (n["L"] + n["O"])) / counted
        rate = float(Fraction(math.floor(exact * 10 + Fraction(1, 2)), 10))  # half up, 0.1
    return Expected(n["P"], n["L"], n["A"], n["E"], n["O"], rate)


def rate_text(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.1f}"


def write_term(cur) -> Term:
    """The term, by plain INSERTs. Returns the Term (today's date is the database's)."""
    cur.execute("SELECT CURRENT_DATE")
    term = Term(today=cur.fetchone()[0])
    cur.executemany("INSERT INTO students (student_id, name) VALUES (%s, %s)", list(STUDENTS.items()))
    cur.executemany(
        "INSERT INTO lectures (code, title) VALUES (%s, %s)",
        [(LECTURE, TITLE), (EMPTY_LECTURE, None), (OTHER_LECTURE, "Other")],
    )
    cur.execute("SELECT code, lecture_id FROM lectures")
    ids = dict(cur.fetchall())
    cur.executemany(
        "INSERT INTO enrollments (lecture_id, student_id, enrolled_at) VALUES (%s, %s, %s)",
        [(ids[LECTURE], sid, at) for sid, at in ENROLLED.items()]
        + [(ids[EMPTY_LECTURE], sid, ENROLLED[sid]) for sid in ("201911001", "201911003")]
        + [(ids[OTHER_LECTURE], sid, ENROLLED[sid]) for sid in ("201911001", "201911002")],
    )
    for day in term.sessions:
        closed = datetime.datetime.combine(day, datetime.time(11)) if day in CLOSED else None
        cur.execute(
            "INSERT INTO class_sessions (lecture_id, session_date, closed_at) VALUES (%s, %s, %s)",
            (ids[LECTURE], day, closed),
        )
        session_id = cur.lastrowid
        rows = [(session_id, sid, *term.mark(sid, day)) for sid in STUDENTS if term.mark(sid, day)]
        cur.executemany(
            "INSERT INTO attendance (session_id, student_id, status, source, client_name)"
            " VALUES (%s, %s, %s, %s, 'test')",
            rows,
        )
    # The other lecture meets on the same days; 201911006 has a mark there without enrollment.
    for day in PAST_SESSIONS[:2]:
        cur.execute("INSERT INTO class_sessions (lecture_id, session_date) VALUES (%s, %s)", (ids[OTHER_LECTURE], day))
        cur.executemany(
            "INSERT INTO attendance (session_id, student_id, status, source, client_name)"
            " VALUES (%s, %s, 'excused', 'manual', 'test')",
            [(cur.lastrowid, sid) for sid in ("201911001", "201911002", "201911006")],
        )
    return term


@contextlib.contextmanager
def term_database(server_db_url):
    """A fresh database holding the term; yields (url, term). Dropped at the end."""
    with fresh_database(server_db_url) as url:
        conn = connect(url)
        with transaction(conn) as cur:
            term = write_term(cur)
        conn.close()
        yield url, term


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])
