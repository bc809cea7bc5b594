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
from store.embedded import mongomock_collection

BATCH = 5_000


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
    mock = mongomock_collection(collection)
    if mock is not None:
        from mongomock import helpers

        store = mock._store
        for doc in docs:
            store[doc["_id"]] = helpers.patch_datetime_awareness_in_document(dict(doc))
        return len(docs)
    for chunk in _batches(docs, batch):
        await collection.insert_many(chunk, ordered=False)
    return len(docs)


async def distinct_values(collection: Any, key: str) -> set[Any]:
    return set(await collection.distinct(key))
