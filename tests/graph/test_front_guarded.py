"""What the fast front answers under the Guard (graph/fast/front.py ``FastFront.guarded``):
the front writes to the server's own channel, so each thing the Guard's wrapped channel did
for it is checked here on a request the front really answered (``REMEMBERED.served``): the
request id, the access log line and the metrics, the rate limit, the deadline and a client
going away. tests/graph/test_front.py compares its answers with the stack's byte for byte."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.fast.front import REMEMBERED
from graph.limits import Protection
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.helpers import create_app as create_mendix_app
from tests.helpers import make_person

pytestmark = pytest.mark.fast_path  # checks the fast path itself: off in `make test-standard`

TINY = {"query": "{ __typename }"}
APPS = {"query": "query Apps { apps(first: 5) { totalCount nodes { name } } }"}
SERVED = 'ownership_http_requests_total{method="POST",path="/graphql",status="200"}'
LIMITED = 'ownership_http_requests_total{method="POST",path="/graphql",status="429"}'


def _app(store: Store, protection: Protection) -> Any:
    async def open_store() -> Store:
        return store

    app = create_app(open_store, protection=protection)
    app.state.store = store
    return app


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def tess(db: Any, support: PersonRecord) -> PersonRecord:
    tess = await make_person(db, "tess@example.com", "Tess", mendix_id="tess-1")
    await create_mendix_app(db, support, tess)
    return tess


@pytest.fixture
async def auth(db: Any, tess: PersonRecord) -> dict[str, str]:
    return {"Authorization": f"Bearer {await token_store.create_token(db, tess.id)}"}


def _count(scrape: httpx.Response, name: str) -> float:
    found = [line for line in scrape.text.splitlines() if line.startswith(name)]
    return float(found[0].split()[-1]) if found else 0.0


async def test_an_answer_of_the_front_has_its_request_id_log_line_and_metrics(
    store: Store, auth: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "access.log"
    app = _app(store, Protection(access_log=str(path)))
    async with _client(app) as web:
        learnt = await web.post("/graphql", json=APPS, headers={**auth, "X-Request-Id": "stack"})
        first_tiny = await web.post("/graphql", json=TINY, headers=auth)  # remembered from now
        before = _count(await web.get("/prometheus"), SERVED)
        served = REMEMBERED.served
        headers = {**auth, "X-Request-Id": "front-1"}
        answer = await web.post("/graphql", json=APPS, headers=headers)
        tiny = await web.post("/graphql", json=TINY, headers=auth)  # a new id, by the front
        assert REMEMBERED.served == served + 2
        assert _count(await web.get("/prometheus"), SERVED) == before + 2
        app.state.recorder.flush()
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "front-1"
    assert answer.json()["data"] == learnt.json()["data"]
    assert answer.json()["extensions"]["cost"]["requested"] == 6
    assert tiny.headers["x-request-id"] not in ("", first_tiny.headers["x-request-id"])
    assert [name for name, _value in answer.headers.multi_items()] == [
        name for name, _value in learnt.headers.multi_items()
    ]
    lines = {line["requestId"]: line for line in map(json.loads, path.read_text().splitlines())}
    stack, front = lines["stack"], lines["front-1"]
    assert front["tokenId"] == stack["tokenId"] is not None
    assert (front["status"], front["cost"], front["operation"]) == (200, 6, "Apps")
    assert (front["method"], front["path"], front["endedBy"]) == ("POST", "/graphql", None)
    assert lines[tiny.headers["x-request-id"]]["cost"] == 0


async def test_queries_the_front_answers_spend_the_rate_limit(
    store: Store, auth: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "access.log"
    app = _app(store, Protection(budget_person=13, access_log=str(path)))
    async with _client(app) as web:
        assert (await web.post("/graphql", json=APPS, headers=auth)).status_code == 200  # 6
        served = REMEMBERED.served
        second = await web.post("/graphql", json=APPS, headers=auth)  # 12 of 13
        assert REMEMBERED.served == served + 1
        assert second.json()["extensions"]["cost"]["remaining"] == 1
        limited = _count(await web.get("/prometheus"), LIMITED)  # the process's counters
        refused = await web.post("/graphql", json=APPS, headers=auth)
        assert REMEMBERED.served == served + 1  # the refusal is the stack's
        assert _count(await web.get("/prometheus"), LIMITED) == limited + 1
        tiny = [await web.post("/graphql", json=TINY, headers=auth) for _ in range(3)]
        app.state.recorder.flush()
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["requested"] == 6
    # a query of cost 0 is charged one point: the last point, then refusals
    assert [answer.status_code for answer in tiny] == [200, 429, 429]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    statuses = [line["status"] for line in lines if line["path"] == "/graphql"]
    assert statuses == [200, 200, 429, 200, 429, 429]


async def _learn_then_slow(
    web: httpx.AsyncClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> tuple[asyncio.Event, asyncio.Event]:
    """The front learns APPS, then its reads hang until cancelled: (started, cancelled)."""
    from store import apps as app_store

    assert (await web.post("/graphql", json=APPS, headers=auth)).status_code == 200
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(*_args: Any, **_kwargs: Any) -> Any:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(app_store, "list_apps", slow)
    return started, cancelled


async def test_the_deadline_ends_a_query_the_front_is_answering(
    store: Store, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "access.log"
    async with _client(_app(store, Protection())) as learner:  # without the short deadline
        _started, cancelled = await _learn_then_slow(learner, auth, monkeypatch)
    app = _app(store, Protection(deadline_seconds=0.5, access_log=str(path)))
    async with _client(app) as web:
        counters = REMEMBERED.served, REMEMBERED.handed_on
        response = await web.post("/graphql", json=APPS, headers=auth)
        assert (REMEMBERED.served, REMEMBERED.handed_on) == counters  # cut in the front
        app.state.recorder.flush()
    assert response.status_code == 504 and cancelled.is_set()
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    line = json.loads(path.read_text().splitlines()[-1])
    assert (line["status"], line["endedBy"], line["cost"]) == (504, "timeout", 6)


async def test_a_client_going_away_stops_what_the_front_runs(
    store: Store, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(store, Protection())
    async with _client(app) as web:
        started, cancelled = await _learn_then_slow(web, auth, monkeypatch)
    messages = [{"type": "http.request", "body": json.dumps(APPS).encode(), "more_body": False}]
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
    counters = REMEMBERED.served, REMEMBERED.handed_on
    async with asyncio.timeout(30):  # a guard against a hang, not a speed assertion
        await app(scope, receive, send)
    assert cancelled.is_set() and sent == []
    assert (REMEMBERED.served, REMEMBERED.handed_on) == counters


async def test_a_remembered_query_over_the_body_limit_is_413(
    store: Store, auth: dict[str, str]
) -> None:
    """The front reads the body itself: a remembered query sent without a content-length
    (counted as it arrives) and grown past the limit is refused, not answered."""
    app = _app(store, Protection(max_body_bytes=2000))
    async with _client(app) as web:
        assert (await web.post("/graphql", json=APPS, headers=auth)).status_code == 200
        served = REMEMBERED.served

        async def chunks() -> Any:
            yield json.dumps(APPS)[:-1].encode()
            for _ in range(30):
                yield b" " * 100
            yield b"}"

        headers = {**auth, "content-type": "application/json"}
        response = await web.post("/graphql", content=chunks(), headers=headers)
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert REMEMBERED.served == served
        padded = await web.post("/graphql", json=APPS, headers=auth)  # the client goes on
        assert padded.status_code == 200 and REMEMBERED.served == served + 1
