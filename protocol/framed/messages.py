"""Every framed message, declared once (docs/protocol.md).

A message is a frozen dataclass whose first field is ``request_id``; ``op`` is its name on the
wire, and each other field says its check (:mod:`protocol.framed.fields`): a JSON field, a list
of items, or the frame's blob (one image, or several). ``@request`` and ``@response`` add the
class to :data:`REQUEST_TYPES` or :data:`RESPONSE_TYPES`; the codec reads everything else from
the declaration. Adding an operation is writing its request and response classes here (and
answering the request in server/handlers.py).

Items (``BatchMark``, ``RosterEntry``...) are declared the same way, without ``op``: they travel
inside a message's list field.

The order of the classes is the order of the ops in the "unknown op" error message.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from protocol.framed import checks
from protocol.framed.fields import checked, image, images, items, layout

#: op name -> message class, per direction ("roster", "report" and "pending" exist in both).
REQUEST_TYPES: dict[str, type] = {}
RESPONSE_TYPES: dict[str, type] = {}
#: message class -> op name (both directions).
OP_OF_TYPE: dict[type, str] = {}


def _register(table: dict[str, type], cls: type) -> type:
    op = cls.__dict__.get("op")
    if not isinstance(op, str) or op in table:
        raise TypeError(f"{cls.__name__}: op must be a string not used by another message, not {op!r}")
    fields = dataclasses.fields(cls)
    if not fields or fields[0].name != "request_id":
        raise TypeError(f"{cls.__name__}: the first field must be request_id")
    layout(cls)  # every other field has a check (TypeError otherwise)
    table[op] = cls
    OP_OF_TYPE[cls] = op
    return cls


def request(cls: type) -> type:
    """Class decorator: ``cls`` is a request (client -> server) named ``cls.op``."""
    return _register(REQUEST_TYPES, cls)


def response(cls: type) -> type:
    """Class decorator: ``cls`` is a response (server -> client) named ``cls.op``."""
    return _register(RESPONSE_TYPES, cls)


# -- limits and value sets ------------------------------------------------------------------

#: A batch_mark request carries 1 to MAX_BATCH_MARKS marks.
MAX_BATCH_MARKS = 2000
#: ``min_face`` of a detect request when it names none: the smallest face width looked for, in
#: pixels of the image sent.
DEFAULT_MIN_FACE = 40
#: Accepted ``min_face`` of a detect request, in pixels: below 20 px a face carries too little
#: to be recognized anyway.
DETECT_MIN_FACE_RANGE = (20, 1000)
#: An identify request names 1 to MAX_FACE_BOXES boxes; an identify_room request as many tracks.
MAX_FACE_BOXES = 500
#: A presence sample names at most MAX_SIGHTINGS students.
MAX_SIGHTINGS = 2000
#: An identify_room track is decided from 1 to MAX_TRACK_FRAMES encodings: the ones it carries,
#: plus its box's when it is encoded now.
MAX_TRACK_FRAMES = 10
#: A check-in carries 1 to MAX_CHECKIN_FRAMES frames of one face.
MAX_CHECKIN_FRAMES = 10
#: An enrol request carries 1 to MAX_ENROLL_PHOTOS photos of one student.
MAX_ENROLL_PHOTOS = 10
#: The outcomes of a face's identification (server/recognition/decision.py).
DECISIONS = ("accepted", "uncertain", "unknown")
#: The actions a liveness challenge asks for (server/recognition/liveness.py, docs/liveness.md).
LIVENESS_ACTIONS = ("blink", "turn_left", "turn_right")
#: A challenge asks for 1 to MAX_CHALLENGE_ACTIONS actions (the server picks 2 or 3).
MAX_CHALLENGE_ACTIONS = 5
#: A challenge_frames request carries 1 to MAX_CHALLENGE_BATCH frames; a challenge, at most
#: MAX_CHALLENGE_FRAMES in all.
MAX_CHALLENGE_BATCH = 10
MAX_CHALLENGE_FRAMES = 120
#: Frame times of a challenge: seconds since the challenge was given, 0 to this.
MAX_CHALLENGE_SECONDS = 600.0
#: What a professor decides about an uncertain check-in.
RESOLUTIONS = ("confirmed", "rejected")
#: Kinds of check-in waiting for the professor (PendingCheckin.kind).
PENDING_KINDS = ("uncertain", "late")
#: Why an enrolment photo is refused (EnrolledPhoto.problem).
ENROLL_PROBLEMS = ("no_face", "several_faces", "unlike_student", "like_other_student", "bad_image")
#: Longest reason for a mark change, and professor name, a request may give (db/history.py).
MAX_REASON_LENGTH = 500
MAX_PROFESSOR_LENGTH = 100

#: A cell of a report row (docs/reports.md): a status letter (P present, L late, A absent or not
#: marked, E excused, O left early), "-" (not enrolled yet) or "" (session still open, no mark).
REPORT_CELLS = ("P", "L", "A", "E", "O", "-", "")

_lecture = checks.lecture
_optional_lecture = checks.optional(checks.lecture)
_count = checks.non_negative_int
_optional_distance = checks.optional(checks.distance)
_optional_text = checks.optional(checks.text)
_optional_student_id = checks.optional(checks.student_id)
_late_weight = checks.number_between(0.0, 1.0)
_optional_date = checks.optional(checks.plain_date)
_reason = checks.optional(checks.bounded_text(MAX_REASON_LENGTH))
_professor = checks.optional(checks.bounded_text(MAX_PROFESSOR_LENGTH))
_rate = checks.optional(checks.number_between(0.0, 100.0))


# -- rules about the items of a list together (each raises ValueError) ----------------------


def _each_student_once(marks: tuple) -> None:
    seen: set[str] = set()
    for mark in marks:
        if mark.student_id in seen:
            raise ValueError(f"student {mark.student_id} appears twice")
        seen.add(mark.student_id)


def _no_empty_box(boxes: tuple) -> None:
    for index, box in enumerate(boxes):
        if box.bottom <= box.top or box.right <= box.left:
            raise ValueError(f"item {index}: an empty box (bottom <= top or right <= left)")


def _tracks_with_frames(tracks: tuple) -> None:
    """Each track has a box and 1 to MAX_TRACK_FRAMES frames."""
    _no_empty_box(tracks)
    for index, track in enumerate(tracks):
        frames = len(track.encodings) + track.encode
        if not 1 <= frames <= MAX_TRACK_FRAMES:
            raise ValueError(
                f"item {index}: {frames} frames (encodings, plus 1 with encode); must be 1 to {MAX_TRACK_FRAMES}"
            )


def _sessions_by_date(sessions: tuple) -> None:
    for before, after in zip(sessions, sessions[1:]):
        if after.date <= before.date:
            raise ValueError(f"sessions must be in date order, one per day: {after.date} after {before.date}")


def _rows_by_student(rows: tuple) -> None:
    for before, after in zip(rows, rows[1:]):
        if after.student_id <= before.student_id:
            raise ValueError(
                f"rows must be by student ID, one per student: {after.student_id} after {before.student_id}"
            )


# -- items (inside a message's list, not messages by themselves) ----------------------------


@dataclass(frozen=True)
class BatchMark:
    """One item of a :class:`BatchMarkRequest`."""

    student_id: str = checked(checks.student_id)
    status: str = checked(checks.status)


@dataclass(frozen=True)
class Candidate:
    """A student a face may be, nearest first."""

    student_id: str = checked(checks.student_id)
    name: str | None = checked(_optional_text)
    distance: float = checked(checks.distance)


@dataclass(frozen=True)
class RosterEntry:
    """One student of a :class:`RosterResponse`; the last three are None when not marked.

    ``marked_at`` is ISO 8601 text such as ``"2019-11-01T09:03:12+09:00"``.
    """

    student_id: str = checked(checks.student_id)
    name: str = checked(checks.text)
    status: str | None = checked(checks.optional(checks.status))
    source: str | None = checked(checks.optional(checks.source))
    marked_at: str | None = checked(checks.optional(checks.iso_datetime))


@dataclass(frozen=True)
class RecognizedFace:
    """One face of a :class:`RecognizeResponse`: box in pixels, and who (None unless accepted).

    ``decision``: accepted, uncertain or unknown (docs/recognition.md); ``candidates``: the
    students an uncertain face may be, nearest first (the accepted student for an accepted one).
    ``distance``: to the nearest student's template.
    """

    top: int = checked(_count)
    right: int = checked(_count)
    bottom: int = checked(_count)
    left: int = checked(_count)
    student_id: str | None = checked(_optional_student_id)
    name: str | None = checked(_optional_text)
    distance: float | None = checked(_optional_distance)
    decision: str = checked(checks.one_of(DECISIONS), "unknown")
    candidates: tuple[Candidate, ...] = items(Candidate, default=())


@dataclass(frozen=True)
class FaceBox:
    """A face's box in pixels of an image (an item of ``boxes``)."""

    top: int = checked(_count)
    right: int = checked(_count)
    bottom: int = checked(_count)
    left: int = checked(_count)


