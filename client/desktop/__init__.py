"""The PyQt5 desktop client: classroom face check-in and the professor's roll call.

``attendance-desktop`` (or ``python -m client``) starts :func:`client.desktop.app.main`.
Modules: ``app`` (main window, command line, translations), ``checkin`` and ``rollcall``
(the two screens), ``roster_model`` (the roster as a Qt model), ``workers`` (everything that
touches a socket or a camera, on QThreads), ``capture`` (frame sources), ``faces_local``
(local face detection), ``checkin_logic`` (when to mark, without Qt), ``mark_queue`` (the
durable queue of unsent marks), ``settings`` (QSettings).
"""
