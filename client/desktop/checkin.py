"""Screen 1, on the classroom PC: face check-in.

The capture worker collects 0.75 s of frames (4) of the one face in view (the same face
throughout; see :class:`~client.desktop.checkin_logic.FrameCollector`) and the server decides
who it is from all of them at once (op ``checkin``); it marks an accepted student itself
(source ``checkin``). An uncertain face gets one more try, its first frames sent again with the
new ones; still uncertain, it waits in the professor's roll call screen. Nobody is asked Yes/No:
the server only accepts a face it is sure of, and a Yes would let a student take a look-alike's
mark. Frames are kept in memory only, until the answer; when the server cannot be reached,
nothing is marked and the check-in is tried again later (no frame is queued on disk).

The screen collects frames only while it is shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QFont, QPixmap
from PyQt5.QtWidgets import (
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from client.desktop import checkin_logic as rules
from client.desktop.checkin_logic import CheckinFlow, Outcome
from client.desktop.messages import failure_text
from client.desktop.roster_model import status_label
from client.desktop.video_panel import SourcePanel, face_crop
from client.desktop.workers import ServerCalls
from client.frame_source import SourceSpec, to_qimage

CROP_SIZE = 150
#: Most lines kept in the list of check-ins on this PC.
HISTORY_LINES = 200
GREEN, ORANGE, RED, BLACK = "#1b5e20", "#b26a00", "#b00020", "#000000"


class CheckinScreen(QWidget):
    requestBurst = pyqtSignal()
    cancelRequest = pyqtSignal()
    #: An answer was shown: the outcome kind (client.desktop.checkin_logic) and the server's
    #: CheckinResponse (None after a failure).
    resultShown = pyqtSignal(str, object)
    message = pyqtSignal(str)  # for the status bar
    connectionChanged = pyqtSignal(str, str)

    def __init__(
        self,
        *,
        host: str,
        port: int,
        capture,
        source: SourceSpec | None,
        lecture: Callable[[], str],
        token: str = "",
        ssl_context=None,
        result_hold: float = 3.0,
        retry_delay: float = 2.0,
        parent=None,
    ):
        """``capture``: the shared CaptureWorker (None: no video). ``result_hold``: seconds an
        answer stays on screen before the next check-in starts; ``retry_delay``: seconds before
        trying again after the server could not be reached."""
        super().__init__(parent)
        self.lecture = lecture
        self.capture = capture
        self.result_hold_ms = int(result_hold * 1000)
        self.retry_delay_ms = int(retry_delay * 1000)
        self.flow = CheckinFlow()
        self.outcomes: list[Outcome] = []  # every answer shown (for tests and the log)
        self._active = False
        self._collecting = False
        self._ticket = 0
        self._in_flight: int | None = None
        self._sent_lecture = ""
        self._preview = None  # the last FaceFrame of the check-in in flight

        self._build(source)
        self._next_timer = QTimer(self)
        self._next_timer.setSingleShot(True)
        self._next_timer.timeout.connect(self._collect)

        self.server = ServerCalls(host, port, token=token, ssl_context=ssl_context, parent=self)
        self.server.connectionChanged.connect(self.connectionChanged)

        if capture is not None:
            capture.burstReady.connect(self._burst)
            capture.burstProgress.connect(self._progress)
            capture.sourceOpened.connect(self._source_opened)
            self.requestBurst.connect(capture.requestBurst)
            self.cancelRequest.connect(capture.cancelRequest)

    # -- layout ---------------------------------------------------------------------------------

    def _build(self, source: SourceSpec | None) -> None:
        self.panel = SourcePanel(self.capture, source)
        self.panel.message.connect(self.message)
        self.video = self.panel.video

        self.crop = QLabel()
        self.crop.setFixedSize(CROP_SIZE, CROP_SIZE)
        self.crop.setAlignment(Qt.AlignCenter)
        self.crop.setFrameShape(QFrame.StyledPanel)
        self.student_id_label = QLabel("—")
        self.name_label = QLabel("—")
        self.distance_label = QLabel("—")
        self.distance_label.setWordWrap(True)
        big = QFont()
        big.setPointSize(big.pointSize() + 4)
        big.setBold(True)
        self.name_label.setFont(big)
        self.name_label.setWordWrap(True)
        self.headline = QLabel(self.tr("Look at the camera to check in."))
        self.headline.setWordWrap(True)
        headline_font = QFont()
        headline_font.setPointSize(headline_font.pointSize() + 2)
        self.headline.setFont(headline_font)
        self.headline.setMinimumHeight(66)
        self.headline.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)

        details = QGridLayout()
        details.addWidget(QLabel(self.tr("Student ID:")), 0, 0)
        details.addWidget(self.student_id_label, 0, 1)
        details.addWidget(QLabel(self.tr("Name:")), 1, 0)
        details.addWidget(self.name_label, 1, 1)
        details.addWidget(QLabel(self.tr("Distance:")), 2, 0)
        details.addWidget(self.distance_label, 2, 1)
        details.setColumnStretch(1, 1)

        result_box = QGroupBox(self.tr("Result"))
        result_layout = QVBoxLayout(result_box)
        top = QHBoxLayout()
        top.addWidget(self.crop)
        top.addLayout(details, 1)
        result_layout.addLayout(top)
        result_layout.addWidget(self.headline)

        note = QLabel(
            self.tr(
                "Stand alone in front of the camera and look at it for a second or two. "
                "Only a face the server is sure of is checked in; if it is not sure, "
                "your professor confirms the check-in."
            )
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")

        history_box = QGroupBox(self.tr("Check-ins on this PC"))
        self.history = QListWidget()
        self.history.setWordWrap(True)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        history_layout = QVBoxLayout(history_box)
        history_layout.addWidget(self.history)

        right = QVBoxLayout()
        right.addWidget(result_box)
        right.addWidget(note)
        right.addWidget(history_box, 1)
        right_widget = QWidget()
        right_widget.setLayout(right)
        right_widget.setFixedWidth(470)

        layout = QHBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(right_widget)

    # -- settings -------------------------------------------------------------------------------

    def configure_server(self, host: str, port: int, token: str = "", ssl_context=None) -> None:
        self.server.configure(host, port, token, ssl_context)

    def lecture_changed(self) -> None:
        """A new lecture: drop a check-in under way and start again."""
        self.flow.reset()
        self._stop_collecting()
        self._show_headline(self.tr("Look at the camera to check in."))
        self._collect()

    def showEvent(self, event) -> None:  # Qt name
        super().showEvent(event)
        self._active = True
        self._collect()

    def hideEvent(self, event) -> None:  # Qt name
        super().hideEvent(event)
        self._active = False
        self._stop_collecting()

    # -- the check-in loop ----------------------------------------------------------------------

    def _source_opened(self, backend: str) -> None:
        self._collect()

    def _collect(self) -> None:
        """Ask the capture for the frames of the next check-in, when nothing else is going on."""
        if not self._active or self.capture is None or self._collecting or self._in_flight is not None:
            return
        if self._next_timer.isActive():
            return
        if not self.lecture():
            self._show_headline(self.tr("Enter the lecture code at the top to start the check-in."))
            return
        self._collecting = True
        self.requestBurst.emit()

    def _stop_collecting(self) -> None:
        self._next_timer.stop()
        if self._collecting:
            self._collecting = False
            self.cancelRequest.emit()

    def _schedule_next(self, delay_ms: int) -> None:
        self._next_timer.start(delay_ms)

    def _progress(self, collected: int, needed: int) -> None:
        """Frames collected so far (not on a second try: its request to look again stays)."""
        if self._collecting and not self.flow.retrying and 0 < collected < needed:
            self._show_headline(
                self.tr("Hold still… (%1 of %2)").replace("%1", str(collected)).replace("%2", str(needed))
            )

    def _burst(self, frames: tuple) -> None:
        if not self._collecting:
            return  # asked for before the screen was hidden or the lecture changed
        self._collecting = False
        lecture = self.lecture()
        if not lecture:
            self._collect()
            return
        request = self.flow.request([frame.jpeg for frame in frames])
        self._ticket += 1
        self._in_flight, self._sent_lecture, self._preview = self._ticket, lecture, frames[-1]
        self._show_headline(self.tr("Checking…"))
        ticket = self._ticket
        self.server.request(  # the server decides, and marks an accepted face
            lambda client: client.checkin(lecture, request.frames, mark=True, queue_uncertain=request.queue_uncertain),
            lambda reply: self._checked_in(ticket, reply),
            lambda code, detail: self._checkin_failed(ticket, code, detail),
        )

    def _checked_in(self, ticket: int, reply) -> None:
        if ticket != self._in_flight:
            return
        self._in_flight = None
        if self._sent_lecture != self.lecture():  # the lecture changed while the server was busy
            self.flow.reset()
            self._collect()
            return
        outcome = self.flow.on_reply(reply)
        self.outcomes.append(outcome)
        self._show_outcome(outcome)
        self._schedule_next(0 if outcome.kind == rules.RETRY else self.result_hold_ms)
        self.resultShown.emit(outcome.kind, reply)

    def _checkin_failed(self, ticket: int, code: str, detail: str) -> None:
        if ticket != self._in_flight:
            return
        self._in_flight = None
        outcome = self.flow.on_error(code)
        self.outcomes.append(outcome)
        self._show_face(None)
        server_text = failure_text(code, detail, self.server.connection.address)
        if outcome.kind == rules.DIFFERENT_PEOPLE:
            self._show_headline(self.tr("Only one person in front of the camera, please. Try again."), RED)
        elif outcome.kind == rules.BAD_IMAGE:
            self._show_headline(self.tr("The picture was not clear enough. Look at the camera again."), RED)
        elif outcome.kind == rules.LECTURE_UNKNOWN:
            self._show_headline(server_text, RED)
        else:
            self._show_headline(server_text + " " + self.tr("Nothing was marked: try again in a moment."), RED)
        self.message.emit(server_text)
        if outcome.kind == rules.FAILED:
            self._schedule_next(self.retry_delay_ms)
        elif outcome.kind != rules.LECTURE_UNKNOWN:  # an unknown lecture waits for another code
            self._schedule_next(self.result_hold_ms)
        self.resultShown.emit(outcome.kind, None)

    # -- display --------------------------------------------------------------------------------

    def _show_outcome(self, outcome: Outcome) -> None:
        reply = outcome.reply
        if outcome.kind == rules.ACCEPTED:
            self._show_face(reply)
            who = f"{reply.name or ''} ({reply.student_id})"
            if reply.already_marked:
                self._show_headline(
                    self.tr("%1 was already checked in (%2).")
                    .replace("%1", who)
                    .replace("%2", status_label(reply.status)),
                    GREEN,
                )
                self._add_history(f"{reply.student_id} {reply.name or ''}", self.tr("already checked in"))
            else:
                self._show_headline(self.tr("Checked in: %1").replace("%1", who), GREEN)
                self._add_history(f"{reply.student_id} {reply.name or ''}", self.tr("checked in ✓"))
            return
        # Uncertain or unknown: no candidate's name is shown (it would tell a stranger whom they
        # look like).
        self._show_face(None)
        if outcome.kind == rules.RETRY:
            self._show_headline(self.tr("Almost: look straight at the camera once more."), ORANGE)
        elif outcome.kind == rules.PENDING:
            self._show_headline(
                self.tr("Not sure who you are: your check-in waits for your professor's confirmation."), ORANGE
            )
            self._add_history(self.tr("Face not recognized with certainty"), self.tr("waiting for the professor"))
        else:
            self._show_headline(self.tr("Not recognized: this face is not on the lecture's roster. Not marked."), RED)
            self._add_history(self.tr("Unknown face"), self.tr("not marked"))

    def _add_history(self, text: str, state: str) -> None:
        self.history.insertItem(0, QListWidgetItem(f"{dt.datetime.now():%H:%M:%S}  {text} · {state}"))
        while self.history.count() > HISTORY_LINES:
            self.history.takeItem(self.history.count() - 1)

    def _show_headline(self, text: str, color: str = BLACK) -> None:
        self.headline.setText(text)
        self.headline.setStyleSheet(f"color: {color};")

    def _show_face(self, reply) -> None:
        """The accepted student's details and face (None: clear them)."""
        if reply is None:
            self.crop.clear()
            self.student_id_label.setText("—")
            self.name_label.setText("—")
            self.distance_label.setText("—")
            return
        self.student_id_label.setText(reply.student_id)
        self.name_label.setText(reply.name or "")
        self.distance_label.setText(self._distance(reply))
        if self._preview is not None:
            crop = face_crop(to_qimage(self._preview.image), self._preview.box)
            self.crop.setPixmap(
                QPixmap.fromImage(crop).scaled(CROP_SIZE, CROP_SIZE, Qt.KeepAspectRatio, Qt.SmoothTransformation)
            )

    def _distance(self, reply) -> str:
        """The face's distance to the student, with the largest distance the server accepts."""
        if reply.distance is None:
            return "—"
        if reply.threshold is None:
            return f"{reply.distance:.2f}"
        return (
            self.tr("%1 (accepted up to %2)")
            .replace("%1", f"{reply.distance:.2f}")
            .replace("%2", f"{reply.threshold:.2f}")
        )

    # -- shutdown -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self._next_timer.stop()
        self.server.shutdown()
