"""Two API processes on one database (the wire tier's server): racing requests through
different processes keep the rules and the authority, and every change is recorded once."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.graph.test_authority_races import assert_contact_authority
from tests.helpers import create_app, make_person, pid, run

pytestmark = pytest.mark.wire_only("needs a database two processes can share")

CHANGE = """
mutation ($input: AppPersonInput!) {
  changeTechnicalContact(input: $input) { app { id } userErrors { code } }
}"""
REMOVE = """
mutation ($input: AppPersonInput!) {
  removeTechnicalContact(input: $input) { app { id } userErrors { code } }
}"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def servers(store: Store, wire_uri: str) -> Iterator[list[str]]:
    """Two `ownership serve` processes on the test's database."""
    env = {
        **os.environ,
        "MONGODB_URI": wire_uri,
        "OWNERSHIP_DB": store.db.name,
        "NOTICE_INTERVAL_SECONDS": "3600",
    }
    urls, processes = [], []
    for _ in range(2):
        port = _free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "ownership", "serve"],
                env={**env, "PORT": str(port)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


async def _ready(client: httpx.AsyncClient) -> None:
    for _ in range(600):
        try:
            await client.get("/graphql", headers={"Accept": "text/html"})
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise RuntimeError("the API process did not start")


@pytest.fixture
async def clients(servers: list[str]) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=servers[0], timeout=60) as first,
        httpx.AsyncClient(base_url=servers[1], timeout=60) as second,
    ):
        await _ready(first)
        await _ready(second)
        yield [first, second]


async def _post(client: httpx.AsyncClient, token: str, query: str, data: Any) -> list[str]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": {"input": data}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    (payload,) = response.json()["data"].values()
    return [error["code"] for error in payload["userErrors"]]


async def test_races_through_two_processes(
    db: Any, support: PersonRecord, clients: list[httpx.AsyncClient]
) -> None:
    first, second = clients
    support_token = await token_store.create_token(db, support.id)
    for index in range(5):
        a = await make_person(db, f"a{index}@x.example", "A", f"a{index}")
        y = await make_person(db, f"y{index}@x.example", "Y", f"y{index}")
        z = await make_person(db, f"z{index}@x.example", "Z", f"z{index}")
        a_token = await token_store.create_token(db, a.id)
        app = await create_app(db, support, a, "MENDIX_CLOUD")
        for person in (y, z):
            await run(db, support, "addTeamMember", appId=app["id"], personId=pid(person))
        by_support, by_a = await asyncio.gather(
            _post(first, support_token, CHANGE, {"appId": app["id"], "personId": pid(y)}),
            _post(second, a_token, CHANGE, {"appId": app["id"], "personId": pid(z)}),
        )
        assert by_support == [] and by_a in ([], ["FORBIDDEN"])
        await assert_contact_authority(db, support, app["id"])

        onprem = await create_app(db, support, a, "ON_PREMISES")
        await run(db, support, "addTechnicalContact", appId=onprem["id"], personId=pid(y))
        removals = await asyncio.gather(
            _post(first, support_token, REMOVE, {"appId": onprem["id"], "personId": pid(a)}),
            _post(second, support_token, REMOVE, {"appId": onprem["id"], "personId": pid(y)}),
        )
        assert sorted(removals) == [[], ["LAST_TECHNICAL_CONTACT"]]  # A2: never zero
        events = await db["audit_events"].count_documents({"action": "TECHNICAL_CONTACT_REMOVED"})
        assert events == index + 1
