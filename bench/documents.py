"""First-request latency of trusted documents: ``python -m bench.documents [--rounds 15]``.

Each round takes a document the process has never seen (NESTED_100 from bench/queries.py,
the nested 100-app read, under a new operation name) and times, on 100 generated apps on
the embedded engine, in process through the whole ASGI app (fast front, view, executor):

- unregistered: its first POST as text (parse, validation, plan compilation, execution);
- registered: the same document registered and loaded as at startup (Registry.load:
  parsed, validated, remembered by the front, plan compiled), then its first POST by
  ``documentId``;
- the hundredth: the registered document's 100th request (steady state).

Prints the median and spread of each in milliseconds. Not a test: timings vary by machine.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import httpx
from mongomock_motor import AsyncMongoMockClient

from bench.queries import NESTED_100
from graph.app import create_app
from ownership.generate import generate
from resolvers.documents import document_id
from store import people as people_store
from store import tokens as token_store
from store.db import Store, ensure_indexes
from store.people import Role


async def _time(client: httpx.AsyncClient, body: dict[str, Any], token: str) -> float:
    started = time.perf_counter()
    response = await client.post(
        "/graphql", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    elapsed = time.perf_counter() - started
    payload = response.json()
    assert response.status_code == 200 and "errors" not in payload, payload
    assert len(payload["data"]["apps"]["nodes"]) == 100
    return elapsed * 1000


async def main(rounds: int) -> None:
    mongo = AsyncMongoMockClient(tz_aware=True)
    store = Store(db=mongo.get_database("bench_documents"), client=mongo, embedded=True)
    db = store.db
    await ensure_indexes(db)
    await generate(db, 100, seed=3)
    support = await people_store.create_person(
        db, email="bench@mendix.example", name="Bench", roles=(Role.SUPPORT,)
    )
    token = await token_store.create_token(db, support.id)
    app = create_app(lambda: None)  # type: ignore[arg-type, return-value]
    app.state.store = store
    registry = app.state.documents
    variables = {"first": 100}
    cold: list[float] = []
    warm: list[float] = []
    steady: list[float] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        await _time(client, {"query": NESTED_100, "variables": variables}, token)  # imports
        for index in range(rounds):
            text = NESTED_100.replace("query Nested", f"query Cold{index}")
            cold.append(await _time(client, {"query": text, "variables": variables}, token))
            text = NESTED_100.replace("query Nested", f"query Warm{index}")
            await registry.register(db, text, "cli")
            await registry.load(db)  # as at startup
            body = {"documentId": document_id(text), "variables": variables}
            warm.append(await _time(client, body, token))
            for _ in range(98):
                await _time(client, body, token)
            steady.append(await _time(client, body, token))
    for label, values in (
        ("unregistered, first request", cold),
        ("registered, first request", warm),
        ("registered, 100th request", steady),
    ):
        print(
            f"{label:30} median {statistics.median(values):7.1f} ms "
            f"(min {min(values):.1f}, max {max(values):.1f}, n={len(values)})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    asyncio.run(main(parser.parse_args().rounds))
