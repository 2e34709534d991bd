"""op "report" against the real server (in this process, real sockets, real MariaDB): the reply
is build_report's result, whatever the date range and late weight; unknown lecture, bad range."""

from __future__ import annotations

import datetime

import pytest

from client.connection import ServerError
from protocol import framed
from protocol.errors import ErrorCode
from reports import wire as report_wire
from reports.domain import LectureReport
from testkit.databases import fresh_database
from testkit.generated_term import generate_term, report_from_db
from testkit.servers import LECTURE, SMALL_LECTURE, running_server


@pytest.fixture(scope="module")
def server(server_db_url, faces_dir):
    with fresh_database(server_db_url) as url:
        with running_server(url, faces_dir / "knowns", workers=1) as running:
            running.dates = generate_term(url, LECTURE)
            yield running


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c


@pytest.mark.parametrize(
    "date_from, date_to, late_weight",
    [
        (None, None, 0.5),
        (datetime.date(2024, 3, 18), datetime.date(2024, 4, 22), 0.5),
        (datetime.date(2024, 3, 19), None, 0.0),  # starts between two sessions
        (None, datetime.date(2024, 3, 4), 1.0),  # the first session only
        (datetime.date(2024, 4, 1), datetime.date(2024, 4, 1), 0.3),  # a session on that day
        (datetime.date(2024, 4, 2), datetime.date(2024, 4, 7), 0.5),  # no session in the range
    ],
)
def test_reply_is_build_reports_result(server, client, date_from, date_to, late_weight):
    expected = report_from_db(server.db_url, LECTURE, date_from=date_from, date_to=date_to, late_weight=late_weight)
    reply = client.report(LECTURE, date_from, date_to, late_weight=late_weight)
    assert isinstance(reply, framed.ReportResponse)
    assert reply == report_wire.to_response(reply.request_id, expected)
    report = report_wire.from_response(reply)
    assert isinstance(report, LectureReport)
    assert report == expected


def test_the_generated_term_has_every_kind_of_cell(server, client):
    report = report_wire.from_response(client.report(LECTURE))
    assert [s.date for s in report.sessions] == server.dates
    assert report.sessions[-1].still_open and not report.sessions[0].still_open
    assert [s.student_id for s in report.students] == server.student_ids  # every student, by ID
    cells = {cell for student in report.students for cell in student.cells}
    assert cells == {"P", "L", "A", "E", "O", "-", ""}
    assert all(s.tally.rate is not None for s in report.students)


def test_lecture_code_in_any_case_and_dates_as_text(server, client):
    reply = client.report(LECTURE.upper(), "2024-03-11", "2024-03-25", late_weight=1)
    assert reply.lecture == LECTURE
    assert (reply.date_from, reply.date_to, reply.late_weight) == ("2024-03-11", "2024-03-25", 1.0)
    assert [s.date for s in reply.sessions] == ["2024-03-11", "2024-03-18", "2024-03-25"]


def test_lecture_without_sessions(server, client):
    report = report_wire.from_response(client.report(SMALL_LECTURE))
    assert report == report_from_db(server.db_url, SMALL_LECTURE)
    assert report.sessions == () and len(report.students) == 3
    assert all(s.cells == () and s.tally.rate is None for s in report.students)


def test_unknown_lecture_is_not_found_and_the_connection_goes_on(client):
    with pytest.raises(ServerError) as err:
        client.report("zz9999_9")
    assert err.value.code == ErrorCode.NOT_FOUND
    assert "zz9999_9" in err.value.message
    assert client.ping()


def test_start_after_end_is_a_bad_request(client):
    with pytest.raises(ServerError) as err:
        client.report(LECTURE, "2024-05-01", "2024-03-01")
    assert err.value.code == ErrorCode.BAD_REQUEST
    assert "after the end date" in err.value.message
    assert client.ping()


def test_report_needs_a_token_like_every_request(server):
    with server.client(token=None) as anonymous:
        with pytest.raises(ServerError) as err:
            anonymous.report(LECTURE)
    assert err.value.code == ErrorCode.UNAUTHORIZED
