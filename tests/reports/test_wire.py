"""protocol.framed, op "report": round trips, invalid fields, and the LectureReport conversion
(reports/wire.py) both ways."""

from __future__ import annotations

import dataclasses
import datetime
import json
import struct
from typing import Any

import pytest

from protocol import framed
from protocol.errors import ErrorCode, LocalProtocolError
from protocol.framed import (
    PREAMBLE,
    FramedDecoder,
    InvalidMessage,
    PingRequest,
    PongResponse,
    ReportRequest,
    ReportResponse,
    ReportRow,
    ReportSession,
    encode,
)
from reports import wire as report_wire
from reports.domain import LectureReport, SessionColumn, StudentRow, Tally

SESSIONS = (
    ReportSession(11, "2024-03-04", False, 3, 1, 1, 0, 1, 75.0),
    ReportSession(12, "2024-03-11", False, 2, 0, 2, 1, 0, 50.0),
    ReportSession(13, "2024-03-18", True, 1, 0, 0, 0, 0, 100.0),
    ReportSession(14, "2025-01-06", True, 0, 0, 0, 0, 0, None),
)
ROWS = (
    ReportRow("201911001", "Barack Obama", "2024-02-26", ("P", "P", "P", ""), 3, 0, 0, 0, 0, 100.0),
    ReportRow("201911002", '홍길동 "quoted"\n', "2024-02-26", ("L", "A", "", ""), 0, 1, 1, 0, 0, 25.0),
    ReportRow("201911003", "", "2024-03-05", ("-", "E", "-", ""), 0, 0, 0, 1, 0, None),
    ReportRow("299999999", "Rose Leslie", "2024-01-01", ("O", "A", "", ""), 0, 0, 1, 0, 1, 16.7),
)

MESSAGES = [
    ReportRequest(1, "ea0017_1"),
    ReportRequest(2, "zz9999_9", "2024-03-01", "2024-06-30", 0.25),
    ReportRequest(3, "ea0017_1", None, "2024-06-30", 0.0),
    ReportRequest(2**32 - 1, "ea0017_1", "2024-03-01", None, 1.0),
    ReportResponse(4, "ea0017_1", None, None, None, 0.5, (), ()),
    ReportResponse(  # students, no session yet
        5,
        "ea0017_1",
        "Data Structures",
        None,
        None,
        0.5,
        (),
        (ReportRow("201911001", "Barack Obama", "2024-02-26", (), 0, 0, 0, 0, 0, None),),
    ),
    ReportResponse(6, "ea0017_1", "자료구조", "2024-03-01", "2025-02-28", 0.75, SESSIONS, ROWS),
]


def decoder_for(message: object) -> FramedDecoder:
    role = "server" if type(message) in framed.REQUEST_TYPES.values() else "client"
    return FramedDecoder(role)


def raw_frame(request_id: int, header: Any, blob: bytes = b"") -> bytes:
    if not isinstance(header, bytes):
        header = json.dumps(header).encode("utf-8")
    body = struct.pack(">II", request_id, len(header)) + header + blob
    return struct.pack(">I", len(body)) + body


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{type(m).__name__}-{m.request_id}")
def test_round_trip_whole(message: object) -> None:
    assert decoder_for(message).feed(PREAMBLE + encode(message)) == [message]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{type(m).__name__}-{m.request_id}")
def test_round_trip_byte_by_byte(message: object) -> None:
    decoder = decoder_for(message)
    data = PREAMBLE + encode(message)
    events = []
    for i in range(len(data)):
        events.extend(decoder.feed(data[i : i + 1]))
    assert events == [message]
    assert decoder.buffered == 0


def test_op_is_report_both_ways_and_defaults_may_be_left_out() -> None:
    assert framed.REQUEST_TYPES["report"] is ReportRequest
    assert framed.RESPONSE_TYPES["report"] is ReportResponse
    header = json.loads(encode(ReportRequest(1, "EA0017_1"))[12:])
    assert header == {"op": "report", "lecture": "ea0017_1", "date_from": None, "date_to": None, "late_weight": 0.5}
    decoder = FramedDecoder("server", expect_preamble=False)
    assert decoder.feed(raw_frame(9, {"op": "report", "lecture": "EA0017_1"})) == [ReportRequest(9, "ea0017_1")]
    # an integer weight is a number too
    assert decoder.feed(raw_frame(10, {"op": "report", "lecture": "ea0017_1", "late_weight": 1})) == [
        ReportRequest(10, "ea0017_1", late_weight=1.0)
    ]


