"""A benchmark server: the real Starlette app on the embedded engine, seeded with N apps.

``python -m bench.serve N PORT`` prints ``TOKEN <token>`` once ready (and serving), then
serves on 127.0.0.1:PORT with one uvicorn worker until killed. OWNERSHIP_FAST_READS=0
switches the compiled read path off (stock execution).
"""

from __future__ import annotations

import sys

import uvicorn
from mongomock_motor import AsyncMongoMockClient

from bench.seed import seed
from graph.app import create_app
from store.db import Store, ensure_indexes


def main() -> None:
    apps, port = int(sys.argv[1]), int(sys.argv[2])

    async def open_store() -> Store:
        client = AsyncMongoMockClient(tz_aware=True)
        db = client.get_database("bench")
        await ensure_indexes(db)
        _support, token = await seed(db, apps)
        print(f"TOKEN {token}", flush=True)
        return Store(db=db, client=client, embedded=True)

    config = uvicorn.Config(
        create_app(open_store),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        workers=1,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
