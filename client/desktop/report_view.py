"""Screen 3, the professor's: the attendance report of the lecture.

The same report as ``attendance-report`` (docs/reports.md), asked from the server (op
``report``; the app never talks to MySQL): the student × session matrix with the totals and the
rate (:class:`~client.desktop.report_model.ReportModel`), the warning list of the students below
a percentage, and the chart (rate per session + heat map, ``reports.render.build_figure``).
"Save…" writes the matrix as CSV or XLSX with ``reports.render.render``.

The request goes through the screen's :class:`~client.desktop.workers.ServerCalls`, and the chart
is drawn by a :func:`~client.qt_worker.create_worker` call on a one-thread pool of its own; in
both, a request or drawing that a newer one has overtaken before its turn is skipped (only the
newest answer is wanted). The GUI thread only shows the results (the chart as a PNG in a label:
no OpenGL, no pyplot, works offscreen).
"""

from __future__ import annotations

import datetime
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from PyQt5.QtCore import QDate, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QPixmap
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from client.desktop.messages import failure_text
from client.desktop.report_model import ReportModel, format_rate
from client.desktop.workers import PROTOCOL, ServerCalls
from client.qt_worker import create_worker, serial_pool
from protocol.errors import ErrorCode
from reports import wire as report_wire
from reports.domain import CHANGED_AFTER_MARK, DEFAULT_LATE_WEIGHT, LectureReport
from reports.render import build_figure, render

log = logging.getLogger(__name__)

#: Resolution of the chart on screen (the printed chart of attendance-report uses 200 dpi):
#: 11.5 in × 100 dpi = 1150 pixels wide.
SCREEN_DPI = 100
#: The warning list under the table names at most this many students (the table shows all).
WARNING_NAMES = 12


@dataclass(frozen=True)
class ReportQuery:
    lecture: str
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    late_weight: float = DEFAULT_LATE_WEIGHT


def chart_png(report: LectureReport, below: float | None = None, dpi: float = SCREEN_DPI) -> bytes:
    """The chart of ``build_figure`` as PNG bytes (Agg canvas: any thread, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = build_figure(report, below)
    FigureCanvasAgg(figure)
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=dpi)
    return out.getvalue()


class ChartArea(QScrollArea):
    """The chart: a PNG in a label, shrunk to the width available (never enlarged)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        self.label.setWordWrap(True)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self._pixmap = QPixmap()

    def has_chart(self) -> bool:
        return not self._pixmap.isNull()

    def set_png(self, data: bytes) -> bool:
        pixmap = QPixmap()
        if not pixmap.loadFromData(data, "PNG"):
            return False
        self._pixmap = pixmap
        self.label.setText("")
        self._fit()
        return True

    def set_text(self, text: str) -> None:
        self._pixmap = QPixmap()
        self.label.setPixmap(QPixmap())
        self.label.setText(text)

    def resizeEvent(self, event):  # Qt name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._pixmap.isNull():
            return
        width = self.viewport().width()
        if not self.verticalScrollBar().isVisible():  # it may appear once the chart is in
            width -= self.verticalScrollBar().sizeHint().width()
        if self._pixmap.width() > width >= 300:
            self.label.setPixmap(self._pixmap.scaledToWidth(width, Qt.SmoothTransformation))
        else:
            self.label.setPixmap(self._pixmap)


