"""A benchmark server: the real Starlette app on the embedded engine, seeded with N apps.

``python -m bench.serve N PORT [embedded|memory]`` prints ``TOKEN <token>`` once seeded, then
serves on 127.0.0.1:PORT with one uvicorn worker until killed. OWNERSHIP_FAST_READS=0
switches the compiled read path off (stock execution). ``memory`` serves the apps query and
the people loader from records read once at startup (authentication still reads the
database), to measure the API without the embedded engine's cost per read: mongomock scans
and copies the whole collection on every query.
"""

from __future__ import annotations

import sys

import uvicorn
from mongomock_motor import AsyncMongoMockClient

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


def main() -> None:
    apps, port = int(sys.argv[1]), int(sys.argv[2])
    memory = len(sys.argv) > 3 and sys.argv[3] == "memory"

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
        create_app(open_store),
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
