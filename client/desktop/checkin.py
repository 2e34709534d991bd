"""Screen 1, on the classroom PC: face check-in.

The live picture comes from a :class:`CaptureWorker`; when exactly one face is in view and no
request is pending, that frame goes to the server (:class:`ServerWorker`). The result is shown
with the face, student ID, name and distance. The student confirms with Yes/No, or in automatic
mode the mark is made after K consecutive recognitions of the same student
(:class:`CheckinDecider`). Marks go through the outbox (queue file first, then the server).
Unknown faces are shown as unknown and never marked.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from PyQt5.QtCore import QRect, QSize, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QFont, QImage, QKeySequence, QPixmap
from PyQt5.QtWidgets import (
    QButtonGroup,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QShortcut,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from client.desktop.capture import SourceSpec
from client.desktop.checkin_logic import CheckinDecider, Decision
from client.desktop.mark_queue import mark_entry
from client.desktop.messages import failure_text
from client.desktop.roster_model import status_label
from client.desktop.workers import CaptureWorker, ServerWorker, WorkerThread

CROP_SIZE = 150


class VideoView(QLabel):
    """Shows the latest frame, scaled to fit and centred."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAlignment(Qt.AlignCenter)
        self.setMinimumSize(QSize(480, 360))
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setFrameShape(QFrame.StyledPanel)
        self.setStyleSheet("background: #202020; color: #dddddd;")
        self._image: QImage | None = None

    def show_image(self, image: QImage) -> None:
        self._image = image
        self._rescale()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt name
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is not None and not self._image.isNull():
            self.setPixmap(QPixmap.fromImage(self._image).scaled(self.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation))


