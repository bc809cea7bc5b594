"""The embedded engine's secondary indexes of apps and people (mongomock has none).

mongomock answers every query, ``_id`` lookups included, by testing every stored document.
On the embedded engine (one process by design, store/lock.py) this module keeps, per
mongomock collection store of ``apps`` and ``people``:

- for a few fields (a person's apps, hosting, status, the person-derived risks an app
  carries, ``contact_risks.risks``; a person's status and MendixID): value -> keys of the
  documents holding it (any element of an array);
- for each app order (``_id``, name, ordered_at, delivered_at, next_license_expiry): a sorted
  list of the positions store/pagination.py pages by;
- the apps' license expiries (sorted), the apps matching each of the at-risk filters that
  depend on the app document alone (store/risks.py), and the apps and people with a rollup
  follow-up pending (``rollups.pending_filter``).

A query is planned from its conjuncts and disjuncts over those (:meth:`Index.plan`): the
candidates are read by key, and every one is still tested with mongomock's own matcher
unless the plan is exact (only equality / ``$in`` on indexed values, ``_id``, or a whole
flagged filter). A page in an indexed order (store/embedded_pages.py) sorts few candidates,
or walks that order's list from the cursor, testing each key, and stops after the page. So
a viewer's reads cost in proportion to their apps and Support's pages to the page, whatever
the number of apps.

It is built from the stored documents on first use and kept up to date by every write of the
engine, inside the write (store/embedded.py ``watch``): whatever writes (the store's
functions, ``generate``, a racing request, a rollback), the index is the store. Loading a
data file happens before first use; a dropped collection or documents changed behind
mongomock's back (another document count) rebuild it. On MongoDB none of this runs: its
indexes (store/indexes.py and each module's ``ensure_indexes``) serve the same queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from bson import ObjectId
from mongomock import filtering, helpers
from mongomock.filtering import filter_applies
from sortedcontainers import SortedList

from store.db import Document
from store.embedded import mongomock_collection, unwatch, watch
from store.embedded_plans import (
    EMPTY,
    HASHED,
    Bound,
    Keys,
    Plan,
    documents,
    equal_to,
    holds,
    intersection,
    naive,
    necessary,
    time_range,
    union,
    values_of,
)
from store.pagination import Memory, Seek, Window, comparable


@dataclass(frozen=True)
class Spec:
    keyed: tuple[str, ...]  # top-level fields, or ``a.b`` (a dict, or a list of dicts)
    ordered: tuple[str, ...] = ()
    expiries: bool = False
    flagged: bool = False  # the at-risk filters of the app document alone
    pending: bool = False  # documents with rollup entries or follow-ups pending


SPECS = {
    "apps": Spec(
        keyed=(
            "member_ids",
            "technical_contact_ids",
            "account_executive_id",
            "hosting",
            "status",
            "subdomain",  # its unique index's check (store/embedded.py)
            "contact_risks.risks",  # person-derived risks (store/rollup_people.py)
        ),
        ordered=("name", "ordered_at", "delivered_at", "next_license_expiry"),
        expiries=True,
        flagged=True,
        pending=True,
    ),
    "people": Spec(keyed=("status", "mendix_id", "email"), pending=True),
}

Quick = Callable[[Document], bool]  # False: the document can't match the flag's filter


def _flag_filters(spec: Spec) -> dict[str, tuple[Document, Quick]]:
    # they build on store/apps.py, which builds on this module
    from store import risks, rollups

    filters: dict[str, tuple[Document, Quick]] = {}
    if spec.flagged:
        for name, query in (
            ("cloud_without_alerts", risks.cloud_without_alerts()),
            ("foreign_manage_permissions", risks.foreign_manage_permissions()),
        ):
            patched = helpers.patch_datetime_awareness_in_document(query)
            needs = necessary(patched)
            filters[name] = (patched, lambda doc, n=needs: all(holds(doc, p, v) for p, v in n))
    if spec.pending:
        filters["pending"] = (rollups.pending_filter(), lambda doc: bool(doc.get(rollups.PENDING)))
    return filters


@dataclass
class _Entry:
    keyed: list[tuple[str, Any]] = field(default_factory=list)
    positions: list[tuple[str | None, tuple[Any, ...]]] = field(default_factory=list)
    expiries: list[tuple[datetime, Any]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


class Index:
    def __init__(self, store: Any, spec: Spec) -> None:
        self.store = store
        self.spec = spec
        self.documents = store._documents
        self.keyed: dict[str, dict[Any, set[Any]]] = {name: {} for name in spec.keyed}
        self.orders: dict[str | None, SortedList] = {None: SortedList()}
        self.orders.update({name: SortedList() for name in spec.ordered})
        self.expiries = SortedList()
        self.flag_filters = _flag_filters(spec)
        self.flagged: dict[str, set[Any]] = {name: set() for name in self.flag_filters}
        self.entries: dict[Any, _Entry] = {}
        self.odd: set[Any] = set()  # keys that are not ObjectIds: the index then steps aside
        for key in list(self.documents):
            self.refresh(key)

    @property
    def current(self) -> bool:
        """Whether it still describes the store (not dropped, nothing added behind its back)."""
        return self.store._documents is self.documents and len(self.documents) == len(
            self.entries
        ) + len(self.odd)

    def refresh(self, key: Any) -> None:
        """Bring ``key``'s entries in line with its stored document (or its absence)."""
        try:
            old = self.entries.pop(key, None)
        except TypeError:  # an unhashable key is no stored document's key
            return
        self.odd.discard(key)
        if old is not None:
            self._remove(key, old)
        doc = self.documents.get(key)
        if doc is None:
            return
        if type(key) is not ObjectId:
            self.odd.add(key)
            return
        entry = self._entry(key, doc)
        self.entries[key] = entry
        for name, value in entry.keyed:
            self.keyed[name].setdefault(value, set()).add(key)
        for order, position in entry.positions:
            self.orders[order].add(position)
        for item in entry.expiries:
            self.expiries.add(item)
        for name in entry.flags:
            self.flagged[name].add(key)

    def _entry(self, key: Any, doc: Document) -> _Entry:
        entry = _Entry()
        for name in self.spec.keyed:
            entry.keyed += [(name, value) for value in set(values_of(doc, name))]
        entry.positions.append((None, comparable(key)))
        for name in self.spec.ordered:
            value = doc.get(name)
            seek = Seek(1, None, key) if value is None else Seek(0, _aware_value(value), key)
            entry.positions.append((name, comparable(seek)))
        if self.spec.expiries:
            licenses = doc.get("licenses")
            for item in licenses if isinstance(licenses, list) else ():
                moment = naive(item.get("expires_at")) if isinstance(item, dict) else None
                if moment is not None:
                    entry.expiries.append((moment, key))
        entry.flags = [
            name
            for name, (f, quick) in self.flag_filters.items()
            if quick(doc) and filter_applies(f, doc)
        ]
        return entry

    def _remove(self, key: Any, entry: _Entry) -> None:
        for name, value in entry.keyed:
            holders = self.keyed[name][value]
            holders.discard(key)
            if not holders:
                del self.keyed[name][value]
        for order, position in entry.positions:
            self.orders[order].remove(position)
        for item in entry.expiries:
            self.expiries.remove(item)
        for name in entry.flags:
            self.flagged[name].discard(key)

    def holders(self, name: str, value: Any) -> int | None:
        """How many documents hold ``value`` in ``name`` (None: not counted here)."""
        if name not in self.keyed or not (isinstance(value, HASHED) or value is None):
            return None
        if not self.current:
            return None
        return len(self.keyed[name].get(value, EMPTY))

    # --- planning ---------------------------------------------------------------------------

    def plan(self, query: Document) -> Plan:
        """Keys that may match ``query`` (a patched filter: naive datetimes), and whether
        exactly those match."""
        return self.finish(*self.split(query))

    def split(self, query: Document) -> tuple[list[Plan], list[tuple[str, Any]]]:
        """The plans of ``query``'s conditions that must all hold, and its *broad* leaves
        (conditions that may hold for many keys), not read yet: :meth:`finish` reads them,
        store/embedded_pages.py may test them on each key of a walk instead."""
        flagged = self._flagged(query)
        if flagged is not None:
            return [flagged], []
        parts: list[Plan] = []
        broad: list[tuple[str, Any]] = []
        self._conjuncts(query, parts, broad)
        return parts, broad

    def finish(self, parts: list[Plan], broad: list[tuple[str, Any]]) -> Plan:
        """The plan of :meth:`split`'s conditions: the broad leaves tested on the others'
        candidates when those are few, else read whole."""
        parts = list(parts)
        narrow = intersection(parts)[0] if parts else None
        for name, condition in broad:
            few = narrow is not None and len(narrow) <= FEW
            within = self._within(name, condition, narrow) if few and narrow is not None else None
            parts.append(within or self._leaf(name, condition))
        return intersection(parts)

    def _flagged(self, query: Document) -> Plan | None:
        for name, (flagged, _) in self.flag_filters.items():
            if query == flagged:
                return self.flagged[name], True
        return None

    def _conjuncts(self, query: Document, parts: list[Plan], broad: list[Any]) -> None:
        """The plans of ``query``'s conditions that must all hold (nested ``$and`` too)."""
        for name, condition in query.items():
            if name == "$and" and documents(condition):
                for part in condition:
                    flagged = self._flagged(part)
                    if flagged is not None:
                        parts.append(flagged)
                    else:
                        self._conjuncts(part, parts, broad)
            elif name == "$or" and documents(condition):
                parts.append(union([self.plan(part) for part in condition]))
            elif self._broad(name, condition):
                broad.append((name, condition))
            else:
                parts.append(self._leaf(name, condition))

    def _keyed_values(self, name: str, condition: Any) -> list[Any] | None:
        """The values of an equality on an indexed field that the index answers exactly."""
        values = equal_to(condition) if name in self.keyed else None
        if values is not None and "." in name and None in values:
            return None  # null on a nested field: missing parents too; not indexed
        return values

    def _broad(self, name: str, condition: Any) -> bool:
        values = self._keyed_values(name, condition)
        if values is not None:
            return len(values) > _FEW_VALUES
        return name == "licenses" or name in self.spec.ordered

    def test(self, name: str, condition: Any) -> tuple[EntryTest, int] | None:
        """A broad leaf as an exact test of one key's entry, and at most how many keys
        pass it; None where the entry can't tell."""
        values = self._keyed_values(name, condition)
        if values is not None:
            wanted = frozenset(values)
            postings = self.keyed[name]
            most = sum(len(postings.get(value, EMPTY)) for value in wanted)
            return (
                lambda entry: any(f == name and v in wanted for f, v in entry.keyed),
                most,
            )
        expiry = self._expiry_range(name, condition)
        if expiry is not None:
            (low, above), (high, below) = expiry
            sorted_ = self.expiries
            start = sorted_.bisect_right((low, _LAST)) if above else sorted_.bisect_left((low,))
            stop = sorted_.bisect_left((high,)) if below else sorted_.bisect_right((high, _LAST))

            def within(entry: _Entry) -> bool:
                return any(
                    (low < moment if above else low <= moment)
                    and (moment < high if below else moment <= high)
                    for moment, _ in entry.expiries
                )

            return within, max(stop - start, 0)
        return None

    def _within(self, name: str, condition: Any, keys: Keys) -> Plan | None:
        """A broad leaf's plan among ``keys`` (few), each tested by its entry."""
        found = self.test(name, condition)
        if found is None:
            return None
        test, _ = found
        entries = self.entries
        return {key for key in keys if test(entries[key])}, True

    def _expiry_range(self, name: str, condition: Any) -> tuple[Bound, Bound] | None:
        if name != "licenses" or not self.spec.expiries or not isinstance(condition, dict):
            return None
        inner = condition.get("$elemMatch")
        if list(condition) != ["$elemMatch"] or not isinstance(inner, dict):
            return None
        return time_range(inner.get("expires_at")) if list(inner) == ["expires_at"] else None

    def _leaf(self, name: str, condition: Any) -> Plan:
        values = equal_to(condition)
        if name == "_id" and values is not None and None not in values:
            return {value for value in values if value in self.entries}, True
        values = self._keyed_values(name, condition)
        if values is not None:
            postings = self.keyed[name]  # null: missing, null or an array holding null
            return union([(postings.get(value, EMPTY), True) for value in values])
        expiry = self._expiry_range(name, condition)
        if expiry is not None:  # the stored and the asked moments, both naive millis
            (low, above), (high, below) = expiry
            hits = self.expiries.irange(
                (low, _LAST) if above else (low,),
                (high,) if below else (high, _LAST),
                inclusive=(not above, not below),
            )
            return {key for _, key in hits}, True
        if name in self.spec.ordered and isinstance(condition, dict):
            found = time_range(condition)
            if found is not None:  # stored datetimes (tested again)
                (low, _), (high, _) = found
                order = self.orders[name]
                values_at = order.irange((0, 5, _aware(low)), (0, 5, _aware(high), _LAST))
                return {position[-1] for position in values_at}, False
            if condition == {"$exists": False}:
                return {position[-1] for position in order_nulls(self.orders[name])}, False
        return None, False

    def matching(self, query: Document) -> list[Document]:
        """The stored documents matching ``query`` (patched), in no particular order."""
        keys, exact = self.plan(query)
        docs = self.documents
        if keys is None:
            return [doc for doc in docs.values() if filter_applies(query, doc)]
        found = [docs[key] for key in keys]
        return found if exact else [doc for doc in found if filter_applies(query, doc)]


