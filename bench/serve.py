"""A benchmark server: the real Starlette app on the embedded engine, seeded with N apps.

``python -m bench.serve N PORT [embedded|memory|plain-json|plain-orjson]`` prints
``TOKEN <token>`` once seeded, then serves on 127.0.0.1:PORT with one uvicorn worker until
killed. OWNERSHIP_FAST_READS=0 switches the fast front and the compiled read path off (stock
strawberry). ``memory`` serves the apps query and the people loader from records read once
at startup (authentication still reads the database), to measure the API without the
embedded engine's cost per read (a scan per query, records validated per read).
``plain-*`` is the baseline: a plain Starlette JSON endpoint answering the same two
documents with the hand-written projection of those records (json.dumps or orjson), no
GraphQL, no authentication.
"""

from __future__ import annotations

import json
import os
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
from resolvers import app_views as app_cases
from store import people as people_store
from store.db import Store, ensure_indexes


async def serve_from_memory(db: object) -> None:
    pages: dict[object, object] = {}
    real_list = app_cases.list_apps
    everyone = await db.people.find({}).to_list(None)  # type: ignore[attr-defined]
    people = {p.id: p for p in await people_store.get_people(db, [d["_id"] for d in everyone])}

    async def list_apps(
        db: object,
        viewer: object,
        filters: dict,
        window: object,
        fields: object = None,
        **fixed: object,
    ) -> object:
        key = (viewer.id, repr(filters), window, fields, repr(fixed))  # type: ignore[attr-defined]
        if key not in pages:
            pages[key] = await real_list(db, viewer, filters, window, fields, **fixed)  # type: ignore[arg-type]
        return pages[key]

    async def get_people(db: object, keys: list[object]) -> list[object]:
        return [people.get(key) for key in keys]

    app_cases.list_apps = list_apps  # type: ignore[assignment]
    people_store.get_people = get_people  # type: ignore[assignment]


def plain_app(apps: int, dumps: Callable[[Any], bytes]) -> Starlette:
    """The hand-written limit over HTTP, from records read once at startup: the tiny query,
    the nested 100-app page and the ten aliased pages of the 1,000-app query."""
    from bench.queries import NESTED_100, NESTED_1000, TINY
    from bench.reads import hand_written
    from store.apps import list_apps
    from store.pagination import Window

    answers: dict[str, Callable[[], Any]] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = AsyncMongoMockClient(tz_aware=True).get_database("bench")
        await seed(db, apps)
        everyone = await db.people.find({}).to_list(None)
        found = await people_store.get_people(db, [d["_id"] for d in everyone])
        people = {p.id: p for p in found if p}
        pages = [await list_apps(db, {}, Window(first=100))]
        while len(pages) < 10 and pages[-1].has_next_page:
            pages.append(await list_apps(db, {}, Window(first=100, after=pages[-1].keys[-1])))

        def thousand() -> Any:
            return {
                "data": {
                    f"p{index}": {"nodes": hand_written(page, people)["data"]["apps"]["nodes"]}
                    for index, page in enumerate(pages)
                }
            }

        answers[TINY] = lambda: {"data": {"__typename": "Query"}}
        answers[NESTED_100] = lambda: hand_written(pages[0], people)
        answers[NESTED_1000] = thousand
        print("TOKEN none", flush=True)
        yield

    async def graphql(request: Request) -> Response:
        body = json.loads(await request.body())
        return Response(dumps(answers[body["query"]]()), media_type="application/json")

    async def health(request: Request) -> Response:
        return Response(b"{}", media_type="application/json")

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", health)],
        lifespan=lifespan,
    )


def main() -> None:
    apps, port = int(sys.argv[1]), int(sys.argv[2])
    # no access log unless asked for (bench/protection.py writes it to /dev/null)
    os.environ.setdefault("OWNERSHIP_ACCESS_LOG", "off")
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
        timeout_graceful_shutdown=1,  # a request still running when the bench moves on
        http="httptools",
        loop="uvloop",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
