"""The framed protocol for new clients (sans-IO). The specification is ``docs/protocol.md``.

The client sends :data:`PREAMBLE`, then frames; the server answers :data:`PREAMBLE`, then frames.
A frame::

    +----------------+----------------+----------------+------------------+---------------+
    | N: u32 BE      | request_id:    | header_len:    | header: UTF-8    | blob: the     |
    | bytes after    | u32 BE         | u32 BE         | JSON object,     | rest (image   |
    | this field     |                |                | header_len bytes | bytes or none)|
    +----------------+----------------+----------------+------------------+---------------+

The header holds ``"op"`` and the message's fields. Use :func:`encode` to build a frame from a
message and :class:`FramedDecoder` to turn received bytes back into messages.

Every message is a frozen dataclass whose first field is ``request_id`` (0 to 2**32-1); the
client picks it, and the server's reply carries the same one. Validation is the same in both
directions: :func:`encode` raises :class:`LocalProtocolError`, decoding a frame with invalid
content yields :class:`InvalidMessage` (code ``bad_request``).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import math
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Union

from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.identifiers import SOURCES, STATUSES, is_client_name, is_lecture_code, is_student_id

MAGIC = b"\x00ATT"
VERSION = 1
PREAMBLE = MAGIC + bytes([VERSION])

#: Largest N (bytes after the length field) a decoder accepts by default: 16 MiB.
DEFAULT_MAX_FRAME_BYTES = 16 * 2**20
MAX_REQUEST_ID = 2**32 - 1
#: A batch_mark request carries 1 to MAX_BATCH_MARKS marks.
MAX_BATCH_MARKS = 2000

_FRAME_LENGTH = struct.Struct(">I")  # N
_BODY_PREFIX = struct.Struct(">II")  # request_id, header_len: the first 8 of the N bytes
_BATCH_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
#: A client token: 1-256 visible ASCII characters (``attendance-db add-client`` makes 43).
_TOKEN = re.compile(r"[\x21-\x7e]{1,256}")


# -- messages: requests (client -> server) ------------------------------------------------


@dataclass(frozen=True)
class HelloRequest:
    """op "hello": the client's token; the first request on every connection.

    Answered by :class:`WelcomeResponse`, or by an ``unauthorized`` error after which the server
    closes the connection. ``repr()`` never shows the token.
    """

    request_id: int
    token: str = field(repr=False)


@dataclass(frozen=True)
class PingRequest:
    """op "ping": is the server there? Answered by :class:`PongResponse`."""

    request_id: int


@dataclass(frozen=True)
class RosterRequest:
    """op "roster": today's attendance of a lecture. Answered by :class:`RosterResponse`."""

    request_id: int
    lecture: str


@dataclass(frozen=True)
class MarkRequest:
    """op "mark": mark one student. ``distance``: face distance when a camera decided, else None."""

    request_id: int
    lecture: str
    student_id: str
    status: str = "present"
    source: str = "checkin"
    distance: float | None = None


@dataclass(frozen=True)
class BatchMark:
    """One item of a :class:`BatchMarkRequest` (not a message by itself)."""

    student_id: str
    status: str


@dataclass(frozen=True)
class BatchMarkRequest:
    """op "batch_mark": a roll call. ``batch_id`` makes a retry harmless (the server replays)."""

    request_id: int
    lecture: str
    batch_id: str
    marks: tuple[BatchMark, ...]
    source: str = "rollcall"


@dataclass(frozen=True)
class RecognizeRequest:
    """op "recognize": find the students in a JPEG/PNG (sent as the frame's blob)."""

    request_id: int
    image: bytes = field(repr=False)
    lecture: str | None = None

    def __repr__(self) -> str:
        return (
            f"RecognizeRequest(request_id={self.request_id!r}, image=<{len(self.image)} bytes>, "
            f"lecture={self.lecture!r})"
        )


# -- messages: responses (server -> client) -----------------------------------------------


@dataclass(frozen=True)
class WelcomeResponse:
    """op "welcome": the answer to :class:`HelloRequest`: the name the token was issued to."""

    request_id: int
    client_name: str
    server_version: str


@dataclass(frozen=True)
class PongResponse:
    """op "pong": the answer to :class:`PingRequest`."""

    request_id: int
    server_version: str


@dataclass(frozen=True)
class RosterEntry:
    """One student of a :class:`RosterResponse`; the last three are None when not marked.

    ``marked_at`` is ISO 8601 text such as ``"2019-11-01T09:03:12+09:00"``.
    """

    student_id: str
    name: str
    status: str | None
    source: str | None
    marked_at: str | None


@dataclass(frozen=True)
class RosterResponse:
    """op "roster": every enrolled student and today's mark. ``session_date``: ``"YYYY-MM-DD"``."""

    request_id: int
    lecture: str
    session_date: str
    students: tuple[RosterEntry, ...]


@dataclass(frozen=True)
class MarkResponse:
    """op "marked": the student's status now; ``already_marked`` when the mark existed before."""

    request_id: int
    lecture: str
    student_id: str
    status: str
    already_marked: bool


@dataclass(frozen=True)
class BatchMarkResponse:
    """op "batch_marked": ``applied`` marks written; ``replayed`` when batch_id was seen before."""

    request_id: int
    batch_id: str
    applied: int
    replayed: bool


@dataclass(frozen=True)
class RecognizedFace:
    """One face of a :class:`RecognizeResponse`: box in pixels, and who (None unless accepted).

    ``decision``: accepted, uncertain or unknown (docs/recognition.md); ``candidates``: the
    students an uncertain face may be, nearest first (the accepted student for an accepted one).
    ``distance``: to the nearest student's template.
    """

    top: int
    right: int
    bottom: int
    left: int
    student_id: str | None
    name: str | None
    distance: float | None
    decision: str = "unknown"
    candidates: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class RecognizeResponse:
    """op "recognized": the faces found, in no particular order (may be empty)."""

    request_id: int
    faces: tuple[RecognizedFace, ...]


@dataclass(frozen=True)
class ErrorResponse:
    """op "error": the request failed; ``code`` is an :class:`ErrorCode` value."""

    request_id: int
    code: str
    message: str


@dataclass(frozen=True)
class InvalidMessage:
    """A decoder event: a well-framed frame whose content is invalid (not a message).

    The connection can go on: answer ``ErrorResponse(request_id, error.code, error.message)``.
    """

    request_id: int
    error: RemoteProtocolError


Request = Union[
    HelloRequest, PingRequest, RosterRequest, MarkRequest, BatchMarkRequest, RecognizeRequest
]
Response = Union[
    WelcomeResponse,
    PongResponse,
    RosterResponse,
    MarkResponse,
    BatchMarkResponse,
    RecognizeResponse,
    ErrorResponse,
]
Message = Union[Request, Response]
Event = Union[Request, Response, InvalidMessage]

