"""Report speed: one lecture's report in a database of 20 lectures × 300 students × 45 sessions.

Creates (again) the database ``attendance_bench_reports`` on the server of ATTENDANCE_DB_URL
(default mysql://root@127.0.0.1:3306/x), fills it with random marks (about 5% of the cells
without a row, 5% of the students enrolled in the 10th week), then times:

- ``build_report`` for one lecture: the median of --repeat runs (target: under 1 s);
- the summary view for that lecture (for information);
- ``attendance-report`` end to end, once as CSV and once with --chart.

Exit status 1 when the build_report median is over 1 s.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.reports
"""

from __future__ import annotations

import argparse
import datetime
import random
import subprocess
import sys
import tempfile
import time

from bench import results
from db.connection import DatabaseUrl, connect, transaction, url_from_env
from db.reports import build_report
from db.schema import recreate_database
from testkit.paths import REPO
from testkit.timing import median_seconds

DATABASE = "attendance_bench_reports"
TARGET_SECONDS = 1.0
TERM_START = datetime.date(2024, 3, 4)  # a Monday; sessions on Mondays, Wednesdays, Fridays
# Status of a cell: weights, "" = no row (the student was not marked).
STATUS_WEIGHTS = {"present": 75, "late": 8, "absent": 7, "excused": 3, "left_early": 2, "": 5}
SOURCES = ("checkin", "rollcall", "camera", "manual")
CHUNK = 20_000  # rows per executemany (pymysql sends them as multi-row INSERTs)


def session_dates(count: int) -> list[datetime.date]:
    days = []
    day = TERM_START
    while len(days) < count:
        if day.weekday() in (0, 2, 4):
            days.append(day)
        day += datetime.timedelta(days=1)
    return days


def insert_chunks(cur, sql: str, rows: list[tuple]) -> None:
    for start in range(0, len(rows), CHUNK):
        cur.executemany(sql, rows[start : start + CHUNK])


def generate(cur, lectures: int, students: int, sessions: int, seed: int = 5) -> dict[str, int]:
    """The whole term, by bulk INSERTs. Returns the row count of each table."""
    rng = random.Random(seed)
    pool = [f"{202400000 + i:09d}" for i in range(students * lectures // 2)]  # lectures overlap
    insert_chunks(
        cur, "INSERT INTO students (student_id, name) VALUES (%s, %s)", [(sid, f"Student {sid[-4:]}") for sid in pool]
    )
    codes = [f"bn{1000 + k}_1" for k in range(lectures)]
    insert_chunks(
        cur,
        "INSERT INTO lectures (code, title) VALUES (%s, %s)",
        [(code, f"Benchmark lecture {k}") for k, code in enumerate(codes)],
    )
    cur.execute("SELECT code, lecture_id FROM lectures")
    lecture_ids = dict(cur.fetchall())
    days = session_dates(sessions)
    late_enrollment = datetime.datetime.combine(days[0] + datetime.timedelta(weeks=9), datetime.time(12))

    enrollments, class_sessions = [], []
    for k, code in enumerate(codes):
        for i in range(students):
            sid = pool[(k * students // 2 + i) % len(pool)]
            enrolled = late_enrollment if rng.random() < 0.05 else datetime.datetime(2024, 2, 26, 9)
            enrollments.append((lecture_ids[code], sid, enrolled))
        class_sessions += [(lecture_ids[code], day, datetime.datetime.combine(day, datetime.time(18))) for day in days]
    insert_chunks(cur, "INSERT INTO enrollments (lecture_id, student_id, enrolled_at) VALUES (%s, %s, %s)", enrollments)
    insert_chunks(
        cur, "INSERT INTO class_sessions (lecture_id, session_date, closed_at) VALUES (%s, %s, %s)", class_sessions
    )
    cur.execute("SELECT lecture_id, session_date, session_id FROM class_sessions")
    session_ids = {(lecture_id, day): session_id for lecture_id, day, session_id in cur.fetchall()}

    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    marks = []
    for lecture_id, sid, enrolled in enrollments:
        picks = rng.choices(statuses, weights, k=len(days))
        for day, status in zip(days, picks):
            if status and day >= enrolled.date():
                marks.append((session_ids[lecture_id, day], sid, status, rng.choice(SOURCES), "bench"))
    # Only placeholders in VALUES (...): pymysql then sends multi-row INSERTs, not one per row.
    insert_chunks(
        cur,
        "INSERT INTO attendance (session_id, student_id, status, source, client_name) VALUES (%s, %s, %s, %s, %s)",
        marks,
    )
    cur.execute("ANALYZE TABLE students, lectures, enrollments, class_sessions, attendance")
    cur.fetchall()
    return {
        "students": len(pool),
        "lectures": len(codes),
        "enrollments": len(enrollments),
        "class_sessions": len(class_sessions),
        "attendance": len(marks),
    }


def run_cli(url: DatabaseUrl, code: str, *args: str) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "reports", "--db-url", url.to_url(), "--lecture", code, *args]
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lectures", type=int, default=20)
    parser.add_argument("--students", type=int, default=300, help="per lecture")
    parser.add_argument("--sessions", type=int, default=45, help="per lecture")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    url = recreate_database(DatabaseUrl.parse(url_from_env()), DATABASE)
    conn = connect(url, timeout=30)
    started = time.perf_counter()
    with transaction(conn) as cur:
        counts = generate(cur, args.lectures, args.students, args.sessions)
    print(
        f"generated in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n} {table}" for table, n in counts.items())
    )

    code = "bn1007_1"  # a lecture in the middle
    report = None

    def one_report():
        nonlocal report
        with transaction(conn) as cur:
            report = build_report(cur, code)

    def summary_view():
        with transaction(conn) as cur:
            cur.execute("SELECT * FROM attendance_summary_v WHERE lecture_code = %s", (code,))
            cur.fetchall()

    report_s = median_seconds(one_report, args.repeat)
    view_s = median_seconds(summary_view, args.repeat)
    conn.close()
    cells = len(report.students) * len(report.sessions)
    print(
        f"build_report({code}): {len(report.students)} students × {len(report.sessions)} sessions"
        f" = {cells} cells, median of {args.repeat}: {1000 * report_s:.0f} ms"
        f" (target < {1000 * TARGET_SECONDS:.0f} ms)"
    )
    print(f"attendance_summary_v for {code}, median of {args.repeat}: {1000 * view_s:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        csv_s = run_cli(url, code, "--format", "csv", "--out", f"{tmp}/r.csv")
        chart_s = run_cli(url, code, "--format", "xlsx", "--out", f"{tmp}/r.xlsx", "--chart", f"{tmp}/r.png")
    print(
        f"attendance-report end to end (process start included): csv {1000 * csv_s:.0f} ms,"
        f" xlsx + chart {1000 * chart_s:.0f} ms"
    )
    results.save(
        "reports",
        [
            results.Row(
                f"report of one lecture ({cells} cells; {counts['attendance']} rows in the database)",
                results.seconds(report_s),
                target=f"< {TARGET_SECONDS:g} s",
                met=report_s <= TARGET_SECONDS,
            ),
            results.Row(
                "attendance-report end to end: csv / xlsx + chart",
                f"{results.seconds(csv_s)} / {results.seconds(chart_s)}",
            ),
        ],
        details=f"attendance_summary_v for one lecture: {results.seconds(view_s)} (median of {args.repeat}).",
    )
    if report_s > TARGET_SECONDS:
        print("target MISSED")
        return 1
    print("target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
