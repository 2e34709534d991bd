"""The roll call's roster model, alone: Qt's model rules (qtmodeltester), edits, pending marks,
counters, reloads that keep unsent edits."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PyQt5.QtCore import Qt

from client.desktop.mark_queue import batch_entry, mark_entry
from client.desktop.roster_model import RosterModel, StateRole, StatusRole

LECTURE = "ea0017_1"


def entry(student_id, name, status=None, source=None, marked_at=None):
    return SimpleNamespace(student_id=student_id, name=name, status=status, source=source, marked_at=marked_at)


ROSTER = [
    entry("201911001", "Barack Obama", "present", "checkin", "2024-03-04T09:01:02"),
    entry("201911002", "Joe Biden"),
    entry("201911003", "Alex Lacamoire"),
    entry("201911004", "Kit Harington", "late", "rollcall", "2024-03-04T09:20:00"),
    entry("201911005", "Rose Leslie"),
]


@pytest.fixture
def model(qapp):
    m = RosterModel()
    m.set_roster(LECTURE, "2024-03-04", ROSTER)
    return m


def statuses(model):
    return [model.index(r, RosterModel.STATUS).data(StatusRole) for r in range(model.rowCount())]


def test_qt_model_rules_empty_and_loaded(qtmodeltester, qapp):
    model = RosterModel()
    qtmodeltester.check(model, force_py=True)
    model.set_roster(LECTURE, "2024-03-04", ROSTER)
    qtmodeltester.check(model, force_py=True)


def test_qt_model_rules_while_editing(qtmodeltester, model):
    qtmodeltester.check(model, force_py=True)
    model.set_status([1, 2], "absent")
    model.set_pending([batch_entry(LECTURE, [("201911005", "excused")])])
    model.set_roster(LECTURE, "2024-03-04", ROSTER[:3])  # fewer students: a reset
    model.clear()
    qtmodeltester.check(model, force_py=True)


def test_display_of_server_marks(model):
    assert model.rowCount() == 5 and model.columnCount() == 6
    assert model.index(0, RosterModel.STUDENT_ID).data() == "201911001"
    assert model.index(0, RosterModel.NAME).data() == "Barack Obama"
    assert model.index(0, RosterModel.STATUS).data() == "Present"
    assert model.index(0, RosterModel.SOURCE).data() == "Face check-in"
    assert model.index(0, RosterModel.TIME).data() == "09:01:02"
    assert model.index(1, RosterModel.STATUS).data() == "Unmarked"
    assert model.index(1, RosterModel.STATUS).data(StatusRole) is None
    assert model.index(0, RosterModel.STATUS).data(StateRole) == "saved"
    assert model.headerData(RosterModel.STATUS, Qt.Horizontal) == "Status"
    assert model.flags(model.index(0, RosterModel.STATUS)) & Qt.ItemIsEditable
    assert not model.flags(model.index(0, RosterModel.NAME)) & Qt.ItemIsEditable


def test_set_data_edits_only_the_status_column(qtbot, model):
    with qtbot.waitSignal(model.dataChanged):
        assert model.setData(model.index(1, RosterModel.STATUS), "late")
    assert model.index(1, RosterModel.STATUS).data(StateRole) == "local"
    assert model.index(1, RosterModel.SOURCE).data() == "Changed, not sent"
    assert not model.setData(model.index(1, RosterModel.NAME), "x")
    assert not model.setData(model.index(1, RosterModel.STATUS), "asleep")
    assert model.local_marks() == [("201911002", "late")]


def test_same_status_as_the_server_is_no_change(model):
    model.set_status([0], "present")  # already present by check-in
    assert model.local_marks() == []
    model.set_status([0], "late")
    assert model.local_marks() == [("201911001", "late")]
    model.set_status([0], None)  # undo
    assert model.local_marks() == []
    assert statuses(model)[0] == "present"


def test_counts_and_mark_unmarked(qtbot, model):
    counts = model.counts()
    assert (counts.total, counts.marked, counts.unmarked, counts.changed) == (5, 2, 3, 0)
    model.set_status([1], "present")
    with qtbot.waitSignal(model.countsChanged):
        assert model.mark_unmarked("absent") == 2
    counts = model.counts()
    assert (counts.marked, counts.unmarked, counts.changed) == (5, 0, 3)
    assert statuses(model) == ["present", "present", "absent", "late", "absent"]
    assert model.local_marks() == [("201911002", "present"), ("201911003", "absent"), ("201911005", "absent")]


def test_pending_marks_show_and_count(model):
    batch = batch_entry(LECTURE, [("201911002", "absent"), ("201911003", "excused")])
    checkin = mark_entry(LECTURE, "201911005")
    other = batch_entry("cs0001_1", [("201911001", "absent")])
    model.set_pending([batch, checkin, other])
    assert statuses(model) == ["present", "absent", "excused", "late", "present"]
    assert [model.index(r, 0).data(StateRole) for r in range(5)] == ["saved", "pending", "pending", "saved", "pending"]
    assert model.index(1, RosterModel.SOURCE).data() == "Pending: Roll call"
    assert model.index(4, RosterModel.SOURCE).data() == "Pending: Face check-in"
    assert model.index(1, RosterModel.STATUS).data(Qt.FontRole).italic()
    counts = model.counts()
    assert (counts.marked, counts.pending, counts.changed) == (5, 3, 0)
    model.set_pending([])
    assert statuses(model) == ["present", None, None, "late", None]


def test_reload_keeps_unsent_edits_and_drops_those_now_saved(model):
    model.set_status([1], "absent")
    model.set_status([2], "late")
    reloaded = list(ROSTER)
    reloaded[2] = entry("201911003", "Alex Lacamoire", "late", "rollcall", "2024-03-04T09:30:00")
    model.set_roster(LECTURE, "2024-03-04", reloaded)
    assert model.local_marks() == [("201911002", "absent")]
    assert model.index(2, RosterModel.STATUS).data(StateRole) == "saved"
    model.set_roster("cs0001_1", "2024-03-04", ROSTER[:2])  # another lecture: edits are gone
    assert model.local_marks() == []
    assert model.lecture == "cs0001_1" and model.rowCount() == 2


def test_reload_with_the_same_students_does_not_reset(qtbot, model):
    resets = []
    model.modelReset.connect(lambda: resets.append(1))
    model.set_roster(LECTURE, "2024-03-04", ROSTER)
    assert resets == []
    model.set_roster(LECTURE, "2024-03-04", ROSTER[:4])
    assert resets == [1]


def test_clear_local_after_finish(model):
    model.set_status([1, 2], "absent")
    model.clear_local()
    assert model.local_marks() == [] and model.counts().changed == 0


# -- past sessions (issue 15) ---------------------------------------------------------------------


def test_edits_do_not_follow_the_professor_to_another_session(model):
    model.set_status([1], "late")
    model.set_roster(LECTURE, "2024-03-04", ROSTER)  # the same session again: the edit stays
    assert model.local_marks() == [("201911002", "late")]
    model.set_roster(LECTURE, "2024-02-26", ROSTER, past=True)  # a past session: its own marks only
    assert model.past and model.local_marks() == []


def test_queued_roll_calls_show_in_the_session_they_are_for(model):
    today = batch_entry(LECTURE, [("201911002", "present")])
    past = batch_entry(LECTURE, [("201911003", "excused")], session_date="2024-02-26", reason="note")
    model.set_pending([today, past])
    assert [model.row(n).pending_status for n in (1, 2)] == ["present", None]
    model.set_roster(LECTURE, "2024-02-26", ROSTER, past=True)
    assert [model.row(n).pending_status for n in (1, 2)] == [None, "excused"]


def test_the_history_model_shows_one_students_changes_in_one_session(qapp, qtmodeltester):
    from client.desktop.history_model import HistoryModel

    def change(student, day, old, new, source, client, professor=None, reason=None):
        return SimpleNamespace(
            session_date=day,
            student_id=student,
            old_status=old,
            new_status=new,
            source=source,
            client_name=client,
            professor=professor,
            reason=reason,
            changed_at=f"{day}T10:30:00",
        )

    history = HistoryModel()
    history.set_history(
        "201911001",
        "2024-03-04",
        [
            change("201911001", "2024-03-04", None, "absent", "camera", "cam-1"),
            change("201911002", "2024-03-04", None, "present", "checkin", "pc"),  # another student
            change("201911001", "2024-03-04", "absent", "excused", "rollcall", "prof-app", "Prof. Kim", "note"),
        ],
    )
    qtmodeltester.check(history)
    assert history.rowCount() == 2
    cells = [[history.index(r, c).data() for c in range(history.COLUMN_COUNT)] for r in range(2)]
    assert cells == [
        ["2024-03-04 10:30:00", "Absent (new)", "Camera", "cam-1", ""],
        ["2024-03-04 10:30:00", "Absent → Excused", "Roll call", "Prof. Kim (prof-app)", "note"],
    ]
    history.clear()
    assert history.rowCount() == 0 and history.student_id is None
