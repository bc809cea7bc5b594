"""The embedded engine's shortcuts into mongomock (mongomock-motor's synchronous core).

mongomock answers every query by scanning and copying; these read the engine's own documents
directly where that is measurably needed (key lookups, large ``$in`` filters, aggregation
input), with mongomock's own matching semantics. Each returns None (or False) on a real
MongoDB, where the caller runs its ordinary indexed query.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from bson import ObjectId

if TYPE_CHECKING:
    from store.db import Database

Document = dict[str, Any]


def mongomock_collection(collection: Any) -> Any:
    """The synchronous mongomock collection behind mongomock-motor's, else None (PyMongo's
    collections raise AttributeError for names starting with an underscore). The embedded
    engine's shortcuts (here and in store/bulk.py) start from this one check."""
    return getattr(collection, "_AsyncMongoMockCollection__collection", None)


def mock_aggregate(mock: Any, pipeline: list[Document]) -> list[Document]:
    # mongomock 4.3's aggregate() reads the collection through a find() cursor whose __next__
    # copies the rest of its result list for every document: quadratic (39 s for 100k apps).
    # Read the documents in one go instead, with a leading $match as the find filter, and run
    # the rest of the pipeline with mongomock's own stages.
    from mongomock.aggregate import process_pipeline

    # With an index (store/embedded_index.py: apps and people) the $match reads only its
    # candidates (a viewer's apps); the stages get copies, as mongomock's find gives them.
    from store import embedded_index

    first = pipeline[0] if pipeline else {}
    match = first.get("$match") if list(first) == ["$match"] else None
    rest = pipeline[1:] if match is not None else pipeline
    found = embedded_index.find(mock, match) if match else None
    docs = _copies(found, rest) if found is not None else mock.find(match or {})._compute_results()
    return list(process_pipeline(docs, mock.database, rest, None))


def _copies(docs: list[Document], stages: list[Document]) -> list[Document]:
    """Copies of ``docs`` for the pipeline ``stages``: only the keys a leading inclusion
    ``$project`` keeps (the apps' embedded environments and grants are most of a document)."""
    project = stages[0].get("$project") if stages and list(stages[0]) == ["$project"] else None
    if not isinstance(project, dict) or not all(value in (0, 1) for value in project.values()):
        return copy.deepcopy(docs)
    keys = {path.split(".")[0] for path, value in project.items() if value} | {"_id"}
    return [{key: copy.deepcopy(doc[key]) for key in keys if key in doc} for doc in docs]


# --- the embedded engine's $in over many ObjectIds --------------------------------------------
# mongomock evaluates ``{field: {$in: [...]}}`` by scanning the list for every document (and
# building a regex check per element): the at-risk reports' thousands of person ids cost
# minutes at 100k apps. MongoDB answers the same filter from an index. The embedded engine
# evaluates such clauses against a set instead, with mongomock's own semantics (a missing
# field never matches, an array matches when any element does, only an ObjectId can equal an
# ObjectId), and hands the rest of the filter to mongomock unchanged.

_MANY = 32


def _conjuncts(query: Document) -> list[Document]:
    clauses: list[Document] = []
    for key, value in query.items():
        if key == "$and" and isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for part in value:
                clauses += _conjuncts(part)
        else:
            clauses.append({key: value})
    return clauses


def _set_test(clause: Document) -> tuple[str, frozenset[Any]] | None:
    [(field, condition)] = clause.items()
    if field.startswith("$") or "." in field or not isinstance(condition, dict):
        return None
    values = condition.get("$in")
    if list(condition) != ["$in"] or not isinstance(values, list | tuple) or len(values) < _MANY:
        return None
    if not all(type(value) is ObjectId for value in values):
        return None
    return field, frozenset(values)


def _member(document: Document, field: str, values: frozenset[Any]) -> bool:
    found = document.get(field)
    items = found if isinstance(found, list) else [found]
    return any(type(item) is ObjectId and item in values for item in items)


def mock_matching(collection: Any, query: Document) -> dict[Any, Document] | None:
    """The embedded engine's stored documents matching ``query``, by ``_id`` (None on MongoDB,
    or where an ``_id`` is not an ObjectId: use the ordinary query then).

    The same test as mongomock's ``find`` (``filter_applies`` per document), except that a
    large ObjectId ``$in`` is a set lookup instead of mongomock's scan of the list. These
    are the engine's own documents, not copies: validate them into records (pydantic builds
    new containers; the values in them are immutable) and never change or keep them."""
    mock = mongomock_collection(collection)
    if mock is None:
        return None
    from mongomock import helpers
    from mongomock.filtering import filter_applies

    # as mongomock's find does: stored datetimes are naive UTC at millisecond precision
    query = helpers.patch_datetime_awareness_in_document(query)
    tests, rest = [], []
    for clause in _conjuncts(query):
        test = _set_test(clause)
        if test is None:
            rest.append(clause)
        else:
            tests.append(test)

    remaining: Document = {"$and": rest} if rest else {}
    found = {
        document["_id"]: document
        for document in list(mock._store.documents)
        if all(_member(document, field, values) for field, values in tests)
        and filter_applies(remaining, document)
    }
    # the page is cut by comparing _ids in Python: only ObjectIds order exactly like BSON here
    return found if all(type(key) is ObjectId for key in found) else None


