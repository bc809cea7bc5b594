"""Query cost, the list-argument limit and per-token rate limits over HTTP, through the fast
front and the stack alike (graph/cost.py, graph/admission.py, graph/ratelimit.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from graph import fast
from graph.app import create_app
from graph.fast.front import REMEMBERED
from graph.limits import Protection
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.helpers import create_app as create_mendix_app
from tests.helpers import dump, make_person

ABUSIVE = (
    "{ apps(first:100){nodes{teamMembers{technicalContactOf(first:100){nodes{teamMembers"
    "{technicalContactOf(first:100){totalCount}}}}}}}}"
)
APPS = "query Apps($n: Int) { apps(first: $n) { nodes { id name } } }"
NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }"
CREATE_PERSON = (
    "mutation ($input: CreatePersonInput!) { createPerson(input: $input) { userErrors { code } } }"
)
GRAPHQL_RESPONSE = "application/graphql-response+json"

Client = Callable[..., Any]


def _client(store: Store, protection: Protection) -> httpx.AsyncClient:
    async def open_store() -> Store:
        return store

    app = create_app(open_store, protection=protection)
    app.state.store = store
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def web(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(store, Protection()) as client:
        yield client


@pytest.fixture
async def tess(db: Any, support: PersonRecord) -> PersonRecord:
    tess = await make_person(db, "tess@example.com", "Tess", mendix_id="tess-1")
    await create_mendix_app(db, support, tess)
    return tess


async def _post(
    client: httpx.AsyncClient, token: str, query: str, variables: Any = None, **headers: str
) -> httpx.Response:
    body = {"query": query, "variables": variables}
    headers = {"Authorization": f"Bearer {token}", **headers}
    return await client.post("/graphql", json=body, headers=headers)


async def test_the_abusive_query_is_refused_before_execution(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store import apps as app_store

    token = await token_store.create_token(db, tess.id)
    calls: list[Any] = []
    monkeypatch.setattr(app_store, "list_apps", lambda *a, **k: calls.append(a))
    for accept, status in (("application/json", 200), (GRAPHQL_RESPONSE, 400)):
        response = await _post(web, token, ABUSIVE, accept=accept)
        assert response.status_code == status
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
        assert error["extensions"]["cost"] == 2_102_101
        assert "2102101" in error["message"]
    assert calls == []
    # nothing was charged for the refusals
    ok = await _post(web, token, "{ viewer { name } }")
    cost = ok.json()["extensions"]["cost"]
    assert cost["remaining"] == cost["limit"] - 1


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ viewer { name } }", None, 1),
        ("{ __typename }", None, 0),
        ("{ apps(first: 5) { nodes { id } } }", None, 6),
        (APPS, {"n": 7}, 8),
        (APPS, None, 21),  # no first/last: the default page size, 20
        ("{ apps(last: 3) { edges { node { id } } pageInfo { hasNextPage } } }", None, 8),
        # a list that is not a connection counts 10
        ("{ apps(first: 2) { nodes { teamMembers { name } } } }", None, 23),
        (NODES, {"ids": ["a", "b", "c"]}, 3),
    ],
)
async def test_every_response_carries_its_cost(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, query: str, variables: Any, cost: int
) -> None:
    token = await token_store.create_token(db, tess.id)
    first = (await _post(web, token, query, variables)).json()["extensions"]["cost"]
    served = REMEMBERED.served
    second = (await _post(web, token, query, variables)).json()["extensions"]["cost"]
    assert first["requested"] == second["requested"] == cost
    assert second["remaining"] == first["remaining"] - max(cost, 1)
    assert set(second) == {"requested", "limit", "remaining", "resetAt"}
    if fast.enabled() and "nodes(ids" not in query:  # unknown ids: errors, the stack's
        assert REMEMBERED.served == served + 1, "the front answered the second one"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (NODES, {"ids": ["x"] * 101}),
        ("{ nodes(ids: [" + ", ".join(['"x"'] * 101) + "]) { id } }", None),
    ],
    ids=["variable", "literal"],
)
async def test_list_arguments_hold_at_most_100_items(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, query: str, variables: Any
) -> None:
    token = await token_store.create_token(db, tess.id)
    response = await _post(web, token, query, variables)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "LIST_SIZE_EXCEEDED"
    assert error["extensions"]["size"] == 101
    assert response.json()["data"] is None
    fine = await _post(web, token, NODES, {"ids": ["x"] * 100})
    assert "LIST_SIZE_EXCEEDED" not in fine.text


async def test_a_list_inside_an_input_is_limited_and_nothing_changes(
    web: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    token = await token_store.create_token(db, support.id)
    query = (
        "mutation ($input: PostMaintenanceWindowInput!) { postMaintenanceWindow(input: $input)"
        " { userErrors { code } } }"
    )
    window = {
        "title": "Upgrade",
        "description": "Database upgrade",
        "startsAt": "2030-01-01T00:00:00Z",
        "endsAt": "2030-01-01T02:00:00Z",
    }
    before = await dump(db)
    response = await _post(web, token, query, {"input": {**window, "appIds": ["x"] * 101}})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "LIST_SIZE_EXCEEDED"
    assert error["extensions"]["argument"] == "$input.appIds"
    assert await dump(db) == before


async def test_rate_limit_refuses_with_429_and_retry_after(
    store: Store, db: Any, support: PersonRecord, tess: PersonRecord
) -> None:
    protection = Protection(budget_person=5, budget_support=8, budget_node=2)
    tess_token = await token_store.create_token(db, tess.id)
    support_token = await token_store.create_token(db, support.id)
    async with _client(store, protection) as web:
        answers = [await _post(web, tess_token, "{ viewer { name } }") for _ in range(7)]
        assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
        refused = answers[-1]
        assert int(refused.headers["retry-after"]) >= 1
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["remaining"] == 0
        assert refused.json()["extensions"]["cost"]["limit"] == 5
        # Support has its own budget
        statuses = [
            (await _post(web, support_token, "{ viewer { name } }")).status_code for _ in range(9)
        ]
        assert statuses == [200] * 8 + [429]
        # a refused mutation changes nothing
        before = await dump(db)
        response = await _post(
            web, tess_token, CREATE_PERSON, {"input": {"email": "x@example.com", "name": "X"}}
        )
        assert response.status_code == 429
        assert await dump(db) == before


async def test_the_budget_is_shared_by_processes_with_a_bounded_overshoot(
    store: Store, db: Any, tess: PersonRecord
) -> None:
    """Two API processes (two apps, two limiters) on one database, requests racing."""
    budget = 40
    protection = Protection(budget_person=budget)
    token = await token_store.create_token(db, tess.id)
    async with _client(store, protection) as one, _client(store, protection) as two:
        answers = await asyncio.gather(
            *(_post(client, token, "{ viewer { name } }") for client in [one, two] * 40)
        )
    admitted = sum(a.status_code == 200 for a in answers)
    assert {a.status_code for a in answers} == {200, 429}
    # each process may hold at most max(2 % of the budget, one request's cost) unwritten
    assert budget <= admitted <= budget + 2 * 1


async def test_node_tokens_have_their_own_budget(
    store: Store, db: Any, support: PersonRecord, tess: PersonRecord
) -> None:
    from tests.graph.cloud import cloud

    c = await cloud(db, support)
    app_id = (await db["apps"].find_one({"subdomain": "shop"}))["_id"]
    node_token = await token_store.create_node_token(db, app_id)
    protection = Protection(budget_node=2)
    body = {"environmentId": c.production, "samples": [{"category": "APP_CPU", "value": 1}]}
    async with _client(store, protection) as web:
        headers = {"Authorization": f"Bearer {node_token}"}
        statuses = [
            (await web.post("/metrics", json=body, headers=headers)).status_code for _ in range(3)
        ]
    assert statuses == [200, 200, 429]


async def test_operations_over_a_websocket_are_held_to_the_cost_limit(
    store: Store, db: Any, tess: PersonRecord
) -> None:
    import json

    from websockets.asyncio.client import connect

    from tests.graph.test_subscriptions import WAIT, served

    token = await token_store.create_token(db, tess.id)
    async with (
        served(store) as (_app, address),
        connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for ident, query in (("abusive", ABUSIVE), ("fine", "{ viewer { name } }")):
            await ws.send(
                json.dumps({"id": ident, "type": "subscribe", "payload": {"query": query}})
            )
            async with asyncio.timeout(WAIT):
                message = json.loads(await ws.recv())
                while message["type"] == "complete":  # the previous operation's end
                    message = json.loads(await ws.recv())
            assert message["id"] == ident
            payload = message["payload"]
            if ident == "abusive":
                codes = [e["extensions"]["code"] for e in payload.get("errors", payload)]
                assert codes == ["MAX_COST_EXCEEDED"]
            else:
                assert payload["data"] == {"viewer": {"name": "Tess"}}


async def test_without_the_database_a_process_counts_alone(
    store: Store, db: Any, tess: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared count cannot be written: requests are still answered, and the process
    still refuses once its own count passes the budget."""
    from store import ratelimits

    async def away(*_args: Any, **_kwargs: Any) -> int:
        raise ConnectionError("no primary")

    monkeypatch.setattr(ratelimits, "add_usage", away)
    token = await token_store.create_token(db, tess.id)
    async with _client(store, Protection(budget_person=3)) as web:
        statuses = [(await _post(web, token, "{ viewer { name } }")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