@dataclass(frozen=True)
class RoomTrack:
    """A face the camera follows across samples (an item of ``tracks``): its box in this
    sample's image, the ``encodings`` of its face kept from earlier samples (oldest first, see
    :func:`pack_encoding`), and ``encode``: encode the box now too. A track needs at least one
    encoding, kept or new, and at most :data:`MAX_TRACK_FRAMES`."""

    top: int = checked(_count)
    right: int = checked(_count)
    bottom: int = checked(_count)
    left: int = checked(_count)
    # biometric data: not in logs
    encodings: tuple[str, ...] = checked(checks.encodings(MAX_TRACK_FRAMES), (), repr=False)
    encode: bool = checked(checks.flag, False)


@dataclass(frozen=True)
class TrackDecision:
    """The decision about one track of an identify_room request (an item of ``decisions``).

    ``decision``, ``student_id``, ``name``, ``distance``, ``candidates``: as in
    :class:`RecognizedFace`, for the mean of the track's frames. ``frames``: the track's
    newest encodings the decision used (fewer than sent when the new one cannot be the same
    person as the older ones: those are dropped). ``encoding``: the box's encoding, when the
    track was encoded now (None otherwise), for the client to keep.
    """

    decision: str = checked(checks.one_of(DECISIONS))
    student_id: str | None = checked(_optional_student_id)
    name: str | None = checked(_optional_text)
    distance: float | None = checked(_optional_distance)
    candidates: tuple[Candidate, ...] = items(Candidate)
    frames: int = checked(checks.int_between(1, MAX_TRACK_FRAMES))
    # biometric data: not in logs
    encoding: str | None = checked(checks.optional(checks.encoding), None, repr=False)


