"""The pieces store/embedded_index.py plans queries with: the values a document offers a
query, the conditions the index answers (equalities, ``$in``, datetime ranges) and plans
(candidate keys, and whether exactly those match) with their union and intersection.
Everything follows mongomock's matching semantics (mongomock 4.3)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from store.db import Document

Keys = set[Any] | frozenset[Any]
Plan = tuple[Keys | None, bool]  # (candidate keys, None = every document; exact)
EMPTY: frozenset[Any] = frozenset()
HASHED = (ObjectId, str)  # values equality on which is equality of Python values


def necessary(query: Document) -> list[tuple[list[str], str]]:
    """The plain string equalities among a filter's top-level clauses (``a`` or ``a.b``):
    a document failing one fails the filter, so mongomock's matcher need not run."""
    return [
        (path.split("."), value)
        for path, value in query.items()
        if isinstance(value, str) and not path.startswith("$") and path.count(".") <= 1
    ]


def holds(doc: Document, path: list[str], value: str) -> bool:
    """Whether ``doc`` may hold ``value`` at ``path`` (a field, or a field of its elements)."""
    found = doc.get(path[0])
    items = found if isinstance(found, list) else [found]
    if len(path) == 1:
        return value in items or found == value
    nested = (item.get(path[1]) for item in items if isinstance(item, dict))
    return any(item == value or (isinstance(item, list) and value in item) for item in nested)


def values_of(doc: Document, name: str) -> Iterator[Any]:
    """The values a query ``{name: value}`` can match, of the indexed kinds (None: missing;
    never for a dotted ``name``, whose null equality the index does not answer)."""
    head, _, rest = name.partition(".")
    if rest:
        found = doc.get(head)
        for item in found if isinstance(found, list) else [found]:
            if isinstance(item, dict):
                yield from (value for value in values_of(item, rest) if value is not None)
        return
    value = doc.get(name)
    if isinstance(value, list):
        for item in value:
            if isinstance(item, HASHED) or item is None:
                yield item
    elif isinstance(value, HASHED) or value is None:
        yield value


def naive(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def documents(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def equal_to(condition: Any) -> list[Any] | None:
    """The values an equality (``value`` or ``{$in: [...]}``) of indexed kinds matches."""
    if isinstance(condition, HASHED) or condition is None:
        return [condition]
    if isinstance(condition, dict) and list(condition) == ["$in"]:
        values = condition["$in"]
        if isinstance(values, list | tuple) and all(isinstance(v, HASHED) for v in values):
            return list(values)
    return None


Bound = tuple[datetime, bool]  # a moment, and whether it is excluded


def time_range(condition: Any) -> tuple[Bound, Bound] | None:
    """The datetime interval of a ``$gt/$gte/$lt/$lte`` condition: (low, high) bounds."""
    if not isinstance(condition, dict) or not condition:
        return None
    low, high = (datetime.min, False), (datetime.max, False)
    for operator, value in condition.items():
        moment = naive(value)
        if moment is None or operator not in ("$gt", "$gte", "$lt", "$lte"):
            return None
        if operator in ("$gt", "$gte"):
            low = max(low, (moment, operator == "$gt"))
        else:
            high = min(high, (moment, operator == "$lt"), key=lambda bound: (bound[0], -bound[1]))
    return low, high


def union(plans: list[Plan]) -> Plan:
    if not plans:
        return EMPTY, True
    exact = all(flag for _, flag in plans)
    if any(keys is None for keys, _ in plans):
        return None, exact and all(keys is None for keys, _ in plans if keys is None)
    sets = [keys for keys, _ in plans if keys is not None]
    return (sets[0] if len(sets) == 1 else set().union(*sets)), exact


def intersection(plans: list[Plan]) -> Plan:
    exact = all(flag for _, flag in plans)
    known = sorted((keys for keys, _ in plans if keys is not None), key=len)
    if not known:
        return None, exact
    if len(known) == 1:
        return known[0], exact
    return set(known[0]).intersection(*known[1:]), exact
