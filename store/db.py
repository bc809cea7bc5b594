"""Opening the database (MongoDB through PyMongo async, or the embedded engine) and the one
place that knows how the two client shapes differ.

PyMongo's ``AsyncMongoClient`` awaits ``aggregate()`` and ``watch()``; Motor (which
mongomock-motor imitates) returns the cursor or stream directly. :func:`aggregate` and
:func:`watch` absorb that. The embedded engine's shortcuts live in store/embedded.py, its
file (snapshot + journal) in store/snapshot.py and store/journal.py, the lock in store/lock.py.
"""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from store.embedded import mock_aggregate, mongomock_collection
from store.indexes import ensure_indexes
from store.lock import DataLock
from store.snapshot import Snapshotter

if TYPE_CHECKING:
    from mongomock_motor import AsyncMongoMockDatabase
    from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
# PyMongo's async database or mongomock-motor's (to type checkers: Motor's); store functions
# use only what both offer. The embedded engine's database subclasses mongomock-motor's.
Database: TypeAlias = "AsyncDatabase[Document] | AsyncMongoMockDatabase"

DEFAULT_DB_NAME = "ownership"


@dataclass
class Store:
    """An open database plus what owns it; closed by :meth:`close`."""

    db: Database
    client: Any
    embedded: bool
    snapshotter: Snapshotter | None = field(default=None)
    lock: DataLock | None = field(default=None)  # taken by connect(), released by close()

    async def close(self) -> None:
        try:
            if self.snapshotter is not None:
                await self.snapshotter.stop()
            result = self.client.close()
            if inspect.isawaitable(result):
                await result
        finally:
            if self.lock is not None:
                self.lock.release()


async def connect(
    uri: str | None,
    *,
    db_name: str = DEFAULT_DB_NAME,
    data_file: Path | None = None,
    journal: bool = True,
    lock: DataLock | None = None,
    purpose: str = "ownership",
) -> Store:
    """Open the store: a real MongoDB when ``uri`` is given, else the embedded engine.

    The embedded engine with a ``data_file`` holds that file's lock (``lock``, when the caller
    took it already; else taken here for ``purpose`` and released at close: raises
    :class:`store.lock.DataFileInUse` while another process has it), loads the snapshot and
    its journal, and from then on journals every acknowledged write (``journal=False``: only
    a snapshot about every second, which loses recent writes on a crash: benchmarks only).
    """
    if uri:
        from pymongo import AsyncMongoClient

        client: Any = AsyncMongoClient(uri, tz_aware=True, uuidRepresentation="standard")
        store = Store(db=client.get_database(db_name), client=client, embedded=False)
    else:
        from store import interleave

        client = interleave.client(tz_aware=True)  # yields to the loop around each call
        db = client.get_database(db_name)
        store = Store(db=db, client=client, embedded=True)
        if data_file is not None:
            owned = None if lock is not None else DataLock.acquire(data_file, purpose)
            store.lock = owned
            try:
                store.snapshotter = Snapshotter(data_file, journal=journal)
                store.db = await store.snapshotter.open(db)
            except BaseException:
                if owned is not None:
                    owned.release()
                raise
    await ensure_indexes(store.db)
    if store.snapshotter is not None:
        store.snapshotter.start()
    return store


async def aggregate(collection: Any, pipeline: list[Document]) -> list[Document]:
    """Run an aggregation pipeline on either client shape and return all result documents."""
    mock = mongomock_collection(collection)
    if mock is not None:
        return mock_aggregate(mock, pipeline)
    cursor = collection.aggregate(pipeline)
    if inspect.isawaitable(cursor):
        cursor = await cursor
    return list(await cursor.to_list(None))


async def find_all(collection: Any, query: Document, fields: list[str]) -> list[Document]:
    """Every document matching ``query``, with only the top-level ``fields`` it has. The
    embedded engine reads the candidates of its index (store/embedded_index.py)."""
    from store import embedded_index

    found = embedded_index.find_all(collection, query)
    if found is not None:
        await asyncio.sleep(0)  # a turn for other tasks, as the engine's reads give
    else:
        projection = {name: 1 for name in fields} | {"_id": int("_id" in fields)}
        found = await collection.find(query, projection).to_list(None)
    return [{name: doc[name] for name in fields if name in doc} for doc in found]


async def distinct(collection: Any, key: str, query: Document) -> list[Any]:
    """``collection.distinct(key, query)``; on the embedded engine over its index's
    candidates (store/embedded_index.py)."""
    from store import embedded_index

    found = embedded_index.find_all(collection, query)
    values = None if found is None else embedded_index.distinct(found, key)
    if values is not None:
        await asyncio.sleep(0)
        return values
    return list(await collection.distinct(key, query))


async def watch(collection: Any, pipeline: list[Document]) -> Any:
    """Open a change stream on either client shape (raises where there are none: mongomock's
    TypeError, a server's OperationFailure)."""
    stream = collection.watch(pipeline)
    if inspect.isawaitable(stream):
        stream = await stream
    return stream