EntryTest = Callable[[_Entry], bool]
_LAST = ObjectId("f" * 24)  # no key is greater
FEW = 2000  # candidates few enough to test a broad leaf on one by one
_FEW_VALUES = 16  # an $in of more values is a broad leaf


def order_nulls(order: SortedList) -> Iterable[tuple[Any, ...]]:
    """The positions of documents without a value (pagination's second segment)."""
    return order.irange((1,), (2,), inclusive=(True, False))


def _aware_value(value: Any) -> Any:  # as store/pagination.py's positions read values
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and not value.tzinfo else value


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


# --- the indexes, per mongomock collection store --------------------------------------------

_INDEXES: WeakKeyDictionary[Any, Index] = WeakKeyDictionary()


def index_of(collection: Any) -> Index | None:
    """The index of an embedded ``apps`` or ``people`` collection (built now if it is not
    yet), None on MongoDB, for other collections, or where a key is not an ObjectId."""
    return index_for(mongomock_collection(collection))


def index_for(mock: Any) -> Index | None:
    """:func:`index_of` a synchronous mongomock collection (None: none)."""
    if mock is None:
        return None
    store = mock._store
    spec = SPECS.get(store.name)
    if spec is None:
        return None
    index = _INDEXES.get(store)
    if index is None or not index.current:
        index = _INDEXES[store] = Index(store, spec)
        watch(store, index.refresh, index.holders)
    return None if index.odd else index