@dataclass(frozen=True)
class ReportSession:
    """One session (a column) of a :class:`ReportResponse`.

    ``still_open``: not closed and dated today or later (its unmarked cells are blank). The
    totals and ``rate`` (percent, one decimal; None when nothing counts) are over the students
    enrolled by that day.
    """

    session_id: int = checked(_count)
    date: str = checked(checks.plain_date)
    still_open: bool = checked(checks.flag)
    present: int = checked(_count)
    late: int = checked(_count)
    absent: int = checked(_count)
    excused: int = checked(_count)
    left_early: int = checked(_count)
    rate: float | None = checked(_rate)


@dataclass(frozen=True)
class ReportRow:
    """One enrolled student (a row) of a :class:`ReportResponse`.

    ``cells``: one per session of the response, in the same order (:data:`REPORT_CELLS`). The
    totals and ``rate`` (percent, one decimal; None when no session counts) are the student's.
    ``dropped_on``: the day the student dropped the lecture; not sent while enrolled.
    ``changed_after``: the positions in ``cells`` whose mark was changed on a later day than
    its session (an addition: left out when empty).
    """

    student_id: str = checked(checks.student_id)
    name: str = checked(checks.text)
    enrolled_on: str = checked(checks.plain_date)
    cells: tuple[str, ...] = checked(checks.list_of_one_of(REPORT_CELLS))
    present: int = checked(_count)
    late: int = checked(_count)
    absent: int = checked(_count)
    excused: int = checked(_count)
    left_early: int = checked(_count)
    rate: float | None = checked(_rate)
    dropped_on: str | None = checked(checks.optional(checks.plain_date), None, omit_default=True)
    changed_after: tuple[int, ...] = checked(checks.indexes, (), omit_default=True)


@dataclass(frozen=True)
class HistoryEntry:
    """One change of a mark (an item of :class:`HistoryResponse`).

    ``old_status``/``old_source``: the mark before (None for a new mark); ``new_status``,
    ``source``: after. ``client_name``: the client that made the change; ``professor``,
    ``reason``: when given. ``changed_at``: ISO 8601 text, server time.
    """

    session_date: str = checked(checks.plain_date)
    student_id: str = checked(checks.student_id)
    name: str = checked(checks.text)
    old_status: str | None = checked(checks.optional(checks.status))
    old_source: str | None = checked(checks.optional(checks.source))
    new_status: str = checked(checks.status)
    source: str = checked(checks.source)
    client_name: str = checked(checks.text)
    professor: str | None = checked(_optional_text)
    reason: str | None = checked(_optional_text)
    changed_at: str = checked(checks.iso_datetime)


@dataclass(frozen=True)
class EnrolledPhoto:
    """The verdict on one photo of an :class:`EnrollRequest`.

    ``index``: 0-based position in the request. ``problem``: None (fine) or one of
    :data:`ENROLL_PROBLEMS`; ``other_student``: the student it looks like
    (``like_other_student``); ``distance``: to that student, or to the student's own template
    (``unlike_student``).
    """

    index: int = checked(_count)
    problem: str | None = checked(checks.optional(checks.one_of(ENROLL_PROBLEMS)))
    other_student: str | None = checked(_optional_student_id, None)
    distance: float | None = checked(_optional_distance, None)


