"""Bulk inserts for generated data and snapshots: ``insert_many`` in batches.

mongomock checks a unique index by scanning the whole collection for every inserted document
(quadratic: hours at 100k apps). For documents whose unique keys the caller has verified,
:func:`insert_trusted` writes into mongomock's store directly; on a real MongoDB it is plain
``insert_many(ordered=False)`` in batches and the server's unique indexes still decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from store.db import Document

BATCH = 5_000


def _mock_store(collection: Any) -> Any:
    # mongomock-motor's collection (it presents itself as Motor's class) forwards unknown
    # attributes to the mongomock collection; on PyMongo's AsyncCollection ``_store`` would
    # be a sub-collection, so it is never asked.
    from pymongo.asynchronous.collection import AsyncCollection

    if isinstance(collection, AsyncCollection):
        return None
    return getattr(collection, "_store", None)


def _batches(docs: Iterable[Document], size: int) -> Iterable[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def insert_trusted(collection: Any, docs: Sequence[Document], batch: int = BATCH) -> int:
    """Insert documents whose ``_id`` and unique keys are known to be new; returns the count."""
    store = _mock_store(collection)
    if store is not None:
        from mongomock import helpers

        for doc in docs:
            store[doc["_id"]] = helpers.patch_datetime_awareness_in_document(dict(doc))
        return len(docs)
    for chunk in _batches(docs, batch):
        await collection.insert_many(chunk, ordered=False)
    return len(docs)


async def distinct_values(collection: Any, key: str) -> set[Any]:
    return set(await collection.distinct(key))