def test_response_header_layout() -> None:
    message = ReportResponse(6, "ea0017_1", "T", None, "2024-03-31", 0.5, SESSIONS[:1], ROWS[:1])
    header = json.loads(encode(message)[12:])
    assert header == {
        "op": "report",
        "lecture": "ea0017_1",
        "title": "T",
        "date_from": None,
        "date_to": "2024-03-31",
        "late_weight": 0.5,
        "sessions": [
            {
                "session_id": 11,
                "date": "2024-03-04",
                "still_open": False,
                "present": 3,
                "late": 1,
                "absent": 1,
                "excused": 0,
                "left_early": 1,
                "rate": 75.0,
            }
        ],
        "rows": [
            {
                "student_id": "201911001",
                "name": "Barack Obama",
                "enrolled_on": "2024-02-26",
                "cells": ["P", "P", "P", ""],
                "present": 3,
                "late": 0,
                "absent": 0,
                "excused": 0,
                "left_early": 0,
                "rate": 100.0,
            }
        ],
    }


def test_a_term_of_300_students_and_45_sessions_fits_easily() -> None:
    sessions = tuple(
        ReportSession(
            n, (datetime.date(2024, 3, 4) + datetime.timedelta(days=n)).isoformat(), False, 200, 30, 40, 10, 20, 80.5
        )
        for n in range(45)
    )
    rows = tuple(
        ReportRow(str(201900000 + n), "이름" * 5, "2024-02-26", ("P", "L", "A", "E", "O") * 9, 9, 9, 9, 9, 9, 55.6)
        for n in range(300)
    )
    message = ReportResponse(1, "ea0017_1", "Big", None, None, 0.5, sessions, rows)
    frame = encode(message)
    assert len(frame) < 300_000
    assert FramedDecoder("client", expect_preamble=False).feed(frame) == [message]


# -- invalid content: InvalidMessage, and the connection goes on -------------------------------

REQUEST = {"op": "report", "lecture": "ea0017_1"}

INVALID_REQUESTS = {
    "missing lecture": {"op": "report"},
    "bad lecture": {**REQUEST, "lecture": "ea0017_1'; DROP TABLE x; --"},
    "date_from not a date": {**REQUEST, "date_from": "yesterday"},
    "date_from day 31 of April": {**REQUEST, "date_from": "2024-04-31"},
    "date_to US order": {**REQUEST, "date_to": "03/31/2024"},
    "date_to basic ISO form": {**REQUEST, "date_to": "20240331"},
    "date_to ISO week": {**REQUEST, "date_to": "2024-W13-7"},
    "date_from with time": {**REQUEST, "date_from": "2024-03-01T00:00:00"},
    "date_from a number": {**REQUEST, "date_from": 20240301},
    "date_from non-ASCII digits": {**REQUEST, "date_from": "２０２４-03-01"},
    "late_weight negative": {**REQUEST, "late_weight": -0.1},
    "late_weight above 1": {**REQUEST, "late_weight": 1.5},
    "late_weight as text": {**REQUEST, "late_weight": "0.5"},
    "late_weight as bool": {**REQUEST, "late_weight": True},
    "late_weight null": {**REQUEST, "late_weight": None},
    "unknown field": {**REQUEST, "below": 75},
}


@pytest.mark.parametrize("case", sorted(INVALID_REQUESTS))
def test_invalid_request_yields_invalid_message(case: str) -> None:
    decoder = FramedDecoder("server", expect_preamble=False)
    events = decoder.feed(raw_frame(77, INVALID_REQUESTS[case]) + encode(PingRequest(78)))
    assert [type(e) for e in events] == [InvalidMessage, PingRequest], events
    assert events[0].request_id == 77
    assert events[0].error.code == ErrorCode.BAD_REQUEST
    assert events[0].error.message.startswith("report: ")
    assert len(events[0].error.message) < 300


@pytest.mark.parametrize("weight", [b"NaN", b"Infinity", b"1e400", b"1" + b"0" * 400])
def test_late_weight_not_finite_or_huge(weight: bytes) -> None:
    header = b'{"op": "report", "lecture": "ea0017_1", "late_weight": ' + weight + b"}"
    [event] = FramedDecoder("server", expect_preamble=False).feed(raw_frame(1, header))
    assert isinstance(event, InvalidMessage) and event.error.code == ErrorCode.BAD_REQUEST


def test_blob_on_report_is_refused() -> None:
    [event] = FramedDecoder("server", expect_preamble=False).feed(raw_frame(1, REQUEST, b"x"))
    assert isinstance(event, InvalidMessage)