@dataclass(frozen=True)
class PendingCheckin:
    """One uncertain check-in. ``requested_at``: ISO 8601."""

    pending_id: int = checked(_count)
    requested_at: str = checked(checks.iso_datetime)
    client_name: str = checked(checks.text)
    frames: int = checked(_count)
    candidates: tuple[Candidate, ...] = items(Candidate)
    #: "uncertain" (the face may be one of the candidates), or "late": a recognized student's
    #: check-in after the session closed (one candidate: that student), who was told to see the
    #: professor. Sent only when "late".
    kind: str = checked(checks.one_of(PENDING_KINDS), "uncertain", omit_default=True)


# -- connection ------------------------------------------------------------------------------


@request
@dataclass(frozen=True)
class HelloRequest:
    """The client's token; the first request on every connection.

    Answered by :class:`WelcomeResponse`, or by an ``unauthorized`` error after which the server
    closes the connection. ``repr()`` never shows the token.
    """

    op: ClassVar[str] = "hello"
    request_id: int
    token: str = checked(checks.token, repr=False)


@response
@dataclass(frozen=True)
class WelcomeResponse:
    """The answer to :class:`HelloRequest`: the name the token was issued to."""

    op: ClassVar[str] = "welcome"
    request_id: int
    client_name: str = checked(checks.client_name)
    server_version: str = checked(checks.text)


@request
@dataclass(frozen=True)
class PingRequest:
    """Is the server there? Answered by :class:`PongResponse`."""

    op: ClassVar[str] = "ping"
    request_id: int


@response
@dataclass(frozen=True)
class PongResponse:
    """The answer to :class:`PingRequest`."""

    op: ClassVar[str] = "pong"
    request_id: int
    server_version: str = checked(checks.text)


# -- attendance ------------------------------------------------------------------------------


@request
@dataclass(frozen=True)
class RosterRequest:
    """Today's attendance of a lecture, or that of the session of ``session_date`` (a past
    day). Answered by :class:`RosterResponse`."""

    op: ClassVar[str] = "roster"
    request_id: int
    lecture: str = checked(_lecture)
    session_date: str | None = checked(_optional_date, None, omit_default=True)


@response
@dataclass(frozen=True)
class RosterResponse:
    """Every enrolled student and today's mark. ``session_date``: ``"YYYY-MM-DD"``."""

    op: ClassVar[str] = "roster"
    request_id: int
    lecture: str = checked(_lecture)
    session_date: str = checked(checks.iso_date)
    students: tuple[RosterEntry, ...] = items(RosterEntry)


@request
@dataclass(frozen=True)
class MarkRequest:
    """Mark one student. ``distance``: face distance when a camera decided, else None.
    ``session_date``: a past session (roll call and manual marks only, with a ``reason``);
    ``professor``, ``reason``: recorded in the mark's history."""

    op: ClassVar[str] = "mark"
    request_id: int
    lecture: str = checked(_lecture)
    student_id: str = checked(checks.student_id)
    status: str = checked(checks.status, "present")
    source: str = checked(checks.source, "checkin")
    distance: float | None = checked(_optional_distance, None)
    session_date: str | None = checked(_optional_date, None, omit_default=True)
    professor: str | None = checked(_professor, None, omit_default=True)
    reason: str | None = checked(_reason, None, omit_default=True)


@response
@dataclass(frozen=True)
class MarkResponse:
    """op "marked": the student's status now; ``already_marked`` when the mark existed before."""

    op: ClassVar[str] = "marked"
    request_id: int
    lecture: str = checked(_lecture)
    student_id: str = checked(checks.student_id)
    status: str = checked(checks.status)
    already_marked: bool = checked(checks.flag)


@request
@dataclass(frozen=True)
class BatchMarkRequest:
    """A roll call. ``batch_id`` makes a retry harmless (the server replays).
    ``session_date``, ``professor``, ``reason``: as for :class:`MarkRequest`."""

    op: ClassVar[str] = "batch_mark"
    request_id: int
    lecture: str = checked(_lecture)
    batch_id: str = checked(checks.batch_id)
    marks: tuple[BatchMark, ...] = items(BatchMark, min_count=1, max_count=MAX_BATCH_MARKS, rule=_each_student_once)
    source: str = checked(checks.source, "rollcall")
    session_date: str | None = checked(_optional_date, None, omit_default=True)
    professor: str | None = checked(_professor, None, omit_default=True)
    reason: str | None = checked(_reason, None, omit_default=True)