#: op name -> message class, per direction. ("roster" exists in both directions.)
REQUEST_TYPES: dict[str, type] = {
    "hello": HelloRequest,
    "ping": PingRequest,
    "roster": RosterRequest,
    "mark": MarkRequest,
    "batch_mark": BatchMarkRequest,
    "recognize": RecognizeRequest,
}
RESPONSE_TYPES: dict[str, type] = {
    "welcome": WelcomeResponse,
    "pong": PongResponse,
    "roster": RosterResponse,
    "marked": MarkResponse,
    "batch_marked": BatchMarkResponse,
    "recognized": RecognizeResponse,
    "error": ErrorResponse,
}
_OP_OF_TYPE: dict[type, str] = {
    **{cls: op for op, cls in REQUEST_TYPES.items()},
    **{cls: op for op, cls in RESPONSE_TYPES.items()},
}


# -- field checks: each takes a value, returns it normalized, or raises ValueError ----------


def _shown(value: Any) -> str:
    """``repr(value)``, cut to 60 characters: error messages stay short whatever the peer sent."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (not encodable as UTF-8)") from None
    return value


def _lecture(value: Any) -> str:
    """A lecture code, returned lower case."""
    if not isinstance(value, str) or not is_lecture_code(value):
        raise ValueError(
            "must be a lecture code (two letters, four digits, '_', one digit), "
            f"not {_shown(value)}"
        )
    return value.lower()


def _student_id(value: Any) -> str:
    if not isinstance(value, str) or not is_student_id(value):
        raise ValueError(f"must be a student ID (9 digits, 2xxxxxxxx), not {_shown(value)}")
    return value


def _status(value: Any) -> str:
    if value not in STATUSES or not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(STATUSES)}, not {_shown(value)}")
    return value


def _source(value: Any) -> str:
    if value not in SOURCES or not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(SOURCES)}, not {_shown(value)}")
    return value


def _error_code(value: Any) -> str:
    if value not in ErrorCode.ALL or not isinstance(value, str):
        raise ValueError(f"must be one of {', '.join(ErrorCode.ALL)}, not {_shown(value)}")
    return value


def _batch_id(value: Any) -> str:
    if not isinstance(value, str) or _BATCH_ID.fullmatch(value) is None:
        raise ValueError(f"must be 1-64 characters of A-Z a-z 0-9 _ . : -, not {_shown(value)}")
    return value


def _token(value: Any) -> str:
    """A client token. The message never repeats the value (it is a secret)."""
    if not isinstance(value, str) or _TOKEN.fullmatch(value) is None:
        raise ValueError("must be 1-256 visible ASCII characters")
    return value


def _client_name(value: Any) -> str:
    if not isinstance(value, str) or not is_client_name(value):
        raise ValueError(f"must be a client name (1-64 letters, digits, '_', '.', '-'), not {_shown(value)}")
    return value


def _non_negative_int(value: Any) -> int:
    """A whole number >= 0 (JSON booleans are refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"must be an integer >= 0, not {_shown(value)}")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {_shown(value)}")
    return value


def _distance(value: Any) -> float:
    """A face distance: a finite number >= 0 (no unit; 0.6 is the match threshold)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number, not {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        raise ValueError("must be finite, not a huge integer") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"must be finite and >= 0, not {_shown(value)}")
    return number


def _iso_date(value: Any) -> str:
    try:
        datetime.date.fromisoformat(_text(value))
    except ValueError:
        raise ValueError(f"must be a date as YYYY-MM-DD, not {_shown(value)}") from None
    return value


def _iso_datetime(value: Any) -> str:
    try:
        datetime.datetime.fromisoformat(_text(value))
    except ValueError:
        raise ValueError(f"must be an ISO 8601 date and time, not {_shown(value)}") from None
    return value


def _image(value: Any) -> bytes:
    if isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    if not isinstance(value, bytes):
        raise ValueError(f"must be bytes, not {type(value).__name__}")
    if not value:
        raise ValueError("is empty")
    return value


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The same check, but None is allowed too."""

    def check_or_none(value: Any) -> Any:
        return None if value is None else check(value)

    return check_or_none


def _items(item_type: type, value: Any, min_count: int = 0, max_count: int | None = None) -> tuple:
    """A tuple of ``item_type`` objects, each validated."""
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"must be a list, not {type(value).__name__}")
    if len(value) < min_count or (max_count is not None and len(value) > max_count):
        raise ValueError(f"must hold {min_count} to {max_count} items, not {len(value)}")
    checked = []
    for index, item in enumerate(value):
        if not isinstance(item, item_type):
            raise ValueError(f"item {index} must be a {item_type.__name__}")
        try:
            checked.append(_validated(item))
        except ValueError as exc:
            raise ValueError(f"item {index}: {exc}") from None
    return tuple(checked)


def _marks(value: Any) -> tuple[BatchMark, ...]:
    marks = _items(BatchMark, value, min_count=1, max_count=MAX_BATCH_MARKS)
    seen: set[str] = set()
    for mark in marks:
        if mark.student_id in seen:
            raise ValueError(f"student {mark.student_id} appears twice")
        seen.add(mark.student_id)
    return marks


def _students(value: Any) -> tuple[RosterEntry, ...]:
    return _items(RosterEntry, value)


def _faces(value: Any) -> tuple[RecognizedFace, ...]:
    return _items(RecognizedFace, value)


#: For each message or item class: its fields (except request_id) and their checks.
_FIELD_CHECKS: dict[type, dict[str, Callable[[Any], Any]]] = {
    HelloRequest: {"token": _token},
    PingRequest: {},
    RosterRequest: {"lecture": _lecture},
    MarkRequest: {
        "lecture": _lecture,
        "student_id": _student_id,
        "status": _status,
        "source": _source,
        "distance": _optional(_distance),
    },
    BatchMark: {"student_id": _student_id, "status": _status},
    BatchMarkRequest: {
        "lecture": _lecture,
        "batch_id": _batch_id,
        "marks": _marks,
        "source": _source,
    },
    RecognizeRequest: {"image": _image, "lecture": _optional(_lecture)},
    WelcomeResponse: {"client_name": _client_name, "server_version": _text},
    PongResponse: {"server_version": _text},
    RosterEntry: {
        "student_id": _student_id,
        "name": _text,
        "status": _optional(_status),
        "source": _optional(_source),
        "marked_at": _optional(_iso_datetime),
    },
    RosterResponse: {"lecture": _lecture, "session_date": _iso_date, "students": _students},
    MarkResponse: {
        "lecture": _lecture,
        "student_id": _student_id,
        "status": _status,
        "already_marked": _flag,
    },
    BatchMarkResponse: {"batch_id": _batch_id, "applied": _non_negative_int, "replayed": _flag},
    RecognizedFace: {
        "top": _non_negative_int,
        "right": _non_negative_int,
        "bottom": _non_negative_int,
        "left": _non_negative_int,
        "student_id": _optional(_student_id),
        "name": _optional(_text),
        "distance": _optional(_distance),
    },
    RecognizeResponse: {"faces": _faces},
    ErrorResponse: {"code": _error_code, "message": _text},
}