def prepare(db: Any) -> None:
    """Build the indexes of an embedded database now (at start, as MongoDB's indexes are
    created): every write from then on keeps them, so no read pays for building them."""
    for name in SPECS:
        index_of(db[name])


def forget(collection: Any) -> None:
    """Drop a collection's index (it is built again on next use)."""
    mock = mongomock_collection(collection)
    if mock is not None and _INDEXES.pop(mock._store, None) is not None:
        unwatch(mock._store)


def pager(collection: Any) -> Memory | None:
    """store/pagination.py's ``memory`` for a mongomock-motor collection (None: none)."""
    index = index_of(collection)
    if index is None:
        return None

    def page(
        query: Document, window: Window, backwards: bool, limit: int, count: bool
    ) -> tuple[list[Document], int | None] | None:
        from store import embedded_pages  # it builds on this module

        patched = helpers.patch_datetime_awareness_in_document(query)
        return embedded_pages.page(index, patched, window, backwards, limit, count)

    return page


def find(mock: Any, query: Document) -> list[Document] | None:
    """The documents of a synchronous mongomock collection matching ``query`` (the engine's
    own: never change or keep them); None where there is no index."""
    index = index_for(mock)
    if index is None:
        return None
    return index.matching(helpers.patch_datetime_awareness_in_document(query))


def find_all(collection: Any, query: Document) -> list[Document] | None:
    """:func:`find` on a mongomock-motor collection (None on MongoDB)."""
    return find(mongomock_collection(collection), query)


def distinct(docs: Iterable[Document], key: str) -> list[Any] | None:
    """mongomock's ``distinct`` over ``docs``; None when a value is not hashable."""
    if key == "_id":  # the stored keys (ObjectIds: the index steps aside otherwise)
        return [doc["_id"] for doc in docs]
    unique: dict[Any, None] = {}
    for doc in docs:
        for values in filtering.iter_key_candidates(key, doc):
            if values is filtering.NOTHING:
                continue
            for value in values if isinstance(values, list | tuple) else [values]:
                try:
                    unique[value] = None
                except TypeError:
                    return None
    return list(unique)