@response
@dataclass(frozen=True)
class BatchMarkResponse:
    """op "batch_marked": ``applied`` marks written; ``replayed`` when batch_id was seen before."""

    op: ClassVar[str] = "batch_marked"
    request_id: int
    batch_id: str = checked(checks.batch_id)
    applied: int = checked(_count)
    replayed: bool = checked(checks.flag)


@request
@dataclass(frozen=True)
class RecognizeRequest:
    """Find the students in a JPEG/PNG (sent as the frame's blob)."""

    op: ClassVar[str] = "recognize"
    request_id: int
    image: bytes = image()
    lecture: str | None = checked(_optional_lecture, None)

    def __repr__(self) -> str:
        return (
            f"RecognizeRequest(request_id={self.request_id!r}, image=<{len(self.image)} bytes>, "
            f"lecture={self.lecture!r})"
        )


@response
@dataclass(frozen=True)
class RecognizeResponse:
    """op "recognized": the faces found, in no particular order (may be empty)."""

    op: ClassVar[str] = "recognized"
    request_id: int
    faces: tuple[RecognizedFace, ...] = items(RecognizedFace)


@response
@dataclass(frozen=True)
class ErrorResponse:
    """The request failed; ``code`` is an :class:`ErrorCode` value. Request ID 0: the error
    concerns the connection (see protocol.framed.connection)."""

    op: ClassVar[str] = "error"
    request_id: int
    code: str = checked(checks.error_code)
    message: str = checked(checks.text)


# -- classroom camera (docs/camera.md) -------------------------------------------------------


@request
@dataclass(frozen=True)
class DetectRequest:
    """The boxes of every face in a whole-room image (the blob), no recognition.

    ``min_face``: width in pixels of the smallest faces to find (smaller is slower). Answered by
    :class:`DetectResponse`.
    """

    op: ClassVar[str] = "detect"
    request_id: int
    image: bytes = image()
    min_face: int = checked(checks.int_between(*DETECT_MIN_FACE_RANGE), DEFAULT_MIN_FACE)


@response
@dataclass(frozen=True)
class DetectResponse:
    """op "detected": the face boxes found (may be empty), in no particular order."""

    op: ClassVar[str] = "detected"
    request_id: int
    boxes: tuple[FaceBox, ...] = items(FaceBox, rule=_no_empty_box)


@request
@dataclass(frozen=True)
class IdentifyRequest:
    """Who are the faces at these boxes of the image (the blob)? No detection.

    Answered by :class:`RecognizeResponse` with one face per box, in the same order, each
    student given to at most one of them. ``lecture`` restricts matching as for recognize.
    """

    op: ClassVar[str] = "identify"
    request_id: int
    image: bytes = image()
    boxes: tuple[FaceBox, ...] = items(FaceBox, min_count=1, max_count=MAX_FACE_BOXES, rule=_no_empty_box)
    lecture: str | None = checked(_optional_lecture, None)


@request
@dataclass(frozen=True)
class IdentifyRoomRequest:
    """Who is each face the camera follows, the room decided as a whole.

    Each track is decided from all its encodings together (the kept ones and, with ``encode``,
    its box's in the image: the blob, which may be empty when no track is encoded now), and
    each student is given to at most one track (the best overall assignment). ``lecture``
    restricts matching as for recognize. Answered by :class:`IdentifyRoomResponse`.
    """

    op: ClassVar[str] = "identify_room"
    request_id: int
    image: bytes = image(checks.image_or_empty)
    tracks: tuple[RoomTrack, ...] = items(RoomTrack, min_count=1, max_count=MAX_FACE_BOXES, rule=_tracks_with_frames)
    lecture: str | None = checked(_optional_lecture, None)


@response
@dataclass(frozen=True)
class IdentifyRoomResponse:
    """op "room_identified": one decision per track of the request, in the same order."""

    op: ClassVar[str] = "room_identified"
    request_id: int
    decisions: tuple[TrackDecision, ...] = items(TrackDecision)


@request
@dataclass(frozen=True)
class PresenceRequest:
    """The enrolled students a classroom camera saw at ``sampled_at``.

    ``face_count``: faces seen in that frame, recognized or not. Answered by
    :class:`PresenceResponse`.
    """

    op: ClassVar[str] = "presence"
    request_id: int
    lecture: str = checked(_lecture)
    sampled_at: str = checked(checks.storable_datetime)
    student_ids: tuple[str, ...] = checked(checks.student_ids(MAX_SIGHTINGS))
    face_count: int = checked(checks.stored_count)