#: Fields that hold a list of items in JSON: field name -> item class.
_ITEM_TYPES: dict[str, type] = {
    "marks": BatchMark,
    "students": RosterEntry,
    "faces": RecognizedFace,
}
#: Fields that never appear in the JSON header.
_NOT_IN_HEADER = ("request_id", "image", "images")
#: The header field that gives the sizes of the images of a several-image op (their bytes are
#: the blob, one after the other).
_IMAGE_SIZES = "image_sizes"


# -- classroom camera ops (docs/camera.md) ---------------------------------------------------
# detect, identify, identify_room, presence, close_session: additions to version 1 (a server
# without them answers bad_request "unknown op"). Kept in one block; the tables above are
# extended here.

#: Accepted ``min_face`` of a detect request, in pixels.
DETECT_MIN_FACE_RANGE = (20, 1000)
#: An identify request names 1 to MAX_FACE_BOXES boxes; an identify_room request as many tracks.
MAX_FACE_BOXES = 500
#: A presence sample names at most MAX_SIGHTINGS students.
MAX_SIGHTINGS = 2000
#: An identify_room track is decided from 1 to MAX_TRACK_FRAMES encodings: the ones it carries,
#: plus its box's when it is encoded now.
MAX_TRACK_FRAMES = 10
#: A face encoding on the wire: 128 little-endian float32 (512 bytes) in base64, 684 characters.
_ENCODING = struct.Struct("<128f")
ENCODING_CHARACTERS = 4 * math.ceil(_ENCODING.size / 3)


@dataclass(frozen=True)
class FaceBox:
    """A face's box in pixels of an image (an item of ``boxes``, not a message by itself)."""

    top: int
    right: int
    bottom: int
    left: int


@dataclass(frozen=True)
class DetectRequest:
    """op "detect": the boxes of every face in a whole-room image (the blob), no recognition.

    ``min_face``: width in pixels of the smallest faces to find (smaller is slower). Answered by
    :class:`DetectResponse`.
    """

    request_id: int
    image: bytes = field(repr=False)
    min_face: int = 40


@dataclass(frozen=True)
class IdentifyRequest:
    """op "identify": who are the faces at these boxes of the image (the blob)? No detection.

    Answered by :class:`RecognizeResponse` with one face per box, in the same order, each
    student given to at most one of them. ``lecture`` restricts matching as for recognize.
    """

    request_id: int
    image: bytes = field(repr=False)
    boxes: tuple[FaceBox, ...]
    lecture: str | None = None


@dataclass(frozen=True)
class PresenceRequest:
    """op "presence": the enrolled students a classroom camera saw at ``sampled_at``.

    ``face_count``: faces seen in that frame, recognized or not. Answered by
    :class:`PresenceResponse`.
    """

    request_id: int
    lecture: str
    sampled_at: str
    student_ids: tuple[str, ...]
    face_count: int


@dataclass(frozen=True)
class CloseSessionRequest:
    """op "close_session": compute and write the camera statuses of a session.

    ``session_date`` None: today (server time). Answered by :class:`CloseSessionResponse`.
    """

    request_id: int
    lecture: str
    session_date: str | None = None


@dataclass(frozen=True)
class DetectResponse:
    """op "detected": the face boxes found (may be empty), in no particular order."""

    request_id: int
    boxes: tuple[FaceBox, ...]


@dataclass(frozen=True)
class PresenceResponse:
    """op "presence_recorded": the sample's ID and session; ``closed`` when that session was
    closed already (the sample is kept and counts if the session is closed again)."""

    request_id: int
    sample_id: int
    session_date: str
    closed: bool


@dataclass(frozen=True)
class CloseSessionResponse:
    """op "session_closed": statuses written by the camera, per status; ``kept``: students whose
    mark was made by a person and left as it was; ``samples``: presence samples used."""

    request_id: int
    lecture: str
    session_date: str
    samples: int
    present: int
    late: int
    left_early: int
    absent: int
    kept: int


@dataclass(frozen=True)
class RoomTrack:
    """A face the camera follows across samples (an item of ``tracks``, not a message by
    itself): its box in this sample's image, the ``encodings`` of its face kept from earlier
    samples (oldest first, see :func:`pack_encoding`), and ``encode``: encode the box now too.
    A track needs at least one encoding, kept or new, and at most :data:`MAX_TRACK_FRAMES`."""

    top: int
    right: int
    bottom: int
    left: int
    encodings: tuple[str, ...] = field(default=(), repr=False)  # biometric data: not in logs
    encode: bool = False


@dataclass(frozen=True)
class IdentifyRoomRequest:
    """op "identify_room": who is each face the camera follows, the room decided as a whole.

    Each track is decided from all its encodings together (the kept ones and, with ``encode``,
    its box's in the image: the blob, which may be empty when no track is encoded now), and
    each student is given to at most one track (the best overall assignment). ``lecture``
    restricts matching as for recognize. Answered by :class:`IdentifyRoomResponse`.
    """

    request_id: int
    image: bytes = field(repr=False)
    tracks: tuple[RoomTrack, ...]
    lecture: str | None = None


@dataclass(frozen=True)
class TrackDecision:
    """The decision about one track of an identify_room request (an item of ``decisions``).

    ``decision``, ``student_id``, ``name``, ``distance``, ``candidates``: as in
    :class:`RecognizedFace`, for the mean of the track's frames. ``frames``: the track's
    newest encodings the decision used (fewer than sent when the new one cannot be the same
    person as the older ones: those are dropped). ``encoding``: the box's encoding, when the
    track was encoded now (None otherwise), for the client to keep.
    """

    decision: str
    student_id: str | None
    name: str | None
    distance: float | None
    candidates: tuple[Candidate, ...]
    frames: int
    encoding: str | None = field(default=None, repr=False)  # biometric data: not in logs


@dataclass(frozen=True)
class IdentifyRoomResponse:
    """op "room_identified": one decision per track of the request, in the same order."""

    request_id: int
    decisions: tuple[TrackDecision, ...]


def pack_encoding(values) -> str:
    """A face encoding (128 numbers) as it travels: base64 of 128 little-endian float32."""
    values = [float(v) for v in values]
    if len(values) != _ENCODING.size // 4:
        raise ValueError(f"an encoding has {_ENCODING.size // 4} numbers, not {len(values)}")
    return base64.b64encode(_ENCODING.pack(*values)).decode("ascii")


def unpack_encoding(text: str) -> tuple[float, ...]:
    """The 128 numbers of a checked encoding (see :func:`pack_encoding`)."""
    return _ENCODING.unpack(base64.b64decode(text, validate=True))


