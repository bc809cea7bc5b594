"""The events collection followed by polling (no change streams on these tiers)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from resolvers.live import EventHub
from store import events as event_store


async def test_polling_delivers_each_event_once_even_when_inserted_late(db: Any) -> None:
    old = {
        "_id": ObjectId(),
        "kind": event_store.ALERT_RAISED,
        "app_id": ObjectId(),
        "payload": {"n": 0},
        "at": datetime.now(UTC) - timedelta(milliseconds=50),
    }
    await db[event_store.COLLECTION].insert_one(old)
    hub = EventHub(db, poll_interval=0.01)
    queue = hub.subscribe()
    try:
        first = await event_store.publish(db, event_store.ALERT_RAISED, ObjectId(), {"n": 1})
        # another process's event, stamped a little earlier, arriving after `first`
        late = {
            "_id": ObjectId.from_datetime(datetime.now(UTC) - timedelta(seconds=1)),
            "kind": event_store.ALERT_RAISED,
            "app_id": ObjectId(),
            "payload": {"n": 2},
            "at": datetime.now(UTC),
        }
        async with asyncio.timeout(20):
            got = [await queue.get()]
            await db[event_store.COLLECTION].insert_one(late)
            got.append(await queue.get())
        hub.deliver(first)  # the in-memory path meeting the database path: not twice
        await event_store.publish(db, event_store.ALERT_RAISED, ObjectId(), {"n": 3})
        async with asyncio.timeout(20):
            got.append(await queue.get())
        assert [event["payload"]["n"] for event in got] == [1, 2, 3]
        assert old["_id"] not in {event["_id"] for event in got}  # there before: not news
        assert queue.empty()
    finally:
        hub.unsubscribe(queue)
        await hub.close()
