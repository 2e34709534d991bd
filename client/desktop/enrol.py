"""The Enrol screen, for staff: photograph a student in five poses and enrol them (op ``enroll``).

The screen asks the student for each pose in turn (straight, a little to their left, right, up,
down). Every frame in which this PC finds exactly one face is checked on the enrolment check
worker (:mod:`client.desktop.enrol_checks`: big enough, sharp enough, eyes open, the asked
pose); the first one that passes is taken and the next pose is asked. A pose the student cannot
take can be skipped (not the straight one). Then all photos go to the server in one request
with the student ID (and the name, for a new student). The server checks them against the
student's other photos and everyone else enrolled, and stores all of them or none; its verdict
is shown on each photo. When the only problems are "unlike this student's other photos" or
"looks like another student", staff who checked the student's identity can **Enrol anyway**.

Photos are kept in memory only; **New student** forgets them. Frames are taken only while this
screen is shown.
"""

from __future__ import annotations

from PyQt5.QtCore import QRegExp, QTimer, pyqtSignal
from PyQt5.QtGui import QFont, QRegExpValidator
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.desktop.enrol_checks import POSE_NAMES, LandmarkModel
from client.desktop.enrol_model import THUMBNAIL_SIZE, EnrolModel, pose_instruction, problem_text
from client.desktop.messages import failure_text
from client.desktop.video_panel import SourcePanel, face_crop
from client.desktop.workers import ServerCalls, check_enrol_photo
from client.frame_source import SourceSpec, to_qimage
from client.qt_worker import create_worker, serial_pool
from protocol.errors import ErrorCode
from protocol.identifiers import is_student_id

#: Milliseconds between a refused frame and the next one checked (about 5 checks a second).
CHECK_GAP_MS = 200
GREEN, ORANGE, RED = "#1b5e20", "#b26a00", "#b00020"


