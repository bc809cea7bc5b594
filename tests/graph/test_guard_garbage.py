"""A request leaves nothing for the cyclic garbage collector (graph/guard.py).

A server keeps the request's scope in the object whose methods are ``receive`` and ``send``
(uvicorn's ``RequestResponseCycle``); the Guard keeps its ``Flight`` in the scope and the
channel in the flight. Unless the Guard lets go of the channel, every request's server state
(the channel, its task, coroutine, event, ...) lives on in a reference cycle until a GC pass
finds it: over HTTP that was the larger part of protection's cost (docs/protection.md)."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import orjson
import pytest

from graph.app import create_app
from graph.limits import Protection
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord

TINY = {"query": "{ __typename }"}
APPS = {"query": "{ apps(first: 2) { totalCount } }"}


class Channel:
    """A server's per-request object, as uvicorn's: it holds the scope it serves."""

    def __init__(self, scope: dict[str, Any], body: bytes) -> None:
        self.scope = scope
        self.body = body
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": self.body, "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


async def _request(app: Any, token: str, document: dict[str, Any]) -> weakref.ref[Channel]:
    body = orjson.dumps(document)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
        "app": app,
    }
    channel = Channel(scope, body)
    await app(scope, channel.receive, channel.send)
    start = channel.sent[0]
    assert start["status"] == 200
    assert b"x-request-id" in dict(start["headers"])
    answer = orjson.loads(b"".join(m.get("body", b"") for m in channel.sent[1:]))
    assert "cost" in answer["extensions"], answer
    return weakref.ref(channel)


@pytest.mark.parametrize("document", [TINY, APPS])
async def test_a_request_leaves_no_reference_cycle(
    store: Store, db: Any, support: PersonRecord, document: dict[str, Any]
) -> None:
    async def open_store() -> Store:
        return store

    app = create_app(open_store, protection=Protection())
    app.state.store = store
    token = await token_store.create_token(db, support.id)
    await _request(app, token, document)  # the first one may be answered by the stack
    gc.collect()
    gc.disable()  # what refcounting alone frees
    try:
        for _ in range(2):  # the second one by the fast front, from its remembered plan
            assert (await _request(app, token, document))() is None
    finally:
        gc.enable()
