"""The fast front (graph/fast/front.py) answers over HTTP exactly like the stack behind it.

Every comparison is byte for byte: status, headers and body of the front's answer against
the same request with the front and the compiled path switched off (``fast.standard()``).
The served/handed-on counters show which of the two really answered.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph import fast
from graph.app import create_app
from graph.fast.front import REMEMBERED
from store import tokens as token_store
from store.db import Store
from store.people import PersonRecord
from tests.graph.test_fast import SETTINGS, World, _lenient, documents
from tests.helpers import create_app as create_mendix_app
from tests.helpers import gql, make_person, pid

pytestmark = pytest.mark.fast_path  # checks the fast path itself: off in `make test-standard`

Answer = tuple[int, list[tuple[str, str]], bytes]

APPS = """
query Apps($first: Int!) {
  apps(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id name subdomain hosting status orderedAt version
      technicalContacts { id name email mendixId status }
      teamMembers { name } accountExecutive { name }
    }
  }
}"""

TWO_OPERATIONS = """
query Me { viewer { email } }
query Count { apps(first: 1) { totalCount } }
"""


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


_REMAINING = re.compile(rb'"remaining":\d+')
_VARYING = ("content-length", "x-request-id")


async def _answer(client: httpx.AsyncClient, request: dict[str, Any]) -> Answer:
    """Status, headers and body; what differs between any two requests (the rate limit's
    remaining points, the request id, so the length) is blanked."""
    response = await client.request(**request)
    headers = [(k, "*" if k in _VARYING else v) for k, v in response.headers.multi_items()]
    return response.status_code, headers, _REMAINING.sub(b'"remaining":0', response.content)


async def _front_and_stack(client: httpx.AsyncClient, request: dict[str, Any]) -> Any:
    """(the front's answer after it had the chance to learn the document, the stack's,
    whether the front served it)."""
    await _answer(client, request)  # the stack answers and the front may learn
    served = REMEMBERED.served
    front = await _answer(client, request)
    did_serve = REMEMBERED.served > served
    with fast.standard():
        stack = await _answer(client, request)
    return front, stack, did_serve


@pytest.fixture
async def web(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async def open_store() -> Store:
        return store

    app = create_app(open_store)
    app.state.store = store
    async with _client(app) as client:
        yield client


@pytest.fixture
async def tess(db: Any, support: PersonRecord) -> PersonRecord:
    tess = await make_person(db, "tess@example.com", "Tess", mendix_id="tess-1")
    for hosting in ("MENDIX_CLOUD", "ON_PREMISES"):
        await create_mendix_app(db, support, tess, hosting=hosting)
    return tess


def _post(token: str, body: Any, **headers: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", **headers}
    if isinstance(body, bytes):
        headers = {"Content-Type": "application/json", **headers}
        return {"method": "POST", "url": "/graphql", "content": body, "headers": headers}
    return {"method": "POST", "url": "/graphql", "json": body, "headers": headers}


SERVED = {
    "tiny": {"query": "{ __typename }"},
    "aliased typenames": {"query": "{ a: __typename b: __typename }"},
    "typename under a directive": {
        "query": "query ($x: Boolean!) { __typename @include(if: $x) }",
        "variables": {"x": True},
    },
    "nested apps": {"query": APPS, "variables": {"first": 5}},
    "viewer": {"query": "{ viewer { email isSupport } }"},
    "operation by name": {"query": TWO_OPERATIONS, "operationName": "Count"},
    # strawberry runs the first operation when none is named
    "no operation name": {"query": TWO_OPERATIONS},
    "extensions": {"query": "{ viewer { name } }", "extensions": {"trace": True}},
    "introspection (standard execution, through the front)": {
        "query": "{ __schema { queryType { name } } }"
    },
    "a key GraphQL over HTTP does not define": {"query": "{ __typename }", "persisted": True},
}

HANDED_ON: dict[str, Any] = {
    "missing variable": {"query": "query ($x: Boolean!) { __typename }"},
    "wrong variable type": {"query": APPS, "variables": {"first": "five"}},
    "first over the cap": {"query": APPS, "variables": {"first": 101}},
    "bad global id": {"query": '{ node(id: "bm90LWFuLWlk") { id } }'},
    "unknown field": {"query": "{ nothing }"},
    "syntax error": {"query": "{ viewer { "},
    "unknown operation name": {"query": TWO_OPERATIONS, "operationName": "Nope"},
    "operation name not a string": {"query": "{ __typename }", "operationName": 7},
    "variables not an object": {"query": APPS, "variables": [1]},
    "query not a string": {"query": ["{ __typename }"]},
    "batch": [{"query": "{ __typename }"}],
    "not json": b"{ __typename }",
    "json but not utf-8 (the stack reads it)": '{"query": "{ __typename }"}'.encode("utf-16"),
    "mutation": {
        "query": 'mutation { registerMendixId(input: {mendixId: "x"}) { userErrors { code } } }'
    },
}


@pytest.mark.parametrize("name", list(SERVED))
@pytest.mark.parametrize("accept", ["*/*", "application/graphql-response+json"])
async def test_the_front_answers_known_queries_exactly_like_the_stack(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, name: str, accept: str
) -> None:
    token = await token_store.create_token(db, tess.id)
    front, stack, served = await _front_and_stack(web, _post(token, SERVED[name], accept=accept))
    assert front == stack
    assert front[0] == 200 and b'"errors"' not in front[2]
    assert served, "the front should have answered this one itself"


@pytest.mark.parametrize("name", list(HANDED_ON))
async def test_everything_else_is_answered_by_the_stack(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, name: str
) -> None:
    token = await token_store.create_token(db, tess.id)
    front, stack, served = await _front_and_stack(web, _post(token, HANDED_ON[name]))
    assert not served
    assert front == stack
    assert front[0] in (200, 400)


@pytest.mark.parametrize(
    "request_",
    [
        {"method": "GET", "url": "/graphql", "params": {"query": "{ __typename }"}},
        {"method": "POST", "url": "/graphql", "content": b'{"query": "{ __typename }"}'},
        {
            "method": "POST",
            "url": "/graphql",
            "content": b'{"query": "{ __typename }"}',
            "headers": {"content-type": "text/plain"},
        },
        {
            "method": "POST",
            "url": "/graphql",
            "json": {"query": "{ __typename }"},
            "headers": {"accept": "text/event-stream"},
        },
        {"method": "POST", "url": "/graphql/", "json": {"query": "{ __typename }"}},
    ],
    ids=["GET", "no content type", "text/plain", "event stream", "other path"],
)
async def test_other_transports_are_the_stacks(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, request_: dict[str, Any]
) -> None:
    token = await token_store.create_token(db, tess.id)
    request_ = {
        **request_,
        "headers": {"Authorization": f"Bearer {token}", **request_.get("headers", {})},
    }
    front, stack, served = await _front_and_stack(web, request_)
    assert not served
    assert front == stack


async def test_a_failure_in_the_front_is_answered_by_the_stack(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await token_store.create_token(db, tess.id)
    request = _post(token, SERVED["nested apps"])
    with fast.standard():
        stack = await _answer(web, request)
    await _answer(web, request)  # learnt

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a gap in the front")

    monkeypatch.setattr("graph.fast.front.execute", broken)
    served, handed_on = REMEMBERED.served, REMEMBERED.handed_on
    assert await _answer(web, request) == stack
    assert (REMEMBERED.served, REMEMBERED.handed_on) == (served, handed_on + 1)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer mxo_not-a-real-token", "Basic dXNlcjpwYXNz"]
)
async def test_known_queries_still_need_a_valid_token(
    web: httpx.AsyncClient, db: Any, tess: PersonRecord, authorization: str | None
) -> None:
    token = await token_store.create_token(db, tess.id)
    for body in SERVED.values():
        await _answer(web, _post(token, body))  # remembered now
    served = REMEMBERED.served
    for body in SERVED.values():
        headers = {} if authorization is None else {"Authorization": authorization}
        request = {"method": "POST", "url": "/graphql", "json": body, "headers": headers}
        status, _headers, content = await _answer(web, request)
        assert status == 401 and b"UNAUTHENTICATED" in content
    assert REMEMBERED.served == served


async def test_a_deactivated_person_is_refused_on_the_next_request(
    web: httpx.AsyncClient, db: Any, support: PersonRecord, tess: PersonRecord
) -> None:
    token = await token_store.create_token(db, tess.id)
    request = _post(token, SERVED["nested apps"])
    await _answer(web, request)
    status, _headers, _content = await _answer(web, request)
    assert status == 200
    data = await gql(
        db,
        support,
        "mutation ($input: SetPersonStatusInput!) { setPersonStatus(input: $input) "
        "{ userErrors { code } } }",
        {"input": {"personId": pid(tess), "status": "INACTIVE"}},
    )
    assert data["setPersonStatus"]["userErrors"] == []
    status, _headers, content = await _answer(web, request)
    assert status == 401 and b"UNAUTHENTICATED" in content


async def test_concurrent_viewers_each_get_their_own_answer(
    web: httpx.AsyncClient, db: Any, support: PersonRecord, tess: PersonRecord
) -> None:
    """Many interleaved requests of two viewers through the front: each answer is the one
    the stack gives that viewer (no context leaks between concurrent requests)."""
    ann = await make_person(db, "ann@example.com", "Ann")
    await create_mendix_app(db, support, ann)
    viewers = [await token_store.create_token(db, person.id) for person in (support, tess, ann)]
    expected = {}
    for token in viewers:
        with fast.standard():
            expected[token] = await _answer(web, _post(token, SERVED["nested apps"]))
    assert len({answer[2] for answer in expected.values()}) == 3
    served = REMEMBERED.served
    order = [viewers[index % 3] for index in range(60)]
    answers = await asyncio.gather(
        *(_answer(web, _post(token, SERVED["nested apps"])) for token in order)
    )
    assert all(answer == expected[token] for token, answer in zip(order, answers, strict=True))
    assert REMEMBERED.served - served >= 59  # the first one may have taught the front


# --- generated documents over HTTP (one tier: the data lives in a module's mongomock) ----


class Web:
    def __init__(self, malformed: bool) -> None:
        self.world = World(malformed=malformed)
        loop = self.world.loop
        self.tokens = [
            loop.run_until_complete(token_store.create_token(self.world.db, viewer.id))
            for viewer in self.world.viewers
        ]
        store = Store(db=self.world.db, client=None, embedded=True)

        async def open_store() -> Store:
            return store

        app = create_app(open_store)
        app.state.store = store
        self.client = _client(app)

    def compare(self, body: dict[str, Any], viewer: int) -> None:
        request = _post(self.tokens[viewer], body)
        front, stack, served = self.world.loop.run_until_complete(
            _front_and_stack(self.client, request)
        )
        assert front == stack, body["query"]
        # the front answers every error-free result itself, and never one with errors
        assert served == (stack[0] == 200 and b'"errors"' not in stack[2]), body["query"]

    def close(self) -> None:
        self.world.loop.run_until_complete(self.client.aclose())
        self.world.loop.close()


@pytest.fixture(scope="module")
def clean_web() -> Iterator[Web]:
    web = Web(malformed=False)
    yield web
    web.close()


@pytest.fixture(scope="module")
def malformed_web() -> Iterator[Web]:
    web = Web(malformed=True)
    yield web
    web.close()


@pytest.fixture
def lenient(monkeypatch: pytest.MonkeyPatch) -> None:
    from store import apps as app_store
    from store import people as people_store

    monkeypatch.setattr(app_store.AppRecord, "model_validate", _lenient(app_store.AppRecord))
    monkeypatch.setattr(
        people_store.PersonRecord, "model_validate", _lenient(people_store.PersonRecord)
    )


HTTP_SETTINGS = SETTINGS.__class__(SETTINGS, max_examples=120)


@HTTP_SETTINGS
@given(data=st.data())
def test_generated_queries_on_clean_data(clean_web: Web, data: Any) -> None:
    document, variables = data.draw(documents(clean_web.world.ids))
    clean_web.compare({"query": document, "variables": variables}, data.draw(st.integers(0, 2)))


@HTTP_SETTINGS
@given(data=st.data())
def test_generated_queries_on_malformed_data(malformed_web: Web, lenient: None, data: Any) -> None:
    document, variables = data.draw(documents(malformed_web.world.ids))
    malformed_web.compare({"query": document, "variables": variables}, data.draw(st.integers(0, 2)))


# --- the middleware order (graph/app.py middleware()) -------------------------------------


class _Recorder:
    """A middleware added to the app's list: records each /graphql request it sees."""

    seen: ClassVar[list[str]] = []

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            _Recorder.seen.append(scope["path"])
        await self.app(scope, receive, send)


async def test_middleware_in_the_list_sees_what_the_front_answers(
    store: Store, db: Any, tess: PersonRecord
) -> None:
    from starlette.middleware import Middleware

    from graph.app import middleware

    async def open_store() -> Store:
        return store

    _Recorder.seen = []
    app = create_app(open_store, extra_middleware=[Middleware(_Recorder)])
    app.state.store = store
    layers = [layer.cls.__name__ for layer in app.user_middleware]  # type: ignore[attr-defined]
    assert layers[0] == "Guard" and layers[-1] == "FastFront"
    assert layers.index("_Recorder") < layers.index("FastFront")
    assert middleware.__doc__ is not None
    token = await token_store.create_token(db, tess.id)
    request = _post(token, SERVED["nested apps"])
    async with _client(app) as client:
        await _answer(client, request)  # the stack answers; the front learns
        served = REMEMBERED.served
        status, _headers, content = await _answer(client, request)
    assert REMEMBERED.served == served + 1 and status == 200
    assert b'"cost"' in content  # the front charged and reported the cost too
    assert _Recorder.seen == ["/graphql", "/graphql"]
