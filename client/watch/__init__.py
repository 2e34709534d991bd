"""The classroom camera watcher: ``attendance-watch`` and the desktop app's camera screen.

A camera (or a recorded video) at the front of the room is sampled every minute; each sample's
faces are found by the server (``detect``) and tracked from one sample to the next; the server
decides every track in view at once from the encodings each has gathered, encoding only the
faces that need more evidence (``identify_room``); and the students seen are sent as a presence
sample (``presence``). See docs/camera.md.
"""
