"""Apollo's register-on-miss follows the token: a READ_ONLY token registers no mutation, and
every registration spends REGISTRATION_COST points of the token's rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.limits import Protection
from resolvers.documents import REGISTRATION_COST
from store import documents as document_store
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from store.tokens import TokenScope
from tests.graph.test_documents import apq, bearer, code, sha
from tests.helpers import dump, make_person

READ = "query Me { viewer { name } }"
WRITE = (
    'mutation Add { createPerson(input: {email: "x@example.com", name: "X"}) { person { id } } }'
)
BOTH = f"{READ}\n{WRITE}"


def _client(store: Store, protection: Protection) -> httpx.AsyncClient:
    async def open_store() -> Store:
        return store

    app = create_app(open_store, protection=protection)
    app.state.store = store
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(store, Protection()) as client:
        yield client


async def _stored(db: Any, text: str) -> bool:
    return await document_store.get_document(db, f"sha256:{sha(text)}") is not None


async def test_a_read_only_token_registers_queries_never_mutations(
    http: httpx.AsyncClient, db: Any, support: PersonRecord
) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    reader = await token_store.create_token(db, ann.id, scope=TokenScope.READ_ONLY)
    response = await http.post(
        "/graphql", json={"query": READ, "extensions": apq(READ)}, headers=bearer(reader)
    )
    assert response.json()["data"] == {"viewer": {"name": "Ann"}}
    assert await _stored(db, READ)
    for text, operation in ((WRITE, "Add"), (BOTH, "Add"), (BOTH, "Me")):
        before = await dump(db)
        body = {"query": text, "operationName": operation, "extensions": apq(text)}
        response = await http.post("/graphql", json=body, headers=bearer(reader))
        if operation == "Add":  # refused as every mutation of a READ_ONLY token
            assert (response.status_code, code(response)) == (403, "INSUFFICIENT_SCOPE")
        else:  # the query runs; the document holding a mutation is not kept
            assert response.json()["data"] == {"viewer": {"name": "Ann"}}
        assert await dump(db) == before
        hashed = {"extensions": apq(text), "operationName": operation}
        response = await http.post("/graphql", json=hashed, headers=bearer(reader))
        assert code(response) == "PERSISTED_QUERY_NOT_FOUND"
    # a FULL token registers a mutation (and runs it)
    full = await token_store.create_token(db, ann.id)
    body = {"query": WRITE, "extensions": apq(WRITE)}
    response = await http.post("/graphql", json=body, headers=bearer(full))
    assert response.json()["data"]["createPerson"]["person"]["id"]
    assert await _stored(db, WRITE)


async def test_registration_spends_the_token_rate_limit(
    store: Store, db: Any, support: PersonRecord
) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    token = await token_store.create_token(db, ann.id)
    budget = 2 * REGISTRATION_COST
    async with _client(store, Protection(budget_person=budget)) as http:
        plain = await http.post("/graphql", json={"query": READ}, headers=bearer(token))
        cost = plain.json()["extensions"]["cost"]
        assert cost["remaining"] == budget - cost["requested"]
        first = {"query": READ + " ", "extensions": apq(READ + " ")}
        response = await http.post("/graphql", json=first, headers=bearer(token))
        spent = budget - response.json()["extensions"]["cost"]["remaining"]
        assert spent == 2 * cost["requested"] + REGISTRATION_COST
        assert await _stored(db, READ + " ")
        # too few points left for a registration: the text runs, unregistered
        second = {"query": READ + "  ", "extensions": apq(READ + "  ")}
        response = await http.post("/graphql", json=second, headers=bearer(token))
        assert response.json()["data"] == {"viewer": {"name": "Ann"}}
        assert not await _stored(db, READ + "  ")