def mock_stored(db: Database, collection: str, key: Any) -> tuple[bool, Document | None]:
    """On the embedded engine: (True, the stored document with ``_id`` ``key``, or None),
    found by its key (mongomock's own ``find_one`` scans the collection); (False, None) on
    MongoDB, where the caller runs its ordinary (indexed) query.

    The document is the engine's own, not a copy: validate it into a record at once and
    never change or keep it. Its datetimes are naive UTC (records' ``UtcDatetime`` reads them).
    """
    mock = getattr(db, "_AsyncMongoMockDatabase__database", None)
    if mock is None:
        return False, None
    stored = mock._store[collection]
    try:
        if stored._ttl_indexes:  # mongomock drops expired documents on access
            return True, stored[key]
        # the engine runs on the event loop's thread: a plain read needs no reader lock
        return True, stored._documents.get(key)
    except (KeyError, TypeError):  # TypeError: an unhashable key matches nothing
        return True, None


def mock_stored_many(
    db: Database, collection: str, keys: list[Any]
) -> list[Document | None] | None:
    """:func:`mock_stored` for many keys, in their order; None on MongoDB."""
    mock = getattr(db, "_AsyncMongoMockDatabase__database", None)
    if mock is None:
        return None
    return [mock_stored(db, collection, key)[1] for key in keys]


# --- write notifications and ``_id`` lookups (for store/embedded_index.py) -----------------
# Every write of mongomock ends in its per-collection document store (``__setitem__`` and
# ``__delitem__``: inserts, upserts, deletes, rollbacks, TTL expiry) or changes a stored
# document in place and then checks it against the unique indexes (``_ensure_uniques``, once
# per changed document), as store/capture.py describes. Those three methods are wrapped here,
# once, at import (before any store is opened, so store/capture.py's per-collection wrapper
# of ``_ensure_uniques`` calls this one): after each, the collection's watcher (if one was
# registered with :func:`watch`) is told the document's key, synchronously, inside the write.
# A collection without a watcher pays one dictionary lookup per write. Filters that pin one
# ``_id`` read that key (store/embedded_keys.py, installed here for every mongomock client).

_WATCHERS: WeakKeyDictionary[Any, Callable[[Any], None]] = WeakKeyDictionary()


# (field, value) -> how many documents hold ``value`` in top-level ``field``, None: unknown
Holders = Callable[[str, Any], int | None]
_HOLDERS: WeakKeyDictionary[Any, Holders] = WeakKeyDictionary()


def watch(store: Any, on_write: Callable[[Any], None], holders: Holders | None = None) -> None:
    """Call ``on_write(key)`` after every write of a document of ``store`` (a mongomock
    ``CollectionStore``) until :func:`unwatch`. ``holders`` (up to date once ``on_write``
    returned) answers the unique indexes' checks instead of mongomock's scan."""
    _WATCHERS[store] = on_write
    if holders is not None:
        _HOLDERS[store] = holders


def unwatch(store: Any) -> None:
    _WATCHERS.pop(store, None)
    _HOLDERS.pop(store, None)


def _unique_by_holders(store: Any, document: Any, holders: Holders) -> bool:
    """mongomock's unique-index check of ``document`` (already stored) from ``holders``:
    raises DuplicateKeyError as it does; False when an index is beyond it (compound,
    dotted, partial, a value it does not count): then mongomock checks them all."""
    from pymongo.errors import DuplicateKeyError

    for index in store.indexes.values():
        if not index.get("unique"):
            continue
        keys = index.get("key")
        if len(keys) != 1 or index.get("partialFilterExpression") is not None:
            return False
        field = keys[0][0]
        value = document.get(field) if "." not in field else []
        if index.get("sparse") and value is None:
            continue
        count = holders(field, value) if "." not in field else None
        if count is None:
            return False
        if count > 1:
            raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)
    return True


def _notify(store: Any, key: Any) -> None:
    watcher = _WATCHERS.get(store) if _WATCHERS else None
    if watcher is not None:
        watcher(key)


def _wrap_writes() -> None:
    from mongomock.collection import Collection
    from mongomock.store import CollectionStore

    from store import embedded_keys

    if getattr(CollectionStore, "_watched_", False):
        return
    set_item, del_item = CollectionStore.__setitem__, CollectionStore.__delitem__
    ensure_uniques = Collection._ensure_uniques

    def __setitem__(self: Any, key: Any, val: Any) -> None:
        set_item(self, key, val)
        _notify(self, key)

    def __delitem__(self: Any, key: Any) -> None:
        del_item(self, key)
        _notify(self, key)

    def _ensure_uniques(self: Any, new_data: Any) -> Any:
        # first the watcher (the check may read its index); refused: the rollback that
        # follows writes the key again, and notifies again
        store = self._store
        _notify(store, new_data.get("_id"))
        holders = _HOLDERS.get(store) if _HOLDERS else None
        if holders is not None and _unique_by_holders(store, new_data, holders):
            return None
        return ensure_uniques(self, new_data)

    embedded_keys.install()  # and filters pinning one ``_id`` read that key
    CollectionStore.__setitem__ = __setitem__
    CollectionStore.__delitem__ = __delitem__
    Collection._ensure_uniques = _ensure_uniques
    CollectionStore._watched_ = True


_wrap_writes()
