"""The notice task runs while the API serves: the lifespan starts it and stops it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from graph.app import create_app
from ownership.tasks import periodic
from store.apps import LicenseRecord
from store.db import Store
from store.licenses import add_license
from store.records import now
from tests.helpers import create_app as create_test_app
from tests.helpers import make_person


async def test_lifespan_runs_the_notice_task_until_shutdown(store: Store, support: Any) -> None:
    contact = await make_person(store.db, "tc@acme.example", "Tess", "tess")
    app = await create_test_app(store.db, support, contact, "ON_PREMISES", "task-app")
    from resolvers.ids import decode

    key = decode(app["id"], "App")
    assert key is not None
    license = LicenseRecord(
        license_id="L1",
        plan="Standard",
        named_users=5,
        concurrent_users=1,
        starts_at=now() - timedelta(days=100),
        expires_at=now() + timedelta(days=3),
    )
    assert await add_license(store.db, key, license) is not None
    events: list[str] = []
    hook = periodic(None, interval=0.01)

    async def background(opened: Store) -> Any:
        stop = await hook(opened)
        events.append("started")

        async def stopped() -> None:
            await stop()
            events.append("stopped")

        return stopped

    async def open_store() -> Store:
        return store

    async def keep_open() -> None:
        return None

    store_close = store.close
    store.close = keep_open  # type: ignore[method-assign]  # the fixture closes it
    starlette = create_app(open_store, background=background)
    try:
        async with starlette.router.lifespan_context(starlette):
            assert events == ["started"]
            for _ in range(500):  # bounded wait for the first pass, not a timing assertion
                if await store.db["notifications"].count_documents({}):
                    break
                await asyncio.sleep(0.01)
        assert events == ["started", "stopped"]
    finally:
        store.close = store_close  # type: ignore[method-assign]
    mail = await store.db["notifications"].find_one({})
    assert mail is not None and mail["kind"] == "LICENSE_RENEWAL"
    assert mail["status"] == "PENDING"  # no SMTP settings: kept in the outbox
