"""Keyset pagination over ``_id``: stable under inserts, one query plus one count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bson import ObjectId

from store.db import Document
from store.embedded import mock_matching

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Which slice to read: ``first`` after a key, or ``last`` before a key."""

    first: int | None = None
    after: ObjectId | None = None
    last: int | None = None
    before: ObjectId | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    keys: list[ObjectId]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


async def paginate(
    collection: Any,
    query: Document,
    window: Window,
    parse: Any,
    projection: Document | None = None,
) -> Page[Any]:
    """Read one page of ``collection`` matching ``query`` in ``_id`` order."""
    matching = mock_matching(collection, query)
    if matching is not None:
        return _page_of(matching, window, parse)
    bounds: Document = {}
    if window.after is not None:
        bounds["$gt"] = window.after
    if window.before is not None:
        bounds["$lt"] = window.before
    keyed = {"$and": [query, {"_id": bounds}]} if bounds else query
    backwards = window.last is not None and window.first is None
    limit = window.last if backwards else window.first
    assert limit is not None
    cursor = collection.find(keyed, projection).sort("_id", -1 if backwards else 1)
    docs = await cursor.limit(limit + 1).to_list(None)
    more = len(docs) > limit
    docs = docs[:limit]
    if backwards:
        docs.reverse()
    total = await collection.count_documents(query)
    return Page(
        items=[parse(doc) for doc in docs],
        keys=[doc["_id"] for doc in docs],
        has_next_page=more if not backwards else window.before is not None,
        has_previous_page=more if backwards else window.after is not None,
        total_count=total,
    )


def _page_of(matching: dict[Any, Document], window: Window, parse: Any) -> Page[Any]:
    """The same page as :func:`paginate`'s query, from the embedded engine's documents that
    match it (store/embedded.py ``mock_matching``): one scan, no copies, no second scan to count."""
    keys = sorted(
        key
        for key in matching
        if (window.after is None or key > window.after)
        and (window.before is None or key < window.before)
    )
    backwards = window.last is not None and window.first is None
    limit = window.last if backwards else window.first
    assert limit is not None
    chosen = keys[-limit - 1 :] if backwards else keys[: limit + 1]
    more = len(chosen) > limit
    chosen = chosen[1:] if backwards and more else chosen[:limit]
    # records are validated from the stored documents themselves (see mock_matching); a
    # projected record class ignores the keys it was not asked for, as a projection would
    return Page(
        items=[parse(matching[key]) for key in chosen],
        keys=list(chosen),
        has_next_page=more if not backwards else window.before is not None,
        has_previous_page=more if backwards else window.after is not None,
        total_count=len(matching),
    )
