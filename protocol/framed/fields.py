"""How a message declares its fields: each field says its check, and whether it is a list of
items or the frame's blob, in the dataclass field's metadata.

- :func:`checked`: a JSON field and its check (:mod:`protocol.framed.checks`).
- :func:`items`: a JSON list of item objects (another dataclass declared the same way).
- :func:`image`, :func:`images`: the frame's blob: one image, or several one after the other
  (their sizes travel in the header as ``image_sizes``).

:func:`layout` reads these declarations back, once per class; :func:`validated` runs the checks;
:func:`identifiers_in` lists a message's student IDs and lecture codes (for the server's pattern).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

from protocol.framed import checks
from protocol.framed.checks import Check

_CHECK = "check"
_ITEM_TYPE = "item_type"
_BLOB = "blob"
_OMIT_DEFAULT = "omit_default"
#: Kinds of blob field.
IMAGE, IMAGES = "image", "images"


def checked(check: Check, default: Any = dataclasses.MISSING, *, repr: bool = True, omit_default: bool = False) -> Any:
    """A field sent in the JSON header, checked by ``check``. ``omit_default``: left out of the
    header while it has its default, so that a field added to a message later leaves the bytes
    of the messages without it as they were."""
    metadata = {_CHECK: check, _OMIT_DEFAULT: True} if omit_default else {_CHECK: check}
    return dataclasses.field(default=default, repr=repr, metadata=metadata)


def items(
    item_type: type,
    *,
    min_count: int = 0,
    max_count: int | None = None,
    rule: Callable[[tuple], None] | None = None,
    default: Any = dataclasses.MISSING,
) -> Any:
    """A JSON list of ``item_type`` objects (min_count to max_count of them), each validated;
    then ``rule`` (raising ValueError) for what concerns the items together."""

    def check(value: Any) -> tuple:
        checked_items = items_of(item_type, value, min_count, max_count)
        if rule is not None:
            rule(checked_items)
        return checked_items

    return dataclasses.field(default=default, metadata={_CHECK: check, _ITEM_TYPE: item_type})


def image(check: Check = checks.image) -> Any:
    """The frame's blob: one image (a non-empty one, unless ``check`` allows it empty)."""
    return dataclasses.field(repr=False, metadata={_CHECK: check, _BLOB: IMAGE})


def images(max_count: int) -> Any:
    """The frame's blob: 1 to ``max_count`` images one after the other."""
    return dataclasses.field(repr=False, metadata={_CHECK: checks.image_list(max_count), _BLOB: IMAGES})


@dataclasses.dataclass(frozen=True)
class Layout:
    """What a message or item class declares, read from its fields' metadata.

    ``checks``: every field but ``request_id``, in order, with its check; ``header``: the names
    sent in the JSON header, in order; ``item_types``: list fields -> item class; ``blob``: the
    blob field's name and kind (IMAGE or IMAGES), or None; ``omitted_defaults``: header fields
    left out while they have their default -> that default.
    """

    checks: tuple[tuple[str, Check], ...]
    header: tuple[str, ...]
    item_types: dict[str, type]
    blob: tuple[str, str] | None
    omitted_defaults: dict[str, Any] = dataclasses.field(default_factory=dict)


@functools.cache
def layout(cls: type) -> Layout:
    """The :class:`Layout` of a dataclass declared with the helpers above. A field without a
    check (other than ``request_id``) is a mistake in the declaration: TypeError."""
    field_checks, header, item_types, blob, omitted = [], [], {}, None, {}
    for f in dataclasses.fields(cls):
        if f.name == "request_id":
            continue
        if _CHECK not in f.metadata:
            raise TypeError(f"{cls.__name__}.{f.name} has no check (declare it with fields.checked)")
        field_checks.append((f.name, f.metadata[_CHECK]))
        if _BLOB in f.metadata:
            if blob is not None:
                raise TypeError(f"{cls.__name__} has two blob fields")
            blob = (f.name, f.metadata[_BLOB])
            continue
        header.append(f.name)
        if f.metadata.get(_OMIT_DEFAULT):
            omitted[f.name] = f.default
        if _ITEM_TYPE in f.metadata:
            item_types[f.name] = f.metadata[_ITEM_TYPE]
    return Layout(tuple(field_checks), tuple(header), item_types, blob, omitted)


def validated(obj: Any) -> Any:
    """Return ``obj`` with every field checked and normalized; ValueError names the bad field."""
    changes = {}
    cls: type = type(obj)
    for name, check in layout(cls).checks:
        try:
            changes[name] = check(getattr(obj, name))
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return dataclasses.replace(obj, **changes)


def items_of(item_type: type, value: Any, min_count: int = 0, max_count: int | None = None) -> tuple:
    """A tuple of ``item_type`` objects, each validated."""
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"must be a list, not {type(value).__name__}")
    if len(value) < min_count or (max_count is not None and len(value) > max_count):
        raise ValueError(f"must hold {min_count} to {max_count} items, not {len(value)}")
    checked_items = []
    for index, item in enumerate(value):
        if not isinstance(item, item_type):
            raise ValueError(f"item {index} must be a {item_type.__name__}")
        try:
            checked_items.append(validated(item))
        except ValueError as exc:
            raise ValueError(f"item {index}: {exc}") from None
    return tuple(checked_items)


def identifiers_in(obj: Any) -> list[tuple[str, str, str]]:
    """The student IDs and lecture codes a message (or item) carries, in its items too: a list of
    (field, kind, value), ``field`` as in error messages (``marks: item 2: student_id``), kind
    STUDENT_ID or LECTURE_CODE (protocol.identifiers)."""
    found: list[tuple[str, str, str]] = []
    cls: type = type(obj)
    for name, kind in _identifier_fields(cls):
        value = getattr(obj, name)
        if value is None:
            continue
        if kind is None:  # a list of items
            for index, item in enumerate(value):
                found += [(f"{name}: item {index}: {inner}", k, text) for inner, k, text in identifiers_in(item)]
        elif isinstance(value, str):
            found.append((name, kind, value))
        else:
            found += [(f"{name}: item {index}", kind, text) for index, text in enumerate(value)]
    return found


@functools.cache
def _identifier_fields(cls: type) -> tuple[tuple[str, str | None], ...]:
    """The fields of ``cls`` that hold identifiers: (name, kind), kind None for a list of items
    that hold some."""
    shape = layout(cls)
    fields: list[tuple[str, str | None]] = []
    for name, check in shape.checks:
        if name in shape.item_types:
            if _identifier_fields(shape.item_types[name]):
                fields.append((name, None))
        elif (kind := checks.identifier_kind(check)) is not None:
            fields.append((name, kind))
    return tuple(fields)
