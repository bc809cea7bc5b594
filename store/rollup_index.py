"""The embedded engine's index of technical-contact loads, in both report orders.

mongomock has no indexes: ``find().sort().limit()`` over ``rollup_loads`` sorts every
document (seconds at 25,000 people). On the embedded engine (one process by design) the
loads are also kept here, per mongomock collection store, in sorted lists of
``(-app_count, person)`` and ``(app_count, person)`` (positive counts only), so a page is a
bisection plus the page and ``totalCount`` is a length.

It is built from the stored documents on first use, refreshed for one key after every write
of that key (store/rollups.py ``_bump``: it reads the key's stored document, so racing
writes leave it as the store is), and dropped by a rebuild. Only store/rollups.py and
store/rollup_reads.py write ``rollup_loads``; on MongoDB none of this runs (the
``app_count_desc`` index serves the same reads).
"""

from __future__ import annotations

from itertools import islice
from typing import Any
from weakref import WeakKeyDictionary

from bson import ObjectId
from sortedcontainers import SortedList

Entry = tuple[int, ObjectId]


class LoadIndex:
    def __init__(self, store: Any) -> None:
        self.counts: dict[Any, int] = {}
        self.descending: SortedList = SortedList()
        self.ascending: SortedList = SortedList()
        for doc in list(store.documents):
            self._set(doc["_id"], int(doc.get("app_count", 0)))

    def _set(self, key: Any, count: int) -> None:
        old = self.counts.pop(key, None)
        if old is not None:
            self.descending.remove((-old, key))
            self.ascending.remove((old, key))
        if count > 0:
            self.counts[key] = count
            self.descending.add((-count, key))
            self.ascending.add((count, key))

    def refresh(self, store: Any, key: Any) -> None:
        try:
            doc = store[key]
        except KeyError:
            doc = {}
        self._set(key, int(doc.get("app_count", 0)))

    def page(self, limit: int, descending: bool, after: Entry | None) -> list[Entry]:
        """Up to ``limit`` (app_count, person) after the keyset bound, in report order."""
        sign = -1 if descending else 1
        order = self.descending if descending else self.ascending
        start = 0 if after is None else order.bisect_right((sign * after[0], after[1]))
        return [(sign * count, key) for count, key in islice(order, start, start + limit)]

    def __len__(self) -> int:
        return len(self.counts)


_INDEXES: WeakKeyDictionary[Any, LoadIndex] = WeakKeyDictionary()


def index_of(mock: Any) -> LoadIndex:
    """The index of a mongomock collection's loads (built now if it is not yet)."""
    store = mock._store
    found = _INDEXES.get(store)
    if found is None:
        found = _INDEXES[store] = LoadIndex(store)
    return found


def refresh(mock: Any, key: Any) -> None:
    """After a write of ``key``: bring its entry in line with the stored document."""
    found = _INDEXES.get(mock._store)
    if found is not None:  # not built yet: it will read the stored state when it is
        found.refresh(mock._store, key)


def forget(mock: Any) -> None:
    _INDEXES.pop(mock._store, None)
