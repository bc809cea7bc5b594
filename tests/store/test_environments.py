"""The conditional updates behind environments, grants and category statuses."""

from __future__ import annotations

import asyncio
from typing import Any

from store import apps as app_store
from store import environments as env_store
from store.apps import Hosting
from store.cloud import AlertCategory, EnvironmentRight, MetricStatus
from store.people import PersonRecord
from tests.helpers import dump, make_person


async def _app(db: Any, support: PersonRecord) -> tuple[Any, Any, PersonRecord]:
    contact = await make_person(db, "tc@example.com", "Tess", "tess")
    member = await make_person(db, "mem@example.com", "Mia")
    app = await app_store.create_app(
        db, name="Shop", subdomain="shop", hosting=Hosting.MENDIX_CLOUD,
        technical_contact_id=contact.id,
    )  # fmt: skip
    await app_store.add_member(db, app.id, member.id)
    change = await env_store.add_environment(db, app.id, name="Production", production=True)
    assert change is not None
    return change.after, contact, member


async def test_exactly_one_racing_report_wins_a_transition(db: Any, support: PersonRecord) -> None:
    app, _, _ = await _app(db, support)
    key = app.environments[0].environment_id
    wins = await asyncio.gather(
        *(
            env_store.change_status(
                db, app.id, 0, key, AlertCategory.APP_CPU, MetricStatus.NORMAL, MetricStatus.WARNING
            )
            for _ in range(20)
        )
    )
    assert sorted(wins, key=lambda win: win or 0) == [None] * 19 + [1]
    stored = await app_store.get_app(db, app.id)
    assert stored is not None
    assert stored.environments[0].status(AlertCategory.APP_CPU) is MetricStatus.WARNING
    assert stored.version == app.version  # monitoring state is not configuration


async def test_grant_preconditions_and_member_removal(db: Any, support: PersonRecord) -> None:
    app, contact, member = await _app(db, support)
    key = app.environments[0].environment_id
    logs = [EnvironmentRight.VIEW_LOGS]
    before = await dump(db)
    assert await env_store.grant(db, app.id, key, member.id, logs, member.id) is None
    assert await dump(db) == before  # refused: the member holds no Manage permissions
    change = await env_store.grant(db, app.id, key, member.id, logs, contact.id)
    assert change is not None and [g.right for g in change.after.grants] == logs
    assert await env_store.grant(db, app.id, key, member.id, logs, contact.id) is None
    removed = await app_store.remove_member(db, app.id, member.id)
    assert removed is not None and removed.after.grants == ()
    stored = await app_store.get_app(db, app.id)
    assert stored == removed.after  # `after` is exactly what the update wrote