@response
@dataclass(frozen=True)
class PresenceResponse:
    """op "presence_recorded": the sample's ID and session; ``closed`` when that session was
    closed already (the sample is kept and counts if the session is closed again).
    ``warning``: the sample is outside every session's window (before its start, after its
    end, a cancelled session, a day without a scheduled session); sent only when there is one."""

    op: ClassVar[str] = "presence_recorded"
    request_id: int
    sample_id: int = checked(_count)
    session_date: str = checked(checks.iso_date)
    closed: bool = checked(checks.flag)
    warning: str | None = checked(_optional_text, None, omit_default=True)


@request
@dataclass(frozen=True)
class CloseSessionRequest:
    """Compute and write the camera statuses of a session.

    ``session_date`` None: today (server time). Answered by :class:`CloseSessionResponse`.
    """

    op: ClassVar[str] = "close_session"
    request_id: int
    lecture: str = checked(_lecture)
    session_date: str | None = checked(checks.optional(checks.iso_date), None)


@response
@dataclass(frozen=True)
class CloseSessionResponse:
    """op "session_closed": statuses written by the camera, per status; ``kept``: students whose
    mark was made by a person and left as it was; ``samples``: presence samples used."""

    op: ClassVar[str] = "session_closed"
    request_id: int
    lecture: str = checked(_lecture)
    session_date: str = checked(checks.iso_date)
    samples: int = checked(_count)
    present: int = checked(_count)
    late: int = checked(_count)
    left_early: int = checked(_count)
    absent: int = checked(_count)
    kept: int = checked(_count)


# -- attendance report (docs/reports.md) -----------------------------------------------------


@request
@dataclass(frozen=True)
class ReportRequest:
    """One lecture's attendance report. Answered by :class:`ReportResponse`.

    ``date_from``, ``date_to``: ``"YYYY-MM-DD"``, both included; None: no bound. ``late_weight``
    (0 to 1): what a late or left-early session counts for in the rate. A start date after the
    end date is answered ``bad_request`` by the server.
    """

    op: ClassVar[str] = "report"
    request_id: int
    lecture: str = checked(_lecture)
    date_from: str | None = checked(checks.optional(checks.plain_date), None)
    date_to: str | None = checked(checks.optional(checks.plain_date), None)
    late_weight: float = checked(_late_weight, 0.5)


@response
@dataclass(frozen=True)
class ReportResponse:
    """The lecture × session matrix, the totals and the rates (docs/reports.md).

    ``date_from``, ``date_to``, ``late_weight``: as asked. ``sessions`` by date; ``rows``: every
    enrolled student, by student ID, each with one cell per session. Empty lists are valid (no
    session in the range yet, no student enrolled).
    """

    op: ClassVar[str] = "report"
    request_id: int
    lecture: str = checked(_lecture)
    title: str | None = checked(_optional_text)
    date_from: str | None = checked(checks.optional(checks.plain_date))
    date_to: str | None = checked(checks.optional(checks.plain_date))
    late_weight: float = checked(_late_weight)
    sessions: tuple[ReportSession, ...] = items(ReportSession, rule=_sessions_by_date)
    rows: tuple[ReportRow, ...] = items(ReportRow, rule=_rows_by_student)


# -- identification from several frames, enrolment, uncertain check-ins (docs/recognition.md) --


@request
@dataclass(frozen=True)
class CheckinRequest:
    """Who is the one face in these frames (1-2 s of a camera), and mark them.

    ``images``: JPEG/PNG/WebP/HEIC frames of one face (the largest face of each frame is used).
    ``mark``: write the mark when the face is accepted (False: decide only). ``queue_uncertain``:
    an uncertain face (with ``mark``) waits for the professor's decision (op ``pending``);
    False for a first try that the client will repeat. Frames of two different people are
    answered ``different_people``. Answered by :class:`CheckinResponse`.
    """

    op: ClassVar[str] = "checkin"
    request_id: int
    lecture: str = checked(_lecture)
    images: tuple[bytes, ...] = images(MAX_CHECKIN_FRAMES)
    mark: bool = checked(checks.flag, True)
    queue_uncertain: bool = checked(checks.flag, True)

    def __repr__(self) -> str:
        sizes = ", ".join(str(len(image)) for image in self.images)
        return (
            f"CheckinRequest(request_id={self.request_id!r}, lecture={self.lecture!r}, "
            f"images=<{sizes} bytes>, mark={self.mark!r}, queue_uncertain={self.queue_uncertain!r})"
        )


