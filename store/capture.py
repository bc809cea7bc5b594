"""Which documents each write changed in the embedded engine, for the journal (store/journal.py).

Every write path of mongomock ends in one of three places, each hooked here:

- its per-collection document store: inserts, upserts, deletes, rollbacks and TTL expiry go
  through ``__setitem__``/``__delitem__``, drops through ``drop()``: a subclass marks them
  (and one of the database store marks renames and hooks collections created later);
- in-place updates (``$set``, ``$push``, replacements, pipelines) change the stored dict
  itself, and mongomock then checks that document against the unique indexes
  (``_ensure_uniques``, called for every document an update changed): that call marks it;
- mongomock-motor's coroutine write methods (collection and database): after each returns or
  raises, ``await journal.sync()``, so the caller's answer waits for the disk.

The last hook subclasses whatever classes the client hands out (mongomock-motor's own, or a
subclass such as a wrapper that yields to the event loop), so wrappers compose: the journaled
method calls the wrapped one, then waits for the journal.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from mongomock.store import CollectionStore, DatabaseStore

from store.journal import Journal

# mongomock-motor's coroutine methods that may change documents or collections
COLLECTION_WRITES = (
    "bulk_write",
    "create_index",
    "create_indexes",
    "delete_many",
    "delete_one",
    "drop",
    "drop_index",
    "drop_indexes",
    "find_and_modify",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "insert_many",
    "insert_one",
    "map_reduce",
    "rename",
    "replace_one",
    "save",
    "update_many",
    "update_one",
)
DATABASE_WRITES = ("create_collection", "drop_collection")

_INNER = "_AsyncMongoMockCollection__collection"
_DATABASE = "_AsyncMongoMockDatabase__database"
_JOURNAL = "_journal_"


class _CapturedCollectionStore(CollectionStore):  # type: ignore[misc]
    _journal_: Journal

    def __setitem__(self, key: Any, val: Any) -> None:
        super().__setitem__(key, val)
        self._journal_.touch(self.name, key)

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._journal_.touch(self.name, key)

    def drop(self) -> None:
        super().drop()
        self._journal_.dropped(self.name)


class _CapturedDatabaseStore(DatabaseStore):  # type: ignore[misc]
    _journal_: Journal

    def __getitem__(self, name: str) -> Any:
        collection = super().__getitem__(name)
        if type(collection) is CollectionStore:
            _capture_store(collection, self._journal_)
        return collection

    def rename(self, name: str, new_name: str) -> None:
        super().rename(name, new_name)
        self._journal_.dropped(name)
        renamed = self[new_name]
        for key in list(renamed._documents):
            self._journal_.touch(new_name, key)


def _capture_store(collection: CollectionStore, journal: Journal) -> None:
    collection.__class__ = _CapturedCollectionStore
    collection._journal_ = journal  # type: ignore[attr-defined]


def _mark_in_place_updates(inner: Any) -> None:
    """Wrap the mongomock collection's unique-index check (once per collection object)."""
    if _JOURNAL in inner.__dict__:
        return
    check = inner._ensure_uniques

    def ensure_uniques(new_data: Any) -> Any:
        journal = inner.__dict__.get(_JOURNAL)
        if journal is not None:
            journal.touch(inner._store.name, new_data["_id"])
        return check(new_data)

    inner._ensure_uniques = ensure_uniques
    inner.__dict__[_JOURNAL] = None


def _durable(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, *args, **kwargs)
        finally:
            await self.__dict__[_JOURNAL].sync()

    return call


@functools.cache
def _collection_class(base: type) -> type:
    writes = {name: _durable(getattr(base, name)) for name in COLLECTION_WRITES}
    return type(f"Journaled{base.__name__}", (base,), writes)


@functools.cache
def _database_class(base: type) -> type:
    def get_collection(self: Any, *args: Any, **kwargs: Any) -> Any:
        collection = base.get_collection(self, *args, **kwargs)
        journal: Journal = self.__dict__[_JOURNAL]
        inner = collection.__dict__[_INNER]
        _mark_in_place_updates(inner)
        inner.__dict__[_JOURNAL] = journal
        return _adopt(collection, _collection_class(type(collection)), journal)

    writes = {name: _durable(getattr(base, name)) for name in DATABASE_WRITES}
    return type(f"Journaled{base.__name__}", (base,), {"get_collection": get_collection, **writes})


def _adopt(obj: Any, cls: type, journal: Journal) -> Any:
    """A ``cls`` instance sharing ``obj``'s state (``obj``'s class is ``cls``'s base)."""
    adopted = object.__new__(cls)
    adopted.__dict__.update(obj.__dict__)
    adopted.__dict__[_JOURNAL] = journal
    return adopted


def database_store(db: Any) -> Any:
    """The mongomock ``DatabaseStore`` (the documents) behind a mongomock-motor database."""
    return db.__dict__[_DATABASE]._store


def attach(db: Any, journal: Journal) -> Any:
    """``db`` (a mongomock-motor database) with every write marked and made durable."""
    documents = database_store(db)
    documents.__class__ = _CapturedDatabaseStore
    documents._journal_ = journal
    for collection in documents._collections.values():
        _capture_store(collection, journal)
    journal.bind(documents)
    return _adopt(db, _database_class(type(db)), journal)


def detach(db: Any) -> None:
    """Stop marking writes on ``db``'s documents (the store is closing)."""
    documents = database_store(db)
    for collection in documents._collections.values():
        collection.__class__ = CollectionStore
        collection.__dict__.pop(_JOURNAL, None)
    documents.__class__ = DatabaseStore
    documents.__dict__.pop(_JOURNAL, None)
    for inner in db.__dict__[_DATABASE]._collection_accesses.values():
        if _JOURNAL in inner.__dict__:
            inner.__dict__[_JOURNAL] = None
