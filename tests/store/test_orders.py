"""Keyset pages in an order on a stored key (store/pagination.py ``Order``) against a sorted list.

Documents with ties, nulls and missing keys are read in every order, through every window
(``first`` after each position, ``last`` before each position, both bounds) and by walking the
whole list forwards and backwards; each page must be the matching slice of the reference
list, which is sorted here independently of the store. On the mock tier both the embedded
path (``mock_matching``) and the plain queries (one per segment) run; on the wire tier the
queries run on a MongoDB-compatible server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from store import pagination as pagination_module
from store.pagination import Order, Page, Seek, Window, paginate

NAMES = ["beta", "alpha", None, "gamma", "alpha", "Zulu", "beta", "", "alpha", "ß"]
START = datetime(2026, 1, 1, tzinfo=UTC)
LEVELS = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def _doc(index: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": ObjectId(), "n": index, "kind": "ab"[index % 2]}
    name = NAMES[index % len(NAMES)]
    if index % 9 != 4:  # sometimes missing altogether
        doc["name"] = name
    doc["at"] = None if index % 5 == 0 else START + timedelta(days=index % 4)
    doc["priority"] = "UNKNOWN" if index == 7 else LEVELS[(index * 3) % 4]
    return doc


async def _seed(db: Any, count: int = 30) -> list[dict[str, Any]]:
    docs = [_doc(index) for index in range(count)]
    await db["things"].insert_many([dict(doc) for doc in docs])
    return docs


def _reference(docs: list[dict[str, Any]], order: Order) -> list[ObjectId]:
    """The list's ids in ``order``, computed without the store: values first (sorted, ties by
    id), then nulls and missing (by id); ranks in rank order then others; descending reversed."""
    key = order.key
    assert key is not None

    def sort_key(doc: dict[str, Any]) -> tuple[Any, ...]:
        value = doc.get(key)
        if order.ranks is not None:
            rank = order.ranks.index(value) if value in order.ranks else len(order.ranks)
            return (rank, 0, doc["_id"])
        return (1, 0, doc["_id"]) if value is None else (0, value, doc["_id"])

    ordered = [doc["_id"] for doc in sorted(docs, key=sort_key)]
    return ordered[::-1] if order.descending else ordered


ORDERS = {
    "name": Order("name"),
    "name desc": Order("name", descending=True),
    "at": Order("at"),
    "at desc": Order("at", descending=True),
    "priority": Order("priority", ranks=LEVELS),
    "priority desc": Order("priority", descending=True, ranks=LEVELS),
}


def _ids(page: Page[Any]) -> list[ObjectId]:
    return [item["_id"] for item in page.items]


async def _read(db: Any, query: dict[str, Any], window: Window) -> Page[Any]:
    return await paginate(db["things"], query, window, dict)


async def _check_every_window(
    db: Any, query: dict[str, Any], order: Order, expected: list[Any]
) -> None:
    positions = {}
    whole = await _read(db, query, Window(first=100, order=order))
    assert _ids(whole) == expected and whole.total_count == len(expected)
    assert not whole.has_next_page and not whole.has_previous_page
    for item, position in zip(whole.items, whole.keys, strict=True):
        assert isinstance(position, Seek) and position.id == item["_id"]
        positions[item["_id"]] = position
    for index, key in enumerate(expected):
        after = await _read(db, query, Window(first=3, after=positions[key], order=order))
        assert _ids(after) == expected[index + 1 : index + 4]
        assert after.has_next_page == (index + 4 < len(expected)) and after.has_previous_page
        before = await _read(db, query, Window(last=3, before=positions[key], order=order))
        assert _ids(before) == expected[max(0, index - 3) : index]
        assert before.has_previous_page == (index > 3) and before.has_next_page
    if len(expected) > 8:
        low, high = positions[expected[2]], positions[expected[8]]
        between = await _read(db, query, Window(first=10, after=low, before=high, order=order))
        assert _ids(between) == expected[3:8]
        tail = await _read(db, query, Window(last=2, after=low, before=high, order=order))
        assert _ids(tail) == expected[6:8]


async def _walk(db: Any, query: dict[str, Any], order: Order, size: int) -> tuple[list, list]:
    forwards: list[ObjectId] = []
    cursor = None
    while True:
        page = await _read(db, query, Window(first=size, after=cursor, order=order))
        forwards += _ids(page)
        if not page.has_next_page:
            break
        cursor = page.keys[-1]
    backwards: list[ObjectId] = []
    cursor = None
    while True:
        page = await _read(db, query, Window(last=size, before=cursor, order=order))
        backwards = _ids(page) + backwards
        if not page.has_previous_page:
            break
        cursor = page.keys[0]
    return forwards, backwards


@pytest.mark.parametrize("name", sorted(ORDERS))
@pytest.mark.parametrize("embedded_path", [True, False], ids=["embedded", "queries"])
async def test_every_window_is_the_slice_of_the_sorted_list(
    db: Any, tier: str, name: str, embedded_path: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if tier == "wire" and embedded_path:
        pytest.skip("the embedded path exists on the mock tier only")
    if not embedded_path:
        monkeypatch.setattr(pagination_module, "mock_matching", lambda *_args: None)
    docs = await _seed(db)
    order = ORDERS[name]
    await _check_every_window(db, {}, order, _reference(docs, order))
    kind_a = {"kind": "a"}
    expected = _reference([doc for doc in docs if doc["kind"] == "a"], order)
    await _check_every_window(db, kind_a, order, expected)
    for size in (1, 4, 7):
        forwards, backwards = await _walk(db, kind_a, order, size)
        assert forwards == backwards == expected


@pytest.mark.parametrize("name", ["name", "at desc", "priority desc"])
async def test_pages_are_stable_under_inserts_and_ties(db: Any, name: str) -> None:
    """Documents inserted between two page reads, with the same key as the cursor (a tie) or
    sorting before it, never shift the next page: it starts right after the cursor."""
    order = ORDERS[name]
    docs = await _seed(db)
    first = await _read(db, {}, Window(first=10, order=order))
    cursor = first.keys[-1]
    twins = []
    for index in range(6):  # same key values as existing documents, new (larger) ids
        twin = {**_doc(index), "_id": ObjectId()}
        twins.append(twin)
    await db["things"].insert_many([dict(doc) for doc in twins])
    expected = _reference(docs + twins, order)
    rest = await _read(db, {}, Window(first=100, after=cursor, order=order))
    position = expected.index(cursor.id)
    assert _ids(rest) == expected[position + 1 :]
    assert not set(_ids(first)) & set(_ids(rest))


async def test_a_projection_keeps_the_key_the_cursor_needs(db: Any) -> None:
    """A read projecting only some keys still yields positions (the order's key is read)."""
    docs = await _seed(db)
    order = ORDERS["at desc"]
    page = await paginate(db["things"], {}, Window(first=5, order=order), dict, {"n": 1})
    assert _ids(page) == _reference(docs, order)[:5]
    assert all(isinstance(key, Seek) for key in page.keys)
