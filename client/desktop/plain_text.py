"""Names and the server's texts shown as text, never as rich text.

A QLabel, a tooltip or a message box reads a text that looks like HTML (``Qt::mightBeRichText``)
as rich text: a student named ``<img src=...>`` or ``<a href=...>`` would be drawn as an image
or a link. The app's labels are made plain text (:func:`plain_labels`), tooltips with names go
through :func:`plain_tooltip`, and questions that name a student are :func:`question_box`.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QLabel, QMessageBox, QWidget


def plain_labels(widget: QWidget) -> None:
    """Every QLabel under ``widget`` shows its text as plain text (Qt.PlainText)."""
    for label in widget.findChildren(QLabel):
        label.setTextFormat(Qt.PlainText)


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` as written (HTML characters escaped)."""
    return Qt.convertFromPlainText(text, Qt.WhiteSpaceNormal)


def question_box(parent: QWidget | None, title: str, text: str) -> QMessageBox:
    """A Yes/No question (No the default) whose text is plain text."""
    box = QMessageBox(QMessageBox.Question, title, text, QMessageBox.Yes | QMessageBox.No, parent)
    box.setTextFormat(Qt.PlainText)
    box.setDefaultButton(QMessageBox.No)
    return box
