"""The university's identifiers and registrar rosters end to end (issue 15, points 1 and 2): a
real server configured with 10-digit student IDs and codes like COSE101-02, rosters imported by
``attendance-db import-roster`` from XLSX and CP949 CSV files with Korean headers, marks over the
framed protocol, the 2019 payloads still served for the 2019 formats, reports, and ``--sync``
dropping a student (history kept, the report shows the drop, no more check-ins)."""

from __future__ import annotations

import datetime

import pytest
from openpyxl import Workbook

from admin import cli as admin_cli
from client.connection import ServerError
from protocol.errors import ErrorCode
from reports import cli as report_cli
from reports import wire
from testkit.databases import fresh_database
from testkit.servers import LECTURE, exchange, running_server

STUDENT_PATTERN = r"2[0-9]{8,9}"
LECTURE_PATTERN = r"[A-Za-z]{2}[0-9]{4}_[0-9]|[A-Z]{4}[0-9]{3}-[0-9]{2}"
PATTERNS = ["--student-id-pattern", STUDENT_PATTERN, "--lecture-code-pattern", LECTURE_PATTERN]
COURSE = "COSE101-02"
KIM, PARK, OBAMA = "2020123490", "2020123491", "201911001"


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(
            url,
            faces_dir / "knowns",
            workers=1,
            student_id_pattern=STUDENT_PATTERN,
            lecture_code_pattern=LECTURE_PATTERN,
        ) as running:
            yield running


@pytest.fixture(scope="module")
def imported(server, tmp_path_factory):
    """The registrar's XLSX class list of COSE101-02 (IDs typed as numbers, a title row first),
    and one 10-digit student added to the 2019-format lecture."""
    book = Workbook()
    sheet = book.active
    sheet.append(["2027학년도 1학기 수강생 명단"])
    sheet.append(["학번", "이름", "과목코드", "학과"])
    sheet.append([int(KIM), "김민수", COURSE, "컴퓨터학과"])
    sheet.append([int(PARK), "박서연", COURSE, "컴퓨터학과"])
    sheet.append([int(OBAMA), "Barack Obama", COURSE, "정치외교학과"])
    sheet.append([int(KIM), "김민수", LECTURE, "컴퓨터학과"])
    path = tmp_path_factory.mktemp("roster") / "수강생.xlsx"
    book.save(path)
    return path