class CheckinScreen(QWidget):
    requestFace = pyqtSignal()
    cancelFace = pyqtSignal()
    requestRecognize = pyqtSignal(int, object, str)
    configureServer = pyqtSignal(str, int, str)
    submitMark = pyqtSignal(object)
    #: A result was shown: the Decision's kind ("none", "unknown", "confirm", "mark", ...).
    resultShown = pyqtSignal(str, object)
    #: A mark was handed to the outbox (the queue entry).
    markSubmitted = pyqtSignal(object)
    message = pyqtSignal(str)  # for the status bar
    connectionChanged = pyqtSignal(str, str)

    def __init__(self, *, host: str, port: int, source: SourceSpec | None, lecture: Callable[[], str],
                 token: str = "",
                 auto: bool = False, streak: int = 3, dwell: float = 1.5, send_gap: float = 0.2,
                 retry_delay: float = 2.0, confirm_timeout: float = 20.0, parent=None):
        super().__init__(parent)
        self.lecture = lecture
        self.source = source
        self.send_gap_ms = int(send_gap * 1000)
        self.retry_delay_ms = int(retry_delay * 1000)
        self.decider = CheckinDecider(auto=auto, needed=streak)
        self._ticket = 0
        self._in_flight: int | None = None
        self._frames: dict[int, tuple[QImage, str]] = {}  # ticket -> (frame, lecture)
        self._confirming: tuple[object, QImage, str] | None = None  # face, frame, lecture
        self._history: dict[str, QListWidgetItem] = {}
        self._pending_ids: set[str] = set()
        self.results: list[Decision] = []  # every decision shown (for tests and the log)

        self._build(auto, streak)
        self._confirm_timer = QTimer(self)
        self._confirm_timer.setSingleShot(True)
        self._confirm_timer.setInterval(int(confirm_timeout * 1000))
        self._confirm_timer.timeout.connect(self._confirm_expired)
        self._next_timer = QTimer(self)
        self._next_timer.setSingleShot(True)
        self._next_timer.timeout.connect(self._ask_for_face)

        self.server = ServerWorker(host, port, token=token)
        self.server.recognized.connect(self._recognized)
        self.server.recognizeFailed.connect(self._recognize_failed)
        self.server.connectionChanged.connect(self.connectionChanged)
        self.requestRecognize.connect(self.server.recognize)
        self.configureServer.connect(self.server.configure)
        self.server_thread = WorkerThread(self.server, "checkin-server")

        self.capture: CaptureWorker | None = None
        self.capture_thread: WorkerThread | None = None
        if source is not None:
            self.capture = CaptureWorker(source, dwell=dwell)
            self.capture.frameReady.connect(self._frame)
            self.capture.faceFrame.connect(self._face_frame)
            self.capture.sourceOpened.connect(self._source_opened)
            self.capture.sourceFailed.connect(self._source_failed)
            self.capture.sourceEnded.connect(self._source_ended)
            self.requestFace.connect(self.capture.requestFace)
            self.cancelFace.connect(self.capture.cancelRequest)
            self.capture_thread = WorkerThread(self.capture, "checkin-capture")
        else:
            self.video.setText(self.tr("No camera or video source.\nStart with --camera N, --video FILE or --images DIR."))

    # -- layout ---------------------------------------------------------------------------------

    def _build(self, auto: bool, streak: int) -> None:
        self.video = VideoView()
        self.video.setText(self.tr("Starting the camera…"))
        self.source_label = QLabel()
        self.source_label.setStyleSheet("color: #666666;")
        self.source_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long paths
        self.source_label.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(self.video, 1)
        left.addWidget(self.source_label)

        self.crop = QLabel()
        self.crop.setFixedSize(CROP_SIZE, CROP_SIZE)
        self.crop.setAlignment(Qt.AlignCenter)
        self.crop.setFrameShape(QFrame.StyledPanel)
        self.student_id_label = QLabel("—")
        self.name_label = QLabel("—")
        self.distance_label = QLabel("—")
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
        self.headline.setMinimumHeight(44)
        self.yes_button = QPushButton(self.tr("&Yes, that is me"))
        self.no_button = QPushButton(self.tr("&No"))
        self.yes_button.setMinimumHeight(40)
        self.no_button.setMinimumHeight(40)
        self.yes_button.clicked.connect(self.confirm_yes)
        self.no_button.clicked.connect(self.confirm_no)
        QShortcut(QKeySequence(Qt.Key_Y), self, activated=self._shortcut_yes)
        QShortcut(QKeySequence(Qt.Key_N), self, activated=self._shortcut_no)

        details = QGridLayout()
        details.addWidget(QLabel(self.tr("Student ID:")), 0, 0)
        details.addWidget(self.student_id_label, 0, 1)
        details.addWidget(QLabel(self.tr("Name:")), 1, 0)
        details.addWidget(self.name_label, 1, 1)
        details.addWidget(QLabel(self.tr("Distance:")), 2, 0)
        details.addWidget(self.distance_label, 2, 1)
        details.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.yes_button, 2)
        buttons.addWidget(self.no_button, 1)

        result_box = QGroupBox(self.tr("Result"))
        result_layout = QVBoxLayout(result_box)
        top = QHBoxLayout()
        top.addWidget(self.crop)
        top.addLayout(details, 1)
        result_layout.addLayout(top)
        result_layout.addWidget(self.headline)
        result_layout.addLayout(buttons)

        mode_box = QGroupBox(self.tr("Marking"))
        self.ask_radio = QRadioButton(self.tr("Ask the student to confirm (Yes/No)"))
        self.auto_radio = QRadioButton(self.tr("Automatic:"))
        self.streak_spin = QSpinBox()
        self.streak_spin.setRange(1, 20)
        self.streak_spin.setValue(streak)
        group = QButtonGroup(self)
        group.addButton(self.ask_radio)
        group.addButton(self.auto_radio)
        (self.auto_radio if auto else self.ask_radio).setChecked(True)
        self.auto_radio.toggled.connect(self._mode_changed)
        self.streak_spin.valueChanged.connect(self._mode_changed)
        auto_row = QHBoxLayout()
        auto_row.setContentsMargins(24, 0, 0, 0)
        auto_row.addWidget(QLabel(self.tr("mark after")))
        auto_row.addWidget(self.streak_spin)
        auto_row.addWidget(QLabel(self.tr("recognitions in a row")))
        auto_row.addStretch(1)
        mode_layout = QVBoxLayout(mode_box)
        mode_layout.addWidget(self.ask_radio)
        mode_layout.addWidget(self.auto_radio)
        mode_layout.addLayout(auto_row)

        history_box = QGroupBox(self.tr("Check-ins on this PC"))
        self.history = QListWidget()
        self.history.setWordWrap(True)
        self.history.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        history_layout = QVBoxLayout(history_box)
        history_layout.addWidget(self.history)

        right = QVBoxLayout()
        right.addWidget(result_box)
        right.addWidget(mode_box)
        right.addWidget(history_box, 1)
        right_widget = QWidget()
        right_widget.setLayout(right)
        right_widget.setFixedWidth(470)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(right_widget)
        self._set_question(False)

    # -- settings -------------------------------------------------------------------------------

    @property
    def auto(self) -> bool:
        return self.auto_radio.isChecked()

    @property
    def streak(self) -> int:
        return self.streak_spin.value()

    def set_mode(self, auto: bool, streak: int) -> None:
        self.streak_spin.setValue(streak)
        (self.auto_radio if auto else self.ask_radio).setChecked(True)
        self._mode_changed()

    def _mode_changed(self, *_) -> None:
        self.decider.configure(auto=self.auto, needed=self.streak)
        self.streak_spin.setEnabled(self.auto)

    def configure_server(self, host: str, port: int, token: str = "") -> None:
        self.configureServer.emit(host, port, token)

    def lecture_changed(self) -> None:
        """A new lecture: forget who checked in and drop a pending question."""
        self.decider.reset()
        if self._confirming is not None:
            self._end_question()
            self._show_headline(self.tr("Look at the camera to check in."))
        self._ask_for_face()

    # -- the check-in loop ----------------------------------------------------------------------

    def _source_opened(self, backend: str) -> None:
        self.source_label.setText(
            self.tr("Source: %1 · local face detector: %2").replace("%1", self._describe_source()).replace("%2", backend)
        )
        self._ask_for_face()

    def _describe_source(self) -> str:
        kinds = {
            "camera": self.tr("camera %1"),
            "video": self.tr("video file %1"),
            "images": self.tr("image folder %1"),
        }
        return kinds.get(self.source.kind, "%1").replace("%1", str(self.source.value))

    def _source_failed(self, text: str) -> None:
        self.video.clear()
        self.video.setText(self.tr("The video source cannot be used:\n%1").replace("%1", text))
        self.message.emit(self.tr("Video source: %1").replace("%1", text))

    def _source_ended(self) -> None:
        self.source_label.setText(self.source_label.text() + " · " + self.tr("finished"))

    def _frame(self, image: QImage, faces: int) -> None:
        self.video.show_image(image)

    def _ask_for_face(self) -> None:
        if self._in_flight is None and self._confirming is None and self.capture is not None:
            self.requestFace.emit()

    def _schedule_next(self, delay_ms: int | None = None) -> None:
        self._next_timer.start(self.send_gap_ms if delay_ms is None else delay_ms)

    def _face_frame(self, jpeg: bytes, frame: QImage) -> None:
        lecture = self.lecture()
        if not lecture:
            self._show_headline(self.tr("Enter the lecture code at the top to start the check-in."))
            self._schedule_next(1000)
            return
        if self._in_flight is not None or self._confirming is not None:
            return
        self._ticket += 1
        self._in_flight = self._ticket
        self._frames = {self._ticket: (frame, lecture)}
        self.requestRecognize.emit(self._ticket, jpeg, lecture)

    def _recognized(self, ticket: int, reply) -> None:
        if ticket != self._in_flight:
            return
        self._in_flight = None
        frame, lecture = self._frames.pop(ticket)
        if lecture != self.lecture():  # the lecture changed while the server was busy
            self._schedule_next()
            return
        decision = self.decider.on_result(reply.faces)
        self.results.append(decision)
        self._show_face(decision.face, frame)
        kind = decision.kind
        if kind == "none":
            self._show_headline(self.tr("No face recognized. Look straight at the camera."))
            self._schedule_next()
        elif kind == "unknown":
            self._show_headline(self.tr("Unknown face: not on this lecture's roster. Not marked."), "#b00020")
            self._add_history(None, self.tr("Unknown face (distance %1)").replace("%1", _distance(decision.face)))
            self._schedule_next()
        elif kind == "already":
            self._show_headline(self.tr("%1 is already checked in.").replace("%1", decision.face.name or decision.student_id), "#1b5e20")
            self._schedule_next()
        elif kind == "confirm":
            self._confirming = (decision.face, frame, lecture)
            self._show_headline(self.tr("Is this you? Press Yes to check in."))
            self._set_question(True)
            self._confirm_timer.start()
        elif kind == "wait":
            self._show_headline(
                self.tr("Recognized %1 of %2 times. Keep looking at the camera.")
                .replace("%1", str(decision.streak)).replace("%2", str(decision.needed))
            )
            self._schedule_next()
        elif kind == "mark":
            self._submit(decision.face, lecture)
            self._schedule_next()
        self.resultShown.emit(kind, decision)

    def _recognize_failed(self, ticket: int, code: str, detail: str) -> None:
        if ticket != self._in_flight:
            return
        self._in_flight = None
        self._frames.pop(ticket, None)
        self.decider.on_error()
        text = failure_text(code, detail, self.server.connection.address)
        self._show_headline(text, "#b00020")
        self.message.emit(text)
        self.results.append(Decision("error"))
        self.resultShown.emit("error", None)
        if code == "not_found":
            return  # a lecture code the server does not know: wait for another one
        self._schedule_next(self.retry_delay_ms if code != "bad_image" else None)

    # -- confirmation ---------------------------------------------------------------------------

    def _shortcut_yes(self) -> None:
        if self._confirming is not None:
            self.confirm_yes()

    def _shortcut_no(self) -> None:
        if self._confirming is not None:
            self.confirm_no()

    def confirm_yes(self) -> None:
        if self._confirming is None:
            return
        face, _frame, lecture = self._confirming
        self._end_question()
        self.decider.confirmed(face.student_id)
        self._submit(face, lecture)
        self._schedule_next()

    def confirm_no(self) -> None:
        if self._confirming is None:
            return
        self._end_question()
        self.decider.declined()
        self._show_headline(self.tr("Not marked. Step up to the camera again."))
        self._schedule_next()

    def _confirm_expired(self) -> None:
        if self._confirming is not None:
            self._end_question()
            self.decider.declined()
            self._show_headline(self.tr("No answer: not marked."))
            self._schedule_next()

    def _end_question(self) -> None:
        self._confirming = None
        self._confirm_timer.stop()
        self._set_question(False)

    def _set_question(self, asking: bool) -> None:
        self.yes_button.setEnabled(asking)
        self.no_button.setEnabled(asking)
        if asking:
            self.yes_button.setFocus()

    # -- marks ----------------------------------------------------------------------------------

    def _submit(self, face, lecture: str) -> None:
        entry = mark_entry(lecture, face.student_id, status="present", source="checkin", distance=face.distance)
        self._show_headline(self.tr("Checked in: %1").replace("%1", f"{face.name or ''} ({face.student_id})"), "#1b5e20")
        self._add_history(entry["id"], f"{face.student_id} {face.name or ''}", self.tr("sending…"))
        self.submitMark.emit(entry)
        self.markSubmitted.emit(entry)

    def _add_history(self, entry_id: str | None, text: str, state: str = "") -> None:
        item = QListWidgetItem()
        item.setData(Qt.UserRole, (f"{dt.datetime.now():%H:%M:%S}", text))
        self._set_history_state(item, state)
        self.history.insertItem(0, item)
        if entry_id is not None:
            self._history[entry_id] = item
        while self.history.count() > 200:
            self.history.takeItem(self.history.count() - 1)

    @staticmethod
    def _set_history_state(item: QListWidgetItem, state: str) -> None:
        time_text, text = item.data(Qt.UserRole)
        item.setText(f"{time_text}  {text}" + (f" · {state}" if state else ""))

    def mark_delivered(self, entry: dict, reply) -> None:
        item = self._history.pop(entry["id"], None)
        if item is None:
            return
        if getattr(reply, "already_marked", False):
            state = self.tr("already marked (%1)").replace("%1", status_label(reply.status))
        else:
            state = self.tr("checked in ✓")
        self._set_history_state(item, state)

    def mark_rejected(self, entry: dict, code: str, detail: str) -> None:
        item = self._history.pop(entry["id"], None)
        self.decider.forget(entry.get("student_id", ""))
        if item is not None:
            self._set_history_state(item, self.tr("refused by the server (%1)").replace("%1", code))

    def pending_changed(self, entries: list[dict]) -> None:
        self._pending_ids = {e["id"] for e in entries}

    def delivery_failed(self) -> None:
        """The outbox could not send: the queued check-ins are pending (sent again later)."""
        for entry_id, item in self._history.items():
            if entry_id in self._pending_ids:
                self._set_history_state(item, self.tr("pending: saved on this PC, will be sent"))

    # -- display --------------------------------------------------------------------------------

    def _show_headline(self, text: str, color: str = "#000000") -> None:
        self.headline.setText(text)
        self.headline.setStyleSheet(f"color: {color};")

    def _show_face(self, face, frame: QImage | None) -> None:
        if face is None:
            self.crop.clear()
            self.student_id_label.setText("—")
            self.name_label.setText("—")
            self.distance_label.setText("—")
            return
        self.student_id_label.setText(face.student_id or self.tr("unknown"))
        self.name_label.setText(face.name or self.tr("Unknown"))
        self.distance_label.setText(_distance(face))
        if frame is not None and not frame.isNull():
            self.crop.setPixmap(QPixmap.fromImage(face_crop(frame, face)).scaled(
                CROP_SIZE, CROP_SIZE, Qt.KeepAspectRatio, Qt.SmoothTransformation))

    # -- shutdown -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self._next_timer.stop()
        self._confirm_timer.stop()
        if self.capture_thread is not None:
            self.capture_thread.stop()
        self.server_thread.stop()


def _distance(face) -> str:
    return "—" if face is None or face.distance is None else f"{face.distance:.2f}"


def face_crop(frame: QImage, face, margin: float = 0.35) -> QImage:
    """The face's box from the server (top, right, bottom, left) with a margin, inside the frame."""
    width, height = face.right - face.left, face.bottom - face.top
    grow_x, grow_y = int(width * margin), int(height * margin)
    rect = QRect(face.left - grow_x, face.top - grow_y, width + 2 * grow_x, height + 2 * grow_y)
    return frame.copy(rect.intersected(frame.rect()))
