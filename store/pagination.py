"""Keyset pagination: stable under inserts and ties, one query (or a few) plus one count.

A list is read in an :class:`Order`: ``_id`` alone (the default, oldest first), or a stored
key then ``_id``. Positions in a keyed order are :class:`Seek` triples ``(segment, value,
_id)``: the order splits the documents into *segments*, each read by one indexed query:

- a plain key: the documents that have a value (sorted by value, then ``_id``), then those
  whose key is null or missing (by ``_id``): nulls come last ascending, first descending;
- a ranked key (an enum such as a priority): one segment per value in rank order (by
  ``_id``), then any other value.

Each segment is one range scan of a compound index ``(key, _id)`` (or the filter's own
index plus a sort), so every page costs at most one query per segment it touches.
``descending`` reverses the whole order (segments, values and ``_id``s).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, NamedTuple, TypeVar

from bson import ObjectId

from store.db import Document
from store.embedded import mock_matching

T = TypeVar("T")


class Seek(NamedTuple):
    """A position in a keyed order: the segment, the key's value in it (None where the
    segment is not sorted by value) and the document's ``_id``."""

    segment: int
    value: Any
    id: ObjectId


Position = ObjectId | Seek


@dataclass(frozen=True)
class Order:
    """``key`` (then ``_id``), or ``_id`` alone when ``key`` is None. ``ranks``: the key's
    values in order (an enum), compared by rank instead of by value."""

    key: str | None = None
    descending: bool = False
    ranks: tuple[str, ...] | None = None

    def segments(self) -> list[tuple[Document, str | None]]:
        """(filter clause, key sorted on within it, if any) per segment, ascending."""
        key = self.key
        assert key is not None
        if self.ranks is not None:
            return [({key: rank}, None) for rank in self.ranks] + [
                ({key: {"$nin": list(self.ranks)}}, None)
            ]
        return [({key: {"$ne": None}}, key), ({key: None}, None)]

    def position(self, doc: Document) -> Position:
        if self.key is None:
            return doc["_id"]  # type: ignore[no-any-return]
        value = _aware(doc.get(self.key))
        if self.ranks is not None:
            index = self.ranks.index(value) if value in self.ranks else len(self.ranks)
            return Seek(index, None, doc["_id"])
        return Seek(1, None, doc["_id"]) if value is None else Seek(0, value, doc["_id"])


ID_ORDER = Order()


@dataclass(frozen=True)
class Window:
    """Which slice to read: ``first`` after a position, or ``last`` before a position
    (positions in the list's order: ObjectIds for ``_id`` order, :class:`Seek` otherwise)."""

    first: int | None = None
    after: Any = None
    last: int | None = None
    before: Any = None
    order: Order = ID_ORDER


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    keys: list[Any]  # the items' positions
    has_next_page: bool
    has_previous_page: bool
    total_count: int
    order: Order = ID_ORDER  # the order ``keys`` are positions in


def _aware(value: Any) -> Any:
    # mongomock stores naive UTC datetimes; PyMongo (tz_aware) returns aware ones
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


_TYPE_RANK = {bool: 4, int: 1, float: 1, str: 2, datetime: 5}


def comparable(position: Position) -> tuple[Any, ...]:
    """A position as a tuple Python can compare even over malformed (mixed-type) values."""
    if isinstance(position, ObjectId):
        return (0, 0, 0, position)
    segment, value, key = position
    rank = _TYPE_RANK.get(type(value), 0 if value is None else 9)
    shown = value if rank in (1, 2, 5) else (None if value is None else repr(value))
    return (segment, rank, shown if shown is not None else 0, key)


def bounds(window: Window, order: Order) -> tuple[Any, Any]:
    """(low, high): exclusive bounds in the ascending order of positions."""
    if order.descending:
        return window.before, window.after
    return window.after, window.before


# (query, window, backwards, limit, count) -> up to limit + 1 documents from the page's start
# in scan order, and the total (None unless count); None where it can't tell
Memory = Callable[[Document, Window, bool, int, bool], tuple[list[Document], int | None] | None]


