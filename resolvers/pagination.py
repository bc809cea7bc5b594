"""Connection arguments: page size caps, orders and opaque keyset cursors.

A cursor is a position in its list's order (store/pagination.py): an ``_id`` for the default
order, or ``(segment, value, _id)`` for an order on a stored key. A keyed cursor names its key,
so a cursor of one order given to another is refused (INVALID_CURSOR) instead of misread.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId

from resolvers.errors import ErrorCode, fail
from store.pagination import ID_ORDER, Order, Position, Seek, Window


class Direction(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


def order_of(
    order_by: Mapping[str, Any] | None, orders: Mapping[Any, Order], default: Order = ID_ORDER
) -> Order:
    """The store order for an ``orderBy`` input ({field, direction}); ``default`` without one."""
    if order_by is None:
        return default
    descending = Direction(order_by["direction"]) is Direction.DESC
    return replace(orders[order_by["field"]], descending=descending)


MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_PREFIX = "cursor:"
_KEYED = "seek:"
_MAX_CURSOR = 1000


def _value(value: Any) -> list[Any]:
    if value is None:
        return ["n"]
    if isinstance(value, datetime):
        return ["d", round(value.timestamp() * 1000)]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int | float):
        return ["f", value]
    return ["s", str(value)]


def _unvalue(tagged: list[Any]) -> Any:
    tag, *rest = tagged
    if tag == "n" and not rest:
        return None
    [value] = rest
    if tag == "d" and type(value) is int:
        return datetime.fromtimestamp(value / 1000, UTC)
    if tag == "b" and type(value) is bool:
        return value
    if tag == "f" and type(value) in (int, float):
        return value
    if tag == "s" and type(value) is str:
        return value
    raise ValueError(tag)


def encode_cursor(key: Position, order: Order = ID_ORDER) -> str:
    if isinstance(key, Seek):
        text = _KEYED + json.dumps(
            [order.key, key.segment, str(key.id), *_value(key.value)], separators=(",", ":")
        )
    else:
        text = f"{_PREFIX}{key}"
    return base64.b64encode(text.encode()).decode()


def _text(value: str) -> str:
    try:
        return base64.b64decode(value, validate=True).decode() if len(value) <= _MAX_CURSOR else ""
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""


def _seek(text: str, order: Order) -> Seek | None:
    try:
        key, segment, id_, *value = json.loads(text.removeprefix(_KEYED))
        if key != order.key or type(segment) is not int or not ObjectId.is_valid(id_):
            return None
        return Seek(segment, _unvalue(value), ObjectId(id_))
    except (ValueError, TypeError):
        return None


def decode_cursor(value: str, argument: str, order: Order = ID_ORDER) -> Position:
    text = _text(value)
    found: Position | None = None
    if order.key is None and text.startswith(_PREFIX):
        key = text.removeprefix(_PREFIX)
        found = ObjectId(key) if len(key) == 24 and ObjectId.is_valid(key) else None
    elif order.key is not None and text.startswith(_KEYED):
        found = _seek(text, order)
    if found is None:
        fail(
            ErrorCode.INVALID_CURSOR,
            f"`{argument}` is not a cursor of this connection in this order",
            [argument],
        )
    return found


def _size(value: int | None, argument: str) -> int | None:
    if value is None:
        return None
    if value < 0:
        fail(ErrorCode.INVALID_INPUT, f"`{argument}` must not be negative", [argument])
    if value > MAX_PAGE_SIZE:
        fail(
            ErrorCode.PAGE_SIZE_EXCEEDED,
            f"Requesting {value} records exceeds the `{argument}` limit of {MAX_PAGE_SIZE}",
            [argument],
        )
    return value


def window(
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    order: Order = ID_ORDER,
) -> Window:
    """Check connection arguments; forward paging with ``first`` unless only ``last`` is given.
    Cursors are read as positions in ``order``."""
    if first is not None and last is not None:
        fail(ErrorCode.INVALID_INPUT, "Pass either `first` or `last`, not both", ["first"])
    size_first = _size(first, "first")
    size_last = _size(last, "last")
    if size_first is None and size_last is None:
        size_first = DEFAULT_PAGE_SIZE
    return Window(
        first=size_first,
        after=decode_cursor(after, "after", order) if after is not None else None,
        last=size_last,
        before=decode_cursor(before, "before", order) if before is not None else None,
        order=order,
    )