def attendance_db(server, capsys, *args) -> tuple[int, str, str]:
    code = admin_cli.main(["--db-url", server.db_url.to_url(), *PATTERNS, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_xlsx_roster_with_korean_headers_and_10_digit_ids_end_to_end(server, imported, capsys):
    code, out, err = attendance_db(server, capsys, "import-roster", str(imported))
    assert code == 0, err
    assert "roster lines read: 4" in out and "students created: 2" in out and "enrollments created: 4" in out
    # The 2019 payloads cannot carry these: the import says so.
    assert "warning: 1 lecture (COSE101-02) and 2 students (2020123490, 2020123491)" in err
    assert "2019 clients cannot reach them" in err

    with server.client() as client:
        roster = client.roster(COURSE)
        assert roster.lecture == COURSE
        assert [(s.student_id, s.name) for s in roster.students] == [
            (OBAMA, "Barack Obama"),
            (KIM, "김민수"),
            (PARK, "박서연"),
        ]
        marked = client.mark(COURSE, KIM)
        assert (marked.lecture, marked.student_id, marked.status) == (COURSE, KIM, "present")
        client.batch_mark(COURSE, "t15-ids-1", [(PARK, "late")])
        # The university's pattern is the server's: a 10-digit ID outside it is refused clearly.
        with pytest.raises(ServerError) as refused:
            client.mark(COURSE, "3020123490")
        assert refused.value.code == ErrorCode.BAD_REQUEST and STUDENT_PATTERN in refused.value.message
        with pytest.raises(ServerError) as refused:
            client.roster("COSE101-2")
        assert refused.value.code == ErrorCode.BAD_REQUEST and "lecture" in refused.value.message

        report = wire.from_response(client.report(COURSE))
    cells = {row.student_id: row.cells for row in report.students}
    assert cells == {OBAMA: ("",), KIM: ("P",), PARK: ("L",)}  # today's session, still open
    assert server.query(
        "SELECT a.student_id, a.status FROM attendance a JOIN class_sessions s USING (session_id)"
        " JOIN lectures l USING (lecture_id) WHERE l.code = %s ORDER BY 1",
        (COURSE,),
    ) == [(KIM, "present"), (PARK, "late")]

    # The 2019 payloads still work for the 2019 formats, and the roster reply leaves out the
    # student a 2019 client could not handle.
    assert exchange(server.host, server.port, f"{OBAMA}{LECTURE}".encode()) == b"success"
    lines = exchange(server.host, server.port, LECTURE.encode()).decode().splitlines()
    ids = [line.split("\t")[0] for line in lines]
    assert OBAMA in ids and KIM not in ids and len(ids) == len(server.student_ids)

    code = report_cli.main(["--db-url", server.db_url.to_url(), "--lecture", COURSE, "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0 and f"{KIM},김민수,P," in out


def test_sync_from_a_cp949_csv_drops_a_student_keeps_the_history_and_the_report_shows_it(
    server, imported, capsys, tmp_path
):
    attendance_db(server, capsys, "import-roster", str(imported))
    today = datetime.date.today()
    (lecture_id,) = server.query("SELECT lecture_id FROM lectures WHERE code = %s", (COURSE,))[0]
    before, after = today - datetime.timedelta(days=7), today + datetime.timedelta(days=1)
    server.query(
        "INSERT IGNORE INTO class_sessions (lecture_id, session_date, closed_at) VALUES (%s, %s, %s), (%s, %s, NULL)",
        (lecture_id, before, datetime.datetime.combine(before, datetime.time(12)), lecture_id, after),
    )
    (past_session,) = server.query(
        "SELECT session_id FROM class_sessions WHERE lecture_id = %s AND session_date = %s", (lecture_id, before)
    )[0]
    server.query(
        "INSERT IGNORE INTO attendance (session_id, student_id, status, source, client_name)"
        " VALUES (%s, %s, 'present', 'manual', 'staff')",
        (past_session, PARK),
    )

    # The registrar's new class list (Korean Excel's CP949), without 박서연.
    roster = tmp_path / "cose101-02.csv"
    roster.write_bytes(f"학번,성명,학년\n{KIM},김민수,2\n{OBAMA},Barack Obama,4\n".encode("cp949"))
    code, out, err = attendance_db(
        server, capsys, "import-roster", str(roster), "--lecture", COURSE, "--sync", "--dry-run"
    )
    assert code == 0, err
    assert "(dry run) students dropped: 1" in out and f"(dry run) drop {PARK} 박서연 from {COURSE}" in out
    assert "dry run: nothing was changed" in out
    assert server.query(
        "SELECT dropped_on FROM enrollments WHERE lecture_id = %s AND student_id = %s", (lecture_id, PARK)
    ) == [(None,)]

    code, out, err = attendance_db(server, capsys, "import-roster", str(roster), "--lecture", COURSE, "--sync")
    assert code == 0, err
    assert "students dropped: 1" in out and f"drop {PARK} 박서연 from {COURSE} from {today}" in out
    assert server.query(
        "SELECT dropped_on FROM enrollments WHERE lecture_id = %s AND student_id = %s", (lecture_id, PARK)
    ) == [(today,)]

    with server.client() as client:
        assert PARK not in [s.student_id for s in client.roster(COURSE).students]
        with pytest.raises(ServerError) as refused:
            client.mark(COURSE, PARK)
        assert refused.value.code == ErrorCode.NOT_ENROLLED
        report = wire.from_response(client.report(COURSE))
    dates = [s.date for s in report.sessions]
    assert dates[0] == before and dates[-1] == after
    rows = {row.student_id: row for row in report.students}
    park = rows[PARK]
    assert park.dropped_on == today and rows[KIM].dropped_on is None
    assert park.cells[0] == "P"  # the history stays
    assert park.cells[-1] == "-" and rows[KIM].cells[-1] == ""  # after the drop: not counted
    assert park.tally.absent == 0

    code = report_cli.main(["--db-url", server.db_url.to_url(), "--lecture", COURSE, "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    header = out.lstrip("\ufeff").splitlines()[0]
    assert header.split(",")[:3] == ["student_id", "name", "dropped_on"]
    assert f"{PARK},박서연,{today}," in out and f"{KIM},김민수,," in out
