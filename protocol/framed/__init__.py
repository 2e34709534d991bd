"""The framed protocol for new clients (sans-IO). The specification is ``docs/protocol.md``.

The client sends :data:`PREAMBLE`, then frames; the server answers :data:`PREAMBLE`, then frames
(the frame layout is drawn in :mod:`protocol.framed.codec`). Every message is a frozen dataclass
whose first field is ``request_id`` (0 to 2**32-1); the client picks it, and the server's reply
carries the same one. Validation is the same in both directions: :func:`encode` raises
:class:`LocalProtocolError`, decoding a frame with invalid content yields
:class:`InvalidMessage` (code ``bad_request``).

- :mod:`~protocol.framed.messages`: every request and response, declared once (op, field checks,
  blob, list items); the op tables are built from them.
- :mod:`~protocol.framed.fields`, :mod:`~protocol.framed.checks`: how a field is declared, and
  the checks of values.
- :mod:`~protocol.framed.codec`: one message <-> one frame.
- :mod:`~protocol.framed.decoder`: received bytes -> messages (:class:`FramedDecoder`).
- :mod:`~protocol.framed.connection`: the rules of a connection (preamble, ``hello`` first,
  fatal errors, request ID 0) for both ends (:class:`FramedConnection`).

Everything is importable from ``protocol.framed`` itself.
"""

from protocol.errors import ErrorCode as ErrorCode
from protocol.errors import LocalProtocolError as LocalProtocolError
from protocol.errors import RemoteProtocolError as RemoteProtocolError
from protocol.framed.checks import ENCODING_CHARACTERS as ENCODING_CHARACTERS
from protocol.framed.checks import pack_encoding as pack_encoding
from protocol.framed.checks import unpack_encoding as unpack_encoding
from protocol.framed.codec import DEFAULT_MAX_FRAME_BYTES as DEFAULT_MAX_FRAME_BYTES
from protocol.framed.codec import MAGIC as MAGIC
from protocol.framed.codec import MAX_REQUEST_ID as MAX_REQUEST_ID
from protocol.framed.codec import PREAMBLE as PREAMBLE
from protocol.framed.codec import VERSION as VERSION
from protocol.framed.codec import decode_frame_content as decode_frame_content
from protocol.framed.codec import encode as encode
from protocol.framed.connection import CLIENT as CLIENT
from protocol.framed.connection import CONNECTION_REQUEST_ID as CONNECTION_REQUEST_ID
from protocol.framed.connection import SERVER as SERVER
from protocol.framed.connection import FramedConnection as FramedConnection
from protocol.framed.connection import State as State
from protocol.framed.decoder import FramedDecoder as FramedDecoder
from protocol.framed.decoder import InvalidMessage as InvalidMessage
from protocol.framed.fields import identifiers_in as identifiers_in
from protocol.framed.messages import *  # noqa: F403 - every message class, item class and limit
