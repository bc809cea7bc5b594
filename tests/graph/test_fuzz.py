"""Generated operations on every root field, over HTTP, with an ordinary person's token and
with a READ_ONLY token (hypothesis-graphql, on the demo data).

- No server error: never a 5xx, never the masked "Unexpected server error".
- A READ_ONLY token changes nothing: the database is the same before and after every
  generated operation on a field (mutations included).
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes
from mongomock_motor import AsyncMongoMockClient

from graph.app import create_app
from graph.schema import schema
from ownership.demo import CONTACT_EMAIL, load_demo
from resolvers.ids import encode
from store import people as people_store
from store import tokens as token_store
from store.db import Store, ensure_indexes
from store.tokens import TokenScope
from tests.helpers import dump

GRAPHQL = schema._schema
FIELDS = sorted(
    [*GRAPHQL.query_type.fields, *GRAPHQL.mutation_type.fields]  # type: ignore[union-attr]
)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))  # per root field and token
MASKED = "Unexpected server error"

_DATETIMES = st.one_of(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ).map(lambda moment: moment.isoformat()),
    st.text(max_size=30),
)

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class _Unowned:
    def close(self) -> None:
        return None


class Site:
    """The API on the demo data (embedded engine) and a loop to drive it from sync tests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self.start())
        except BaseException:
            self.loop.close()
            raise

    async def start(self) -> None:
        client = AsyncMongoMockClient(tz_aware=True)
        self.db: Any = client.get_database("fuzz")
        await ensure_indexes(self.db)
        await load_demo(self.db, apps=6)
        tess = await people_store.get_person_by_email(self.db, CONTACT_EMAIL)
        assert tess is not None and not tess.is_support  # an ordinary person
        self.full = await token_store.create_token(self.db, tess.id)
        self.read_only = await token_store.create_token(
            self.db, tess.id, scope=TokenScope.READ_ONLY
        )
        self.ids = await known_ids(self.db)
        store = Store(db=self.db, client=_Unowned(), embedded=True)

        async def open_store() -> Store:
            return store

        app = create_app(open_store)
        app.state.store = store
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        )

    def post(self, token: str, document: str) -> httpx.Response:
        async def once() -> httpx.Response:
            return await self.http.post(
                "/graphql", json={"query": document}, headers={"Authorization": f"Bearer {token}"}
            )

        return self.loop.run_until_complete(once())

    def dump(self) -> Any:
        return self.loop.run_until_complete(dump(self.db))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()


async def known_ids(db: Any) -> list[list[str]]:
    """Global IDs of what the demo holds, per type, so generated operations reach real
    objects."""
    ids: list[list[str]] = []
    for collection, type_name in (
        ("apps", "App"),
        ("people", "Person"),
        ("notifications", "Notification"),
        ("support_requests", "SupportRequest"),
    ):
        ids.append(
            [encode(type_name, doc["_id"]) async for doc in db[collection].find({}, {"_id": 1})]
        )
    environments = []
    async for app in db["apps"].find({}, {"environments": 1}):
        environments += [
            encode("Environment", e["environment_id"]) for e in app.get("environments", [])
        ]
    tokens = [encode("AccessToken", t["key"]) async for t in db["tokens"].find({}, {"key": 1})]
    return [kind for kind in (*ids, environments, tokens) if kind]


@pytest.fixture(scope="module")
def site() -> Any:
    running = Site()
    yield running
    running.close()


def no_server_error(response: httpx.Response, document: str) -> dict[str, Any]:
    assert response.status_code < 500, (response.status_code, document, response.text)
    body = response.json()
    messages = [error.get("message", "") for error in body.get("errors") or ()]
    assert not any(MASKED in message for message in messages), (document, body)
    return body


def operations(site: Site, field: str) -> Any:
    """Operations on ``field``; IDs are mostly real ones (else random text)."""
    known = st.sampled_from(site.ids).flatmap(st.sampled_from)  # a type, then one of it
    ids = st.one_of(known, known, known, st.text(max_size=30))
    return from_schema(
        GRAPHQL,
        fields=[field],
        custom_scalars={"DateTime": _DATETIMES.map(nodes.String), "ID": ids.map(nodes.String)},
        allow_x00=False,
        codec="utf-8",
    )


@pytest.mark.parametrize("field", FIELDS)
def test_an_ordinary_persons_token(site: Site, field: str) -> None:
    @SETTINGS
    @given(document=operations(site, field))
    def check(document: str) -> None:
        no_server_error(site.post(site.full, document), document)

    check()


@pytest.mark.parametrize("field", FIELDS)
def test_a_read_only_token_changes_nothing(site: Site, field: str) -> None:
    before = site.dump()
    mutation = field in GRAPHQL.mutation_type.fields  # type: ignore[union-attr]

    @SETTINGS
    @given(document=operations(site, field))
    def check(document: str) -> None:
        response = site.post(site.read_only, document)
        body = no_server_error(response, document)
        if mutation:  # refused before it runs: a 403, or invalid (e.g. a bad DateTime)
            errors = body.get("errors") or []
            assert errors and body.get("data") is None, (document, body)
            codes = [error.get("extensions", {}).get("code") for error in errors]
            assert (response.status_code == 403) == (codes == ["INSUFFICIENT_SCOPE"]), body

    check()
    assert site.dump() == before
