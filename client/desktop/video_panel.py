"""The live picture of the check-in and Enrol screens: one capture worker, shown by both."""

from __future__ import annotations

from PyQt5.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QImage, QPixmap
from PyQt5.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from client.frame_source import SourceSpec


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

    def resizeEvent(self, event) -> None:  # Qt name
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is not None and not self._image.isNull():
            self.setPixmap(
                QPixmap.fromImage(self._image).scaled(self.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
            )


class SourcePanel(QWidget):
    """The video of a :class:`~client.desktop.workers.CaptureWorker` (None: no source) with a
    line under it naming the source and the local face detector."""

    message = pyqtSignal(str)  # for the status bar

    def __init__(self, capture, source: SourceSpec | None, parent=None):
        super().__init__(parent)
        self.source = source
        self.video = VideoView()
        self.label = QLabel()
        self.label.setStyleSheet("color: #666666;")
        self.label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long paths
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.video, 1)
        layout.addWidget(self.label)
        if capture is None:
            self.video.setText(
                self.tr("No camera or video source.\nStart with --camera N, --video FILE or --images DIR.")
            )
            return
        self.video.setText(self.tr("Starting the camera…"))
        capture.frameReady.connect(self._frame)
        capture.sourceOpened.connect(self._opened)
        capture.sourceFailed.connect(self._failed)
        capture.sourceEnded.connect(self._ended)

    def _frame(self, image: QImage, faces: int) -> None:
        if self.isVisible():  # the other screen of the shared camera is shown
            self.video.show_image(image)

    def _opened(self, backend: str) -> None:
        self.label.setText(
            self.tr("Source: %1 · local face detector: %2").replace("%1", self._describe()).replace("%2", backend)
        )

    def _describe(self) -> str:
        kinds = {
            "camera": self.tr("camera %1"),
            "video": self.tr("video file %1"),
            "images": self.tr("image folder %1"),
        }
        return kinds.get(self.source.kind, "%1").replace("%1", str(self.source.value))

    def _failed(self, text: str) -> None:
        self.video.clear()
        self.video.setText(self.tr("The video source cannot be used:\n%1").replace("%1", text))
        self.message.emit(self.tr("Video source: %1").replace("%1", text))

    def _ended(self) -> None:
        self.label.setText(self.label.text() + " · " + self.tr("finished"))


def face_crop(frame: QImage, box: tuple[int, int, int, int], margin: float = 0.35) -> QImage:
    """The face's box (x, y, width, height) grown by ``margin`` of its size on each side, inside
    the frame."""
    x, y, width, height = box
    grow_x, grow_y = int(width * margin), int(height * margin)
    rect = QRect(x - grow_x, y - grow_y, width + 2 * grow_x, height + 2 * grow_y)
    return frame.copy(rect.intersected(frame.rect()))
