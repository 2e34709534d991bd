"""One frame <-> one message: :func:`encode` builds a frame, :func:`decode_frame_content` turns
a frame's header and blob back into a message. Both check every field (the same checks).

A frame::

    +----------------+----------------+----------------+------------------+---------------+
    | N: u32 BE      | request_id:    | header_len:    | header: UTF-8    | blob: the     |
    | bytes after    | u32 BE         | u32 BE         | JSON object,     | rest (image   |
    | this field     |                |                | header_len bytes | bytes or none)|
    +----------------+----------------+----------------+------------------+---------------+

The header holds ``"op"`` and the message's fields in declaration order (with ``image_sizes``
last for a several-image message); the blob holds the image field's bytes, if any.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

from protocol.errors import ErrorCode, LocalProtocolError
from protocol.framed import checks
from protocol.framed.checks import shown
from protocol.framed.fields import IMAGE, IMAGES, layout, validated
from protocol.framed.messages import OP_OF_TYPE

MAGIC = b"\x00ATT"
VERSION = 1
PREAMBLE = MAGIC + bytes([VERSION])

#: Largest N (bytes after the length field) a decoder accepts by default: 16 MiB.
DEFAULT_MAX_FRAME_BYTES = 16 * 2**20
MAX_REQUEST_ID = 2**32 - 1

FRAME_LENGTH = struct.Struct(">I")  # N
BODY_PREFIX = struct.Struct(">II")  # request_id, header_len: the first 8 of the N bytes
#: The header field that gives the sizes of the images of a several-image op (their bytes are
#: the blob, one after the other).
IMAGE_SIZES = "image_sizes"


# -- encoding -------------------------------------------------------------------------------


def encode(message: Any, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> bytes:
    """Return one frame holding ``message``; raise :class:`LocalProtocolError` when invalid.

    ``max_frame_bytes`` (bytes): refuse (code ``frame_too_large``) a frame whose N exceeds it.
    """
    op = OP_OF_TYPE.get(type(message))
    if op is None:
        raise LocalProtocolError(ErrorCode.BAD_REQUEST, f"not a message: {type(message).__name__}")
    request_id = message.request_id
    try:
        checks.request_id(request_id, MAX_REQUEST_ID)
        message = validated(message)
    except ValueError as exc:
        rid = request_id if isinstance(request_id, int) else None
        raise LocalProtocolError(ErrorCode.BAD_REQUEST, f"{op}: {exc}", rid) from None
    header = {"op": op, **_header_fields(message)}
    blob = _blob_of(message, header)
    header_bytes = json.dumps(header, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    length = BODY_PREFIX.size + len(header_bytes) + len(blob)
    if length > max_frame_bytes:
        raise LocalProtocolError(
            ErrorCode.FRAME_TOO_LARGE,
            f"{op}: frame of {length} bytes exceeds {max_frame_bytes}",
            request_id,
        )
    return FRAME_LENGTH.pack(length) + BODY_PREFIX.pack(request_id, len(header_bytes)) + header_bytes + blob


def _header_fields(obj: Any) -> dict[str, Any]:
    """The JSON fields of a validated message or item (lists of items become lists of objects)."""
    cls: type = type(obj)
    shape = layout(cls)
    fields = {}
    for name in shape.header:
        value = getattr(obj, name)
        if name in shape.omitted_defaults and value == shape.omitted_defaults[name]:
            continue  # a field added later, at its default: the bytes of before
        if name in shape.item_types:
            value = [_header_fields(item) for item in value]
        fields[name] = value
    return fields


def _blob_of(message: Any, header: dict[str, Any]) -> bytes:
    """The frame's blob: the image of an image op, or the images of a several-image op one
    after the other (their sizes go into ``header``)."""
    cls: type = type(message)
    blob = layout(cls).blob
    if blob is None:
        return b""
    name, kind = blob
    if kind == IMAGES:
        images = getattr(message, name)
        header[IMAGE_SIZES] = [len(image) for image in images]
        return b"".join(images)
    return getattr(message, name)


# -- decoding -------------------------------------------------------------------------------


def decode_frame_content(request_id: int, header: bytes, blob: bytes, types: dict[str, type]) -> Any:
    """Turn a frame's header and blob into a message of one of ``types`` (an op table:
    REQUEST_TYPES or RESPONSE_TYPES). Raises ValueError naming the problem when the content is
    invalid.
    """
    fields = _parse_header(header)
    op = fields.pop("op", None)
    if not isinstance(op, str):
        raise ValueError('header has no "op" string')
    cls = types.get(op)
    if cls is None:
        raise ValueError(f"unknown op {shown(op)} (expected one of {', '.join(types)})")
    given: dict[str, Any] = {"request_id": request_id}
    blob_field = layout(cls).blob
    if blob_field is not None and blob_field[1] == IMAGE:  # recognize, detect, identify...
        given[blob_field[0]] = blob
    elif blob_field is not None:  # checkin, enroll
        given[blob_field[0]] = _split_images(fields.pop(IMAGE_SIZES, None), blob)
    elif blob:
        raise ValueError(f"op {op!r} takes no blob, got {len(blob)} bytes after the header")
    try:
        return validated(_from_header_fields(cls, fields, given))
    except ValueError as exc:
        raise ValueError(f"{op}: {exc}") from None


def _split_images(sizes: Any, blob: bytes) -> tuple[bytes, ...]:
    """The images of a several-image op: ``blob`` cut at ``sizes`` (which must add up to it)."""
    if not isinstance(sizes, list) or not all(
        isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in sizes
    ):
        raise ValueError(f"{IMAGE_SIZES} must be a list of image sizes in bytes (integers > 0)")
    if sum(sizes) != len(blob):
        raise ValueError(f"{IMAGE_SIZES} add up to {sum(sizes)} bytes, but the blob has {len(blob)}")
    images, start = [], 0
    for size in sizes:
        images.append(blob[start : start + size])
        start += size
    return tuple(images)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {shown(key)} appears twice")
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
    """Build a ``cls`` from JSON ``fields`` plus ``given`` (request_id, blob); no checks yet.

    Fields with a default value may be left out; unknown fields are refused.
    """
    if not isinstance(fields, dict):
        raise ValueError(f"must be a JSON object, not {type(fields).__name__}")
    wire_names = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    for name in fields:
        if name not in wire_names:
            raise ValueError(f"unknown field {shown(name)}")
    item_types = layout(cls).item_types
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
        if f.name in item_types:
            value = _items_from_json(item_types[f.name], f.name, value)
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
