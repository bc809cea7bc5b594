"""A request in flight (graph/guard.py): its body limit, its disconnect watch and its deadline.

Quick requests must pay almost nothing for this, so nothing is armed per request: one shared
:class:`Sweeper` ticks every ``TICK`` seconds while requests are in flight. A request older
than ``WATCH_AFTER`` that has read its body gets a watch on its connection (a client that goes
away cancels it); one past its deadline is cancelled and answered ``TIMEOUT``. So a deadline
ends a request at most ``TICK`` late.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from starlette.types import Message, Receive, Send

TICK = 0.05
WATCH_AFTER = 0.05


class BodyTooLarge(Exception):
    pass


class Flight:
    """One HTTP request's channel to the client, as the layers below it see it."""

    __slots__ = (
        "body_done",
        "id_header",
        "info",
        "limit",
        "raw_receive",
        "raw_send",
        "received",
        "started_at",
        "task",
        "watcher",
    )

    def __init__(self, info: Any, receive: Receive, send: Send, limit: int) -> None:
        self.info = info
        self.raw_receive = receive
        self.raw_send = send
        self.limit = limit
        self.received = 0
        self.body_done = False
        self.watcher: asyncio.Task[Message] | None = None
        self.task = asyncio.current_task()
        self.started_at = time.perf_counter()
        self.id_header = (b"x-request-id", info.request_id.encode())

    async def receive(self) -> Message:
        if self.body_done:  # after the body, only a disconnect can come
            return await asyncio.shield(self.watch())
        message = await self.raw_receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                raise BodyTooLarge
            self.body_done = not message.get("more_body", False)
        return message

    def send(self, message: Message) -> Awaitable[None]:
        # a plain function handing back the server's own awaitable: no coroutine of its own
        info = self.info
        if message["type"] == "http.response.start":
            info.started = True
            info.status = message["status"]
            message["headers"] = [*message.get("headers", ()), self.id_header]
        elif not message.get("more_body", False):
            info.complete = True
        return self.raw_send(message)

    def watch(self) -> asyncio.Task[Message]:
        if self.watcher is None:
            self.watcher = asyncio.get_running_loop().create_task(self.raw_receive())
            self.watcher.add_done_callback(self._heard)
        return self.watcher

    def _heard(self, done: asyncio.Task[Message]) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        if done.result()["type"] == "http.disconnect":
            self.end("disconnect")

    def end(self, reason: str) -> None:
        """Cancel the request's work, unless its answer is already complete."""
        info = self.info
        if not info.complete and info.ended_by is None and self.task is not None:
            info.ended_by = reason
            self.task.cancel()

    def close(self) -> None:
        if self.watcher is not None and not self.watcher.done():
            self.watcher.cancel()


class Sweeper:
    """Ticks while requests are in flight: starts disconnect watches, enforces deadlines."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.flights: dict[int, Flight] = {}
        self.handle: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, flight: Flight) -> None:
        self.flights[id(flight)] = flight
        if self.handle is None or self.loop is not asyncio.get_running_loop():
            self.loop = asyncio.get_running_loop()
            self.handle = self.loop.call_later(TICK, self.tick)

    def remove(self, flight: Flight) -> None:
        self.flights.pop(id(flight), None)

    def tick(self) -> None:
        self.handle = None
        now = time.perf_counter()
        for flight in list(self.flights.values()):
            age = now - flight.started_at
            if 0 < self.deadline <= age:
                flight.end("timeout")
            elif age >= WATCH_AFTER and flight.body_done:
                flight.watch()
        if self.flights and self.loop is not None and not self.loop.is_closed():
            self.handle = self.loop.call_later(TICK, self.tick)
