"""A framed connection for a watcher, opened again whenever the server has closed it.

The server closes a connection that stays silent for its idle timeout (10 s by default), and a
camera sends one sample a minute: so every sample may find its connection closed. The camera's
requests are all safe to send twice (detect, identify and identify_room change nothing; a
presence sample is stored once per client and time; closing a session twice writes the same
statuses), so a request that fails on a closed connection is sent once more on a new one.
"""

from __future__ import annotations

from typing import Callable

from client.connection import FramedClient


class ReconnectingClient:
    """The watcher's requests over connections made by ``connect()`` (e.g. a FramedClient with
    the client's token). Not thread-safe: one per thread."""

    def __init__(self, connect: Callable[[], FramedClient]):
        self._connect = connect
        self._client: FramedClient | None = None

    def open(self) -> "ReconnectingClient":
        """Connect now (to fail early, e.g. on a wrong address or token)."""
        if self._client is None:
            self._client = self._connect()
        return self

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "ReconnectingClient":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def detect(self, image: bytes, *, min_face: int = 40):
        return self._call("detect", image, min_face=min_face)

    def identify(self, image: bytes, boxes, lecture: str | None = None):
        return self._call("identify", image, boxes, lecture)

    def identify_room(self, image: bytes, tracks, lecture: str | None = None):
        return self._call("identify_room", image, tracks, lecture)

    def presence(self, lecture: str, sampled_at: str, student_ids, face_count: int):
        return self._call("presence", lecture, sampled_at, student_ids, face_count)

    def close_session(self, lecture: str, session_date: str | None = None):
        return self._call("close_session", lecture, session_date)

    def roster(self, lecture: str):
        return self._call("roster", lecture)

    def _call(self, name: str, *args, **kwargs):
        for attempt in (1, 2):
            self.open()
            try:
                return getattr(self._client, name)(*args, **kwargs)
            except OSError:  # ConnectionError, a reset, a timeout: the connection is unusable
                self.close()
                if attempt == 2:
                    raise
