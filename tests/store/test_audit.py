"""The audit trail's drain on both tiers: pending events move once, whatever was done before."""

from __future__ import annotations

import asyncio
from typing import Any

from bson import ObjectId

from store import audit as audit_store
from store.audit import AuditAction, AuditEventRecord
from store.pagination import Window


async def _app_with_pending(db: Any, count: int) -> tuple[ObjectId, list[ObjectId]]:
    key = ObjectId()
    events = [
        {**audit_store.event(AuditAction.TEAM_MEMBER_ADDED, actor_id=None), "app_id": key}
        for _ in range(count)
    ]
    await db["apps"].insert_one({"_id": key, "subdomain": str(key), "pending_events": events})
    return key, [event["_id"] for event in events]


async def test_drain_moves_each_event_once(db: Any) -> None:
    key, ids = await _app_with_pending(db, 3)
    await db["audit_events"].insert_one(
        (await db["apps"].find_one({"_id": key}))["pending_events"][0]
    )  # moved already by an interrupted drain
    assert await audit_store.drain(db, "apps", key) == 3
    assert await audit_store.drain(db, "apps", key) == 0
    stored = await db["audit_events"].find({}).to_list(None)
    assert sorted(doc["_id"] for doc in stored) == sorted(ids)
    assert "pending_events" not in await db["apps"].find_one({"_id": key})


async def test_racing_drains_and_follow_ups(db: Any, monkeypatch: Any) -> None:
    """Several processes draining at once: every event recorded once; each follow-up sees
    every event (at least once: follow-ups are idempotent by event ID)."""
    key, ids = await _app_with_pending(db, 5)
    seen: set[ObjectId] = set()

    async def follow_up(_: Any, event: AuditEventRecord) -> None:
        seen.add(event.id)

    monkeypatch.setattr(audit_store, "FOLLOW_UPS", [follow_up])
    await asyncio.gather(*(audit_store.drain(db, "apps", key) for _ in range(4)))
    assert await db["audit_events"].count_documents({}) == 5
    assert seen == set(ids)


async def test_pending_events_are_read_with_the_trail(db: Any) -> None:
    key, ids = await _app_with_pending(db, 3)
    await audit_store.drain(db, "apps", key)
    extra = [
        {**audit_store.event(AuditAction.TEAM_MEMBER_REMOVED, actor_id=None), "app_id": key}
        for _ in range(2)
    ]
    await db["apps"].update_one({"_id": key}, {"$set": {"pending_events": extra}})
    query = audit_store.events_query(app_id=key)
    everything = [*ids, *(event["_id"] for event in extra)]
    page = await audit_store.list_owner_events(db, "apps", key, query, Window(first=2))
    assert page.keys == everything[:2] and page.has_next_page and page.total_count == 5
    rest = await audit_store.list_owner_events(
        db, "apps", key, query, Window(first=10, after=page.keys[-1])
    )
    assert rest.keys == everything[2:] and not rest.has_next_page
    last = await audit_store.list_owner_events(db, "apps", key, query, Window(last=2))
    assert last.keys == everything[-2:] and last.has_previous_page
