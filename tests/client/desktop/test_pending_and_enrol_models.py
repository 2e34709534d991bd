"""The models of the uncertain check-ins (roll call) and of an enrolment (Enrol screen), alone:
Qt's model rules (qtmodeltester), the choices offered to the professor, the enrolment steps."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QImage

from client.desktop.enrol_checks import FaceMeasures, PhotoCheck
from client.desktop.enrol_model import EnrolModel
from client.desktop.pending_model import PendingIdRole, PendingModel, confirm_choices
from client.frame_source import FaceFrame
from protocol.framed import Candidate, EnrolledPhoto, EnrollResponse, PendingCheckin

CHECKINS = [
    PendingCheckin(
        4,
        "2024-03-04T09:01:02",
        "room-301",
        2,
        (Candidate("201911004", "Kit Harington", 0.3186), Candidate("201911003", "Alex", 0.3393)),
    ),
    PendingCheckin(5, "2024-03-04T09:03:00", "room-301", 8, (Candidate("201911001", "Barack Obama", 0.41),)),
]
ROSTER = [
    SimpleNamespace(student_id=sid, name=name)
    for sid, name in [
        ("201911001", "Barack Obama"),
        ("201911003", "Alex"),
        ("201911004", "Kit Harington"),
        ("201911005", "Rose"),
    ]
]


# -- uncertain check-ins --------------------------------------------------------------------------


def test_pending_model_follows_the_qt_rules(qtmodeltester):
    model = PendingModel()
    model.set_checkins("ea0017_1", CHECKINS)
    qtmodeltester.check(model)
    model.clear()
    qtmodeltester.check(model)


def test_pending_model_shows_time_candidates_frames_and_pc(qapp):
    model = PendingModel()
    model.set_checkins("ea0017_1", CHECKINS)
    row = [model.index(0, column).data() for column in range(model.columnCount())]
    assert row == ["09:01:02", "Kit Harington (201911004) 0.32, Alex (201911003) 0.34", "2", "room-301"]
    assert model.index(1, 0).data(PendingIdRole) == 5 and model.find(5) == 1 and model.find(99) == -1
    assert model.headerData(PendingModel.CANDIDATES, Qt.Horizontal) == "May be (nearest first)"


def test_a_late_check_in_is_shown_as_one(qapp):
    late = PendingCheckin(
        6, "2024-03-04T10:40:00", "room-301", 1, (Candidate("201911001", "Barack Obama", 0.0),), "late"
    )
    model = PendingModel()
    model.set_checkins("ea0017_1", [CHECKINS[0], late])
    assert model.index(1, PendingModel.CANDIDATES).data() == "Late check-in, after the close: Barack Obama (201911001)"
    assert "after the session closed" in model.index(1, PendingModel.CANDIDATES).data(Qt.ToolTipRole)
    assert model.index(0, PendingModel.CANDIDATES).data().startswith("Kit Harington")  # uncertain: as before


def test_the_professor_may_confirm_a_candidate_or_anyone_on_the_roster():
    choices = confirm_choices(CHECKINS[0], ROSTER)
    assert [(c.student_id, c.candidate) for c in choices] == [
        ("201911004", True),
        ("201911003", True),
        ("201911001", False),
        ("201911005", False),
    ]
    assert choices[0].distance == 0.3186 and choices[2].distance is None


# -- an enrolment ---------------------------------------------------------------------------------


def photo(n: int) -> FaceFrame:
    return FaceFrame(np.zeros((240, 320, 3), np.uint8), (100, 60, 130, 130), f"jpeg {n}".encode())


def take(model: EnrolModel, row: int) -> None:
    check = PhotoCheck(model.step(row).pose, FaceMeasures(130, 300.0, 0.3, 0.0, 0.0), ())
    thumbnail = QImage(72, 72, QImage.Format_RGB888)
    thumbnail.fill(Qt.gray)
    model.set_photo(row, photo(row), thumbnail, check)


@pytest.fixture
def enrolment(qapp):
    return EnrolModel()


def test_enrol_model_follows_the_qt_rules(qtmodeltester, enrolment):
    qtmodeltester.check(enrolment)
    take(enrolment, 0)
    enrolment.skip(1)
    qtmodeltester.check(enrolment)


def test_poses_are_taken_in_order_and_the_straight_one_is_the_reference(enrolment):
    assert enrolment.current() == 0 and enrolment.reference() is None
    assert "now: Look straight at the camera." in enrolment.index(0).data()
    assert not enrolment.skip(0)  # the straight photo cannot be skipped
    take(enrolment, 0)
    assert enrolment.current() == 1 and enrolment.reference().face_width == 130
    assert enrolment.skip(1) and "skipped" in enrolment.index(1).data()
    for row in (2, 3, 4):
        take(enrolment, row)
    assert enrolment.ready() and [row for row, _ in enrolment.photos()] == [0, 2, 3, 4]
    enrolment.retake(3)
    assert enrolment.current() == 3 and not enrolment.ready()
    enrolment.retake(0)  # the straight photo again: every pose again
    assert enrolment.photos() == [] and enrolment.current() == 0


def test_server_verdicts_are_shown_and_unusable_photos_dropped(enrolment):
    for row in range(5):
        take(enrolment, row)
    reply = EnrollResponse(
        1,
        "202012345",
        0,
        0,
        (
            EnrolledPhoto(0, None),
            EnrolledPhoto(1, "like_other_student", "201911001", 0.31),
            EnrolledPhoto(2, "no_face"),
            EnrolledPhoto(3, "unlike_student", None, 0.52),
            EnrolledPhoto(4, None),
        ),
    )
    assert enrolment.set_verdicts(reply) == [2]  # no face: taken again
    assert "Server: fine" in enrolment.index(0).data()
    assert "looks like student 201911001 (distance 0.31)" in enrolment.index(1).data()
    assert "unlike this student's other photos (distance 0.52)" in enrolment.index(3).data()
    assert enrolment.index(1).data(Qt.ForegroundRole) is not None
    assert enrolment.current() == 2 and not enrolment.forceable()  # one photo must be taken again
    take(enrolment, 2)
    assert enrolment.forceable()  # the rest are problems "Enrol anyway" lifts
    enrolment.clear_verdicts()  # another student ID
    assert not enrolment.forceable() and "taken ✓" in enrolment.index(1).data()
