"""Access tokens over HTTP and WebSocket: scopes, expiry, revocation, the API to manage them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from graph.app import create_app
from graph.fast import standard
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from store.records import now
from store.tokens import TokenScope
from tests.graph.cloud import cloud
from tests.graph.test_subscriptions import WAIT, served
from tests.helpers import dump, gid, make_person, pid

VIEWER = "{ viewer { email } }"
CREATE = """
mutation ($input: CreateAccessTokenInput!) {
  createAccessToken(input: $input) {
    token
    accessToken { id label scope createdAt expiresAt lastUsedAt revokedAt expired active
                  person { email } app { id } }
    userErrors { field message code }
  }
}"""
REVOKE = """
mutation ($id: ID!) {
  revokeAccessToken(input: {id: $id}) {
    accessToken { id revokedAt active }
    userErrors { field message code }
  }
}"""
MINE = """
{ viewer { accessTokens(first: 10) {
    totalCount nodes { id label scope expiresAt lastUsedAt revokedAt active }
} } }"""
THEIRS = """
query ($id: ID!) { node(id: $id) { ... on Person { accessTokens { totalCount nodes { label } } } } }
"""
TOKEN_NODE = "query ($id: ID!) { node(id: $id) { ... on AccessToken { label scope } } }"
CREATE_PERSON = """
mutation { createPerson(input: {email: "new@example.com", name: "New"}) {
  person { id } userErrors { code } } }"""


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async def open_store() -> Store:
        return store

    app = create_app(open_store)
    app.state.store = store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def post(
    http: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
    accept: str | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if accept:
        headers["Accept"] = accept
    body = {"query": query, "variables": variables or {}}
    return await http.post("/graphql", json=body, headers=headers)


async def ok(
    http: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await post(http, token, query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def days_from_now(value: str) -> float:
    return (datetime.fromisoformat(value) - now()).total_seconds() / 86400


async def test_create_list_use_and_revoke_a_token(
    http: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    cli_token = await token_store.create_token(db, ann.id)
    created = (await ok(http, cli_token, CREATE, {"input": {"label": "laptop"}}))[
        "createAccessToken"
    ]
    assert created["userErrors"] == []
    secret, token = created["token"], created["accessToken"]
    assert secret.startswith("mxo_")
    assert (token["label"], token["scope"], token["person"]) == (
        "laptop",
        "FULL",
        {"email": "ann@example.com"},
    )
    assert 89.9 < days_from_now(token["expiresAt"]) <= 90
    assert (token["expired"], token["active"], token["revokedAt"], token["app"]) == (
        False,
        True,
        None,
        None,
    )
    assert secret not in json.dumps(await db["tokens"].find({}).to_list(None), default=str)
    # the new secret works, and its use is recorded
    assert (await ok(http, secret, VIEWER))["viewer"]["email"] == "ann@example.com"
    listed = await post(http, cli_token, MINE)
    assert secret not in listed.text and cli_token not in listed.text  # never a secret
    nodes = listed.json()["data"]["viewer"]["accessTokens"]["nodes"]
    assert [n["label"] for n in nodes] == ["cli", "laptop"]
    assert all(n["lastUsedAt"] is not None for n in nodes)
    # revoke it: the next request with it is 401
    revoked = (await ok(http, cli_token, REVOKE, {"id": token["id"]}))["revokeAccessToken"]
    assert revoked["userErrors"] == [] and revoked["accessToken"]["active"] is False
    response = await post(http, secret, VIEWER)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    again = (await ok(http, cli_token, REVOKE, {"id": token["id"]}))["revokeAccessToken"]
    assert [e["code"] for e in again["userErrors"]] == ["ALREADY_REVOKED"]


async def test_expiry_per_token_and_from_the_environment(
    http: httpx.AsyncClient, db: Any, support: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await token_store.create_token(db, support.id)
    week = await ok(http, token, CREATE, {"input": {"label": "w", "expiresInDays": 7}})
    assert 6.9 < days_from_now(week["createAccessToken"]["accessToken"]["expiresAt"]) <= 7
    monkeypatch.setenv("OWNERSHIP_TOKEN_EXPIRY_DAYS", "30")
    month = await ok(http, token, CREATE, {"input": {"label": "m", "scope": "READ_ONLY"}})
    made = month["createAccessToken"]["accessToken"]
    assert made["scope"] == "READ_ONLY" and 29.9 < days_from_now(made["expiresAt"]) <= 30


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"label": "x", "expiresInDays": 0}, "INVALID_INPUT", ["input", "expiresInDays"]),
        ({"label": "x", "expiresInDays": 3651}, "INVALID_INPUT", ["input", "expiresInDays"]),
        ({"label": "  "}, "BLANK", ["input", "label"]),
        ({"label": "x" * 101}, "TOO_LONG", ["input", "label"]),
        ({"label": "x", "scope": "METRICS"}, "INVALID_INPUT", ["input", "scope"]),
    ],
)
async def test_bad_token_input_is_refused_and_changes_nothing(
    http: httpx.AsyncClient,
    db: Any,
    support: PersonRecord,
    input: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    token = await token_store.create_token(db, support.id)
    await ok(http, token, VIEWER)  # its last use is recorded before the snapshot
    before = await dump(db)
    payload = (await ok(http, token, CREATE, {"input": input}))["createAccessToken"]
    assert payload["token"] is None and payload["accessToken"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field)]
    assert await dump(db) == before


async def test_only_your_own_tokens_support_all(
    http: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    bob = await make_person(db, "bob@example.com", "Bob")
    ann_token = await token_store.create_token(db, ann.id, label="ann")
    bob_token = await token_store.create_token(db, bob.id, label="bob")
    support_token = await token_store.create_token(db, support.id)
    bob_record = await token_store.find_token(db, bob_token)
    assert bob_record is not None
    bob_id = gid("AccessToken", bob_record.key)
    # others' tokens are hidden: node null, Person.accessTokens null, revoke NOT_FOUND
    assert (await ok(http, ann_token, TOKEN_NODE, {"id": bob_id}))["node"] is None
    assert (await ok(http, bob_token, TOKEN_NODE, {"id": bob_id}))["node"] == {
        "label": "bob",
        "scope": "FULL",
    }
    assert (await ok(http, ann_token, THEIRS, {"id": pid(ann)}))["node"]["accessTokens"][
        "totalCount"
    ] == 1
    support_view = await ok(http, support_token, THEIRS, {"id": pid(bob)})
    assert support_view["node"]["accessTokens"]["nodes"] == [{"label": "bob"}]
    before = await dump(db)
    refused = (await ok(http, ann_token, REVOKE, {"id": bob_id}))["revokeAccessToken"]
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_FOUND"]
    assert await dump(db) == before
    bad = (await ok(http, ann_token, REVOKE, {"id": pid(bob)}))["revokeAccessToken"]
    assert [e["code"] for e in bad["userErrors"]] == ["INVALID_ID"]
    assert await dump(db) == before
    # Support revokes anyone's, a cloud node's too
    done = (await ok(http, support_token, REVOKE, {"id": bob_id}))["revokeAccessToken"]
    assert done["userErrors"] == []
    assert (await post(http, bob_token, VIEWER)).status_code == 401
    node_secret, node = await token_store.issue_token(
        db, scope=TokenScope.METRICS, label="node", app_id=ObjectId()
    )
    node_id = gid("AccessToken", node.key)
    assert (await ok(http, support_token, TOKEN_NODE, {"id": node_id}))["node"]["scope"] == (
        "METRICS"
    )
    done = (await ok(http, support_token, REVOKE, {"id": node_id}))["revokeAccessToken"]
    assert done["userErrors"] == []
    assert (await token_store.find_token(db, node_secret)).revoked_at is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("accept", [None, "application/graphql-response+json"])
async def test_a_read_only_token_reads_and_never_writes(
    http: httpx.AsyncClient, db: Any, support: PersonRecord, accept: str | None
) -> None:
    read_only = await token_store.create_token(db, support.id, scope=TokenScope.READ_ONLY)
    record = await token_store.find_token(db, read_only)
    assert record is not None
    for _ in range(2):  # the second time from the fast front (the document is remembered)
        assert (await ok(http, read_only, MINE))["viewer"]["accessTokens"]["totalCount"] == 1
    before = await dump(db)
    for query, variables in (
        (CREATE_PERSON, None),
        (CREATE, {"input": {"label": "escalate"}}),
        (REVOKE, {"id": gid("AccessToken", record.key)}),
    ):
        response = await post(http, read_only, query, variables, accept)
        assert response.status_code == 403, response.text
        body = response.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["INSUFFICIENT_SCOPE"]
        assert body.get("data") is None
    assert await dump(db) == before


async def test_a_metrics_token_is_refused_on_graphql(
    http: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    """Even for a query the fast front has remembered: the front authenticates through the
    view and hands a refused credential to it."""
    c = await cloud(db, support)
    key = (await db["apps"].find_one({"subdomain": "shop"}))["_id"]
    node = await token_store.create_node_token(db, key)
    person = await token_store.create_token(db, support.id)
    await ok(http, person, VIEWER)
    await ok(http, person, VIEWER)  # remembered by the front
    before = await dump(db)
    for request in (
        lambda: post(http, node, VIEWER),
        lambda: post(http, node, CREATE_PERSON),
        lambda: post(http, node, VIEWER, accept="application/graphql-response+json"),
        lambda: http.get(
            "/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {node}"}
        ),
    ):
        response = await request()
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    with standard():  # stock strawberry, no front: the same answer
        response = await post(http, node, VIEWER)
        assert response.status_code == 403
    assert await dump(db) == before
    # ... and what it is for still works
    body = {"environmentId": c.production, "samples": [{"category": "APP_CPU", "value": 5}]}
    response = await http.post("/metrics", json=body, headers={"Authorization": f"Bearer {node}"})
    assert response.status_code == 200 and response.json()["userErrors"] == []


async def test_expired_tokens_are_401_everywhere(
    http: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    key = (await db["apps"].find_one({"subdomain": "shop"}))["_id"]
    past = now() - timedelta(seconds=1)
    expired = await token_store.create_token(db, support.id, expires_at=past)
    node = await token_store.create_node_token(db, key, expires_at=past)
    for _ in range(2):
        response = await post(http, expired, VIEWER)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = {"environmentId": c.production, "samples": [{"category": "APP_CPU", "value": 5}]}
    response = await http.post("/metrics", json=body, headers={"Authorization": f"Bearer {node}"})
    assert response.status_code == 401


async def test_websocket_read_only_subscribes_but_never_mutates(
    store: Store, db: Any, support: PersonRecord
) -> None:
    read_only = await token_store.create_token(db, support.id, scope=TokenScope.READ_ONLY)
    revoked_secret, revoked = await token_store.issue_token(
        db, scope=TokenScope.FULL, label="x", person_id=support.id
    )
    await token_store.revoke_token(db, revoked.key, support.id)
    async with served(store) as (_, address):
        async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {read_only}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            before = await dump(db)
            payload = {"query": CREATE_PERSON}
            await ws.send(json.dumps({"id": "m", "type": "subscribe", "payload": payload}))
            async with asyncio.timeout(WAIT):
                message = json.loads(await ws.recv())
            errors = (
                message["payload"] if message["type"] == "error" else (message["payload"]["errors"])
            )
            assert errors[0]["extensions"]["code"] == "INSUFFICIENT_SCOPE", message
            assert await dump(db) == before
            subscription = "subscription { alertRaised { category } }"
            await ws.send(
                json.dumps({"id": "s", "type": "subscribe", "payload": {"query": subscription}})
            )
            await ws.send(json.dumps({"type": "ping"}))
            async with asyncio.timeout(WAIT):
                assert json.loads(await ws.recv())["type"] == "pong"  # no error for "s"
        async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            init = {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {revoked_secret}"},
            }
            await ws.send(json.dumps(init))
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(WAIT):
                    await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


@pytest.mark.parametrize("ending", ["revoked", "expired"])
async def test_a_subscription_ends_when_its_token_is_revoked_or_expires(
    store: Store, db: Any, support: PersonRecord, ending: str
) -> None:
    from tests.graph.test_subscriptions import next_alert, post_metrics, subscriber

    c = await cloud(db, support)
    key = (await db["apps"].find_one({"subdomain": "shop"}))["_id"]
    node = await token_store.create_node_token(db, key)
    secret, record = await token_store.issue_token(
        db, scope=TokenScope.READ_ONLY, label="watch", person_id=c.contact.id
    )
    async with served(store) as (app, address), subscriber(app, address, secret) as ws:
        await post_metrics(address, node, c.production, APP_CPU=99)
        assert (await next_alert(ws))["status"] == "CRITICAL"
        if ending == "revoked":
            await token_store.revoke_token(db, record.key, support.id)
        else:
            await db["tokens"].update_one(
                {"key": record.key}, {"$set": {"expires_at": now() - timedelta(seconds=1)}}
            )
        await post_metrics(address, node, c.production, APP_CPU=1)
        async with asyncio.timeout(WAIT):
            message = json.loads(await ws.recv())
        assert message == {"id": "1", "type": "complete"}
