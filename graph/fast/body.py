"""The request body for the fast front: read once, replayed to the app when it hands on."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.types import Message, Receive

from graph.flight import BodyTooLarge, Flight


async def read_body(receive: Receive, limit: float = math.inf) -> tuple[bytes, Message | None]:
    """The whole request body, or what was read before a non-body message (returned);
    ``BodyTooLarge`` as soon as the body grows past ``limit``."""
    chunks: list[bytes] = []
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None


async def read_guarded(flight: Flight) -> tuple[bytes, Message | None]:
    """:func:`read_body` from the server's own channel of a request the Guard holds, held to
    its body limit as the Guard's wrapped ``receive`` holds it (the Guard answers 413)."""
    body, interrupted = await read_body(flight.raw_receive, flight.limit)
    if interrupted is None:
        flight.body_done = True  # from now on only a disconnect can come (its watch)
    return body, interrupted


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving the app the body already read, then the real channel."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def replay_partial(body: bytes, interrupted: Message, receive: Receive) -> Receive:
    """As :func:`replay` when the client went away mid-body: what came, then that message."""
    queue: list[Message] = [
        {"type": "http.request", "body": body, "more_body": True},
        interrupted,
    ]

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed


def encode(data: Any, extensions: dict[str, Any] | None) -> bytes:
    if extensions is None:
        return orjson.dumps({"data": data})
    return orjson.dumps({"data": data, "extensions": extensions})