@response
@dataclass(frozen=True)
class CheckinResponse:
    """op "checked_in": the decision about the face of a :class:`CheckinRequest`.

    ``student_id``/``name``: the accepted student, else None. ``distance``: from the frames'
    mean to the nearest student (None when nobody is enrolled); ``threshold``: that student's
    calibrated threshold. ``candidates``: the students the face may be (uncertain), or the
    accepted one. ``status``/``already_marked``: the student's mark now, when marked.
    ``pending_id``: the queued uncertain check-in, when queued. ``frames``: frames used.
    """

    op: ClassVar[str] = "checked_in"
    request_id: int
    lecture: str = checked(_lecture)
    decision: str = checked(checks.one_of(DECISIONS))
    student_id: str | None = checked(_optional_student_id)
    name: str | None = checked(_optional_text)
    distance: float | None = checked(_optional_distance)
    threshold: float | None = checked(_optional_distance)
    candidates: tuple[Candidate, ...] = items(Candidate)
    frames: int = checked(_count)
    status: str | None = checked(checks.optional(checks.status), None)
    already_marked: bool = checked(checks.flag, False)
    pending_id: int | None = checked(checks.optional(_count), None)


@request
@dataclass(frozen=True)
class EnrollRequest:
    """Store the encodings of these photos of one student (about 5: straight, a little left,
    right, up, down). ``name``: for a student not known yet. ``force``: store photos that look
    like another student's (``like_other_student``) or unlike the student's others
    (``unlike_student``). Answered by :class:`EnrollResponse`.
    """

    op: ClassVar[str] = "enroll"
    request_id: int
    student_id: str = checked(checks.student_id)
    images: tuple[bytes, ...] = images(MAX_ENROLL_PHOTOS)
    name: str | None = checked(checks.optional(checks.student_name), None)
    force: bool = checked(checks.flag, False)

    def __repr__(self) -> str:
        return (
            f"EnrollRequest(request_id={self.request_id!r}, student_id={self.student_id!r}, "
            f"images=<{len(self.images)}>, name={self.name!r}, force={self.force!r})"
        )


@response
@dataclass(frozen=True)
class EnrollResponse:
    """op "enrolled": ``stored`` photos written (0 when any photo has a problem that ``force``
    does not lift, or that was not forced: all or nothing); ``total``: the student's encodings
    now; ``photos``: one verdict per photo of the request."""

    op: ClassVar[str] = "enrolled"
    request_id: int
    student_id: str = checked(checks.student_id)
    stored: int = checked(_count)
    total: int = checked(_count)
    photos: tuple[EnrolledPhoto, ...] = items(EnrolledPhoto)


@request
@dataclass(frozen=True)
class PendingRequest:
    """Today's uncertain check-ins of a lecture waiting for the professor.
    Answered by :class:`PendingResponse`."""

    op: ClassVar[str] = "pending"
    request_id: int
    lecture: str = checked(_lecture)


@response
@dataclass(frozen=True)
class PendingResponse:
    """The unresolved uncertain check-ins of today's session, oldest first."""

    op: ClassVar[str] = "pending"
    request_id: int
    lecture: str = checked(_lecture)
    session_date: str = checked(checks.iso_date)
    checkins: tuple[PendingCheckin, ...] = items(PendingCheckin)


@request
@dataclass(frozen=True)
class ResolvePendingRequest:
    """The professor's decision about an uncertain check-in: ``student_id`` confirms it as that
    student (one of its candidates, or any enrolled student the professor saw), who is marked
    ``status`` with source ``checkin``; None rejects it. Answered by
    :class:`ResolvePendingResponse`; a check-in resolved already is answered ``not_found``."""

    op: ClassVar[str] = "resolve_pending"
    request_id: int
    pending_id: int = checked(_count)
    student_id: str | None = checked(_optional_student_id)
    status: str = checked(checks.status, "present")
    professor: str | None = checked(_professor, None, omit_default=True)
    reason: str | None = checked(_reason, None, omit_default=True)


@response
@dataclass(frozen=True)
class ResolvePendingResponse:
    """op "pending_resolved": ``resolution`` confirmed (with the mark now) or rejected."""

    op: ClassVar[str] = "pending_resolved"
    request_id: int
    pending_id: int = checked(_count)
    resolution: str = checked(checks.one_of(RESOLUTIONS))
    student_id: str | None = checked(_optional_student_id)
    status: str | None = checked(checks.optional(checks.status))
    already_marked: bool = checked(checks.flag)


# -- liveness challenge for check-ins (docs/liveness.md) -------------------------------------


@request
@dataclass(frozen=True)
class ChallengeRequest:
    """Open a liveness challenge for a check-in in this lecture (replacing this client's open
    one, if any). Answered by :class:`ChallengeResponse`; ``liveness_off`` when the server does
    not require challenges (then ``checkin`` marks), ``checkins_paused`` after too many failed
    ones."""

    op: ClassVar[str] = "challenge"
    request_id: int
    lecture: str = checked(_lecture)


