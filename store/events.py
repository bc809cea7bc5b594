"""Live events (alerts raised) for subscribers on every API process.

Each raised alert is also appended to the ``events`` collection. A process follows that
collection with a change stream where the server has them (a MongoDB replica set or Atlas),
and otherwise by polling it by ``_id`` (mongomock, single servers, the wire test server).
Polling re-reads a short look-back window and skips events it has delivered, so an event
whose ``_id`` is a little older than one already seen (another process's clock, a slow
insert) is not lost. Old events expire after a day (TTL index).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from store.db import Database, Document, watch
from store.records import now

log = logging.getLogger(__name__)

COLLECTION = "events"
ALERT_RAISED = "ALERT_RAISED"
KEEP_SECONDS = 86_400


def _events(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    await _events(db).create_index(
        [("at", ASCENDING)], name="expire", expireAfterSeconds=KEEP_SECONDS
    )


async def publish(
    db: Database, kind: str, app_id: ObjectId, payload: Document, key: ObjectId | None = None
) -> Document:
    """Append an event; with ``key`` (its ``_id``) publishing it again is a no-op."""
    doc: Document = {"_id": key or ObjectId(), "kind": kind, "app_id": app_id, "payload": payload}
    doc["at"] = now()
    with contextlib.suppress(DuplicateKeyError):  # published before (a retried drain)
        await _events(db).insert_one(doc)
    return doc


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _change_stream(db: Database) -> Any:
    """An open change stream on the events collection, or None where there are none."""
    try:
        stream = await watch(_events(db), [{"$match": {"operationType": "insert"}}])
    except Exception as error:  # mongomock: TypeError; servers without: OperationFailure
        log.info("No change streams here (%s); polling the events collection", error)
        return None
    return stream


async def tail(
    db: Database,
    *,
    poll_interval: float = 0.5,
    lookback: float = 10.0,
    since: datetime | None = None,
) -> AsyncIterator[Document]:
    """Yield events appended after ``since`` (default: now), by change stream or polling."""
    start = since or datetime.now(UTC)
    start = start.replace(microsecond=start.microsecond // 1000 * 1000)  # `at` has ms precision
    stream = await _change_stream(db)
    if stream is not None:
        async with stream:
            async for change in stream:
                yield change["fullDocument"]
        return
    seen: OrderedDict[ObjectId, None] = OrderedDict()

    async def recent() -> list[Document]:
        since = ObjectId.from_datetime(datetime.now(UTC) - timedelta(seconds=lookback))
        cursor = _events(db).find({"_id": {"$gt": since}}).sort("_id", 1)
        return list(await cursor.to_list(None))

    for doc in await recent():
        if _aware(doc["at"]) < start:  # already there before: not news
            seen[doc["_id"]] = None
    while True:
        await asyncio.sleep(poll_interval)
        for doc in await recent():
            if doc["_id"] not in seen:
                seen[doc["_id"]] = None
                yield doc
        cutoff = ObjectId.from_datetime(datetime.now(UTC) - timedelta(seconds=2 * lookback))
        while seen and next(iter(seen)) < cutoff:
            seen.popitem(last=False)
