"""Fan-out of live events to this process's subscribers.

An alert raised in this process is delivered at once (in memory); events raised by other API
processes arrive through store/events.py ``tail`` (change streams on a replica set, polling
elsewhere). Each event is delivered once per subscriber whichever way it comes first. The
hub only moves notifications; nothing a rule depends on lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from store import events as event_store
from store.db import Database, Document

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
REMEMBERED = 10_000


class EventHub:
    def __init__(self, db: Database, *, poll_interval: float = 0.5) -> None:
        self._db = db
        self._poll_interval = poll_interval
        self._queues: set[asyncio.Queue[Document]] = set()
        self._delivered: OrderedDict[ObjectId, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    def subscribe(self) -> asyncio.Queue[Document]:
        """A queue receiving every event from now on; start following the database if idle."""
        queue: asyncio.Queue[Document] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._follow(datetime.now(UTC)))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Document]) -> None:
        self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    def deliver(self, event: Document) -> None:
        """Hand an event to every subscriber, once (in-memory path and database path meet)."""
        if event["_id"] in self._delivered:
            return
        self._delivered[event["_id"]] = None
        while len(self._delivered) > REMEMBERED:
            self._delivered.popitem(last=False)
        for queue in list(self._queues):
            if queue.full():  # a subscriber that stopped reading loses its oldest event
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def _follow(self, since: datetime) -> None:
        while True:
            try:
                async for event in event_store.tail(
                    self._db, poll_interval=self._poll_interval, since=since
                ):
                    self.deliver(event)
                    since = datetime.now(UTC)
            except asyncio.CancelledError:
                raise
            except Exception:  # a lost connection: follow again after a pause
                log.exception("Following the events collection failed; retrying")
                await asyncio.sleep(max(self._poll_interval, 1.0))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def hub_of(context: Any) -> EventHub | None:
    return getattr(context, "hub", None)
