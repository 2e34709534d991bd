"""User-facing texts for failures, shared by the screens (translated: context "Messages")."""

from __future__ import annotations

from PyQt5.QtCore import QCoreApplication

from client.desktop.workers import PROTOCOL, TIMED_OUT, UNREACHABLE


def failure_text(code: str, detail: str, address: str) -> str:
    """One sentence saying what went wrong and what to do."""
    if code == UNREACHABLE:
        return QCoreApplication.translate(
            "Messages", "Cannot reach the attendance server at %1. Check that it is running and "
            "the connection settings (File > Connection settings)."
        ).replace("%1", address)
    if code == TIMED_OUT:
        return QCoreApplication.translate(
            "Messages", "The attendance server at %1 did not answer in time."
        ).replace("%1", address)
    if code == PROTOCOL:
        return QCoreApplication.translate(
            "Messages", "The program at %1 does not speak the attendance protocol (%2)."
        ).replace("%1", address).replace("%2", detail)
    known = {
        "not_found": QCoreApplication.translate("Messages", "The server does not know this lecture code."),
        "not_enrolled": QCoreApplication.translate("Messages", "This student is not on the lecture's roster."),
        "bad_image": QCoreApplication.translate("Messages", "The server could not read the picture."),
        "db_unavailable": QCoreApplication.translate("Messages", "The server cannot reach its database; try again in a moment."),
        "bad_request": QCoreApplication.translate("Messages", "The server refused the request as invalid."),
        "timeout": QCoreApplication.translate("Messages", "The server took too long to answer."),
        "internal": QCoreApplication.translate("Messages", "The server had an internal error."),
        "unauthorized": QCoreApplication.translate(
            "Messages", "The server does not accept this PC's client token. Enter the token from "
            "attendance-db add-client in File > Connection settings; marks wait until then."),
        "rate_limited": QCoreApplication.translate("Messages", "Too many requests; the server asks to slow down."),
        "busy": QCoreApplication.translate("Messages", "The server is busy; try again in a moment."),
        "different_people": QCoreApplication.translate("Messages", "The pictures show more than one person."),
    }
    text = known.get(code, QCoreApplication.translate("Messages", "The server answered with an error."))
    return f"{text} ({code}: {detail})" if detail else text
