"""JSON for the core's messages: an :class:`Inbound` and a turn's parts, stored in the inbox.

The dataclasses of :mod:`bot.core.messages` go to plain JSON (tuples as lists,
datetimes as ISO text) and come back typed, guided by their field annotations. Only
those classes are read back: a payload cannot name any other type.

Example:
    >>> inbound = Inbound(channel="slack", tenant="T1", conversation="D1:1", user_id="U1",
    ...                   text="RFI とは？", received_at=datetime(2026, 12, 1, tzinfo=UTC))
    >>> inbound_from_json(inbound_to_json(inbound)) == inbound
    True
    >>> parts_from_json(parts_to_json([Text("はい")]))
    [Text(text='はい')]
"""

from __future__ import annotations

import dataclasses
import functools
import types
from datetime import UTC, datetime
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from bot.core.messages import (
    Action,
    Attachment,
    Choice,
    Choices,
    Citation,
    CitationList,
    FeedbackRequest,
    Form,
    FormField,
    Inbound,
    Memo,
    Part,
    SheetSummary,
    Text,
)

_PART_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (Text, Choices, CitationList, Form, SheetSummary, FeedbackRequest, Memo)
}
_KNOWN = frozenset({
    Inbound, Action, Attachment, Choice, Citation, FormField, *_PART_TYPES.values()
})


class CodecError(ValueError):
    """Stored JSON that does not describe a message of the core."""


def inbound_to_json(inbound: Inbound) -> dict[str, Any]:
    """``inbound`` as a JSON-ready dict."""
    encoded = _encode(inbound)
    assert isinstance(encoded, dict)
    return encoded


def inbound_from_json(data: Any) -> Inbound:
    """The :class:`Inbound` that :func:`inbound_to_json` wrote.

    Raises:
        CodecError: ``data`` is not such a dict.
    """
    value = _decode(Inbound, data)
    assert isinstance(value, Inbound)
    return value


def parts_to_json(parts: list[Part]) -> list[dict[str, Any]]:
    """A turn's parts as JSON, each tagged with its type name."""
    return [{"part": type(part).__name__, "data": _encode(part)} for part in parts]


def parts_from_json(data: Any) -> list[Part]:
    """The parts that :func:`parts_to_json` wrote.

    Raises:
        CodecError: ``data`` is not such a list.
    """
    if not isinstance(data, list):
        raise CodecError("parts must be a list")
    parts: list[Part] = []
    for item in data:
        if not isinstance(item, dict) or item.get("part") not in _PART_TYPES:
            raise CodecError("not a part")
        parts.append(_decode(_PART_TYPES[item["part"]], item.get("data")))
    return parts


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if type(value) not in _KNOWN:
            raise CodecError(f"cannot encode {type(value).__name__}")
        # A field marked ``stored: False`` (an attachment's fetch callable) is not kept.
        return {
            f.name: _encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.metadata.get("stored", True)
        }
    if isinstance(value, tuple | list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise CodecError(f"cannot encode {type(value).__name__}")


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return get_type_hints(cls)


def _decode(annotation: Any, data: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        if data is None:
            return None
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(options) != 1:
            raise CodecError(f"ambiguous union {annotation}")
        return _decode(options[0], data)
    if annotation in _KNOWN:
        if not isinstance(data, dict):
            raise CodecError(f"{annotation.__name__} must be an object")
        hints = _hints(annotation)
        values = {
            f.name: _decode(hints[f.name], data[f.name])
            for f in dataclasses.fields(annotation)
            if f.name in data
        }
        try:
            return annotation(**values)
        except TypeError as error:
            raise CodecError(f"incomplete {annotation.__name__}") from error
    if origin is tuple:
        if not isinstance(data, list):
            raise CodecError("a tuple must be a list")
        args = get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        return tuple(_decode(arg, item) for arg, item in zip(args, data, strict=True))
    if origin is dict:
        if not isinstance(data, dict):
            raise CodecError("a dict must be an object")
        return {str(key): str(value) for key, value in data.items()}
    if annotation is datetime:
        moment = datetime.fromisoformat(str(data))
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if origin is Literal:
        if data not in get_args(annotation):
            raise CodecError(f"unexpected value for {annotation}")
        return data
    if annotation in (str, int, float, bool):
        if not isinstance(data, annotation):
            raise CodecError(f"expected {annotation.__name__}")
        return data
    raise CodecError(f"cannot decode {annotation}")
