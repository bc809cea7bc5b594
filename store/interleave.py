"""mongomock-motor that gives the event loop a turn around every database call.

mongomock-motor's coroutines never suspend: a call runs to its end as soon as it is awaited,
so tasks gathered in one process run their database calls strictly one after another and a
"race" between them never interleaves. A real client suspends on every round trip. This
client yields (``await asyncio.sleep(0)``) before and after each collection call and cursor
read, so other tasks run between a read and the write that follows it, and a call issued
after another one started runs after it, as they do against MongoDB. The embedded default
opens its engine through :func:`client` and the mock test tier does too, so races in tests
interleave the way they do in production.

It changes nothing else: the objects are mongomock-motor's own classes (subclassed), so
the engine shortcuts in store/db.py still reach the synchronous mongomock underneath.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mongomock_motor import (
    AsyncCursor,
    AsyncMongoMockClient,
    AsyncMongoMockCollection,
    AsyncMongoMockDatabase,
)

# Every coroutine method of mongomock-motor's collection (see its ``with_async_methods``).
COLLECTION_CALLS = (
    "bulk_write",
    "count_documents",
    "create_index",
    "create_indexes",
    "delete_many",
    "delete_one",
    "distinct",
    "drop",
    "drop_index",
    "drop_indexes",
    "estimated_document_count",
    "find_one",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "index_information",
    "insert_many",
    "insert_one",
    "replace_one",
    "update_many",
    "update_one",
)


# Every call yields before and after it, reads included: a read issued after another task's
# write started runs after it, and its result reaches its caller after other tasks ran.
# (Reads once yielded only after, because graphql-core leaves the coroutines of sibling
# fields it cancelled before they started unawaited when a non-null root field fails, which
# warns; pyproject.toml's filterwarnings ignores exactly those warnings, and
# tests/graph/test_fast.py collects them right after each query.)


async def _turn() -> None:
    await asyncio.sleep(0)


def _yielding(name: str) -> Any:
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        await _turn()
        try:
            return await getattr(super(InterleavingCollection, self), name)(*args, **kwargs)
        finally:
            await _turn()

    call.__name__ = name
    return call


class InterleavingCursor(AsyncCursor):  # type: ignore[misc]
    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:
        await _turn()
        try:
            return await super().to_list(*args, **kwargs)
        finally:
            await _turn()

    async def next(self) -> Any:
        await _turn()
        try:
            return await super().next()
        finally:
            await _turn()

    __anext__ = next


class InterleavingCollection(AsyncMongoMockCollection):  # type: ignore[misc]
    def find(self, *args: Any, **kwargs: Any) -> InterleavingCursor:
        return InterleavingCursor(self._AsyncMongoMockCollection__collection.find(*args, **kwargs))


for _name in COLLECTION_CALLS:
    setattr(InterleavingCollection, _name, _yielding(_name))


class InterleavingDatabase(AsyncMongoMockDatabase):  # type: ignore[misc]
    def get_collection(self, *args: Any, **kwargs: Any) -> InterleavingCollection:
        return InterleavingCollection(self, self.delegate.get_collection(*args, **kwargs))

    def __getitem__(self, name: str) -> InterleavingCollection:
        return self.get_collection(name)


class InterleavingClient(AsyncMongoMockClient):  # type: ignore[misc]
    def get_database(self, *args: Any, **kwargs: Any) -> InterleavingDatabase:
        return InterleavingDatabase(
            self,
            self._AsyncMongoMockClient__client.get_database(*args, **kwargs),
            mock_build_info=self._AsyncMongoMockClient__build_info,
        )

    def __getitem__(self, name: str) -> InterleavingDatabase:
        return self.get_database(name)


def client(**kwargs: Any) -> InterleavingClient:
    """A mongomock-motor client whose calls yield to the event loop (``tz_aware`` etc. pass
    through to mongomock); its ``_id`` lookups read by key (store/embedded_keys.py)."""
    from store import embedded_keys

    embedded_keys.install()
    return InterleavingClient(**kwargs)
