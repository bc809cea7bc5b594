"""Fixtures: every store and GraphQL test runs on two tiers from one code base.

- ``mock``: mongomock-motor in process (fast; the embedded default's engine).
- ``wire``: PyMongo's AsyncMongoClient over TCP, against ``MONGODB_URI`` when set, otherwise a
  MongoDB-compatible wire server started here (tests/wire/server.py).

``--tier mock`` or ``--tier wire`` runs one tier alone; the default runs both.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from store.db import Store, ensure_indexes
from store.people import PersonRecord, Role
from tests.helpers import make_person

TIERS = ("mock", "wire")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--tier",
        choices=("all", *TIERS),
        default=os.environ.get("TEST_TIER", "all"),
        help="which database tier(s) to run the store and GraphQL tests on",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mock_only(reason): runs on the mock tier only, with the reason why"
    )
    config.addinivalue_line(
        "markers", "wire_only(reason): runs on the wire tier only, with the reason why"
    )


def _tiers(config: pytest.Config) -> list[str]:
    chosen = config.getoption("--tier")
    return list(TIERS) if chosen == "all" else [chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "tier" in metafunc.fixturenames:
        params = []
        for tier in _tiers(metafunc.config):
            marks = []
            for other, marker in (("wire", "mock_only"), ("mock", "wire_only")):
                mark = metafunc.definition.get_closest_marker(marker)
                if mark is not None and tier == other:
                    reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "")
                    marks.append(pytest.mark.skip(reason=f"{marker}: {reason}"))
            params.append(pytest.param(tier, marks=marks, id=tier))
        metafunc.parametrize("tier", params, scope="function")


_counts: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        for tier in TIERS:
            if f"[{tier}" in report.nodeid or f"-{tier}]" in report.nodeid:
                _counts[f"{tier} {report.outcome}"] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _counts:
        parts = ", ".join(f"{key}: {value}" for key, value in sorted(_counts.items()))
        terminalreporter.write_line(f"tests per tier: {parts}")


@pytest.fixture(scope="session")
def wire_uri() -> Iterator[str]:
    """A MongoDB URI for the wire tier: MONGODB_URI, or a wire server started for this run."""
    uri = os.environ.get("MONGODB_URI")
    if uri:
        yield uri
        return
    from tests.wire.server import WireServer

    with WireServer() as server:
        yield server.uri


@pytest.fixture
async def store(tier: str, request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    name = f"test_{uuid.uuid4().hex[:12]}"
    if tier == "mock":
        from store import interleave

        # yields to the event loop around each call, so gathered requests really interleave
        client: Any = interleave.client(tz_aware=True)
        result = Store(db=client.get_database(name), client=client, embedded=True)
    else:
        from pymongo import AsyncMongoClient

        uri = request.getfixturevalue("wire_uri")
        client = AsyncMongoClient(uri, tz_aware=True, uuidRepresentation="standard")
        result = Store(db=client.get_database(name), client=client, embedded=False)
    await ensure_indexes(result.db)
    try:
        yield result
    finally:
        await client.drop_database(name)
        await result.close()


@pytest.fixture
def db(store: Store) -> Any:
    return store.db


@pytest.fixture
async def support(db: Any) -> PersonRecord:
    return await make_person(db, "support@mendix.example", "Sam Support", roles=(Role.SUPPORT,))
