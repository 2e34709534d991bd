"""The classroom camera watcher: ``attendance-watch`` and the desktop app's camera screen.

A camera (or a recorded video) at the front of the room is sampled every minute; each sample's
faces are found by the server (``detect``), tracked from one sample to the next, identified by
the server only when new or changed (``identify``), and the students seen are sent as a
presence sample (``presence``). See docs/camera.md.
"""
