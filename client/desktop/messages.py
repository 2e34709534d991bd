"""User-facing texts for failures, shared by the screens (translated: context "Messages")."""

from __future__ import annotations

from PyQt5.QtCore import QCoreApplication

from client.desktop.workers import PROTOCOL, TIMED_OUT, TLS_FAILED, UNREACHABLE
from protocol.errors import ErrorCode


def failure_text(code: str, detail: str, address: str) -> str:
    """One sentence saying what went wrong and what to do."""
    if code == UNREACHABLE:
        # Kept as written (fmt: skip): pylupdate5 misses a text split over lines with a comma after it.
        return QCoreApplication.translate(
            "Messages", "Cannot reach the attendance server at %1. Check that it is running and "
            "the connection settings (File > Connection settings)."
        ).replace("%1", address)  # fmt: skip
    if code == TIMED_OUT:
        return QCoreApplication.translate("Messages", "The attendance server at %1 did not answer in time.").replace(
            "%1", address
        )
    if code == TLS_FAILED:
        return (
            QCoreApplication.translate(
                "Messages", "No secure connection to %1 (%2): check the TLS settings and the CA certificate."
            )
            .replace("%1", address)
            .replace("%2", detail)
        )
    if code == ErrorCode.UNAUTHORIZED and "TLS" in detail:  # the server's refusal of plain TCP
        return QCoreApplication.translate(
            "Messages", "The server accepts encrypted connections only: turn on TLS in File > Connection settings."
        )
    if code == PROTOCOL:
        return (
            QCoreApplication.translate("Messages", "The program at %1 does not speak the attendance protocol (%2).")
            .replace("%1", address)
            .replace("%2", detail)
        )
    unauthorized = QCoreApplication.translate(
        "Messages", "The server does not accept this PC's client token. Enter the token from "
        "attendance-db add-client in File > Connection settings; marks wait until then.")  # fmt: skip
    forbidden = QCoreApplication.translate(
        "Messages", "This PC's client token is not allowed to do this (its role or lectures). Ask the "
        "administrator (attendance-db set-role), or enter another token in File > Connection settings.")  # fmt: skip
    known = {
        ErrorCode.NOT_FOUND: QCoreApplication.translate("Messages", "The server does not know this lecture code."),
        ErrorCode.NOT_ENROLLED: QCoreApplication.translate("Messages", "This student is not on the lecture's roster."),
        ErrorCode.BAD_IMAGE: QCoreApplication.translate("Messages", "The server could not read the picture."),
        ErrorCode.DB_UNAVAILABLE: QCoreApplication.translate(
            "Messages", "The server cannot reach its database; try again in a moment."
        ),
        ErrorCode.BAD_REQUEST: QCoreApplication.translate("Messages", "The server refused the request as invalid."),
        ErrorCode.TIMEOUT: QCoreApplication.translate("Messages", "The server took too long to answer."),
        ErrorCode.INTERNAL: QCoreApplication.translate("Messages", "The server had an internal error."),
        ErrorCode.UNAUTHORIZED: unauthorized,
        ErrorCode.RATE_LIMITED: QCoreApplication.translate(
            "Messages", "Too many requests; the server asks to slow down."
        ),
        ErrorCode.BUSY: QCoreApplication.translate("Messages", "The server is busy; try again in a moment."),
        ErrorCode.DIFFERENT_PEOPLE: QCoreApplication.translate("Messages", "The pictures show more than one person."),
        ErrorCode.FORBIDDEN: forbidden,
        ErrorCode.SESSION_CLOSED: QCoreApplication.translate(
            "Messages", "The session is closed: nothing was marked. Please see the professor."
        ),
        ErrorCode.CLOCK_SKEW: QCoreApplication.translate(
            "Messages", "This PC's clock or time zone differs from the server's; set it right."
        ),
    }
    text = known.get(code, QCoreApplication.translate("Messages", "The server answered with an error."))
    return f"{text} ({code}: {detail})" if detail else text
