"""How a message declares its fields: each field says its check, and whether it is a list of
items or the frame's blob, in the dataclass field's metadata.

- :func:`checked`: a JSON field and its check (:mod:`protocol.framed.checks`).
- :func:`items`: a JSON list of item objects (another dataclass declared the same way).
- :func:`image`, :func:`images`: the frame's blob: one image, or several one after the other
  (their sizes travel in the header as ``image_sizes``).

:func:`layout` reads these declarations back, once per class; :func:`validated` runs the checks.
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
_OMITTED_AT_DEFAULT = "omitted_at_default"
#: Kinds of blob field.
IMAGE, IMAGES = "image", "images"


def checked(check: Check, default: Any = dataclasses.MISSING, *, repr: bool = True, added: bool = False) -> Any:
    """A field sent in the JSON header, checked by ``check``.

    ``added``: a field added to a message after its first release, left out of the header while
    it holds its default, so that the message's bytes stay what they were (and a server that
    does not know the field still takes the message when the field is not used).
    """
    metadata = {_CHECK: check, _OMITTED_AT_DEFAULT: added}
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
    blob field's name and kind (IMAGE or IMAGES), or None.
    """

    checks: tuple[tuple[str, Check], ...]
    header: tuple[str, ...]
    item_types: dict[str, type]
    blob: tuple[str, str] | None
    #: Header fields left out while they hold this default (``checked(..., added=True)``).
    omitted_defaults: dict[str, Any] = dataclasses.field(default_factory=dict)


@functools.cache
def layout(cls: type) -> Layout:
    """The :class:`Layout` of a dataclass declared with the helpers above. A field without a
    check (other than ``request_id``) is a mistake in the declaration: TypeError."""
    field_checks, header, item_types, blob = [], [], {}, None
    omitted: dict[str, Any] = {}
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
        if _ITEM_TYPE in f.metadata:
            item_types[f.name] = f.metadata[_ITEM_TYPE]
        if f.metadata.get(_OMITTED_AT_DEFAULT):
            if f.default is dataclasses.MISSING:
                raise TypeError(f"{cls.__name__}.{f.name}: an added field needs a default")
            omitted[f.name] = f.default
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
