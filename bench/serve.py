"""A benchmark server: the real Starlette app on the embedded engine, seeded with N apps.

``python -m bench.serve N PORT [embedded|memory|plain-json|plain-orjson]`` prints
``TOKEN <token>`` once seeded, then serves on 127.0.0.1:PORT with one uvicorn worker until
killed. OWNERSHIP_FAST_READS=0 switches the fast front and the compiled read path off (stock
strawberry). ``memory`` serves the apps query and the people loader from records read once
at startup (authentication still reads the database), to measure the API without the
embedded engine's cost per read: mongomock scans and copies the whole collection on every
query. ``plain-*`` is the baseline: a plain Starlette JSON endpoint answering the same two
documents with the hand-written projection of those records (json.dumps or orjson), no
GraphQL, no authentication.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
import uvicorn
from mongomock_motor import AsyncMongoMockClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.seed import seed
from graph.app import create_app
from resolvers import apps as app_cases
from store import people as people_store
from store.db import Store, ensure_indexes


async def serve_from_memory(db: object) -> None:
    pages: dict[object, object] = {}
    real_list = app_cases.list_apps
    everyone = await db.people.find({}).to_list(None)  # type: ignore[attr-defined]
    people = {p.id: p for p in await people_store.get_people(db, [d["_id"] for d in everyone])}

    async def list_apps(db: object, viewer: object, filters: dict, window: object) -> object:
        key = (viewer.id, tuple(sorted(filters.items())), window)  # type: ignore[attr-defined]
        if key not in pages:
            pages[key] = await real_list(db, viewer, filters, window)  # type: ignore[arg-type]
        return pages[key]

    async def get_people(db: object, keys: list[object]) -> list[object]:
        return [people.get(key) for key in keys]

    app_cases.list_apps = list_apps  # type: ignore[assignment]
    people_store.get_people = get_people  # type: ignore[assignment]


def plain_app(apps: int, dumps: Callable[[Any], bytes]) -> Starlette:
    """The hand-written limit over HTTP, from records read once at startup."""
    from bench.queries import TINY
    from bench.reads import hand_written
    from store.apps import list_apps
    from store.pagination import Window

    loaded: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = AsyncMongoMockClient(tz_aware=True).get_database("bench")
        await seed(db, apps)
        page = await list_apps(db, {}, Window(first=100))
        everyone = await db.people.find({}).to_list(None)
        people = await people_store.get_people(db, [d["_id"] for d in everyone])
        loaded.update(page=page, people={p.id: p for p in people if p})
        print("TOKEN none", flush=True)
        yield

    async def graphql(request: Request) -> Response:
        body = json.loads(await request.body())
        if body["query"] == TINY:
            answer: Any = {"data": {"__typename": "Query"}}
        else:
            answer = hand_written(loaded["page"], loaded["people"])
        return Response(dumps(answer), media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", health)],
        lifespan=lifespan,
    )


def main() -> None:
    apps, port = int(sys.argv[1]), int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "embedded"
    memory = mode == "memory"
    app: Any = None
    if mode.startswith("plain-"):
        dumps = orjson.dumps if mode == "plain-orjson" else (lambda v: json.dumps(v).encode())
        app = plain_app(apps, dumps)

    async def open_store() -> Store:
        client = AsyncMongoMockClient(tz_aware=True)
        db = client.get_database("bench")
        _support, token = await seed(db, apps)
        await ensure_indexes(db)  # after the bulk insert (mongomock checks unique keys per insert)
        if memory:
            await serve_from_memory(db)
        print(f"TOKEN {token}", flush=True)
        return Store(db=db, client=client, embedded=True)

    config = uvicorn.Config(
        app or create_app(open_store),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        workers=1,
        http="httptools",
        loop="uvloop",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