def _min_face(value: Any) -> int:
    low, high = DETECT_MIN_FACE_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"must be an integer {low}-{high}, not {_shown(value)}")
    return value


def _box_list(min_count: int, max_count: int | None) -> Callable[[Any], tuple[FaceBox, ...]]:
    def check(value: Any) -> tuple[FaceBox, ...]:
        boxes = _items(FaceBox, value, min_count=min_count, max_count=max_count)
        for index, box in enumerate(boxes):
            if box.bottom <= box.top or box.right <= box.left:
                raise ValueError(f"item {index}: an empty box (bottom <= top or right <= left)")
        return boxes

    return check


def _student_id_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"must be a list, not {type(value).__name__}")
    if len(value) > MAX_SIGHTINGS:
        raise ValueError(f"must hold at most {MAX_SIGHTINGS} student IDs, not {len(value)}")
    seen: set[str] = set()
    for index, item in enumerate(value):
        try:
            _student_id(item)
        except ValueError as exc:
            raise ValueError(f"item {index}: {exc}") from None
        if item in seen:
            raise ValueError(f"student {item} appears twice")
        seen.add(item)
    return tuple(value)


def _encoding(value: Any) -> str:
    """One face encoding (:func:`pack_encoding`): 684 base64 characters, 128 finite numbers."""
    if not isinstance(value, str) or len(value) != ENCODING_CHARACTERS:
        raise ValueError(f"must be an encoding: {ENCODING_CHARACTERS} base64 characters")
    try:
        numbers = unpack_encoding(value)
    except ValueError:  # binascii.Error, or not ASCII
        raise ValueError("must be an encoding: not valid base64") from None
    if not all(math.isfinite(number) for number in numbers):
        raise ValueError("must be an encoding: it holds NaN or infinite numbers")
    return value


def _encoding_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"must be a list, not {type(value).__name__}")
    if len(value) > MAX_TRACK_FRAMES:
        raise ValueError(f"must hold at most {MAX_TRACK_FRAMES} encodings, not {len(value)}")
    checked = []
    for index, item in enumerate(value):
        try:
            checked.append(_encoding(item))
        except ValueError as exc:
            raise ValueError(f"item {index}: {exc}") from None
    return tuple(checked)


def _room_tracks(value: Any) -> tuple[RoomTrack, ...]:
    """1 to MAX_FACE_BOXES tracks, each with a box and 1 to MAX_TRACK_FRAMES frames."""
    tracks = _items(RoomTrack, value, min_count=1, max_count=MAX_FACE_BOXES)
    for index, track in enumerate(tracks):
        if track.bottom <= track.top or track.right <= track.left:
            raise ValueError(f"item {index}: an empty box (bottom <= top or right <= left)")
        frames = len(track.encodings) + track.encode
        if not 1 <= frames <= MAX_TRACK_FRAMES:
            raise ValueError(
                f"item {index}: {frames} frames (encodings, plus 1 with encode); must be 1 to {MAX_TRACK_FRAMES}"
            )
    return tracks


def _image_or_empty(value: Any) -> bytes:
    """An image, or no bytes at all (identify_room without a track to encode)."""
    if isinstance(value, (bytes, bytearray, memoryview)) and len(value) == 0:
        return b""
    return _image(value)


