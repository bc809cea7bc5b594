"""Connecting to MongoDB (PyMongo async) or the embedded engine, and the client-shape helpers.

PyMongo's ``AsyncMongoClient`` awaits ``aggregate()``; Motor (which mongomock-motor imitates)
returns the cursor directly. :func:`aggregate` is the one place that knows.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store.snapshot import Snapshotter

log = logging.getLogger(__name__)

# Either ``pymongo.asynchronous.database.AsyncDatabase`` or mongomock-motor's database: both
# expose the same collection methods used here, so store functions take this alias.
Database = Any
Document = dict[str, Any]

DEFAULT_DB_NAME = "ownership"


@dataclass
class Store:
    """An open database plus what owns it; closed by :meth:`close`."""

    db: Database
    client: Any
    embedded: bool
    snapshotter: Snapshotter | None = field(default=None)

    async def close(self) -> None:
        if self.snapshotter is not None:
            await self.snapshotter.stop()
        result = self.client.close()
        if inspect.isawaitable(result):
            await result


async def connect(
    uri: str | None, *, db_name: str = DEFAULT_DB_NAME, data_file: Path | None = None
) -> Store:
    """Open the store: a real MongoDB when ``uri`` is given, else the embedded engine.

    The embedded engine loads ``data_file`` when it exists and keeps writing atomic snapshots
    to it while open.
    """
    if uri:
        from pymongo import AsyncMongoClient

        client: Any = AsyncMongoClient(uri, tz_aware=True, uuidRepresentation="standard")
        db = client.get_database(db_name)
        store = Store(db=db, client=client, embedded=False)
    else:
        from mongomock_motor import AsyncMongoMockClient

        client = AsyncMongoMockClient(tz_aware=True)
        db = client.get_database(db_name)
        snapshotter = None
        if data_file is not None:
            snapshotter = Snapshotter(db, data_file)
            await snapshotter.load()
        store = Store(db=db, client=client, embedded=True, snapshotter=snapshotter)
    await ensure_indexes(store.db)
    if store.snapshotter is not None:
        store.snapshotter.start()
    return store


async def ensure_indexes(db: Database) -> None:
    """Create every collection's indexes; safe to call on every start."""
    from store import (
        alerts,
        apps,
        audit,
        events,
        licenses,
        maintenance,
        notifications,
        people,
        reports,
        support,
        tokens,
    )

    modules = (people, apps, audit, tokens, licenses, notifications, support, maintenance)
    for module in (*modules, alerts, events, reports):
        await module.ensure_indexes(db)


async def aggregate(collection: Any, pipeline: list[Document]) -> list[Document]:
    """Run an aggregation pipeline on either client shape and return all result documents."""
    mock = mongomock_collection(collection)
    if mock is not None:
        return _mock_aggregate(mock, pipeline)
    cursor = collection.aggregate(pipeline)
    if inspect.isawaitable(cursor):
        cursor = await cursor
    return list(await cursor.to_list(None))


def mongomock_collection(collection: Any) -> Any:
    """The synchronous mongomock collection behind mongomock-motor's, else None (PyMongo's
    collections raise AttributeError for names starting with an underscore). The embedded
    engine's shortcuts (here and in store/bulk.py) start from this one check."""
    return getattr(collection, "_AsyncMongoMockCollection__collection", None)


def _mock_aggregate(mock: Any, pipeline: list[Document]) -> list[Document]:
    # mongomock 4.3's aggregate() reads the collection through a find() cursor whose __next__
    # copies the rest of its result list for every document: quadratic (39 s for 100k apps).
    # Read the documents in one go instead, with a leading $match as the find filter, and run
    # the rest of the pipeline with mongomock's own stages.
    from mongomock.aggregate import process_pipeline

    first = pipeline[0] if pipeline else {}
    match = first.get("$match") if list(first) == ["$match"] else None
    rest = pipeline[1:] if match is not None else pipeline
    docs = mock.find(match or {})._compute_results()
    return list(process_pipeline(docs, mock.database, rest, None))