class EnrolScreen(QWidget):
    requestStill = pyqtSignal()
    cancelRequest = pyqtSignal()
    #: A photo was taken for this step (its row).
    photoTaken = pyqtSignal(int)
    #: The server answered an enrolment (framed.EnrollResponse).
    enrolFinished = pyqtSignal(object)
    message = pyqtSignal(str)  # for the status bar
    connectionChanged = pyqtSignal(str, str)

    def __init__(
        self,
        *,
        host: str,
        port: int,
        capture,
        source: SourceSpec | None,
        token: str = "",
        ssl_context=None,
        parent=None,
    ):
        """``capture``: the shared CaptureWorker (None: no video)."""
        super().__init__(parent)
        self.capture = capture
        self.model = EnrolModel(self)
        self._active = False
        self._asking = False
        self._ticket = 0
        self._checking: tuple[int, int, object] | None = None  # ticket, row, FaceFrame
        self._sending: int | None = None
        self._build(source)
        self._next_timer = QTimer(self)
        self._next_timer.setSingleShot(True)
        self._next_timer.timeout.connect(self._ask)

        self.landmarks = LandmarkModel()  # loaded on the check thread, with the first photo
        self.check_pool = serial_pool(self)
        self.server = ServerCalls(host, port, token=token, ssl_context=ssl_context, parent=self)
        self.server.connectionChanged.connect(self.connectionChanged)

        if capture is not None:
            capture.stillReady.connect(self._still)
            capture.frameReady.connect(self._frame_seen)
            capture.sourceOpened.connect(self._source_opened)
            self.requestStill.connect(capture.requestStill)
            self.cancelRequest.connect(capture.cancelRequest)
        self._update()

    # -- layout ---------------------------------------------------------------------------------

    def _build(self, source: SourceSpec | None) -> None:
        self.panel = SourcePanel(self.capture, source)
        self.panel.message.connect(self.message)

        self.student_id_edit = QLineEdit()
        self.student_id_edit.setPlaceholderText("202012345")
        self.student_id_edit.setValidator(QRegExpValidator(QRegExp(r"\d{0,9}"), self))
        self.student_id_edit.textChanged.connect(self._student_changed)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText(self.tr("only for a student not enrolled yet"))
        self.name_edit.textChanged.connect(self._update)
        student_box = QGroupBox(self.tr("Student"))
        form = QFormLayout(student_box)
        form.addRow(self.tr("Student ID:"), self.student_id_edit)
        form.addRow(self.tr("Name:"), self.name_edit)

        self.instruction = QLabel()
        self.instruction.setWordWrap(True)
        big = QFont()
        big.setPointSize(big.pointSize() + 2)
        big.setBold(True)
        self.instruction.setFont(big)
        self.feedback = QLabel()  # what to do now, or the server's answer
        self.feedback.setWordWrap(True)

        self.steps = QListView()
        self.steps.setModel(self.model)
        self.steps.setIconSize(THUMBNAIL_SIZE)
        self.steps.setSelectionMode(QAbstractItemView.SingleSelection)
        self.steps.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.steps.setWordWrap(True)
        self.steps.setMinimumHeight(3 * THUMBNAIL_SIZE.height())  # it scrolls when the window is low
        self.steps.selectionModel().currentRowChanged.connect(self._update)

        self.retake_button = QPushButton(self.tr("&Retake"))
        self.retake_button.setToolTip(self.tr("Take the chosen pose again (the straight one: every pose again)"))
        self.retake_button.clicked.connect(self.retake_selected)
        self.skip_button = QPushButton(self.tr("S&kip this pose"))
        self.skip_button.clicked.connect(self.skip_current)
        self.new_button = QPushButton(self.tr("&New student"))
        self.new_button.clicked.connect(self.new_student)
        step_buttons = QHBoxLayout()
        step_buttons.addWidget(self.retake_button)
        step_buttons.addWidget(self.skip_button)
        step_buttons.addStretch(1)
        step_buttons.addWidget(self.new_button)

        self.send_button = QPushButton(self.tr("&Send to the server"))
        self.send_button.setMinimumHeight(36)
        self.send_button.clicked.connect(lambda: self.send(force=False))
        self.force_button = QPushButton(self.tr("Enrol &anyway…"))
        self.force_button.setMinimumHeight(36)
        self.force_button.clicked.connect(self.enrol_anyway)
        self.force_button.hide()
        send_buttons = QHBoxLayout()
        send_buttons.addWidget(self.send_button, 2)
        send_buttons.addWidget(self.force_button, 1)

        photos_box = QGroupBox(self.tr("Photos"))
        photos_layout = QVBoxLayout(photos_box)
        photos_layout.addWidget(self.instruction)
        photos_layout.addWidget(self.feedback)
        photos_layout.addWidget(self.steps, 1)
        photos_layout.addLayout(step_buttons)

        right = QVBoxLayout()
        right.addWidget(student_box)
        right.addWidget(photos_box, 1)
        right.addLayout(send_buttons)
        right_widget = QWidget()
        right_widget.setLayout(right)
        right_widget.setFixedWidth(470)

        layout = QHBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(right_widget)

    # -- settings and visibility ----------------------------------------------------------------

    def configure_server(self, host: str, port: int, token: str = "", ssl_context=None) -> None:
        self.server.configure(host, port, token, ssl_context)

    def showEvent(self, event) -> None:  # Qt name
        super().showEvent(event)
        self._active = True
        self._ask()

    def hideEvent(self, event) -> None:  # Qt name
        super().hideEvent(event)
        self._active = False
        self._stop_asking()

    def _source_opened(self, backend: str) -> None:
        self._ask()

    # -- taking the photos ----------------------------------------------------------------------

    def _ask(self) -> None:
        """Ask the capture for the next frame with one face, while a pose is to be taken."""
        if not self._active or self.capture is None or self._asking or self._checking or self._sending:
            return
        if self._next_timer.isActive() or self.model.current() is None:
            return
        self._asking = True
        self.requestStill.emit()

    def _stop_asking(self) -> None:
        self._next_timer.stop()
        if self._asking:
            self._asking = False
            self.cancelRequest.emit()

    def _frame_seen(self, image, faces: int) -> None:
        if self._asking and faces != 1:
            self._show_feedback(
                self.tr("Only the student may be in front of the camera.")
                if faces
                else self.tr("No face in view: look at the camera."),
                ORANGE,
            )

    def _still(self, frame) -> None:
        if not self._asking:
            return
        self._asking = False
        row = self.model.current()
        if row is None:
            return
        self._ticket += 1
        self._checking = (self._ticket, row, frame)
        ticket = self._ticket
        worker = create_worker(check_enrol_photo, frame, POSE_NAMES[row], self.model.reference(), self.landmarks)
        worker.returned.connect(lambda check: self._checked(ticket, check))
        worker.errored.connect(lambda exc: self._check_failed(ticket, str(exc)))
        worker.start(self.check_pool)

    def _checked(self, ticket: int, check) -> None:
        if self._checking is None or self._checking[0] != ticket:
            return
        _ticket, row, frame = self._checking
        self._checking = None
        if row != self.model.current():  # a retake or a skip meanwhile
            self._ask()
            return
        if not check.ok:
            self._show_feedback(" ".join(problem_text(problem) for problem in check.problems), ORANGE)
            self._next_timer.start(CHECK_GAP_MS)
            return
        thumbnail = face_crop(to_qimage(frame.image), frame.box, margin=0.2)
        self.model.set_photo(row, frame, thumbnail, check)
        self._show_feedback(self.tr("Photo %1 taken.").replace("%1", str(row + 1)), GREEN)
        self.photoTaken.emit(row)
        self._update()
        self._ask()

    def _check_failed(self, ticket: int, text: str) -> None:
        self._checking = None
        self._show_feedback(self.tr("Photos cannot be checked on this PC: %1").replace("%1", text), RED)

    # -- the staff's buttons --------------------------------------------------------------------

    def selected_row(self) -> int:
        return self.steps.currentIndex().row()

    def retake_selected(self) -> None:
        row = self.selected_row()
        if row >= 0:
            self.model.retake(row)
            self._after_change()

    def skip_current(self) -> None:
        row = self.model.current()
        if row is not None and self.model.skip(row):
            self._after_change()

    def new_student(self) -> None:
        """Forget the photos and the student: ready for the next one."""
        self.model.reset()
        self.student_id_edit.clear()
        self.name_edit.clear()
        self.force_button.hide()
        self._after_change()

    def _after_change(self) -> None:
        self.force_button.hide()
        self._show_feedback("")
        self._update()
        self._ask()

    def _student_changed(self) -> None:
        """The server's verdicts were about another student ID."""
        self.model.clear_verdicts()
        self.force_button.hide()
        self._show_feedback("")
        self._update()

    def _update(self, *_) -> None:
        row = self.model.current()
        if row is None:
            self.instruction.setText(self.tr("All photos taken: check the student ID, then send."))
        else:
            self.instruction.setText(
                self.tr("Photo %1 of %2: %3")
                .replace("%1", str(row + 1))
                .replace("%2", str(len(POSE_NAMES)))
                .replace("%3", pose_instruction(POSE_NAMES[row]))
            )
        self.skip_button.setEnabled(row is not None and row > 0)
        self.retake_button.setEnabled(self.selected_row() >= 0 and not self._sending)
        self.send_button.setEnabled(self.model.ready() and is_student_id(self.student_id()) and not self._sending)

    def _show_feedback(self, text: str, color: str = "#000000") -> None:
        self.feedback.setText(text)
        self.feedback.setStyleSheet(f"color: {color};")

    # -- sending --------------------------------------------------------------------------------

    def student_id(self) -> str:
        return self.student_id_edit.text().strip()

    def send(self, force: bool = False) -> None:
        """Send every photo to the server in one request (``force``: Enrol anyway)."""
        if not self.model.ready() or not is_student_id(self.student_id()) or self._sending:
            return
        self._stop_asking()
        self._ticket += 1
        self._sending = self._ticket
        photos = tuple(frame.jpeg for _row, frame in self.model.photos())
        name = self.name_edit.text().strip() or None
        self.force_button.hide()
        self._show_feedback(self.tr("Sending %1 photos…").replace("%1", str(len(photos))), "#000000")
        self._update()
        ticket, student_id = self._ticket, self.student_id()
        self.server.request(
            lambda client: client.enroll(student_id, photos, name=name, force=force),
            lambda reply: self._enrolled(ticket, reply),
            lambda code, detail: self._enroll_failed(ticket, code, detail),
        )

    def ask_enrol_anyway(self) -> bool:
        """Asked before Enrol anyway (tests replace this)."""
        answer = QMessageBox.question(
            self,
            self.tr("Enrol anyway?"),
            self.tr(
                "Enrol these photos although the server found them unlike this student's other photos "
                "or like another student? Do it only after checking the student's identity (student "
                "card): photos of the wrong person let one student be checked in as another."
            ),
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        return answer == QMessageBox.Yes

    def enrol_anyway(self) -> None:
        if self.model.forceable() and self.ask_enrol_anyway():
            self.send(force=True)

    def _enrolled(self, ticket: int, reply) -> None:
        if ticket != self._sending:
            return
        self._sending = None
        retake = self.model.set_verdicts(reply)
        if reply.stored:
            self._show_feedback(
                self.tr("Enrolled %1: %2 photos stored (%3 in all). Press New student for the next one.")
                .replace("%1", reply.student_id)
                .replace("%2", str(reply.stored))
                .replace("%3", str(reply.total)),
                GREEN,
            )
        elif retake:
            self._show_feedback(
                self.tr("Not enrolled: take the photos the server could not use again, then send."), RED
            )
        elif self.model.forceable():
            self._show_feedback(
                self.tr(
                    "Not enrolled: the server found the problems shown on the photos. Retake "
                    "them, or enrol anyway after checking the student's identity."
                ),
                RED,
            )
            self.force_button.show()
        self.enrolFinished.emit(reply)
        self._update()
        self._ask()

    def _enroll_failed(self, ticket: int, code: str, detail: str) -> None:
        if ticket != self._sending:
            return
        self._sending = None
        if code == ErrorCode.NOT_FOUND:
            self._show_feedback(
                self.tr("Student %1 is not enrolled yet: enter their name, then send again.").replace(
                    "%1", self.student_id()
                ),
                RED,
            )
            self.name_edit.setFocus()
        else:
            text = failure_text(code, detail, self.server.connection.address)
            self._show_feedback(text, RED)
            self.message.emit(text)
        self._update()

    # -- shutdown -------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self._next_timer.stop()
        self.server.shutdown()
        self.check_pool.clear()
        self.check_pool.waitForDone(5000)
