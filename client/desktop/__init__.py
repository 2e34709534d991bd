"""The PyQt5 desktop client: classroom face check-in, the professor's roll call, enrolment.

``attendance-desktop`` (or ``python -m client``) starts :func:`client.desktop.app.main`.
Modules: ``app`` (main window, command line, translations), ``checkin``, ``rollcall``,
``enrol`` and ``report_view`` (the screens), ``video_panel`` (the live picture),
``roster_model``, ``pending_model``, ``enrol_model`` and ``report_model`` (Qt models),
``workers`` (everything that touches a socket, a camera or the landmark model, off the GUI
thread; frame sources are in client.frame_source), ``faces_local`` (local face detection), ``checkin_logic`` (which
frames make a check-in and what an answer means, without Qt), ``enrol_checks`` (size, sharpness,
eyes and pose of an enrolment photo, without Qt), ``mark_queue`` (the durable queue of unsent
marks), ``settings`` (QSettings).
"""
