"""Trusted documents over HTTP and WebSocket: GraphQL over HTTP's ``documentId``, Apollo's
automatic persisted queries (register on miss), TRUSTED_DOCUMENTS_ONLY, documents folders
registered and warmed at startup, and ``ownership documents add``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from graph.app import create_app
from graph.fast import PLANS
from graph.fast.front import REMEMBERED
from store import documents as document_store
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.graph.test_subscriptions import SUBSCRIBE, receive, served, until
from tests.helpers import dump, make_person

VIEWER = "query Viewer { viewer { email isSupport } }"
APPS = "query Apps($first: Int!) { apps(first: $first) { totalCount nodes { name } } }"


def _answer(response: Any) -> dict[str, Any]:
    """The response body without ``extensions.cost`` (every answer carries it; checked in
    tests/graph/test_protection.py)."""
    body = dict(response.json())
    extensions = dict(body.pop("extensions", {}))
    assert "requested" in extensions.pop("cost")
    if extensions:
        body["extensions"] = extensions
    return body


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def apq(text: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha(text)}}


@pytest.fixture
async def app(store: Store) -> Any:
    app = create_app(lambda: None)  # type: ignore[arg-type, return-value]
    app.state.store = store  # the fixture owns the store; the test loads documents itself
    return app


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def tokens(db: Any, support: PersonRecord) -> dict[str, str]:
    ann = await make_person(db, "ann@example.com", "Ann")
    return {
        "support": await token_store.create_token(db, support.id),
        "ann": await token_store.create_token(db, ann.id),
    }


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


async def test_document_id_runs_a_registered_document(
    app: Any, http: httpx.AsyncClient, db: Any, tokens: dict[str, str]
) -> None:
    identifier = await app.state.documents.register(db, VIEWER, "cli", "viewer")
    assert identifier == f"sha256:{sha(VIEWER)}"
    expected = {"data": {"viewer": {"email": "ann@example.com", "isSupport": False}}}
    for _ in range(2):  # the second from the fast front's memory
        response = await http.post(
            "/graphql", json={"documentId": identifier}, headers=bearer(tokens["ann"])
        )
        assert (response.status_code, _answer(response)) == (200, expected)
    response = await http.get(
        "/graphql", params={"documentId": identifier}, headers=bearer(tokens["ann"])
    )
    assert (response.status_code, _answer(response)) == (200, expected)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"documentId": f"sha256:{sha('{ nope }')}"}, 400, "PERSISTED_DOCUMENT_NOT_FOUND"),
        ({"documentId": "md5:abc"}, 400, "INVALID_DOCUMENT_ID"),
        ({"documentId": "sha256:XYZ"}, 400, "INVALID_DOCUMENT_ID"),
        ({"documentId": 7}, 400, "INVALID_DOCUMENT_ID"),
        ({"documentId": f"sha256:{sha(VIEWER)}", "query": VIEWER}, 400, "INVALID_DOCUMENT_ID"),
        ({"extensions": apq(VIEWER, version=2)}, 400, "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"extensions": {"persistedQuery": {"version": 1}}}, 400, "INVALID_DOCUMENT_ID"),
        ({"query": "{ viewer { name } }", "extensions": apq(VIEWER)}, 400,
         "PERSISTED_QUERY_HASH_MISMATCH"),
    ],
)  # fmt: skip
async def test_bad_persisted_requests_are_typed_errors_and_change_nothing(
    app: Any,
    http: httpx.AsyncClient,
    db: Any,
    tokens: dict[str, str],
    body: dict[str, Any],
    status: int,
    expected: str,
) -> None:
    await app.state.documents.register(db, VIEWER, "cli")
    before = await dump(db)
    response = await http.post("/graphql", json=body, headers=bearer(tokens["ann"]))
    assert (response.status_code, code(response)) == (status, expected), response.text
    assert response.headers["content-type"] == "application/json"
    accept = {**bearer(tokens["ann"]), "Accept": "application/graphql-response+json"}
    response = await http.post("/graphql", json=body, headers=accept)
    assert (response.status_code, code(response)) == (status, expected), response.text
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert await dump(db) == before


async def test_automatic_persisted_query_round_trip(
    http: httpx.AsyncClient, db: Any, tokens: dict[str, str]
) -> None:
    query = "{ viewer { name } }"
    hashed = {"extensions": apq(query)}
    response = await http.post("/graphql", json=hashed, headers=bearer(tokens["ann"]))
    assert (response.status_code, code(response)) == (200, "PERSISTED_QUERY_NOT_FOUND")
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "no-cache" in response.headers["cache-control"]
    assert await document_store.get_document(db, f"sha256:{sha(query)}") is None
    # the client sends the text with its hash: verified, run and registered
    full = {"query": query, **hashed}
    response = await http.post("/graphql", json=full, headers=bearer(tokens["ann"]))
    assert _answer(response) == {"data": {"viewer": {"name": "Ann"}}}
    stored = await document_store.get_document(db, f"sha256:{sha(query)}")
    assert stored is not None and (stored.body, stored.source) == (query, "apq")
    # from now on the hash is enough, for anyone, in this process or another
    for client_app in (None, create_app(lambda: None)):  # type: ignore[arg-type, return-value]
        client = http
        if client_app is not None:  # a second process: nothing in its memory yet
            client_app.state.store = http._transport.app.state.store  # type: ignore[attr-defined]
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=client_app), base_url="http://test"
            )
        response = await client.post("/graphql", json=hashed, headers=bearer(tokens["support"]))
        assert _answer(response) == {"data": {"viewer": {"name": "Sam Support"}}}
    # Apollo's GET form: the extensions as a JSON query parameter
    response = await http.get(
        "/graphql",
        params={"extensions": json.dumps(hashed["extensions"])},
        headers={**bearer(tokens["ann"]), "Accept": "text/html, */*"},
    )
    assert _answer(response) == {"data": {"viewer": {"name": "Ann"}}}


async def test_an_invalid_document_with_its_hash_runs_and_is_not_registered(
    http: httpx.AsyncClient, db: Any, tokens: dict[str, str]
) -> None:
    query = "{ viewer { nope } }"
    response = await http.post(
        "/graphql", json={"query": query, "extensions": apq(query)}, headers=bearer(tokens["ann"])
    )
    assert "Cannot query field 'nope'" in response.json()["errors"][0]["message"]
    assert await document_store.all_documents(db) == []


async def test_trusted_documents_only(
    app: Any,
    http: httpx.AsyncClient,
    db: Any,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTED_DOCUMENTS_ONLY", "1")
    identifier = await app.state.documents.register(db, VIEWER, "cli")
    other = "{ viewer { name } }"
    # Support may send any text (it is then in the fast front's memory) ...
    response = await http.post("/graphql", json={"query": other}, headers=bearer(tokens["support"]))
    assert _answer(response) == {"data": {"viewer": {"name": "Sam Support"}}}
    before = await dump(db)
    # ... nobody else may, nor register one, over POST, GET or APQ
    for request in (
        http.post("/graphql", json={"query": other}, headers=bearer(tokens["ann"])),
        http.get("/graphql", params={"query": other}, headers=bearer(tokens["ann"])),
        http.post(
            "/graphql",
            json={"query": other, "extensions": apq(other)},
            headers=bearer(tokens["ann"]),
        ),
    ):
        response = await request
        assert (response.status_code, code(response)) == (403, "TRUSTED_DOCUMENT_REQUIRED")
    assert await dump(db) == before
    # registered documents run for everyone, by ID or by their exact text
    for body in ({"documentId": identifier}, {"query": VIEWER}, {"extensions": apq(VIEWER)}):
        response = await http.post("/graphql", json=body, headers=bearer(tokens["ann"]))
        assert response.json()["data"]["viewer"]["email"] == "ann@example.com", body


@pytest.mark.fast_path
async def test_documents_folder_registered_and_warm_at_startup(
    store: Store,
    db: Any,
    tokens: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = APPS.replace("Apps", f"Apps{tmp_path.name.replace('-', '_')}")  # new to this process
    (tmp_path / "apps.graphql").write_text(body)
    (tmp_path / "broken.graphql").write_text("{ viewer { nope } }")
    monkeypatch.setenv("DOCUMENTS_DIR", str(tmp_path))
    async with served(store) as (app, address):
        identifier = app.state.documents.manifest["apps"]
        assert identifier == f"sha256:{sha(body)}"
        assert "broken" not in app.state.documents.manifest
        stored = await document_store.get_document(db, identifier)
        assert stored is not None and stored.source == "file"
        served_before, misses_before = REMEMBERED.served, PLANS.misses
        async with httpx.AsyncClient(base_url=f"http://{address}") as client:
            response = await client.post(
                "/graphql",
                json={"documentId": identifier, "variables": {"first": 2}},
                headers=bearer(tokens["ann"]),
            )
            assert _answer(response) == {"data": {"apps": {"totalCount": 0, "nodes": []}}}
            manifest = await client.get("/documents")
            assert manifest.json()["apps"] == identifier
        # the first request: answered by the fast front with a plan compiled at startup
        assert (REMEMBERED.served, PLANS.misses) == (served_before + 1, misses_before)


async def test_websocket_subscriptions_obey_trusted_documents(
    store: Store,
    db: Any,
    support: PersonRecord,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRUSTED_DOCUMENTS_ONLY", "1")
    ann = await make_person(db, "ann@example.com", "Ann")
    token = await token_store.create_token(db, ann.id)
    async with (
        served(store) as (app, address),
        connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        identifier = await app.state.documents.register(db, SUBSCRIBE, "cli")
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "a", "type": "subscribe", "payload": {"query": SUBSCRIBE + " "}})
        )
        message = await receive(ws)
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
        for index, (payload, expected) in enumerate(
            (
                ({"documentId": f"sha256:{sha('nope')}"}, "PERSISTED_DOCUMENT_NOT_FOUND"),
                ({"documentId": "sha256:nope"}, "INVALID_DOCUMENT_ID"),
                ({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha("x")}}},
                 "PERSISTED_QUERY_NOT_FOUND"),
            )
        ):  # fmt: skip
            await ws.send(json.dumps({"id": f"e{index}", "type": "subscribe", "payload": payload}))
            message = await receive(ws)
            assert (message["id"], message["type"]) == (f"e{index}", "error")
            assert message["payload"][0]["extensions"]["code"] == expected
        hub = app.state.hub
        before = hub.subscribers
        await ws.send(
            json.dumps({"id": "b", "type": "subscribe", "payload": {"documentId": identifier}})
        )
        await until(lambda: hub.subscribers > before)


def test_cli_registers_and_lists_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ownership.cli import main

    monkeypatch.setenv("OWNERSHIP_DATA_FILE", str(tmp_path / "data.json"))
    monkeypatch.delenv("MONGODB_URI", raising=False)
    good = tmp_path / "viewer.graphql"
    good.write_text(VIEWER)
    bad = tmp_path / "bad.graphql"
    bad.write_text("{ viewer { nope } }")
    with pytest.raises(SystemExit, match="Cannot query field 'nope'"):
        main(["documents", "add", str(good), str(bad), str(tmp_path / "missing.graphql")])
    assert f"sha256:{sha(VIEWER)}\t{good}" in capsys.readouterr().out
    assert main(["documents", "list"]) == 0
    assert capsys.readouterr().out == f"sha256:{sha(VIEWER)}\tcli\tviewer\n"
