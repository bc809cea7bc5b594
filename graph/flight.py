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
WATCH_AFTER = 1.0  # a request that ends sooner is not worth watching


class BodyTooLarge(Exception):
    pass


class Flight:
    """One request: what the layers below the Guard learn about it (for the access log, the
    metrics and each other: ``graph.guard.RequestInfo`` is this class) and, over HTTP, its
    channel to the client (``receive`` / ``send``, wrapped).

    The request path sets only what it learns; everything else stays the class's default."""

    # what the layers learn
    limiter: Any = None  # graph/ratelimit.py RateLimiter
    admission: Any = None  # graph/admission.py Admission
    cost: int | None = None
    token_id: str | None = None
    operation: str | None = None
    status: int = 0  # the response's, once it started
    complete: bool = False
    ended_by: str | None = None  # "timeout" or "disconnect"
    # the HTTP channel
    raw_receive: Receive
    raw_send: Send
    limit: int = 0
    received: int = 0
    body_done: bool = False
    watcher: asyncio.Task[Message] | None = None
    task: asyncio.Task[Any] | None = None
    started_at: float = 0.0

    def __init__(
        self,
        request_id: str,
        protection: Any,
        limiter: Any = None,
        receive: Receive | None = None,
        send: Send | None = None,
        started_at: float = 0.0,
        task: asyncio.Task[Any] | None = None,
    ) -> None:
        """``receive``, ``send``, ``started_at`` (perf_counter) and ``task`` over HTTP: the
        request arrived then, and ``task`` is what a deadline or a disconnect cancels."""
        self.request_id = request_id
        self.protection = protection
        self.limiter = limiter
        if receive is not None:
            self.raw_receive = receive
            self.raw_send = send  # type: ignore[assignment]
            self.limit = protection.max_body_bytes
            self.started_at = started_at
            self.task = task

    @property
    def started(self) -> bool:
        """Whether the response started (then no other answer can be sent)."""
        return self.status != 0

    @property
    def id_header(self) -> tuple[bytes, bytes]:
        return (b"x-request-id", self.request_id.encode())

    async def receive(self) -> Message:
        if self.body_done:  # after the body, only a disconnect can come
            return await asyncio.shield(self.watch())
        message = await self.raw_receive()
        if message["type"] == "http.request":
            received = self.received = self.received + len(message.get("body", b""))
            if received > self.limit:
                raise BodyTooLarge
            self.body_done = not message.get("more_body", False)
        return message

    def send(self, message: Message) -> Awaitable[None]:
        # a plain function handing back the server's own awaitable: no coroutine of its own
        status = message.get("status")
        if status is not None:  # http.response.start
            self.status = status
            message["headers"] = [
                *message.get("headers", ()),
                (b"x-request-id", self.request_id.encode()),
            ]
        elif not message.get("more_body"):
            self.complete = True
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
        if not self.complete and self.ended_by is None and self.task is not None:
            self.ended_by = reason
            self.task.cancel()

    def close(self) -> None:
        if self.watcher is not None and not self.watcher.done():
            self.watcher.cancel()


class Sweeper:
    """Ticks while requests are in flight: starts disconnect watches, enforces deadlines."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.flights: set[Flight] = set()
        self.handle: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, flight: Flight) -> None:
        self.flights.add(flight)
        if self.handle is None or self.loop is not asyncio.get_running_loop():
            self.start()

    def start(self) -> None:
        """Tick from now on: no tick is pending in this loop (a tick pending in a loop that
        was closed never comes). The Guard checks that itself, without calling :meth:`add`."""
        self.loop = asyncio.get_running_loop()
        self.handle = self.loop.call_later(TICK, self.tick)

    def remove(self, flight: Flight) -> None:
        self.flights.discard(flight)

    def tick(self) -> None:
        self.handle = None
        now = time.perf_counter()
        for flight in list(self.flights):
            age = now - flight.started_at
            if 0 < self.deadline <= age:
                flight.end("timeout")
            elif age >= WATCH_AFTER and flight.body_done:
                flight.watch()
        if self.flights and self.loop is not None and not self.loop.is_closed():
            self.handle = self.loop.call_later(TICK, self.tick)