SESSION = {
    "session_id": 1,
    "date": "2024-03-04",
    "still_open": False,
    "present": 1,
    "late": 0,
    "absent": 0,
    "excused": 0,
    "left_early": 0,
    "rate": 100.0,
}
ROW = {
    "student_id": "201911001",
    "name": "A",
    "enrolled_on": "2024-02-26",
    "cells": ["P"],
    "present": 1,
    "late": 0,
    "absent": 0,
    "excused": 0,
    "left_early": 0,
    "rate": 100.0,
}
RESPONSE = {
    "op": "report",
    "lecture": "ea0017_1",
    "title": None,
    "date_from": None,
    "date_to": None,
    "late_weight": 0.5,
    "sessions": [SESSION],
    "rows": [ROW],
}

INVALID_RESPONSES = {
    "title missing": {k: v for k, v in RESPONSE.items() if k != "title"},
    "title a number": {**RESPONSE, "title": 7},
    "sessions missing": {k: v for k, v in RESPONSE.items() if k != "sessions"},
    "sessions not a list": {**RESPONSE, "sessions": SESSION},
    "session not an object": {**RESPONSE, "sessions": ["2024-03-04"]},
    "session extra field": {**RESPONSE, "sessions": [{**SESSION, "x": 1}]},
    "session missing rate": {**RESPONSE, "sessions": [{k: v for k, v in SESSION.items() if k != "rate"}]},
    "session bad date": {**RESPONSE, "sessions": [{**SESSION, "date": "2024-02-30"}]},
    "session still_open as int": {**RESPONSE, "sessions": [{**SESSION, "still_open": 0}]},
    "session negative count": {**RESPONSE, "sessions": [{**SESSION, "absent": -1}]},
    "session count as float": {**RESPONSE, "sessions": [{**SESSION, "late": 1.0}]},
    "session rate above 100": {**RESPONSE, "sessions": [{**SESSION, "rate": 100.1}]},
    "sessions out of date order": {
        **RESPONSE,
        "sessions": [{**SESSION, "date": "2024-03-11"}, SESSION],
        "rows": [],
    },
    "two sessions on one day": {**RESPONSE, "sessions": [SESSION, {**SESSION, "session_id": 2}], "rows": []},
    "row bad student": {**RESPONSE, "rows": [{**ROW, "student_id": "12_3"}]},
    "row name null": {**RESPONSE, "rows": [{**ROW, "name": None}]},
    "row bad enrolled_on": {**RESPONSE, "rows": [{**ROW, "enrolled_on": None}]},
    "row unknown cell": {**RESPONSE, "rows": [{**ROW, "cells": ["X"]}]},
    "row cell lower case": {**RESPONSE, "rows": [{**ROW, "cells": ["p"]}]},
    "row cell a space": {**RESPONSE, "rows": [{**ROW, "cells": [" "]}]},
    "row cell null": {**RESPONSE, "rows": [{**ROW, "cells": [None]}]},
    "row cells a string": {**RESPONSE, "rows": [{**ROW, "cells": "P"}]},
    "row rate negative": {**RESPONSE, "rows": [{**ROW, "rate": -1}]},
    "rows out of order": {**RESPONSE, "rows": [{**ROW, "student_id": "201911002"}, ROW]},
    "a student twice": {**RESPONSE, "rows": [ROW, ROW]},
    "late_weight above 1": {**RESPONSE, "late_weight": 2},
}


@pytest.mark.parametrize("case", sorted(INVALID_RESPONSES))
def test_invalid_response_yields_invalid_message(case: str) -> None:
    decoder = FramedDecoder("client", expect_preamble=False)
    events = decoder.feed(raw_frame(5, INVALID_RESPONSES[case]) + encode(PongResponse(6, "1")))
    assert [type(e) for e in events] == [InvalidMessage, PongResponse], events
    assert events[0].request_id == 5 and events[0].error.code == ErrorCode.BAD_REQUEST


def test_the_valid_response_used_above_is_valid() -> None:
    [event] = FramedDecoder("client", expect_preamble=False).feed(raw_frame(5, RESPONSE))
    assert isinstance(event, ReportResponse) and event.rows[0].cells == ("P",)


