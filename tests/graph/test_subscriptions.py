"""Live alerts over a real WebSocket (graphql-transport-ws) against the app served by uvicorn
on a loopback port; metric reports over real HTTP (POST /metrics with a node token)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from graph.app import create_app
from store import people as people_store
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord, PersonStatus
from tests.graph.cloud import Cloud, cloud, grant
from tests.helpers import create_app as create_app_record
from tests.helpers import make_person

SUBSCRIBE = """
subscription ($appId: ID) {
  alertRaised(appId: $appId) {
    category status previousStatus environmentName app { id } environment { id }
  }
}"""
WAIT = 20.0  # seconds; only a guard against a hang, never an assertion about speed


class _Unowned:
    def close(self) -> None:  # the test fixture owns the client
        return None


async def until(condition: Any) -> None:
    """Wait for ``condition()`` (a guard against hangs, not a speed assertion)."""
    async with asyncio.timeout(WAIT):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


@asynccontextmanager
async def served(store: Store) -> AsyncIterator[tuple[Any, str]]:
    """The app under uvicorn on an ephemeral loopback port, sharing the test's database."""

    async def open_store() -> Store:
        return Store(db=store.db, client=_Unowned(), embedded=store.embedded)

    app = create_app(open_store, poll_interval=0.05)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await until(lambda: server.started)
        yield app, f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def subscriber(
    app: Any, address: str, token: str, app_id: str | None = None
) -> AsyncIterator[ClientConnection]:
    """A graphql-transport-ws client whose subscription is registered when this yields."""
    async with connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert (await receive(ws))["type"] == "connection_ack"
        hub = app.state.hub
        before = hub.subscribers
        payload = {"query": SUBSCRIBE, "variables": {"appId": app_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        await until(lambda: hub.subscribers > before)
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next message, which must come in a text frame: graphql-ws (the JavaScript client
    under Apollo Client, urql and GraphiQL) rejects binary frames."""
    frame = await ws.recv()
    assert isinstance(frame, str), f"a binary frame: {frame!r}"
    message = json.loads(frame)
    assert isinstance(message, dict)
    return message


async def next_alert(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        message = await receive(ws)
    assert message["type"] == "next", message
    return message["payload"]["data"]["alertRaised"]


async def post_metrics(address: str, token: str, env: str, **samples: float) -> httpx.Response:
    body = {
        "environmentId": env,
        "samples": [{"category": k, "value": v} for k, v in samples.items()],
    }
    async with httpx.AsyncClient(base_url=f"http://{address}") as client:
        return await client.post(
            "/metrics", json=body, headers={"Authorization": f"Bearer {token}"}
        )


async def tokens(db: Any, c: Cloud) -> tuple[str, str]:
    key = (await db["apps"].find_one({"subdomain": "shop"}))["_id"]
    return (
        await token_store.create_token(db, c.contact.id),
        await token_store.create_node_token(db, key),
    )


async def test_alerts_of_one_app_arrive_live(store: Store, db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    person_token, node_token = await tokens(db, c)
    async with (
        served(store) as (app, address),
        subscriber(app, address, person_token, c.app["id"]) as ws,
    ):
        response = await post_metrics(address, node_token, c.production, APP_CPU=97)
        assert response.status_code == 200 and response.json()["userErrors"] == []
        alert = await next_alert(ws)
        assert (alert["previousStatus"], alert["status"]) == ("NORMAL", "CRITICAL")
        assert alert["app"]["id"] == c.app["id"] and alert["environment"]["id"] == c.production
        await post_metrics(address, node_token, c.production, APP_CPU=98)  # no change: no alert
        await post_metrics(address, node_token, c.production, APP_CPU=3)
        alert = await next_alert(ws)
        assert (alert["previousStatus"], alert["status"]) == ("CRITICAL", "NORMAL")


async def test_subscriptions_are_scoped_like_queries(
    store: Store, db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    person_token, node_token = await tokens(db, c)
    other_contact = await make_person(db, "o@x.example", "Olga", "olga")
    other = await create_app_record(db, support, other_contact, "MENDIX_CLOUD", "other")
    from tests.graph.cloud import add_environment

    other_env = (await add_environment(db, support, other["id"], "Production", True))["environment"]
    other_key = (await db["apps"].find_one({"subdomain": "other"}))["_id"]
    other_node = await token_store.create_node_token(db, other_key)
    other_token = await token_store.create_token(db, other_contact.id)
    member_token = await token_store.create_token(db, c.member.id)
    async with (
        served(store) as (app, address),
        subscriber(app, address, person_token) as mine,
        subscriber(app, address, other_token) as theirs,
        subscriber(app, address, member_token) as member,
    ):
        await post_metrics(address, other_node, other_env["id"], APP_DISK=80)
        await post_metrics(address, node_token, c.production, APP_DISK=90)
        await grant(db, c.contact, c.acceptance, c.member, "ACCESS_TO_MONITORING")
        await post_metrics(address, node_token, c.acceptance, APP_MEMORY=99)
        first = await next_alert(mine)
        assert (first["app"]["id"], first["category"]) == (c.app["id"], "APP_DISK")
        assert (await next_alert(mine))["category"] == "APP_MEMORY"
        assert (await next_alert(theirs))["app"]["id"] == other["id"]  # never the other's
        # on the team but without Access to monitoring on Production: only Acceptance's
        seen = await next_alert(member)
        assert (seen["environmentName"], seen["category"]) == ("Acceptance", "APP_MEMORY")


async def test_subscribing_to_an_app_you_may_not_see(
    store: Store, db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    outsider_token = await token_store.create_token(db, c.outsider.id)
    async with (
        served(store) as (_, address),
        connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {outsider_token}"}}
        await ws.send(json.dumps(init))
        assert (await receive(ws))["type"] == "connection_ack"
        for app_id, code in ((c.app["id"], "NOT_FOUND"), ("bm9wZQ==", "INVALID_ID")):
            payload = {"query": SUBSCRIBE, "variables": {"appId": app_id}}
            await ws.send(json.dumps({"id": app_id, "type": "subscribe", "payload": payload}))
            async with asyncio.timeout(WAIT):
                message = await receive(ws)
            assert message["type"] in ("error", "next"), message
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert errors[0]["extensions"]["code"] == code, message


async def test_a_person_set_inactive_stops_receiving(
    store: Store, db: Any, support: PersonRecord
) -> None:
    c = await cloud(db, support)
    person_token, node_token = await tokens(db, c)
    async with served(store) as (app, address), subscriber(app, address, person_token) as ws:
        await post_metrics(address, node_token, c.production, APP_CPU=99)
        assert (await next_alert(ws))["status"] == "CRITICAL"
        await people_store.set_status(db, c.contact.id, PersonStatus.INACTIVE)
        await post_metrics(address, node_token, c.production, APP_CPU=1)
        async with asyncio.timeout(WAIT):
            message = await receive(ws)
        assert message == {"id": "1", "type": "complete"}


@pytest.mark.parametrize(
    "payload", [{}, {"Authorization": "Bearer mxo_nope"}, {"token": 5}, "node"]
)
async def test_websocket_needs_a_persons_token(
    store: Store, db: Any, support: PersonRecord, payload: Any
) -> None:
    c = await cloud(db, support)
    if payload == "node":
        payload = {"Authorization": f"Bearer {(await tokens(db, c))[1]}"}
    async with (
        served(store) as (_, address),
        connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(WAIT):
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_events_reach_subscribers_of_another_process(
    store: Store, db: Any, support: PersonRecord
) -> None:
    """Two API instances on one database: the report goes to the first, the subscriber sits
    on the second and gets the alert through the events collection (polled here: mongomock
    and the wire test server have no change streams)."""
    c = await cloud(db, support)
    person_token, node_token = await tokens(db, c)
    async with (
        served(store) as (_, first),
        served(store) as (second_app, second),
        subscriber(second_app, second, person_token, c.app["id"]) as ws,
    ):
        response = await post_metrics(first, node_token, c.production, DATABASE_FREE_SPACE=4)
        assert [a["status"] for a in response.json()["alerts"]] == ["CRITICAL"]
        alert = await next_alert(ws)
        assert (alert["category"], alert["status"]) == ("DATABASE_FREE_SPACE", "CRITICAL")


async def test_metrics_endpoint_refusals(store: Store, db: Any, support: PersonRecord) -> None:
    c = await cloud(db, support)
    person_token, node_token = await tokens(db, c)
    app = create_app(lambda: None)  # type: ignore[arg-type, return-value]
    app.state.store = store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def post(token: str, body: Any) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"}
            if isinstance(body, bytes):
                headers["Content-Type"] = "application/json"
                return await client.post("/metrics", content=body, headers=headers)
            return await client.post("/metrics", json=body, headers=headers)

        good = {"environmentId": c.production, "samples": [{"category": "APP_CPU", "value": 99}]}
        from tests.helpers import dump

        before = await dump(db)
        refused = await post(person_token, good)  # valid, but not a METRICS token
        assert refused.status_code == 403
        assert refused.json()["userErrors"][0]["code"] == "INSUFFICIENT_SCOPE"
        assert (await post("mxo_unknown", good)).status_code == 401
        assert (await post(node_token, b"{nope")).status_code == 400
        bad = {"environmentId": c.production, "samples": [{"category": "CPU", "value": 1}]}
        response = await post(node_token, bad)
        assert response.status_code == 422
        assert response.json()["userErrors"][0]["field"] == ["input", "samples", "0", "category"]
        response = await post(node_token, {**good, "extra": 1})
        assert response.status_code == 422
        assert await dump(db) == before
        response = await post(node_token, good)
        assert response.status_code == 200
        assert [a["status"] for a in response.json()["alerts"]] == ["CRITICAL"]
