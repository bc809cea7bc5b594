"""Who may do what, as data, checked over HTTP for every mutation and root field and every
kind of viewer (docs/tokens-and-permissions.md shows the same table; a test compares them).

The mutations and root fields are read from the schema: a new one without a row in the table
(tests/graph/permission_table.py) fails
``test_every_operation_has_a_row``. Each cell is what that viewer gets: ``ok`` (done, no
userErrors), a userError code (and then nothing in the database changed), or for the token
columns an HTTP refusal (``401`` UNAUTHENTICATED, ``403`` INSUFFICIENT_SCOPE, nothing changed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.schema import schema
from store.db import Store
from store.people import PersonRecord
from tests.graph.permission_table import (
    HIDDEN,
    INSUFFICIENT_SCOPE,
    MUTATIONS,
    OK,
    PEOPLE,
    QUERIES,
    SEES,
    SUBSCRIPTIONS,
    UNAUTHENTICATED,
    VIEWERS,
    table,
)
from tests.graph.permission_world import INPUTS, ROOTS, build, mutation_document
from tests.helpers import dump, make_person

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tokens-and-permissions.md"


def test_every_operation_has_a_row() -> None:
    graphql_schema = schema._schema
    roots = (
        (graphql_schema.mutation_type, MUTATIONS),
        (graphql_schema.query_type, QUERIES),
        (graphql_schema.subscription_type, SUBSCRIPTIONS),
    )
    for root, rows in roots:
        assert root is not None
        assert sorted(root.fields) == sorted(rows), f"{root.name}: add a row for each field"
        assert all(set(cells) == set(PEOPLE) for cells in rows.values())


def test_the_docs_show_this_table() -> None:
    """docs/tokens-and-permissions.md's permission table is this table, cell for cell."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    start = lines.index("<!-- permission table: tests/graph/test_permissions.py -->")
    rows = {}
    for line in lines[start + 3 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(VIEWERS, cells[1:], strict=True))
    assert rows == table()


# ---------------------------------------------------------------------------------------
# The world: three apps with the same people in the same roles, a license, environments,
# a grant, two support requests; one token per viewer kind.


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async def open_store() -> Store:
        return store

    app = create_app(open_store)
    app.state.store = store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def call(
    http: httpx.AsyncClient, token: str, document: str, variables: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )


def outcome(response: httpx.Response, field: str) -> str:
    """The cell a response stands for."""
    body = response.json()
    if response.status_code in (401, 403):
        codes = [error["extensions"]["code"] for error in body["errors"]]
        expected = "UNAUTHENTICATED" if response.status_code == 401 else "INSUFFICIENT_SCOPE"
        assert codes == [expected] and body.get("data") is None, body
        return str(response.status_code)
    assert response.status_code == 200 and "errors" not in body, body
    errors = body["data"][field]["userErrors"]
    assert len(errors) <= 1, errors
    return errors[0]["code"] if errors else OK


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
async def test_mutation_rights(
    http: httpx.AsyncClient, db: Any, support: PersonRecord, mutation: str
) -> None:
    """Refusals first, each leaving the database as it was, all in one world; then each
    allowed viewer in a fresh world of its own (an allowed mutation changes it)."""
    expected = table()[mutation]
    document = mutation_document(mutation)
    world = await build(db, support)
    allowed = [viewer for viewer in VIEWERS if expected[viewer] == OK]
    for viewer in VIEWERS:
        if viewer in allowed:
            continue
        await call(http, world.tokens[viewer], "{ viewer { id } }", {})  # last use recorded
        before = await dump(db)
        response = await call(
            http, world.tokens[viewer], document, {"input": INPUTS[mutation](world)}
        )
        assert outcome(response, mutation) == expected[viewer], (viewer, response.text)
        assert await dump(db) == before, viewer
    for viewer in allowed:
        for name in await db.list_collection_names():
            await db[name].delete_many({})
        support = await make_person(
            db, "support@mendix.example", "Sam Support", roles=support.roles
        )
        world = await build(db, support)
        response = await call(
            http, world.tokens[viewer], document, {"input": INPUTS[mutation](world)}
        )
        assert outcome(response, mutation) == OK, (viewer, response.text)


async def test_root_field_rights(http: httpx.AsyncClient, db: Any, support: PersonRecord) -> None:
    world = await build(db, support)
    rows = table()
    for name, (document, variables, seen) in ROOTS.items():
        for viewer in VIEWERS:
            response = await call(http, world.tokens[viewer], document, variables(world))
            expected = rows[name][viewer]
            if expected in (UNAUTHENTICATED, INSUFFICIENT_SCOPE):
                assert outcome(response, name) == expected, (name, viewer)
                continue
            assert response.status_code == 200, (name, viewer, response.text)
            body = response.json()
            assert "errors" not in body, (name, viewer, body)
            if seen is None:
                assert expected == OK, (name, viewer)
            else:
                assert (SEES if seen(world, body["data"]) else HIDDEN) == expected, (
                    name,
                    viewer,
                    body,
                )
    assert set(ROOTS) == set(QUERIES)


def test_inputs_cover_every_mutation() -> None:
    assert set(INPUTS) == set(MUTATIONS)


SUBSCRIBE = "subscription ($id: ID) { alertRaised(appId: $id) { category } }"


async def test_subscription_rights(store: Store, db: Any, support: PersonRecord) -> None:
    """Over a real WebSocket: a refused token closes the socket (4403) at connection_init;
    a person who may not see the app gets a typed error; the others are subscribed."""
    import asyncio
    import json

    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from tests.graph.test_subscriptions import WAIT, served, until

    world = await build(db, support)
    rows = table()
    async with served(store) as (app, address):
        for name in SUBSCRIPTIONS:
            for viewer in VIEWERS:
                expected = rows[name][viewer]
                async with connect(
                    f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]
                ) as ws:
                    init = {"Authorization": f"Bearer {world.tokens[viewer]}"}
                    await ws.send(json.dumps({"type": "connection_init", "payload": init}))
                    if expected in (UNAUTHENTICATED, INSUFFICIENT_SCOPE):
                        with pytest.raises(ConnectionClosed) as closed:
                            async with asyncio.timeout(WAIT):
                                await ws.recv()
                        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
                        continue
                    assert json.loads(await ws.recv())["type"] == "connection_ack"
                    payload = {"query": SUBSCRIBE, "variables": {"id": world.ids["cloud"]}}
                    before = app.state.hub.subscribers
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    if expected == OK:  # subscribed: the hub has one more subscriber
                        await until(lambda: app.state.hub.subscribers > before)  # noqa: B023
                        continue
                    async with asyncio.timeout(WAIT):
                        message = json.loads(await ws.recv())
                    assert message["type"] in ("error", "next"), (viewer, message)
                    errors = message["payload"]
                    errors = errors if message["type"] == "error" else errors["errors"]
                    assert errors[0]["extensions"]["code"] == expected, (viewer, message)
