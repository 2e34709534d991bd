"""Classroom camera rules (pure: sightings -> statuses, session times) and the camera ops' messages."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from db.lectures import Lecture
from db.presence import SessionRow
from protocol import framed
from protocol.errors import LocalProtocolError
from server.presence import PresenceSettings, decide_statuses, effective_end, implicit_times, window_warning
from server.recognition.whole_room import band_rows, merge_boxes, merge_parts, plan_parts, scale_for

START = dt.datetime(2019, 11, 1, 9, 0)
END = START + dt.timedelta(minutes=75)


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def every(first: float, last: float, step: float = 1) -> list[dt.datetime]:
    times, m = [], first
    while m <= last:
        times.append(at(m))
        m += step
    return times


def statuses(sightings, settings=PresenceSettings(), students=None, ends_at=END):
    students = students or sorted(sightings)
    return decide_statuses(students, sightings, starts_at=START, ends_at=ends_at, settings=settings)


def test_each_status():
    result = statuses(
        {
            "201911001": every(0, 75),  # there all along
            "201911002": every(2, 40),  # on time, gone after 40 minutes
            "201911003": every(25, 75),  # came 25 minutes late
            "201911004": [],  # never seen
            "201911005": every(10, 75),  # first seen exactly at the grace limit: on time
            "201911006": every(0, 60),  # last seen exactly at the start of the leave window
        }
    )
    assert result == {
        "201911001": "present",
        "201911002": "left_early",
        "201911003": "late",
        "201911004": "absent",
        "201911005": "present",
        "201911006": "present",
    }


def test_late_wins_over_left_early():
    assert statuses({"201911001": every(30, 40)}) == {"201911001": "late"}


def test_gaps_between_samples_do_not_count():
    # Seen at the start and at the end only (head down, hidden): present, not absent.
    assert statuses({"201911001": [at(1), at(70)]}) == {"201911001": "present"}


def test_thresholds_are_settings():
    sightings = {"201911001": every(12, 75), "201911002": every(0, 55)}
    assert statuses(sightings) == {"201911001": "late", "201911002": "left_early"}
    lenient = PresenceSettings(late_after_minutes=15, leave_window_minutes=25)
    assert statuses(sightings, lenient) == {"201911001": "present", "201911002": "present"}


def test_only_enrolled_students_and_sightings_before_the_end_count():
    result = statuses({"201911001": [at(80)], "299999999": every(0, 75)}, students=["201911001"])
    assert result == {"201911001": "absent"}


def test_effective_end_is_the_last_sample_when_the_camera_stopped_early():
    samples = every(0, 50)
    assert effective_end(END, samples) == at(50)
    assert effective_end(END, every(0, 90)) == END
    assert effective_end(None, samples) == at(50)
    # Camera stopped at 50 minutes: a student seen until 45 is not "left early".
    result = statuses({"201911001": every(0, 45)}, ends_at=effective_end(END, samples))
    assert result == {"201911001": "present"}


def test_implicit_session_times():
    scheduled = Lecture(1, "ea0017_1", None, dt.time(9, 0), 75)
    assert implicit_times(scheduled, at(3)) == (START, END)
    assert implicit_times(scheduled, at(-20)) == (START, END)  # camera on before the lecture
    makeup = at(6 * 60)  # after the scheduled end: a make-up lecture starts at its first sample
    assert implicit_times(scheduled, makeup) == (makeup, makeup + dt.timedelta(minutes=75))
    unscheduled = Lecture(2, "cs0001_1", None, None, None)
    assert implicit_times(unscheduled, at(3)) == (at(3), None)
    length_only = Lecture(3, "cs0002_1", None, None, 50)
    assert implicit_times(length_only, at(3)) == (at(3), at(53))


def test_settings_are_checked():
    with pytest.raises(ValueError):
        PresenceSettings(late_after_minutes=-1)


# -- whole-room detection: the pure parts ------------------------------------------------------


def test_merge_boxes_keeps_one_box_per_face():
    face = (100, 200, 200, 100)
    same_face_other_part = (104, 203, 203, 102)
    piece_of_it = (120, 160, 160, 120)
    neighbour = (100, 320, 200, 220)
    assert merge_parts([face, same_face_other_part, piece_of_it, neighbour]) == [face, neighbour]
    assert merge_boxes([(0, 0, 0, 0), face]) == [face]


def test_bands_overlap_more_than_the_coarse_parts_smallest_face():
    height, width = 1080, 1920
    assert [(p.band, p.bands) for p in plan_parts(1)] == [(0, 1)]  # one worker: the whole picture
    parts = plan_parts(2)
    assert [p.band for p in parts] == [None, 0, 1]
    (t0, b0), (t1, b1) = band_rows(height, width, 0, 2), band_rows(height, width, 1, 2)
    assert t0 == 0 and b1 == height
    coarse_min_face = 40 * width / 800  # 96 px
    assert b0 - t1 >= coarse_min_face
    assert band_rows(height, width, 0, 1) == (0, height)


def test_the_last_band_leaves_room_for_the_coarse_part():
    """The worker that ran the coarse part takes the last band: it is the shorter one."""
    for height, width, bands in ((1545, 1986, 2), (2160, 3840, 2), (1080, 1920, 4)):
        rows = [band_rows(height, width, band, bands) for band in range(bands)]
        heights = [bottom - top for top, bottom in rows]
        assert rows[0][0] == 0 and rows[-1][1] == height
        assert all(rows[n + 1][0] < rows[n][1] for n in range(bands - 1))  # each overlaps the next
        assert heights[-1] < min(heights[:-1])
        assert heights[-1] > min(heights[:-1]) / 3
    # Faces asked for twice as large: half the scale, so the coarse part weighs more.
    assert band_rows(1545, 1986, 1, 2, 80)[0] > band_rows(1545, 1986, 1, 2, 40)[0]


def test_scale_for_small_faces_and_its_limits():
    assert scale_for(1080, 1920, 40) == 2.0
    assert scale_for(1080, 1920, 80) == 1.0
    assert scale_for(4320, 7680, 40) < 2.0  # 8K: limited to MAX_SCALED_PIXELS
    with pytest.raises(ValueError):
        scale_for(100, 100, 10)


# -- the camera ops on the wire ----------------------------------------------------------------


ENCODING = framed.pack_encoding([0.01 * (i % 20) - 0.1 for i in range(128)])
NAN_ENCODING = framed.pack_encoding([float("nan")] + [0.0] * 127)
CAMERA_MESSAGES = [
    framed.DetectRequest(1, b"\xff\xd8jpeg", 32),
    framed.IdentifyRequest(2, b"\xff\xd8jpeg", (framed.FaceBox(10, 60, 70, 5),), "ea0017_1"),
    framed.IdentifyRoomRequest(
        7,
        b"\xff\xd8jpeg",
        (
            framed.RoomTrack(10, 60, 70, 5, (ENCODING,) * 9, True),
            framed.RoomTrack(10, 160, 70, 105, (ENCODING,), False),
            framed.RoomTrack(10, 260, 70, 205, (), True),
        ),
        "ea0017_1",
    ),
    framed.IdentifyRoomRequest(8, b"", (framed.RoomTrack(10, 60, 70, 5, (ENCODING,) * 10),)),  # no image
    framed.PresenceRequest(3, "ea0017_1", "2019-11-01T09:01:00.000", ("201911001", "201911002"), 3),
    framed.PresenceRequest(4, "ea0017_1", "2019-11-01T09:01:00+09:00", (), 0),
    framed.CloseSessionRequest(5, "ea0017_1", "2019-11-01"),
    framed.CloseSessionRequest(6, "ea0017_1"),
]
CAMERA_REPLIES = [
    framed.DetectResponse(1, (framed.FaceBox(10, 60, 70, 5), framed.FaceBox(0, 40, 40, 0))),
    framed.DetectResponse(2, ()),
    framed.IdentifyRoomResponse(
        7,
        (
            framed.TrackDecision(
                "accepted",
                "201911001",
                "Barack Obama",
                0.41,
                (framed.Candidate("201911001", "Barack Obama", 0.41),),
                10,
                ENCODING,
            ),
            framed.TrackDecision("uncertain", None, None, 0.52, (framed.Candidate("201911002", None, 0.52),), 2),
            framed.TrackDecision("unknown", None, None, None, (), 1, ENCODING),
        ),
    ),
    framed.PresenceResponse(3, 17, "2019-11-01", False),
    framed.CloseSessionResponse(5, "ea0017_1", "2019-11-01", 60, 20, 3, 2, 5, 1),
]


@pytest.mark.parametrize("message", CAMERA_MESSAGES, ids=lambda m: type(m).__name__)
def test_camera_requests_round_trip(message):
    decoder = framed.FramedDecoder("server", expect_preamble=False)
    assert decoder.feed(framed.encode(message)) == [message]


@pytest.mark.parametrize("message", CAMERA_REPLIES, ids=lambda m: type(m).__name__)
def test_camera_replies_round_trip(message):
    decoder = framed.FramedDecoder("client", expect_preamble=False)
    assert decoder.feed(framed.encode(message)) == [message]


@pytest.mark.parametrize(
    "message",
    [
        framed.DetectRequest(1, b"x", 10),  # min_face below 20
        framed.DetectRequest(1, b"", 40),  # no image
        framed.IdentifyRequest(1, b"x", ()),  # no box
        framed.IdentifyRequest(1, b"x", (framed.FaceBox(10, 5, 20, 5),)),  # empty box
        framed.PresenceRequest(1, "ea0017_1", "yesterday", (), 0),
        framed.PresenceRequest(1, "ea0017_1", "2019-11-01T09:00", ("201911001", "201911001"), 1),
        framed.PresenceRequest(1, "ea0017_1", "2019-11-01T09:00", ("12 345",), 1),
        framed.PresenceRequest(1, "ea0017_1", "2019-11-01T09:00", (), -1),
        framed.CloseSessionRequest(1, "ea0017_1", "2019-13-01"),
        framed.IdentifyRoomRequest(1, b"x", ()),  # no track
        framed.IdentifyRoomRequest(1, b"x", (framed.RoomTrack(10, 60, 70, 5),)),  # no frame at all
        framed.IdentifyRoomRequest(1, b"x", (framed.RoomTrack(10, 5, 70, 5, (), True),)),  # empty box
        framed.IdentifyRoomRequest(1, b"x", (framed.RoomTrack(10, 60, 70, 5, (ENCODING,) * 10, True),)),  # 11
        framed.IdentifyRoomRequest(1, b"x", (framed.RoomTrack(10, 60, 70, 5, (ENCODING[:-4],)),)),  # short
        framed.IdentifyRoomRequest(1, b"x", (framed.RoomTrack(10, 60, 70, 5, ("!" * 684,)),)),  # not base64
        framed.IdentifyRoomRequest(1, b"x", (framed.RoomTrack(10, 60, 70, 5, (NAN_ENCODING,)),)),
        framed.IdentifyRoomRequest(1, b"x", (framed.RoomTrack(10, 60, 70, 5, ENCODING),)),  # not a list
        framed.IdentifyRoomRequest(
            1, b"x", tuple(framed.RoomTrack(10, 60, 70, 5, (), True) for _ in range(framed.MAX_FACE_BOXES + 1))
        ),
    ],
)
def test_invalid_camera_requests_are_refused(message):
    with pytest.raises(LocalProtocolError):
        framed.encode(message)


def test_a_blob_is_refused_on_presence():
    header = b'{"op":"presence","lecture":"ea0017_1","sampled_at":"2019-11-01T09:00","student_ids":[],"face_count":0}'
    frame = len(header).to_bytes(4, "big")
    data = (8 + len(header) + 3).to_bytes(4, "big") + (9).to_bytes(4, "big") + frame + header + b"abc"
    [event] = framed.FramedDecoder("server", expect_preamble=False).feed(data)
    assert isinstance(event, framed.InvalidMessage) and "blob" in event.error.message


def test_encodings_travel_as_float32():
    values = [0.1 * (i % 7) - 0.3 for i in range(128)]
    text = framed.pack_encoding(values)
    assert len(text) == framed.ENCODING_CHARACTERS == 684
    assert framed.unpack_encoding(text) == pytest.approx(values, abs=1e-7)
    with pytest.raises(ValueError):
        framed.pack_encoding(values[:-1])
    reply = framed.IdentifyRoomResponse(1, (framed.TrackDecision("unknown", None, None, None, (), 0),))
    with pytest.raises(LocalProtocolError):  # a decision uses 1 to MAX_TRACK_FRAMES frames
        framed.encode(reply)


def test_encodings_are_kept_out_of_logs():
    track = framed.RoomTrack(10, 60, 70, 5, (ENCODING,), True)
    decision = framed.TrackDecision("unknown", None, None, None, (), 1, ENCODING)
    assert ENCODING not in repr(framed.IdentifyRoomRequest(1, b"", (track,))) + repr(decision)


# -- samples outside every session's window (issue 15) -------------------------------------------


def session_row(**changes):
    row = SessionRow(1, 1, START.date(), START, START + dt.timedelta(minutes=75), None, scheduled=True)
    return dataclasses.replace(row, **changes)


@pytest.mark.parametrize(
    "changes, minutes, calendar, expected",
    [
        ({}, 0, True, None),
        ({}, -15, True, None),  # a camera started a little early
        ({}, -16, True, "is before ea0017_1's session of 2019-11-01, which starts at 09:00"),
        ({}, 76, True, "after the end of ea0017_1's session of 2019-11-01 (10:15): it does not count"),
        ({"scheduled": False}, 5, True, "has no session on 2019-11-01 in its term calendar"),
        ({"scheduled": False}, 5, False, None),  # no calendar: a first sample opens the session
        ({"cancelled_at": START}, 5, True, "is cancelled: this sample counts for nobody"),
        ({"starts_at": None, "ends_at": None, "scheduled": False}, 500, False, None),
    ],
)
def test_a_sample_outside_every_sessions_window_is_warned_about(changes, minutes, calendar, expected):
    warning = window_warning(
        "ea0017_1", session_row(**changes), START + dt.timedelta(minutes=minutes), calendar=calendar
    )
    assert (warning is None) if expected is None else (expected in warning)