@response
@dataclass(frozen=True)
class ChallengeResponse:
    """op "challenge": the actions to do, in this order, within ``deadline`` seconds of this
    reply; ``max_frames``: frames the server takes for it in all."""

    op: ClassVar[str] = "challenge"
    request_id: int
    challenge_id: str = checked(checks.batch_id)
    lecture: str = checked(_lecture)
    actions: tuple[str, ...] = checked(checks.list_of_one_of(LIVENESS_ACTIONS, 1, MAX_CHALLENGE_ACTIONS))
    deadline: float = checked(checks.number_between(0.0, MAX_CHALLENGE_SECONDS))
    max_frames: int = checked(checks.int_between(1, MAX_CHALLENGE_FRAMES))


@request
@dataclass(frozen=True)
class ChallengeFramesRequest:
    """Frames of an open challenge (the camera, several a second, the one face in view), sent
    as they are taken. ``times``: each frame's time in seconds since the challenge was given
    (the client's clock), one per image, not decreasing. Answered by :class:`ChallengeProgressResponse`."""

    op: ClassVar[str] = "challenge_frames"
    request_id: int
    challenge_id: str = checked(checks.batch_id)
    images: tuple[bytes, ...] = images(MAX_CHALLENGE_BATCH)
    times: tuple[float, ...] = checked(checks.numbers_between(0.0, MAX_CHALLENGE_SECONDS, MAX_CHALLENGE_BATCH))

    def __repr__(self) -> str:
        return (
            f"ChallengeFramesRequest(request_id={self.request_id!r}, challenge_id={self.challenge_id!r}, "
            f"images=<{len(self.images)}>, times={self.times!r})"
        )


@response
@dataclass(frozen=True)
class ChallengeProgressResponse:
    """op "challenge_progress": the asked actions seen so far (``done``, in the asked order),
    the next one to do (None: all done), the frames received and the seconds left."""

    op: ClassVar[str] = "challenge_progress"
    request_id: int
    challenge_id: str = checked(checks.batch_id)
    done: tuple[str, ...] = checked(checks.list_of_one_of(LIVENESS_ACTIONS, 0, MAX_CHALLENGE_ACTIONS))
    next_action: str | None = checked(checks.optional(checks.one_of(LIVENESS_ACTIONS)))
    frames: int = checked(_count)
    remaining: float = checked(checks.number_between(0.0, MAX_CHALLENGE_SECONDS))


@request
@dataclass(frozen=True)
class ChallengeFinishRequest:
    """The challenge's frames are all sent: decide. The server checks that the asked actions
    happened in order, by one face, within the deadline (else ``liveness_failed`` naming the
    action not seen, or ``different_people``), then identifies the student from those frames as
    ``checkin`` does (``mark``, ``queue_uncertain`` as there). Answered by :class:`CheckinResponse`."""

    op: ClassVar[str] = "challenge_finish"
    request_id: int
    challenge_id: str = checked(checks.batch_id)
    mark: bool = checked(checks.flag, True)
    queue_uncertain: bool = checked(checks.flag, True)


# -- mark history -------------------------------------------------------------------------------


@request
@dataclass(frozen=True)
class HistoryRequest:
    """The changes of a lecture's marks: of one student, of one session's date, or all.
    Answered by :class:`HistoryResponse`."""

    op: ClassVar[str] = "history"
    request_id: int
    lecture: str = checked(_lecture)
    student_id: str | None = checked(_optional_student_id, None)
    session_date: str | None = checked(_optional_date, None)


@response
@dataclass(frozen=True)
class HistoryResponse:
    """The changes asked for, by session date, student, then the order they were made."""

    op: ClassVar[str] = "history"
    request_id: int
    lecture: str = checked(_lecture)
    entries: tuple[HistoryEntry, ...] = items(HistoryEntry)


def _item_types() -> tuple[type, ...]:
    """Every item class reachable from the messages' list fields, in order of first use."""
    found: dict[type, None] = {}
    pending = [*REQUEST_TYPES.values(), *RESPONSE_TYPES.values()]
    while pending:
        for item_type in layout(pending.pop(0)).item_types.values():
            if item_type not in found:
                found[item_type] = None
                pending.append(item_type)
    return tuple(found)


#: The item classes (inside messages' lists), found from the declarations.
ITEM_TYPES: tuple[type, ...] = _item_types()

if not TYPE_CHECKING:  # mypy cannot evaluate this list; without it, it sees every public name
    #: What ``from protocol.framed.messages import *`` gives: the classes and the upper-case names.
    __all__ = [
        *(cls.__name__ for cls in (*REQUEST_TYPES.values(), *RESPONSE_TYPES.values(), *ITEM_TYPES)),
        *(name for name in dir() if name.isupper() and not name.startswith("_")),
    ]
