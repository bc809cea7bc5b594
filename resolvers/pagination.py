"""Connection arguments: page size caps and opaque keyset cursors."""

from __future__ import annotations

import base64
import binascii

from bson import ObjectId

from resolvers.errors import ErrorCode, fail
from store.pagination import Window

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
_PREFIX = "cursor:"


def encode_cursor(key: ObjectId) -> str:
    return base64.b64encode(f"{_PREFIX}{key}".encode()).decode()


def decode_cursor(value: str, argument: str) -> ObjectId:
    try:
        text = base64.b64decode(value, validate=True).decode() if len(value) <= 100 else ""
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    key = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or len(key) != 24 or not ObjectId.is_valid(key):
        fail(
            ErrorCode.INVALID_CURSOR, f"`{argument}` is not a cursor of this connection", [argument]
        )
    return ObjectId(key)


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
) -> Window:
    """Check connection arguments; forward paging with ``first`` unless only ``last`` is given."""
    if first is not None and last is not None:
        fail(ErrorCode.INVALID_INPUT, "Pass either `first` or `last`, not both", ["first"])
    size_first = _size(first, "first")
    size_last = _size(last, "last")
    if size_first is None and size_last is None:
        size_first = DEFAULT_PAGE_SIZE
    return Window(
        first=size_first,
        after=decode_cursor(after, "after") if after is not None else None,
        last=size_last,
        before=decode_cursor(before, "before") if before is not None else None,
    )
