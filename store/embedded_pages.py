"""A page of the embedded engine's apps in a list's order, from its index
(store/embedded_index.py), as store/pagination.py's ``memory``.

The query's conditions are planned by the index (:meth:`Index.split`): candidate keys (a
viewer's apps, a hosting type, the apps at one risk) and *broad* leaves (a license expiry
window, a long ``$in``) that each key's index entry can test. Then either

- the candidates are few: each is read, the page is cut from them sorted in memory; or
- the page is *walked*: the order's sorted positions are read from the cursor on, each key
  tested (a set lookup, the broad leaves on its entry, mongomock's matcher where the plan is
  not exact), until the page is full. Page 1 of Support's at-risk lists costs the page (about
  page size / share of apps at risk steps), not the number of apps at risk.

A walk that meets fewer candidates than expected (they lie far along the order) stops after
a budget of steps and sorts the candidates instead, so it never costs much more than
sorting them would have. The total is counted only when the caller asks for it (Support's
at-risk totals come from the rollups): an exact plan's keys are counted, else they are
tested.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mongomock.filtering import filter_applies

from store.db import Document
from store.embedded_index import FEW
from store.embedded_plans import intersection
from store.pagination import Window, bounds, comparable, from_memory

if TYPE_CHECKING:
    from store.embedded_index import EntryTest, Index
    from store.embedded_plans import Keys

SORT_COST = 4  # sorting one candidate costs about this many steps of a walk
_SLACK = 64  # steps a walk may take beyond its estimate before it sorts instead


def page(
    index: Index, query: Document, window: Window, backwards: bool, limit: int, count: bool
) -> tuple[list[Document], int | None] | None:
    """Up to ``limit + 1`` documents from the page's start (as pagination's scan) and the
    total (None unless ``count``); None when the order is not kept by the index."""
    order = window.order
    if order.ranks is not None or order.key not in index.orders:
        return None
    parts, broad = index.split(query)
    size = len(index.documents)
    keys, exact = intersection(parts)
    tests = _tests(index, broad) if broad and (keys is None or len(keys) > FEW) else None
    if broad and tests is None:  # tested on the few candidates, or read whole
        keys, exact = index.finish(parts, broad)
    tests = tests or []
    estimate = min([size if keys is None else len(keys), *(most for _, most in tests)])
    docs = None
    if (keys is None and not tests) or estimate * estimate * SORT_COST > (limit + 1) * size:
        budget = None if keys is None and not tests else SORT_COST * estimate + _SLACK
        checks = [test for test, _ in tests]
        docs = _walk(index, query, window, backwards, limit, keys, checks, exact, budget)
    if docs is not None and not count:
        return docs, None
    if docs is not None and exact and not tests:
        return docs, size if keys is None else len(keys)
    if tests:
        keys, exact = index.finish(parts, broad)
    candidates = _candidates(index, query, keys, exact)
    if docs is None:
        docs = from_memory(candidates, window, order, backwards, limit)
    return docs, len(candidates) if count else None


def _tests(index: Index, broad: list[tuple[str, Any]]) -> list[tuple[EntryTest, int]] | None:
    """Each broad leaf as a test of an entry (and at most how many keys pass); None when
    one can't be tested so."""
    found = [index.test(name, condition) for name, condition in broad]
    return None if any(item is None for item in found) else [i for i in found if i is not None]


def _candidates(
    index: Index, query: Document, keys: Keys | None, exact: bool
) -> dict[Any, Document]:
    """The documents matching ``query`` among ``keys`` (None: every one), by key."""
    stored = index.documents
    among = stored.items() if keys is None else ((key, stored[key]) for key in keys)
    if exact:
        return dict(among)
    return {key: doc for key, doc in among if filter_applies(query, doc)}


def _walk(
    index: Index,
    query: Document,
    window: Window,
    backwards: bool,
    limit: int,
    keys: Keys | None,
    tests: list[EntryTest],
    exact: bool,
    budget: int | None,
) -> list[Document] | None:
    """The page's documents read along the order's positions; None once ``budget`` steps
    were taken without filling it."""
    order = window.order
    low, high = bounds(window, order)
    positions = index.orders[order.key].irange(
        None if low is None else comparable(low),
        None if high is None else comparable(high),
        inclusive=(False, False),
        reverse=backwards != order.descending,
    )
    stored, entries = index.documents, index.entries
    found: list[Document] = []
    steps = 0
    for position in positions:
        steps += 1
        if budget is not None and steps > budget:
            return None
        key = position[-1]
        if keys is not None and key not in keys:
            continue
        if tests:
            entry = entries[key]
            if not all(test(entry) for test in tests):
                continue
        doc = stored[key]
        if exact or filter_applies(query, doc):
            found.append(doc)
            if len(found) > limit:
                break
    return found
