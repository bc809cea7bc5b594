"""Every kind of typed client error is logged, if at all, below WARNING and without a traceback
(issue 13 point 6): over HTTP (the fast front and the stack) and over a WebSocket. The logs of
each request are captured alone, so a failure names the request that logged at ERROR."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from graph.app import create_app
from graph.limits import Protection
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from store.tokens import TokenScope
from tests.graph.test_subscriptions import receive, served
from tests.helpers import create_app as create_mendix_app
from tests.helpers import make_person

VIEWER = "{ viewer { name } }"
CREATE = (
    'mutation { createPerson(input: {email: "x@example.com", name: "X"}) { userErrors { code } } }'
)
ABUSIVE = (
    "{ apps(first:100){nodes{teamMembers{technicalContactOf(first:100){nodes{teamMembers"
    "{technicalContactOf(first:100){totalCount}}}}}}}}"
)
MANY_IDS = "{ nodes(ids: [" + ",".join('"x"' for _ in range(101)) + "]) { id } }"


def _no_error_logged(records: list[logging.LogRecord], what: str) -> None:
    bad = [r for r in records if r.levelno >= logging.WARNING or r.exc_info or r.exc_text]
    assert not bad, f"{what}: " + "; ".join(
        f"{r.levelname} {r.name}: {r.getMessage()} (traceback: {bool(r.exc_info)})" for r in bad
    )


def _code(response: httpx.Response) -> str:
    body = response.json()
    if "errors" in body:
        return str((body["errors"][0].get("extensions") or {}).get("code", ""))
    payload = next(iter(body["data"].values()))
    return str(payload["userErrors"][0]["code"])


async def test_each_typed_client_error_over_http_is_logged_without_a_traceback(
    store: Store,
    db: Any,
    support: PersonRecord,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tess = await make_person(db, "tess@example.com", "Tess", mendix_id="tess-1")
    await create_mendix_app(db, support, tess, subdomain="shop")
    app_key = (await db["apps"].find_one({"subdomain": "shop"}))["_id"]
    full = await token_store.create_token(db, support.id)
    read_only = await token_store.create_token(db, support.id, scope=TokenScope.READ_ONLY)
    node = await token_store.create_node_token(db, app_key)
    spent = await token_store.create_token(db, tess.id)

    async def open_store() -> Store:
        return store

    # a small budget for Tess (the second request is refused), a short deadline
    protection = Protection(
        max_body_bytes=2000, budget_person=30, deadline_seconds=0.2, access_log=None
    )
    app = create_app(open_store, protection=protection)
    app.state.store = store
    transport = httpx.ASGITransport(app=app)
    web = httpx.AsyncClient(transport=transport, base_url="http://test")

    def post(token: str | None, body: Any, **headers: str) -> Callable[[], Awaitable[Any]]:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if isinstance(body, bytes):
            headers.setdefault("content-type", "application/json")
            return lambda: web.post("/graphql", content=body, headers=headers)
        return lambda: web.post("/graphql", json=body, headers=headers)

    persisted = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    cases: list[tuple[str, Callable[[], Awaitable[Any]], int, str]] = [
        ("no token", post(None, {"query": VIEWER}), 401, "UNAUTHENTICATED"),
        ("unknown token", post("mxo_nope", {"query": VIEWER}), 401, "UNAUTHENTICATED"),
        ("read-only mutation", post(read_only, {"query": CREATE}), 403, "INSUFFICIENT_SCOPE"),
        ("metrics token", post(node, {"query": VIEWER}), 403, "INSUFFICIENT_SCOPE"),
        ("metrics token again", post(node, {"query": VIEWER}), 403, "INSUFFICIENT_SCOPE"),
        ("unknown field", post(full, {"query": "{ nothing }"}), 200, ""),
        (
            "bad variable",
            post(
                full,
                {
                    "query": "query($n: Int) { apps(first: $n) { totalCount } }",
                    "variables": {"n": "x"},
                },
            ),
            200,
            "",
        ),
        ("bad id", post(full, {"query": '{ node(id: "bm90LWFuLWlk") { id } }'}), 200, "INVALID_ID"),
        (
            "page size",
            post(full, {"query": "{ apps(first: 500) { totalCount } }"}),
            200,
            "PAGE_SIZE_EXCEEDED",
        ),
        ("list size", post(full, {"query": MANY_IDS}), 200, "LIST_SIZE_EXCEEDED"),
        ("cost", post(full, {"query": ABUSIVE}), 200, "MAX_COST_EXCEEDED"),
        ("budget", post(spent, {"query": "{ apps(first: 20) { nodes { id } } }"}), 200, ""),
        (
            "rate limit",
            post(spent, {"query": "{ apps(first: 20) { nodes { id } } }"}),
            429,
            "RATE_LIMITED",
        ),
        (
            "invalid input",
            post(full, {"query": CREATE.replace("x@example.com", "nope")}),
            200,
            "INVALID_EMAIL",
        ),
        ("a string body", post(full, b'"just a string"'), 400, "BAD_REQUEST"),
        ("not UTF-8", post(full, b'{"query": "\xff"}'), 400, "BAD_REQUEST"),
        (
            "too large",
            post(full, {"query": VIEWER, "variables": {"pad": "x" * 3000}}),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            "text/plain",
            post(full, b"{}", **{"content-type": "text/plain"}),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "mutation over GET",
            lambda: web.get(
                "/graphql", params={"query": CREATE}, headers={"Authorization": f"Bearer {full}"}
            ),
            405,
            "METHOD_NOT_ALLOWED",
        ),
        ("unknown path", lambda: web.get("/nowhere"), 404, "NOT_FOUND"),
        ("persisted, unknown", post(full, persisted), 200, "PERSISTED_QUERY_NOT_FOUND"),
        ("a batch", post(full, [{"query": VIEWER}]), 400, "BAD_REQUEST"),
    ]
    # again: what the fast front remembered is answered (or handed on) by it this time
    again = [(f"{w} (again)", r, s, c) for w, r, s, c in cases if "budget" not in w]
    again = [case for case in again if not case[0].startswith("rate limit")]
    async with web:
        for what, request, status, code in [*cases, *again]:
            caplog.clear()
            with caplog.at_level(logging.DEBUG):
                response = await request()
            assert response.status_code == status, (what, response.text)
            if code:
                assert _code(response) == code, (what, response.text)
            _no_error_logged(caplog.records, what)

        from store import apps as app_store

        async def slow(*_args: Any, **_kwargs: Any) -> Any:
            await asyncio.sleep(60)

        monkeypatch.setattr(app_store, "list_apps", slow)
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            response = await post(full, {"query": "{ apps(first: 2) { totalCount } }"})()
        assert (response.status_code, _code(response)) == (504, "TIMEOUT")
        _no_error_logged(caplog.records, "deadline")


async def test_client_errors_over_a_websocket_are_logged_without_a_traceback(
    store: Store, db: Any, support: PersonRecord, caplog: pytest.LogCaptureFixture
) -> None:
    read_only = await token_store.create_token(db, support.id, scope=TokenScope.READ_ONLY)
    operations = [
        ("read-only mutation", CREATE, "INSUFFICIENT_SCOPE"),
        ("unknown field", "{ nothing }", None),
        ("cost", ABUSIVE, "MAX_COST_EXCEEDED"),
        ("list size", MANY_IDS, "LIST_SIZE_EXCEEDED"),
        ("bad id", '{ node(id: "bm90LWFuLWlk") { id } }', "INVALID_ID"),
    ]
    async with served(store) as (_app, address):
        url = f"ws://{address}/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {read_only}"}}
            await ws.send(json.dumps(init))
            assert (await receive(ws))["type"] == "connection_ack"
            for number, (what, query, code) in enumerate(operations):
                caplog.clear()
                with caplog.at_level(logging.DEBUG):
                    message = {"id": str(number), "type": "subscribe", "payload": {"query": query}}
                    await ws.send(json.dumps(message))
                    async with asyncio.timeout(20):  # a guard against a hang
                        answer = await receive(ws)
                        while answer["type"] == "complete":
                            answer = await receive(ws)
                payload = answer["payload"]
                errors = payload if isinstance(payload, list) else payload.get("errors")
                assert errors, (what, answer)
                if code is not None:
                    assert errors[0]["extensions"]["code"] == code, (what, answer)
                _no_error_logged(caplog.records, what)
