"""GraphQL over HTTP: authentication, media types, GET rules, GraphiQL, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.app import create_app
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.helpers import dump, make_person

VIEWER = {"query": "{ viewer { email isSupport } }"}


@pytest.fixture
async def http(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async def open_store() -> Store:
        return store

    app = create_app(open_store)
    app.state.store = store  # the fixture owns the store; no lifespan needed
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def token(db: Any, support: PersonRecord) -> str:
    return await token_store.create_token(db, support.id)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_query_with_a_token(http: httpx.AsyncClient, token: str) -> None:
    response = await http.post("/graphql", json=VIEWER, headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["data"] == {"viewer": {"email": "support@mendix.example", "isSupport": True}}
    assert body["extensions"]["cost"]["requested"] == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer mxo_not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer " + "x" * 10000},
    ],
)
async def test_missing_or_bad_token_is_401(
    http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await http.post("/graphql", json=VIEWER, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_inactive_persons_token_stops_working(
    http: httpx.AsyncClient, db: Any, token: str
) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    ann_token = await token_store.create_token(db, ann.id)
    assert (await http.post("/graphql", json=VIEWER, headers=bearer(ann_token))).status_code == 200
    set_status = {
        "query": "mutation ($id: ID!) { setPersonStatus(input: {personId: $id, status: INACTIVE})"
        " { userErrors { code } } }",
        "variables": {"id": __import__("tests.helpers").helpers.pid(ann)},
    }
    response = await http.post("/graphql", json=set_status, headers=bearer(token))
    assert response.json()["data"] == {"setPersonStatus": {"userErrors": []}}
    assert (await http.post("/graphql", json=VIEWER, headers=bearer(ann_token))).status_code == 401


async def test_graphql_response_media_type(http: httpx.AsyncClient, token: str) -> None:
    accept = {"Accept": "application/graphql-response+json", **bearer(token)}
    ok = await http.post("/graphql", json=VIEWER, headers=accept)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    invalid = await http.post("/graphql", json={"query": "{ viewer { nope } }"}, headers=accept)
    assert invalid.status_code == 400
    assert "data" not in invalid.json()
    assert invalid.headers["content-type"].startswith("application/graphql-response+json")
    unparseable = await http.post("/graphql", json={"query": "{ viewer {"}, headers=accept)
    assert unparseable.status_code == 400
    assert "Syntax Error" in unparseable.json()["errors"][0]["message"]


async def test_legacy_json_keeps_200_for_invalid_documents(
    http: httpx.AsyncClient, token: str
) -> None:
    response = await http.post("/graphql", json={"query": "{ nope }"}, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["errors"]


async def test_bad_json_body_is_400(http: httpx.AsyncClient, token: str) -> None:
    response = await http.post(
        "/graphql",
        content=b"{not json",
        headers={"content-type": "application/json", **bearer(token)},
    )
    assert response.status_code == 400


async def test_queries_over_get_but_never_mutations(
    http: httpx.AsyncClient, db: Any, token: str
) -> None:
    response = await http.get(
        "/graphql", params={"query": "{ viewer { email } }"}, headers=bearer(token)
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["email"] == "support@mendix.example"
    before = await dump(db)
    mutation = (
        'mutation { createPerson(input: {email: "x@example.com", name: "X"}) { person { id } } }'
    )
    response = await http.get("/graphql", params={"query": mutation}, headers=bearer(token))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "mutations are not allowed" in response.json()["errors"][0]["message"].lower()
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    assert await dump(db) == before


async def test_graphiql_page_in_a_browser(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_limits_refuse_deep_and_aliased_documents(
    http: httpx.AsyncClient, token: str
) -> None:
    inner = "name"
    for _ in range(6):
        inner = f"technicalContactOf {{ nodes {{ technicalContacts {{ {inner} }} }} }}"
    deep = f"{{ viewer {{ {inner} }} }}"
    response = await http.post("/graphql", json={"query": deep}, headers=bearer(token))
    assert "exceeds maximum operation depth" in response.json()["errors"][0]["message"]
    aliases = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(60)) + " }"
    response = await http.post("/graphql", json={"query": aliases}, headers=bearer(token))
    assert "aliases" in response.json()["errors"][0]["message"].lower()
    tokens = "{ viewer { " + "name " * 6000 + "} }"
    response = await http.post("/graphql", json={"query": tokens}, headers=bearer(token))
    assert "token" in response.json()["errors"][0]["message"].lower()


async def test_unexpected_failures_are_masked(
    http: httpx.AsyncClient, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store import apps as app_store

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret connection string mongodb://admin:pw@db")

    monkeypatch.setattr(app_store, "list_apps", broken)
    response = await http.post(
        "/graphql", json={"query": "{ apps { totalCount } }"}, headers=bearer(token)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected server error"
    assert "secret" not in response.text


async def test_health(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.json() == {"status": "ok"}