async def paginate(
    collection: Any,
    query: Document,
    window: Window,
    parse: Any,
    projection: Document | None = None,
    memory: Memory | None = None,
    total: int | None = None,
) -> Page[Any]:
    """Read one page of ``collection`` matching ``query`` in ``window.order``. ``memory``:
    the embedded engine's index of the collection (store/embedded_index.py), which reads
    the page and its total where it can. ``total``: the number of matching documents when
    the caller knows it already (Support's at-risk totals, from the rollups): not counted."""
    order = window.order
    backwards = window.last is not None and window.first is None
    limit = window.last if backwards else window.first
    assert limit is not None
    count = total is None
    indexed = memory(query, window, backwards, limit, count) if memory is not None else None
    matching = mock_matching(collection, query) if indexed is None else None
    if indexed is not None:
        docs, counted = indexed
    elif matching is not None:
        docs = from_memory(matching, window, order, backwards, limit)
        counted = len(matching)
    else:
        if projection is not None and order.key is not None:
            projection = {**projection, order.key: 1}
        ascending = backwards == order.descending
        docs = await _scan(collection, query, window, order, ascending, limit + 1, projection)
        counted = await collection.count_documents(query) if count else None
    total = counted if total is None else total
    assert total is not None
    more = len(docs) > limit
    docs = docs[:limit]
    if backwards:
        docs.reverse()
    return Page(
        items=[parse(doc) for doc in docs],
        keys=[order.position(doc) for doc in docs],
        has_next_page=more if not backwards else window.before is not None,
        has_previous_page=more if backwards else window.after is not None,
        total_count=total,
        order=order,
    )


async def _scan(
    collection: Any,
    query: Document,
    window: Window,
    order: Order,
    ascending: bool,
    limit: int,
    projection: Document | None,
) -> list[Document]:
    """Up to ``limit`` documents from the page's start, in scan order (one query per
    segment touched)."""
    direction = 1 if ascending else -1
    low, high = bounds(window, order)
    if order.key is None:
        limits: Document = {}
        if low is not None:
            limits["$gt"] = low
        if high is not None:
            limits["$lt"] = high
        keyed = {"$and": [query, {"_id": limits}]} if limits else query
        cursor = collection.find(keyed, projection).sort("_id", direction)
        return list(await cursor.limit(limit).to_list(None))
    segments = list(enumerate(order.segments()))
    docs: list[Document] = []
    for index, (clause, key) in segments if ascending else reversed(segments):
        if len(docs) >= limit:
            break
        parts = _segment_bounds(index, key, low, high)
        if parts is None:
            continue
        keyed = {"$and": [query, clause, *parts]} if query else {"$and": [clause, *parts]}
        sort = [(key, direction), ("_id", direction)] if key else [("_id", direction)]
        cursor = collection.find(keyed, projection).sort(sort)
        docs += await cursor.limit(limit - len(docs)).to_list(None)
    return docs


def _segment_bounds(
    index: int, key: str | None, low: Seek | None, high: Seek | None
) -> list[Document] | None:
    """The clauses keeping segment ``index`` strictly between ``low`` and ``high``; None
    when no document of the segment can lie there."""
    parts: list[Document] = []
    for bound, beyond in ((low, "$gt"), (high, "$lt")):
        if bound is None:
            continue
        if (bound.segment > index) if beyond == "$gt" else (bound.segment < index):
            return None
        if bound.segment != index:
            continue
        if key is None:
            parts.append({"_id": {beyond: bound.id}})
        else:
            tie = {key: bound.value, "_id": {beyond: bound.id}}
            parts.append({"$or": [{key: {beyond: bound.value}}, tie]})
    return parts


def from_memory(
    matching: dict[Any, Document], window: Window, order: Order, backwards: bool, limit: int
) -> list[Document]:
    """The same documents as :func:`_scan`, from the embedded engine's documents that match
    the query (store/embedded.py ``mock_matching``): one scan, no copies, no second scan to count.

    Records are validated from the stored documents themselves (see mock_matching); a
    projected record class ignores the keys it was not asked for, as a projection would."""
    low, high = bounds(window, order)
    low_key = comparable(low) if low is not None else None
    high_key = comparable(high) if high is not None else None
    ranked = []
    for doc in matching.values():
        sortable = comparable(order.position(doc))
        if (low_key is None or sortable > low_key) and (high_key is None or sortable < high_key):
            ranked.append((sortable, doc))
    pick = heapq.nsmallest if backwards == order.descending else heapq.nlargest
    return [doc for _, doc in pick(limit + 1, ranked, key=lambda pair: pair[0])]