def _track_frames(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TRACK_FRAMES:
        raise ValueError(f"must be an integer 1-{MAX_TRACK_FRAMES}, not {_shown(value)}")
    return value


# The outcomes and Candidate are defined with the check-in ops below (looked up when called).
def _track_outcome(value: Any) -> str:
    return _one_of(DECISIONS)(value)


def _track_candidates(value: Any) -> tuple:
    return _items(Candidate, value)


_CAMERA_REQUESTS = {
    "detect": DetectRequest,
    "identify": IdentifyRequest,
    "identify_room": IdentifyRoomRequest,
    "presence": PresenceRequest,
    "close_session": CloseSessionRequest,
}
_CAMERA_RESPONSES = {
    "detected": DetectResponse,
    "room_identified": IdentifyRoomResponse,
    "presence_recorded": PresenceResponse,
    "session_closed": CloseSessionResponse,
}
REQUEST_TYPES.update(_CAMERA_REQUESTS)
RESPONSE_TYPES.update(_CAMERA_RESPONSES)
_OP_OF_TYPE.update({cls: op for op, cls in {**_CAMERA_REQUESTS, **_CAMERA_RESPONSES}.items()})
_ITEM_TYPES.update({"boxes": FaceBox, "tracks": RoomTrack, "decisions": TrackDecision})
_FIELD_CHECKS.update(
    {
        FaceBox: {
            "top": _non_negative_int,
            "right": _non_negative_int,
            "bottom": _non_negative_int,
            "left": _non_negative_int,
        },
        DetectRequest: {"image": _image, "min_face": _min_face},
        IdentifyRequest: {
            "image": _image,
            "boxes": _box_list(1, MAX_FACE_BOXES),
            "lecture": _optional(_lecture),
        },
        RoomTrack: {
            "top": _non_negative_int,
            "right": _non_negative_int,
            "bottom": _non_negative_int,
            "left": _non_negative_int,
            "encodings": _encoding_list,
            "encode": _flag,
        },
        IdentifyRoomRequest: {
            "image": _image_or_empty,
            "tracks": _room_tracks,
            "lecture": _optional(_lecture),
        },
        TrackDecision: {
            "decision": _track_outcome,
            "student_id": _optional(_student_id),
            "name": _optional(_text),
            "distance": _optional(_distance),
            "candidates": _track_candidates,
            "frames": _track_frames,
            "encoding": _optional(_encoding),
        },
        IdentifyRoomResponse: {"decisions": lambda value: _items(TrackDecision, value)},
        PresenceRequest: {
            "lecture": _lecture,
            "sampled_at": _iso_datetime,
            "student_ids": _student_id_list,
            "face_count": _non_negative_int,
        },
        CloseSessionRequest: {"lecture": _lecture, "session_date": _optional(_iso_date)},
        DetectResponse: {"boxes": _box_list(0, None)},
        PresenceResponse: {
            "sample_id": _non_negative_int,
            "session_date": _iso_date,
            "closed": _flag,
        },
        CloseSessionResponse: {
            "lecture": _lecture,
            "session_date": _iso_date,
            "samples": _non_negative_int,
            "present": _non_negative_int,
            "late": _non_negative_int,
            "left_early": _non_negative_int,
            "absent": _non_negative_int,
            "kept": _non_negative_int,
        },
    }
)


def _validated(obj: Any) -> Any:
    """Return ``obj`` with every field checked and normalized; ValueError names the bad field."""
    changes = {}
    for name, check in _FIELD_CHECKS[type(obj)].items():
        try:
            changes[name] = check(getattr(obj, name))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return dataclasses.replace(obj, **changes)


def _check_request_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REQUEST_ID:
        raise ValueError(f"request_id must be an integer 0-{MAX_REQUEST_ID}, not {_shown(value)}")
    return value


# -- encoding -------------------------------------------------------------------------------


def _header_fields(obj: Any) -> dict[str, Any]:
    """The JSON fields of a validated message or item (lists of items become lists of objects)."""
    fields = {}
    for name in _FIELD_CHECKS[type(obj)]:
        if name in _NOT_IN_HEADER:
            continue
        value = getattr(obj, name)
        if name in _ITEM_TYPES:
            value = [_header_fields(item) for item in value]
        fields[name] = value
    return fields


def encode(message: Message, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> bytes:
    """Return one frame holding ``message``; raise :class:`LocalProtocolError` when invalid.

    ``max_frame_bytes`` (bytes): refuse (code ``frame_too_large``) a frame whose N exceeds it.
    """
    op = _OP_OF_TYPE.get(type(message))
    if op is None:
        raise LocalProtocolError(ErrorCode.BAD_REQUEST, f"not a message: {type(message).__name__}")
    request_id = message.request_id
    try:
        _check_request_id(request_id)
        message = _validated(message)
    except ValueError as exc:
        rid = request_id if isinstance(request_id, int) else None
        raise LocalProtocolError(ErrorCode.BAD_REQUEST, f"{op}: {exc}", rid) from None
    header = {"op": op, **_header_fields(message)}
    blob = _blob_of(message, header)
    header_bytes = json.dumps(
        header, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")
    length = _BODY_PREFIX.size + len(header_bytes) + len(blob)
    if length > max_frame_bytes:
        raise LocalProtocolError(
            ErrorCode.FRAME_TOO_LARGE,
            f"{op}: frame of {length} bytes exceeds {max_frame_bytes}",
            request_id,
        )
    return (
        _FRAME_LENGTH.pack(length)
        + _BODY_PREFIX.pack(request_id, len(header_bytes))
        + header_bytes
        + blob
    )


def _blob_of(message: Message, header: dict[str, Any]) -> bytes:
    """The frame's blob: the image of an image op, or the images of a several-image op one
    after the other (their sizes go into ``header``)."""
    checks = _FIELD_CHECKS[type(message)]
    if "image" in checks:  # recognize, detect, identify
        return message.image
    if "images" in checks:  # checkin, enroll
        header[_IMAGE_SIZES] = [len(image) for image in message.images]
        return b"".join(message.images)
    return b""


# -- decoding -------------------------------------------------------------------------------


def _split_images(sizes: Any, blob: bytes) -> tuple[bytes, ...]:
    """The images of a several-image op: ``blob`` cut at ``sizes`` (which must add up to it)."""
    if not isinstance(sizes, list) or not all(
        isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in sizes
    ):
        raise ValueError(f"{_IMAGE_SIZES} must be a list of image sizes in bytes (integers > 0)")
    if sum(sizes) != len(blob):
        raise ValueError(f"{_IMAGE_SIZES} add up to {sum(sizes)} bytes, but the blob has {len(blob)}")
    images, start = [], 0
    for size in sizes:
        images.append(blob[start:start + size])
        start += size
    return tuple(images)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {_shown(key)} appears twice")
        result[key] = value
    return result


def _parse_header(header: bytes) -> dict[str, Any]:
    """UTF-8 JSON object -> dict; ValueError when it is not one."""
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("header is not valid UTF-8") from None
    try:
        value = json.loads(
            text,
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except RecursionError:
        raise ValueError("header JSON nests too deeply") from None
    except ValueError as exc:
        raise ValueError(f"header is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("header is not a JSON object")
    return value


def _from_header_fields(cls: type, fields: Any, given: dict[str, Any]) -> Any:
    """Build a ``cls`` from JSON ``fields`` plus ``given`` (request_id, image); no checks yet.

    Fields with a default value may be left out; unknown fields are refused.
    """
    if not isinstance(fields, dict):
        raise ValueError(f"must be a JSON object, not {type(fields).__name__}")
    wire_names = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    for name in fields:
        if name not in wire_names:
            raise ValueError(f"unknown field {_shown(name)}")
    values = dict(given)
    for f in dataclasses.fields(cls):
        if f.name in given:
            continue
        if f.name in fields:
            value = fields[f.name]
        elif f.default is not dataclasses.MISSING:
            value = f.default
        else:
            raise ValueError(f"missing field {f.name!r}")
        if f.name in _ITEM_TYPES:
            value = _items_from_json(_ITEM_TYPES[f.name], f.name, value)
        values[f.name] = value
    return cls(**values)


def _items_from_json(item_type: type, name: str, value: Any) -> Any:
    if not isinstance(value, list):
        return value  # the field check reports "must be a list"
    items = []
    for index, item in enumerate(value):
        try:
            items.append(_from_header_fields(item_type, item, {}))
        except ValueError as exc:
            raise ValueError(f"{name}: item {index}: {exc}") from None
    return tuple(items)


def decode_frame_content(
    request_id: int, header: bytes, blob: bytes, types: dict[str, type]
) -> Message:
    """Turn a frame's header and blob into a message of one of ``types`` (an op table).

    Raises ValueError naming the problem when the content is invalid.
    """
    fields = _parse_header(header)
    op = fields.pop("op", None)
    if not isinstance(op, str):
        raise ValueError("header has no \"op\" string")
    cls = types.get(op)
    if cls is None:
        raise ValueError(f"unknown op {_shown(op)} (expected one of {', '.join(types)})")
    given: dict[str, Any] = {"request_id": request_id}
    if "image" in _FIELD_CHECKS[cls]:  # recognize, detect, identify
        given["image"] = blob
    elif "images" in _FIELD_CHECKS[cls]:  # checkin, enroll
        given["images"] = _split_images(fields.pop(_IMAGE_SIZES, None), blob)
    elif blob:
        raise ValueError(f"op {op!r} takes no blob, got {len(blob)} bytes after the header")
    try:
        return _validated(_from_header_fields(cls, fields, given))
    except ValueError as exc:
        raise ValueError(f"{op}: {exc}") from None


class FramedDecoder:
    """Turn received bytes into messages (sans-IO).

    ``role="server"`` decodes requests, ``role="client"`` decodes responses. ``feed()`` returns
    every message completed by the bytes so far (possibly none). A frame with invalid content
    becomes an :class:`InvalidMessage` event; a stream that cannot be followed raises
    :class:`RemoteProtocolError` (codes ``bad_frame``, ``unsupported_version``,
    ``frame_too_large``): the connection must close, and every later ``feed()`` raises again.
    Events decoded earlier in the same ``feed()`` call are lost with the raise.

    At most ``max_frame_bytes`` + 4 bytes are ever buffered.
    """

    def __init__(
        self,
        role: Literal["server", "client"],
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        expect_preamble: bool = True,
    ) -> None:
        if role not in ("server", "client"):
            raise ValueError(f"role must be 'server' or 'client', not {role!r}")
        self._role = role
        self._types = REQUEST_TYPES if role == "server" else RESPONSE_TYPES
        self._max_frame_bytes = max_frame_bytes
        self._preamble_received = not expect_preamble
        self._buf = bytearray()  # the preamble, or the frame being collected (from its N field)
        self._frame_length: int | None = None  # N, once its 4 bytes are in
        self._error: RemoteProtocolError | None = None

    @property
    def role(self) -> str:
        return self._role

    @property
    def preamble_received(self) -> bool:
        """True once the peer's whole preamble arrived and was accepted."""
        return self._preamble_received

    @property
    def buffered(self) -> int:
        """Bytes received but not yet decoded (non-zero at EOF means "closed mid-frame")."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Event]:
        """Take received bytes; return the messages (and InvalidMessage events) they complete."""
        if self._error is not None:
            raise self._error
        data = bytes(data)
        events: list[Event] = []
        pos = 0
        try:
            while pos < len(data):
                if not self._preamble_received:
                    pos = self._take_preamble(data, pos)
                elif self._frame_length is None:
                    pos = self._take_length(data, pos)
                else:
                    pos = self._take_body(data, pos, events)
        except RemoteProtocolError as exc:
            self._error = exc
            self._buf = bytearray()
            raise
        return events

    def _take_preamble(self, data: bytes, pos: int) -> int:
        end = pos + len(PREAMBLE) - len(self._buf)
        self._buf += data[pos:end]
        got = bytes(self._buf)
        if not MAGIC.startswith(got[: len(MAGIC)]):
            raise RemoteProtocolError(
                ErrorCode.BAD_FRAME, f"not the framed protocol: expected {MAGIC!r}, got {got!r}"
            )
        if len(got) == len(PREAMBLE):
            if got[-1] != VERSION:
                raise RemoteProtocolError(
                    ErrorCode.UNSUPPORTED_VERSION,
                    f"peer speaks version {got[-1]}, this side speaks version {VERSION}",
                )
            self._preamble_received = True
            self._buf = bytearray()
        return min(end, len(data))

    def _take_length(self, data: bytes, pos: int) -> int:
        """Collect the 4 bytes of N (they stay in the buffer, at the start of the frame)."""
        end = pos + _FRAME_LENGTH.size - len(self._buf)
        self._buf += data[pos:end]
        if len(self._buf) == _FRAME_LENGTH.size:
            (length,) = _FRAME_LENGTH.unpack(self._buf)
            if length > self._max_frame_bytes:
                raise RemoteProtocolError(
                    ErrorCode.FRAME_TOO_LARGE,
                    f"frame of {length} bytes exceeds the limit of {self._max_frame_bytes}",
                )
            if length < _BODY_PREFIX.size:
                raise RemoteProtocolError(
                    ErrorCode.BAD_FRAME,
                    f"frame length {length} is shorter than request_id + header_len (8 bytes)",
                )
            self._frame_length = length
        return min(end, len(data))

    def _take_body(self, data: bytes, pos: int, events: list[Event]) -> int:
        """Collect the N bytes after the length field; decode the frame once they are all in."""
        length = self._frame_length
        assert length is not None
        frame_size = _FRAME_LENGTH.size + length
        end = pos + frame_size - len(self._buf)
        self._buf += data[pos:end]
        if len(self._buf) >= _FRAME_LENGTH.size + _BODY_PREFIX.size:
            request_id, header_len = _BODY_PREFIX.unpack_from(self._buf, _FRAME_LENGTH.size)
            if header_len > length - _BODY_PREFIX.size:
                raise RemoteProtocolError(
                    ErrorCode.BAD_FRAME,
                    f"header_len {header_len} exceeds the frame ({length} bytes)",
                    request_id,
                )
        if len(self._buf) == frame_size:
            events.append(self._finish_frame())
        return min(end, len(data))

    def _finish_frame(self) -> Event:
        body = bytes(self._buf[_FRAME_LENGTH.size :])
        self._buf = bytearray()
        self._frame_length = None
        request_id, header_len = _BODY_PREFIX.unpack_from(body)
        header_end = _BODY_PREFIX.size + header_len
        try:
            return decode_frame_content(
                request_id, body[_BODY_PREFIX.size : header_end], body[header_end:], self._types
            )
        except ValueError as exc:
            error = RemoteProtocolError(ErrorCode.BAD_REQUEST, str(exc), request_id)
            return InvalidMessage(request_id, error)


# -- attendance report (docs/protocol.md, "report") ------------------------------------------
# An addition to version 1 (a server without it answers bad_request "unknown op"), kept in one
# block like the camera ops: the tables above are extended here.

#: A cell of a report row (docs/reports.md): a status letter (P present, L late, A absent or not
#: marked, E excused, O left early), "-" (not enrolled yet) or "" (session still open, no mark).
REPORT_CELLS = ("P", "L", "A", "E", "O", "-", "")
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class ReportRequest:
    """op "report": one lecture's attendance report. Answered by :class:`ReportResponse`.

    ``date_from``, ``date_to``: ``"YYYY-MM-DD"``, both included; None: no bound. ``late_weight``
    (0 to 1): what a late or left-early session counts for in the rate. A start date after the
    end date is answered ``bad_request`` by the server.
    """

    request_id: int
    lecture: str
    date_from: str | None = None
    date_to: str | None = None
    late_weight: float = 0.5


@dataclass(frozen=True)
class ReportSession:
    """One session (a column) of a :class:`ReportResponse`, not a message by itself.

    ``still_open``: not closed and dated today or later (its unmarked cells are blank). The
    totals and ``rate`` (percent, one decimal; None when nothing counts) are over the students
    enrolled by that day.
    """

    session_id: int
    date: str
    still_open: bool
    present: int
    late: int
    absent: int
    excused: int
    left_early: int
    rate: float | None


@dataclass(frozen=True)
class ReportRow:
    """One enrolled student (a row) of a :class:`ReportResponse`, not a message by itself.

    ``cells``: one per session of the response, in the same order (:data:`REPORT_CELLS`). The
    totals and ``rate`` (percent, one decimal; None when no session counts) are the student's.
    """

    student_id: str
    name: str
    enrolled_on: str
    cells: tuple[str, ...]
    present: int
    late: int
    absent: int
    excused: int
    left_early: int
    rate: float | None


@dataclass(frozen=True)
class ReportResponse:
    """op "report": the lecture × session matrix, the totals and the rates (docs/reports.md).

    ``date_from``, ``date_to``, ``late_weight``: as asked. ``sessions`` by date; ``rows``: every
    enrolled student, by student ID, each with one cell per session. Empty lists are valid (no
    session in the range yet, no student enrolled).
    """

    request_id: int
    lecture: str
    title: str | None
    date_from: str | None
    date_to: str | None
    late_weight: float
    sessions: tuple[ReportSession, ...]
    rows: tuple[ReportRow, ...]


def _plain_date(value: Any) -> str:
    """A date written exactly ``YYYY-MM-DD`` (not the other ISO 8601 forms)."""
    if not isinstance(value, str) or _PLAIN_DATE.fullmatch(value) is None:
        raise ValueError(f"must be a date as YYYY-MM-DD, not {_shown(value)}")
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be a date as YYYY-MM-DD, not {_shown(value)}") from None
    return value


def _number_between(low: float, high: float) -> Callable[[Any], float]:
    """A number (integer or decimal, not a boolean) from ``low`` to ``high``, as a float."""

    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, not {_shown(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"must be {low:g} to {high:g}, not a huge integer") from None
        if not low <= number <= high:  # NaN fails too
            raise ValueError(f"must be {low:g} to {high:g}, not {_shown(value)}")
        return number

    return check


def _report_cells(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"must be a list, not {type(value).__name__}")
    for index, cell in enumerate(value):
        if not isinstance(cell, str) or cell not in REPORT_CELLS:
            allowed = ", ".join(map(repr, REPORT_CELLS))
            raise ValueError(f"item {index} must be one of {allowed}, not {_shown(cell)}")
    return tuple(value)


def _report_sessions(value: Any) -> tuple[ReportSession, ...]:
    sessions = _items(ReportSession, value)
    for before, after in zip(sessions, sessions[1:]):
        if after.date <= before.date:
            raise ValueError(
                f"sessions must be in date order, one per day: {after.date} after {before.date}"
            )
    return sessions


def _report_rows(value: Any) -> tuple[ReportRow, ...]:
    rows = _items(ReportRow, value)
    for before, after in zip(rows, rows[1:]):
        if after.student_id <= before.student_id:
            raise ValueError(
                "rows must be by student ID, one per student: "
                f"{after.student_id} after {before.student_id}"
            )
    return rows


_late_weight = _number_between(0.0, 1.0)
_rate = _optional(_number_between(0.0, 100.0))
_REPORT_TOTALS = {
    "present": _non_negative_int,
    "late": _non_negative_int,
    "absent": _non_negative_int,
    "excused": _non_negative_int,
    "left_early": _non_negative_int,
    "rate": _rate,
}

REQUEST_TYPES["report"] = ReportRequest
RESPONSE_TYPES["report"] = ReportResponse
_OP_OF_TYPE.update({ReportRequest: "report", ReportResponse: "report"})
_ITEM_TYPES.update({"sessions": ReportSession, "rows": ReportRow})
_FIELD_CHECKS.update(
    {
        ReportRequest: {
            "lecture": _lecture,
            "date_from": _optional(_plain_date),
            "date_to": _optional(_plain_date),
            "late_weight": _late_weight,
        },
        ReportSession: {
            "session_id": _non_negative_int,
            "date": _plain_date,
            "still_open": _flag,
            **_REPORT_TOTALS,
        },
        ReportRow: {
            "student_id": _student_id,
            "name": _text,
            "enrolled_on": _plain_date,
            "cells": _report_cells,
            **_REPORT_TOTALS,
        },
        ReportResponse: {
            "lecture": _lecture,
            "title": _optional(_text),
            "date_from": _optional(_plain_date),
            "date_to": _optional(_plain_date),
            "late_weight": _late_weight,
            "sessions": _report_sessions,
            "rows": _report_rows,
        },
    }
)


# -- identification from several frames, enrolment, uncertain check-ins ----------------------
# checkin, enroll, pending, resolve_pending (docs/protocol.md, docs/recognition.md): additions to
# version 1, kept in one block like the camera and report ops. Several images travel as one blob,
# the header's "image_sizes" giving each one's size.

#: A check-in carries 1 to MAX_CHECKIN_FRAMES frames of one face.
MAX_CHECKIN_FRAMES = 10
#: An enrol request carries 1 to MAX_ENROLL_PHOTOS photos of one student.
MAX_ENROLL_PHOTOS = 10
#: The outcomes of a face's identification (server/recognition/decision.py).
DECISIONS = ("accepted", "uncertain", "unknown")
#: What a professor decides about an uncertain check-in.
RESOLUTIONS = ("confirmed", "rejected")
#: Why an enrolment photo is refused (EnrolledPhoto.problem).
ENROLL_PROBLEMS = ("no_face", "several_faces", "unlike_student", "like_other_student", "bad_image")


@dataclass(frozen=True)
class Candidate:
    """A student a face may be, nearest first (an item, not a message by itself)."""

    student_id: str
    name: str | None
    distance: float


@dataclass(frozen=True)
class CheckinRequest:
    """op "checkin": who is the one face in these frames (1-2 s of a camera), and mark them.

    ``images``: JPEG/PNG/WebP/HEIC frames of one face (the largest face of each frame is used).
    ``mark``: write the mark when the face is accepted (False: decide only). ``queue_uncertain``:
    an uncertain face (with ``mark``) waits for the professor's decision (op ``pending``);
    False for a first try that the client will repeat. Frames of two different people are
    answered ``different_people``. Answered by :class:`CheckinResponse`.
    """

    request_id: int
    lecture: str
    images: tuple[bytes, ...] = field(repr=False)
    mark: bool = True
    queue_uncertain: bool = True

    def __repr__(self) -> str:
        sizes = ", ".join(str(len(image)) for image in self.images)
        return (
            f"CheckinRequest(request_id={self.request_id!r}, lecture={self.lecture!r}, "
            f"images=<{sizes} bytes>, mark={self.mark!r}, queue_uncertain={self.queue_uncertain!r})"
        )


@dataclass(frozen=True)
class CheckinResponse:
    """op "checked_in": the decision about the face of a :class:`CheckinRequest`.

    ``student_id``/``name``: the accepted student, else None. ``distance``: from the frames'
    mean to the nearest student (None when nobody is enrolled); ``threshold``: that student's
    calibrated threshold. ``candidates``: the students the face may be (uncertain), or the
    accepted one. ``status``/``already_marked``: the student's mark now, when marked.
    ``pending_id``: the queued uncertain check-in, when queued. ``frames``: frames used.
    """

    request_id: int
    lecture: str
    decision: str
    student_id: str | None
    name: str | None
    distance: float | None
    threshold: float | None
    candidates: tuple[Candidate, ...]
    frames: int
    status: str | None = None
    already_marked: bool = False
    pending_id: int | None = None


@dataclass(frozen=True)
class EnrollRequest:
    """op "enroll": store the encodings of these photos of one student (about 5: straight, a
    little left, right, up, down). ``name``: for a student not known yet. ``force``: store
    photos that look like another student's (``like_other_student``) or unlike the student's
    others (``unlike_student``). Answered by :class:`EnrollResponse`.
    """

    request_id: int
    student_id: str
    images: tuple[bytes, ...] = field(repr=False)
    name: str | None = None
    force: bool = False

    def __repr__(self) -> str:
        return (
            f"EnrollRequest(request_id={self.request_id!r}, student_id={self.student_id!r}, "
            f"images=<{len(self.images)}>, name={self.name!r}, force={self.force!r})"
        )


@dataclass(frozen=True)
class EnrolledPhoto:
    """The verdict on one photo of an :class:`EnrollRequest` (an item, not a message).

    ``index``: 0-based position in the request. ``problem``: None (fine) or one of
    :data:`ENROLL_PROBLEMS`; ``other_student``: the student it looks like
    (``like_other_student``); ``distance``: to that student, or to the student's own template
    (``unlike_student``).
    """

    index: int
    problem: str | None
    other_student: str | None = None
    distance: float | None = None


@dataclass(frozen=True)
class EnrollResponse:
    """op "enrolled": ``stored`` photos written (0 when any photo has a problem that ``force``
    does not lift, or that was not forced: all or nothing); ``total``: the student's encodings
    now; ``photos``: one verdict per photo of the request."""

    request_id: int
    student_id: str
    stored: int
    total: int
    photos: tuple[EnrolledPhoto, ...]


@dataclass(frozen=True)
class PendingRequest:
    """op "pending": today's uncertain check-ins of a lecture waiting for the professor.
    Answered by :class:`PendingResponse`."""

    request_id: int
    lecture: str


@dataclass(frozen=True)
class PendingCheckin:
    """One uncertain check-in (an item, not a message). ``requested_at``: ISO 8601."""

    pending_id: int
    requested_at: str
    client_name: str
    frames: int
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class PendingResponse:
    """op "pending": the unresolved uncertain check-ins of today's session, oldest first."""

    request_id: int
    lecture: str
    session_date: str
    checkins: tuple[PendingCheckin, ...]


@dataclass(frozen=True)
class ResolvePendingRequest:
    """op "resolve_pending": the professor's decision about an uncertain check-in: ``student_id``
    confirms it as that student (one of its candidates, or any enrolled student the professor
    saw), who is marked ``status`` with source ``checkin``; None rejects it. Answered by
    :class:`ResolvePendingResponse`; a check-in resolved already is answered ``not_found``."""

    request_id: int
    pending_id: int
    student_id: str | None
    status: str = "present"


@dataclass(frozen=True)
class ResolvePendingResponse:
    """op "pending_resolved": ``resolution`` confirmed (with the mark now) or rejected."""

    request_id: int
    pending_id: int
    resolution: str
    student_id: str | None
    status: str | None
    already_marked: bool


def _one_of(values: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in values:
            raise ValueError(f"must be one of {', '.join(values)}, not {_shown(value)}")
        return value

    return check


def _image_list(max_count: int) -> Callable[[Any], tuple[bytes, ...]]:
    def check(value: Any) -> tuple[bytes, ...]:
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"must be a list of images, not {type(value).__name__}")
        if not 1 <= len(value) <= max_count:
            raise ValueError(f"must hold 1 to {max_count} images, not {len(value)}")
        checked = []
        for index, image in enumerate(value):
            try:
                checked.append(_image(image))
            except ValueError as exc:
                raise ValueError(f"image {index}: {exc}") from None
        return tuple(checked)

    return check


def _student_name(value: Any) -> str:
    text = _text(value).strip()
    if not 1 <= len(text) <= 100:
        raise ValueError("must be a name of 1 to 100 characters")
    return text


_candidates = lambda value: _items(Candidate, value)  # noqa: E731 - a check like the others
_FIELD_CHECKS[RecognizedFace].update({"decision": _one_of(DECISIONS), "candidates": _candidates})
_SEVERAL_IMAGE_REQUESTS = {
    "checkin": CheckinRequest,
    "enroll": EnrollRequest,
    "pending": PendingRequest,
    "resolve_pending": ResolvePendingRequest,
}
_SEVERAL_IMAGE_RESPONSES = {
    "checked_in": CheckinResponse,
    "enrolled": EnrollResponse,
    "pending": PendingResponse,
    "pending_resolved": ResolvePendingResponse,
}
REQUEST_TYPES.update(_SEVERAL_IMAGE_REQUESTS)
RESPONSE_TYPES.update(_SEVERAL_IMAGE_RESPONSES)
_OP_OF_TYPE.update({cls: op for table in (_SEVERAL_IMAGE_REQUESTS, _SEVERAL_IMAGE_RESPONSES) for op, cls in table.items()})
_ITEM_TYPES.update({"candidates": Candidate, "photos": EnrolledPhoto, "checkins": PendingCheckin})
_FIELD_CHECKS.update(
    {
        Candidate: {"student_id": _student_id, "name": _optional(_text), "distance": _distance},
        CheckinRequest: {
            "lecture": _lecture,
            "images": _image_list(MAX_CHECKIN_FRAMES),
            "mark": _flag,
            "queue_uncertain": _flag,
        },
        CheckinResponse: {
            "lecture": _lecture,
            "decision": _one_of(DECISIONS),
            "student_id": _optional(_student_id),
            "name": _optional(_text),
            "distance": _optional(_distance),
            "threshold": _optional(_distance),
            "candidates": _candidates,
            "frames": _non_negative_int,
            "status": _optional(_status),
            "already_marked": _flag,
            "pending_id": _optional(_non_negative_int),
        },
        EnrollRequest: {
            "student_id": _student_id,
            "images": _image_list(MAX_ENROLL_PHOTOS),
            "name": _optional(_student_name),
            "force": _flag,
        },
        EnrolledPhoto: {
            "index": _non_negative_int,
            "problem": _optional(_one_of(ENROLL_PROBLEMS)),
            "other_student": _optional(_student_id),
            "distance": _optional(_distance),
        },
        EnrollResponse: {
            "student_id": _student_id,
            "stored": _non_negative_int,
            "total": _non_negative_int,
            "photos": lambda value: _items(EnrolledPhoto, value),
        },
        PendingRequest: {"lecture": _lecture},
        PendingCheckin: {
            "pending_id": _non_negative_int,
            "requested_at": _iso_datetime,
            "client_name": _text,
            "frames": _non_negative_int,
            "candidates": _candidates,
        },
        PendingResponse: {
            "lecture": _lecture,
            "session_date": _iso_date,
            "checkins": lambda value: _items(PendingCheckin, value),
        },
        ResolvePendingRequest: {
            "pending_id": _non_negative_int,
            "student_id": _optional(_student_id),
            "status": _status,
        },
        ResolvePendingResponse: {
            "pending_id": _non_negative_int,
            "resolution": _one_of(RESOLUTIONS),
            "student_id": _optional(_student_id),
            "status": _optional(_status),
            "already_marked": _flag,
        },
    }
)