INVALID_MESSAGES = [
    ReportRequest(1, "ea0017/1"),
    ReportRequest(1, "ea0017_1", "2024-3-1"),
    ReportRequest(1, "ea0017_1", None, datetime.date(2024, 3, 1)),  # type: ignore[arg-type]
    ReportRequest(1, "ea0017_1", late_weight=float("nan")),
    ReportRequest(1, "ea0017_1", late_weight=1.01),
    ReportResponse(1, "ea0017_1", None, None, None, 0.5, (), (ROWS[0], ROWS[0])),
    ReportResponse(1, "ea0017_1", None, None, None, 0.5, SESSIONS[::-1], ()),
    ReportResponse(1, "ea0017_1", None, None, None, 0.5, (), ({"student_id": "201911001"},)),  # type: ignore[arg-type]
    ReportResponse(1, "ea0017_1", None, None, None, 0.5, (), (dataclasses.replace(ROWS[0], cells=("P", "X")),)),
    ReportResponse(1, "ea0017_1", None, None, None, 0.5, (), (dataclasses.replace(ROWS[0], rate=float("inf")),)),
]


@pytest.mark.parametrize("message", INVALID_MESSAGES, ids=repr)
def test_encoding_an_invalid_report_message_raises(message: object) -> None:
    with pytest.raises(LocalProtocolError) as info:
        encode(message)  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.BAD_REQUEST


# -- LectureReport <-> ReportResponse (reports/wire.py) -----------------------------------------

D = datetime.date
REPORT = LectureReport(
    lecture_code="ea0017_1",
    title="Data Structures",
    date_from=D(2024, 3, 1),
    date_to=None,
    late_weight=0.25,
    sessions=(
        SessionColumn(7, D(2024, 3, 4), False, Tally(1, 1, 0, 0, 0, 62.5)),
        SessionColumn(9, D(2024, 3, 11), True, Tally(1, 0, 0, 0, 0, 100.0)),
    ),
    students=(
        StudentRow("201911001", "Barack Obama", D(2024, 2, 26), ("P", "P"), Tally(2, 0, 0, 0, 0, 100.0)),
        StudentRow("201911005", "김민수", D(2024, 3, 5), ("L", ""), Tally(0, 1, 0, 0, 0, 25.0)),
        StudentRow("201911006", "Lin", D(2024, 3, 12), ("-", "-"), Tally(0, 0, 0, 0, 0, None)),
    ),
)


def test_report_survives_the_wire() -> None:
    reply = report_wire.to_response(3, REPORT)
    [decoded] = FramedDecoder("client", expect_preamble=False).feed(encode(reply))
    assert decoded == reply
    assert report_wire.from_response(decoded) == REPORT
    empty = dataclasses.replace(REPORT, sessions=(), students=(), title=None, date_from=None)
    assert report_wire.from_response(report_wire.to_response(4, empty)) == empty


def test_cells_that_do_not_match_the_sessions_are_refused() -> None:
    reply = report_wire.to_response(3, REPORT)
    broken = dataclasses.replace(reply, rows=(dataclasses.replace(reply.rows[0], cells=("P",)),))
    encode(broken)  # each field is valid on its own…
    with pytest.raises(ValueError, match="201911001 has 1 cells for 2 sessions"):
        report_wire.from_response(broken)  # …but the client does not take it


def test_a_dropped_student_travels_and_the_bytes_of_the_others_are_unchanged() -> None:
    """ReportRow.dropped_on was added after the op's first release: left out of the header
    while None, so a report without drops is byte for byte what it was."""
    reply = report_wire.to_response(3, REPORT)
    assert b"dropped_on" not in encode(reply)
    dropped = dataclasses.replace(
        REPORT, students=(*REPORT.students[:2], dataclasses.replace(REPORT.students[2], dropped_on=D(2024, 4, 1)))
    )
    data = encode(report_wire.to_response(3, dropped))
    assert b'"dropped_on": "2024-04-01"' in data or b'"dropped_on":"2024-04-01"' in data
    [decoded] = FramedDecoder("client", expect_preamble=False).feed(data)
    assert report_wire.from_response(decoded) == dropped
    with pytest.raises(LocalProtocolError, match="dropped_on"):
        encode(dataclasses.replace(reply, rows=(dataclasses.replace(reply.rows[0], dropped_on="2024-4-1"),)))


def test_cells_changed_after_their_session_travel_and_are_checked() -> None:
    report = report_wire.from_response(
        framed.ReportResponse(
            1,
            "ea0017_1",
            None,
            None,
            None,
            0.5,
            SESSIONS,
            (dataclasses.replace(ROWS[0], changed_after=(0,)), *ROWS[1:]),
        )
    )
    assert report.students[0].changed_after == (0,) and report.students[1].changed_after == ()
    assert report_wire.to_response(1, report).rows[0].changed_after == (0,)
    bad = dataclasses.replace(ROWS[0], changed_after=(len(SESSIONS),))
    with pytest.raises(ValueError, match="changed_after names cell"):
        report_wire.from_response(framed.ReportResponse(1, "ea0017_1", None, None, None, 0.5, SESSIONS, (bad,)))