class ReportScreen(QWidget):
    message = pyqtSignal(str)
    connectionChanged = pyqtSignal(str, str)
    #: A report was shown (the lecture code).
    reportShown = pyqtSignal(str)
    #: The chart was drawn and shown.
    chartShown = pyqtSignal()

    def __init__(self, *, host: str, port: int, lecture, token: str = "", ssl_context=None, parent=None):
        super().__init__(parent)
        self.lecture = lecture
        self.model = ReportModel(self)
        self._ticket = 0
        self._chart_ticket = 0
        self.chart_drawings_shown = 0  # charts drawn and shown so far (for tests)
        self._loading: ReportQuery | None = None
        self._build()

        self.server = ServerCalls(host, port, token=token, timeout=60.0, ssl_context=ssl_context, parent=self)
        self.server.connectionChanged.connect(self.connectionChanged)
        self.chart_pool = serial_pool(self)  # one chart at a time, beside the requests

    # -- layout ---------------------------------------------------------------------------------

    def _build(self) -> None:
        self.title_label = QLabel()
        self.title_label.setStyleSheet("font-weight: bold;")
        self.refresh_button = QPushButton(self.tr("&Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.save_button = QPushButton(self.tr("&Save as CSV/XLSX…"))
        self.save_button.clicked.connect(self._save_clicked)
        self.save_button.setEnabled(False)
        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.save_button)
        header.addWidget(self.refresh_button)

        self.from_check = QCheckBox(self.tr("From"))
        self.from_edit = self._date_edit()
        self.to_check = QCheckBox(self.tr("to"))
        self.to_edit = self._date_edit()
        for check, edit in ((self.from_check, self.from_edit), (self.to_check, self.to_edit)):
            check.setToolTip(self.tr("Unchecked: no limit"))
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._parameters_changed)
            edit.dateChanged.connect(self._parameters_changed)
        self.weight_spin = QDoubleSpinBox()
        self.weight_spin.setRange(0.0, 1.0)
        self.weight_spin.setSingleStep(0.05)
        self.weight_spin.setDecimals(2)
        self.weight_spin.setValue(DEFAULT_LATE_WEIGHT)
        self.weight_spin.setToolTip(self.tr("What a late or left-early session counts for in the rate (0 to 1)"))
        self.weight_spin.valueChanged.connect(self._parameters_changed)
        self.below_spin = QDoubleSpinBox()
        self.below_spin.setRange(0.0, 100.0)
        self.below_spin.setSingleStep(5.0)
        self.below_spin.setDecimals(1)
        self.below_spin.setSuffix(" %")
        self.below_spin.setValue(75.0)
        self.below_spin.setToolTip(self.tr("Students whose attendance rate is under this are listed and highlighted"))
        self.below_spin.valueChanged.connect(self._below_changed)
        controls = QHBoxLayout()
        controls.addWidget(self.from_check)
        controls.addWidget(self.from_edit)
        controls.addWidget(self.to_check)
        controls.addWidget(self.to_edit)
        controls.addSpacing(16)
        controls.addWidget(QLabel(self.tr("Late weight:")))
        controls.addWidget(self.weight_spin)
        controls.addSpacing(16)
        controls.addWidget(QLabel(self.tr("Warn below:")))
        controls.addWidget(self.below_spin)
        controls.addStretch(1)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.view.horizontalHeader().setMinimumSectionSize(28)

        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setTextFormat(Qt.PlainText)
        self.legend_label = QLabel()
        self.legend_label.setWordWrap(True)
        self.legend_label.setStyleSheet("color: #555555;")
        self.chart = ChartArea()
        self.chart.set_text(self.tr("The chart appears here once a report is loaded."))
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.warning_label)
        lower_layout.addWidget(self.legend_label)
        lower_layout.addWidget(self.chart, 1)

        self.splitter = QSplitter(Qt.Vertical)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self._splitter_moved = False  # by the professor: then the table keeps the height given
        self.splitter.splitterMoved.connect(self._remember_splitter)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(controls)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

        # Changes of the dates or the weight ask again once the professor stops typing.
        self._parameters_timer = QTimer(self)
        self._parameters_timer.setSingleShot(True)
        self._parameters_timer.setInterval(500)
        self._parameters_timer.timeout.connect(self.refresh)
        self._below_timer = QTimer(self)
        self._below_timer.setSingleShot(True)
        self._below_timer.setInterval(300)
        self._below_timer.timeout.connect(self._draw_chart)

    def _date_edit(self) -> QDateEdit:
        edit = QDateEdit(QDate.currentDate())
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    # -- asking the server ----------------------------------------------------------------------

    def query(self) -> ReportQuery | None:
        """The report asked for by the controls; None (with a message) when they do not fit."""
        lecture = self.lecture()
        if not lecture:
            return None
        date_from = self.from_edit.date().toPyDate() if self.from_check.isChecked() else None
        date_to = self.to_edit.date().toPyDate() if self.to_check.isChecked() else None
        return ReportQuery(lecture, date_from, date_to, round(self.weight_spin.value(), 2))

    def refresh(self) -> None:
        self._parameters_timer.stop()
        lecture = self.lecture()
        if not lecture:
            self._clear(self.tr("Enter the lecture code at the top to see its report."), error=False)
            return
        query = self.query()
        if query.date_from and query.date_to and query.date_from > query.date_to:
            self._show_banner(self.tr("The start date is after the end date."), error=True)
            return
        if query == self._loading:
            return  # that request is on its way
        self._ticket += 1
        ticket = self._ticket
        self._loading = query
        self.title_label.setText(self.tr("Loading the report of %1…").replace("%1", lecture))
        self.server.request(
            lambda client: client.report(query.lecture, query.date_from, query.date_to, late_weight=query.late_weight),
            lambda reply: self._report_answered(ticket, reply),
            lambda code, detail: self._report_failed(ticket, code, detail),
            still_wanted=lambda: ticket == self._ticket,
        )

    def lecture_changed(self) -> None:
        self.model.clear()
        self.save_button.setEnabled(False)
        if self.isVisible():
            self.refresh()

    def configure_server(self, host: str, port: int, token: str = "", ssl_context=None) -> None:
        self.server.configure(host, port, token, ssl_context)
        self._loading = None  # a request to the old server no longer holds back a new one
        if self.isVisible():
            self.refresh()

    def showEvent(self, event):  # Qt name
        super().showEvent(event)
        self.refresh()  # a roll call may have changed today's column

    def _parameters_changed(self, *_) -> None:
        self._parameters_timer.start()

    def _report_answered(self, ticket: int, reply) -> None:
        if ticket != self._ticket:
            return
        try:
            report = report_wire.from_response(reply)
        except ValueError as exc:  # cells that do not fit the sessions: a broken server
            self._report_failed(ticket, PROTOCOL, str(exc))
            return
        self._report_ready(report)

    def _report_ready(self, report: LectureReport) -> None:
        self._loading = None
        if report.lecture_code != self.lecture():
            return  # the professor switched lectures meanwhile
        self.banner.hide()
        self.model.set_report(report, self.below_spin.value())
        self._fit_table()
        self.title_label.setText(self._title(report))
        self._follow_dates(report)
        empty = self._emptiness(report)
        self.save_button.setEnabled(empty is None)
        if empty:
            self._show_banner(empty, error=False)
            self.chart.set_text(self.tr("No chart: nothing to draw."))
        else:
            self._draw_chart()
        self._show_warning_list()
        self.legend_label.setText(self._legend(report))
        self.reportShown.emit(report.lecture_code)

    def _report_failed(self, ticket: int, code: str, detail: str) -> None:
        if ticket != self._ticket:
            return
        query, self._loading = self._loading, None
        lecture = query.lecture if query else self.lecture()
        if code == ErrorCode.NOT_FOUND:
            text = self.tr("There is no lecture %1 on the server. Check the lecture code.").replace("%1", lecture)
        else:
            text = failure_text(code, detail, self.server.connection.address)
        report = self.model.report
        if report is None or report.lecture_code != lecture or code == "not_found":
            self._clear(text, error=True)
        else:  # keep showing what was loaded before, under the message
            self._show_banner(text + " " + self.tr("The table shows the report loaded before."), error=True)
        self.title_label.setText(self.tr("Report of %1").replace("%1", lecture))
        self.message.emit(text)

    def _clear(self, text: str, *, error: bool) -> None:
        self.model.clear()
        self.save_button.setEnabled(False)
        self.title_label.setText("")
        self.warning_label.setText("")
        self.legend_label.setText("")
        self.chart.set_text("")
        self._show_banner(text, error=error)

    def _show_banner(self, text: str, *, error: bool) -> None:
        if error:
            style = "background: #fdecea; color: #8a1c1c;"
        else:
            style = "background: #fff8e1; color: #5d4300;"
        self.banner.setStyleSheet(style + " padding: 6px; border-radius: 3px;")
        self.banner.setText(text)
        self.banner.show()

    # -- what is shown --------------------------------------------------------------------------

    def _title(self, report: LectureReport) -> str:
        name = f"{report.lecture_code} {report.title}" if report.title else report.lecture_code
        if not report.sessions:
            return name
        return (
            self.tr("%1 · %2 sessions, %3 to %4 · %5 students")
            .replace("%1", name)
            .replace("%2", str(len(report.sessions)))
            .replace("%3", report.sessions[0].date.isoformat())
            .replace("%4", report.sessions[-1].date.isoformat())
            .replace("%5", str(len(report.students)))
        )

    def _remember_splitter(self, *_) -> None:
        self._splitter_moved = True

    def _fit_table(self) -> None:
        """Give the table the height of all its rows, up to half of the space (the chart gets
        the rest), unless the professor has moved the splitter."""
        total = sum(self.splitter.sizes())
        if self._splitter_moved or total <= 0:
            return
        view = self.view
        wanted = (
            view.horizontalHeader().sizeHint().height()
            + view.verticalHeader().defaultSectionSize() * self.model.rowCount()
            + view.horizontalScrollBar().sizeHint().height()
            + 2 * view.frameWidth()
            + 2
        )
        table = max(80, min(wanted, total // 2))
        self.splitter.setSizes([table, total - table])

    def _emptiness(self, report: LectureReport) -> str | None:
        """Why there is nothing to draw or save, or None."""
        if not report.students:
            return self.tr("No students are enrolled in %1.").replace("%1", report.lecture_code)
        if not report.sessions:
            if report.date_from or report.date_to:
                return self.tr("%1 has no session in this date range.").replace("%1", report.lecture_code)
            return self.tr("%1 has no sessions yet.").replace("%1", report.lecture_code)
        return None

    def _follow_dates(self, report: LectureReport) -> None:
        """Unchecked date fields show the first and last session, ready to be narrowed."""
        if not report.sessions:
            return
        for check, edit, day in (
            (self.from_check, self.from_edit, report.sessions[0].date),
            (self.to_check, self.to_edit, report.sessions[-1].date),
        ):
            if not check.isChecked():
                edit.blockSignals(True)
                edit.setDate(QDate(day.year, day.month, day.day))
                edit.blockSignals(False)

    def _legend(self, report: LectureReport) -> str:
        legend = self.tr(
            "P present, L late, A absent (or not marked), E excused, O left early, - not enrolled "
            "yet, blank: session still open. Rate % = (P + %1 × (L + O)) / (P + L + O + A); "
            "excused sessions do not count."
        ).replace("%1", f"{report.late_weight:g}")
        if any(row.changed_after for row in report.students):
            legend += " " + self.tr("%1: mark changed after its session.").replace("%1", CHANGED_AFTER_MARK)
        return legend

    def _below_changed(self, value: float) -> None:
        self.model.set_below(value)
        self._show_warning_list()
        if self.model.report is not None and self._emptiness(self.model.report) is None:
            self._below_timer.start()

    def _show_warning_list(self) -> None:
        report = self.model.report
        if report is None or not report.students:
            self.warning_label.setText("")
            return
        percent = f"{self.below_spin.value():g}"
        low = self.model.warning_list()
        if not low:
            self.warning_label.setStyleSheet("color: #1b5e20;")
            self.warning_label.setText(self.tr("No student is below %1 %.").replace("%1", percent))
            return
        names = ", ".join(f"{s.student_id} {s.name} ({format_rate(s.tally.rate)} %)" for s in low[:WARNING_NAMES])
        if len(low) > WARNING_NAMES:
            names += ", " + self.tr("and %1 more (highlighted in the table)").replace(
                "%1", str(len(low) - WARNING_NAMES)
            )
        self.warning_label.setStyleSheet("color: #b00020; font-weight: bold;")
        self.warning_label.setText(
            self.tr("Students below %1 %: %2 — %3")
            .replace("%1", percent)
            .replace("%2", str(len(low)))
            .replace("%3", names)
        )

    def _draw_chart(self) -> None:
        report = self.model.report
        if report is None or self._emptiness(report) is not None:
            return
        self._chart_ticket += 1
        ticket = self._chart_ticket
        if not self.chart.has_chart():
            self.chart.set_text(self.tr("Drawing the chart…"))
        worker = create_worker(self._draw_if_newest, ticket, report, self.below_spin.value())
        worker.returned.connect(lambda png: self._chart_ready(ticket, png))
        worker.errored.connect(lambda exc: self._chart_failed(ticket, exc))
        worker.start(self.chart_pool)

    def _draw_if_newest(self, ticket: int, report: LectureReport, below: float) -> bytes | None:
        """On the chart pool: the PNG, or None when a newer drawing was asked for meanwhile."""
        if ticket != self._chart_ticket:
            return None
        return chart_png(report, below)

    def _chart_ready(self, ticket: int, png: bytes | None) -> None:
        if ticket != self._chart_ticket or png is None or self.model.report is None:
            return
        if self.chart.set_png(png):
            self.chart_drawings_shown += 1
            self.chartShown.emit()

    def _chart_failed(self, ticket: int, exc: Exception) -> None:
        log.error("cannot draw the chart", exc_info=exc)  # a chart that cannot be drawn is not fatal
        if ticket == self._chart_ticket:
            self.chart.set_text(self.tr("The chart cannot be drawn: %1").replace("%1", str(exc)))

    # -- saving ---------------------------------------------------------------------------------

    def ask_save_path(self, suggested: str) -> str:
        """Asked when Save is pressed (tests replace this); "" when cancelled."""
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Save the report"),
            suggested,
            self.tr("CSV file (*.csv);;Excel workbook (*.xlsx)"),
        )
        return path

    def _save_clicked(self) -> None:
        report = self.model.report
        if report is None:
            return
        path = self.ask_save_path(f"{report.lecture_code}-attendance.csv")
        if path:
            self.save(Path(path))

    def save(self, path: Path) -> Path | None:
        """Write the matrix: XLSX for a .xlsx name, else CSV (".csv" added when there is no
        suffix). Returns the file written, or None (the reason is shown)."""
        report = self.model.report
        if report is None or self._emptiness(report) is not None:
            return None
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".csv")
        fmt = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
        try:
            path.write_bytes(render(report, fmt))
        except OSError as exc:
            text = self.tr("Cannot save %1: %2").replace("%1", str(path)).replace("%2", exc.strerror or str(exc))
            self._show_banner(text, error=True)
            self.message.emit(text)
            return None
        self.message.emit(self.tr("Report saved: %1").replace("%1", str(path)))
        return path

    def shutdown(self) -> None:
        self._parameters_timer.stop()
        self._below_timer.stop()
        self.server.shutdown()
        self.chart_pool.clear()
        self.chart_pool.waitForDone(5000)
