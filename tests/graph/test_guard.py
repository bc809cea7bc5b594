"""What applies to every HTTP request (graph/guard.py, graph/http.py, graph/observe.py): body
limits, GraphQL JSON for every refusal, the deadline, client disconnects, logs, request ids,
readiness, Prometheus metrics and CORS."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.limits import Protection
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.helpers import dump

APPS = {"query": "{ apps(first: 5) { totalCount } }"}
VIEWER = {"query": "{ viewer { name } }"}
CREATE = {
    "query": 'mutation { createPerson(input: {email: "x@example.com", name: "X"})'
    " { userErrors { code } } }"
}


def _app(store: Store, protection: Protection) -> Any:
    async def open_store() -> Store:
        return store

    app = create_app(open_store, protection=protection)
    app.state.store = store
    return app


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def web(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(_app(store, Protection(max_body_bytes=2000))) as client:
        yield client


@pytest.fixture
async def auth(db: Any, support: PersonRecord) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_store.create_token(db, support.id)}"}


def _graphql_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == code
    return error


async def test_bodies_over_the_limit_are_413(
    web: httpx.AsyncClient, db: Any, auth: dict[str, str]
) -> None:
    before = await dump(db)
    padded = {**CREATE, "variables": {"pad": "x" * 3000}}
    _graphql_error(await web.post("/graphql", json=padded, headers=auth), 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:  # no content-length: counted as it arrives
        yield json.dumps(CREATE)[:-1].encode()
        for _ in range(30):
            yield b" " * 100
        yield b"}"

    headers = {**auth, "content-type": "application/json"}
    response = await web.post("/graphql", content=chunks(), headers=headers)
    _graphql_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await dump(db) == before
    assert (await web.post("/graphql", json=VIEWER, headers=auth)).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'"a string"', "application/json", 400, "BAD_REQUEST"),
        (b"42", "application/json", 400, "BAD_REQUEST"),
        (b"null", "application/json", 400, "BAD_REQUEST"),
        (b'{"query": "{ viewer { name } }\xff"}', "application/json", 400, "BAD_REQUEST"),
        (b"{not json", "application/json", 400, "BAD_REQUEST"),
        (b'[{"query": "{ viewer { name } }"}]', "application/json", 400, "BAD_REQUEST"),
        (json.dumps(CREATE).encode(), "text/plain", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (b"query=mutation", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
    ids=["string", "number", "null", "not utf-8", "not json", "batch", "text", "form"],
)
async def test_bad_bodies_get_a_graphql_error_and_the_client_goes_on(
    web: httpx.AsyncClient,
    db: Any,
    auth: dict[str, str],
    body: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    before = await dump(db)
    response = await web.post(
        "/graphql", content=body, headers={**auth, "content-type": content_type}
    )
    _graphql_error(response, status, code)
    assert await dump(db) == before
    assert (await web.post("/graphql", json=VIEWER, headers=auth)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("PUT", "/graphql", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/nothing-here", 404, "NOT_FOUND"),
        ("GET", "/metrics", 405, "METHOD_NOT_ALLOWED"),
    ],
)
async def test_refusals_of_the_router_are_graphql_errors_too(
    web: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    _graphql_error(await web.request(method, path), status, code)


async def test_deadline_ends_a_slow_request_with_timeout(
    store: Store, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from store import apps as app_store

    cancelled = asyncio.Event()

    async def slow(*_args: Any, **_kwargs: Any) -> Any:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(app_store, "list_apps", slow)
    async with _client(_app(store, Protection(deadline_seconds=0.2))) as web:
        response = await web.post("/graphql", json=APPS, headers=auth)
        error = _graphql_error(response, 504, "TIMEOUT")
        assert error["extensions"]["requestId"] == response.headers["x-request-id"]
        assert cancelled.is_set()
        assert (await web.post("/graphql", json=VIEWER, headers=auth)).status_code == 200


async def test_execution_stops_when_the_client_goes_away(
    store: Store, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from store import apps as app_store

    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(*_args: Any, **_kwargs: Any) -> Any:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(app_store, "list_apps", slow)
    app = _app(store, Protection())
    body = json.dumps(APPS).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Any] = []

    async def receive() -> Any:
        if messages:
            return messages.pop(0)
        await started.wait()  # the client gives up once the query runs
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json")]
    headers += [(k.lower().encode(), v.encode()) for k, v in auth.items()]
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("test", 1234),
        "root_path": "",
        "asgi": {"version": "3.0"},
    }
    await app(scope, receive, send)
    assert cancelled.is_set()
    assert sent == []


async def test_unexpected_errors_are_logged_with_the_request_id_the_client_gets(
    web: httpx.AsyncClient,
    auth: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from store import apps as app_store

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret connection string")

    monkeypatch.setattr(app_store, "list_apps", broken)
    caplog.set_level(logging.INFO)
    headers = {**auth, "X-Request-Id": "req-42"}
    response = await web.post("/graphql", json=APPS, headers=headers)
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all("req-42" in r.getMessage() for r in errors)
    assert any(r.exc_info for r in errors)


async def test_client_errors_are_info_without_traceback(
    web: httpx.AsyncClient, auth: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bad = [
        {"query": '{ node(id: "bm90LWFuLWlk") { id } }'},
        {"query": "{ apps(first: 500) { totalCount } }"},
        {"query": "{ nothing }"},
    ]
    for body in bad:
        response = await web.post("/graphql", json=body, headers=auth)
        assert response.json()["errors"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    client = [r for r in caplog.records if r.name == "ownership.errors"]
    assert len(client) == 3 and not any(r.exc_info for r in client)
    codes = [re.search(r"\] (\S+):", r.getMessage()) for r in client]
    assert "PAGE_SIZE_EXCEEDED" in {code.group(1) for code in codes if code}


async def test_access_log_line_per_request_without_the_secret(
    store: Store, auth: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "access.log"
    app = _app(store, Protection(access_log=str(path)))
    query = {"query": "query Mine { viewer { name } }"}
    async with _client(app) as web:
        for number in range(2):  # the stack, then the fast front
            headers = {**auth, "X-Request-Id": f"mine-{number}"}
            assert (await web.post("/graphql", json=query, headers=headers)).status_code == 200
        refused = await web.post("/graphql", content=b"[]", headers=auth)  # not JSON: 415
        assert refused.status_code == 415
        await web.get("/no/such/path")
        app.state.recorder.flush()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 4
    for number, line in enumerate(lines[:2]):
        assert line["requestId"] == f"mine-{number}" and line["operation"] == "Mine"
        assert line["cost"] == 1 and line["status"] == 200 and line["method"] == "POST"
        assert line["tokenId"] and line["durationMs"] >= 0 and line["endedBy"] is None
    assert [line["status"] for line in lines[2:]] == [415, 404]
    assert lines[3]["path"] == "/no/such/path"
    assert auth["Authorization"].split()[1] not in path.read_text()


async def test_the_access_log_is_written_without_a_flush_or_not_at_all(
    store: Store, auth: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "access.log"
    async with _client(_app(store, Protection(access_log=str(path)))) as web:
        await web.post("/graphql", json=VIEWER, headers=auth)
        async with asyncio.timeout(10):  # a guard against a hang, not a speed assertion
            while True:
                if path.exists() and path.read_text():
                    break
                await asyncio.sleep(0.05)
    assert json.loads(path.read_text())["status"] == 200
    off = _app(store, Protection(access_log=None))
    async with _client(off) as web:
        before = _requests(await web.get("/prometheus"))
        await web.post("/graphql", json=VIEWER, headers=auth)
        # no line anywhere, but the request is counted all the same
        assert _requests(await web.get("/prometheus")) == before + 1
    assert len(path.read_text().splitlines()) == 1


def _requests(response: httpx.Response) -> float:
    """ownership_http_requests_total of successful POST /graphql in a scrape."""
    name = 'ownership_http_requests_total{method="POST",path="/graphql",status="200"}'
    found = [line for line in response.text.splitlines() if line.startswith(name)]
    return float(found[0].split()[-1]) if found else 0.0


async def test_health_readiness_and_prometheus(
    web: httpx.AsyncClient, store: Store, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await web.get("/healthz")).json() == {"status": "ok"}
    assert (await web.get("/readyz")).json() == {"status": "ready", "database": "ok"}
    before = _requests(await web.get("/prometheus"))
    await web.post("/graphql", json=VIEWER, headers=auth)
    assert _requests(await web.get("/prometheus")) == before + 1  # counted before the scrape
    metrics = (await web.get("/prometheus")).text
    assert 'ownership_http_requests_total{method="POST",path="/graphql",status="200"}' in metrics
    assert "ownership_query_cost_bucket" in metrics
    assert "ownership_rate_limited_total" in metrics

    async def down(*_args: Any, **_kwargs: Any) -> Any:
        raise ConnectionError("no server")

    monkeypatch.setattr(type(store.db), "command", down)
    response = await web.get("/readyz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    assert (await web.get("/healthz")).status_code == 200


async def test_cors_is_off_by_default_and_configurable(store: Store) -> None:
    preflight = {
        "Origin": "https://dash.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with _client(_app(store, Protection())) as web:
        response = await web.options("/graphql", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    protection = Protection(cors_origins=("https://dash.example",))
    async with _client(_app(store, protection)) as web:
        response = await web.options("/graphql", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://dash.example"
        other = await web.options("/graphql", headers={**preflight, "Origin": "https://evil"})
        assert other.status_code == 400


def test_the_access_log_survives_an_event_loop_that_closed_with_lines_waiting(
    tmp_path: Path,
) -> None:
    """A flush timer pending in a closed loop never fires: the next loop arms its own."""
    from graph.observe import KEYS, Recorder

    path = tmp_path / "access.log"
    recorder = Recorder(str(path))
    values = ("r-1", "POST", "/graphql", 200, 0.5, None, 1, None, None)
    record = dict(zip(KEYS, values, strict=True))

    async def add_then_leave() -> None:
        recorder.add(record)

    async def add_and_wait() -> None:
        recorder.add({**record, "requestId": "r-2"})
        async with asyncio.timeout(10):  # a guard against a hang, not a speed assertion
            while True:
                if path.exists():
                    break
                await asyncio.sleep(0.05)

    asyncio.run(add_then_leave())  # the loop closes with the line waiting
    assert not path.exists()
    asyncio.run(add_and_wait())
    assert [json.loads(line)["requestId"] for line in path.read_text().splitlines()] == [
        "r-1",
        "r-2",
    ]
