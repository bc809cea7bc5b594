"""The audit trail: who changed what, when, with the state before and after.

A change and its record are one atomic write: the conditional update that applies a change
also pushes its events (each with a client-made ``_id``) into the changed document's
``pending_events`` (store/apps.py ``Write``). :func:`drain` then moves them into this
collection, idempotently (an ``_id`` already there was moved before), and pulls them from the
document. The process that made the change drains at once; the periodic task
(:func:`drain_all`) finishes whatever a crash left, from any process. Readers see both
(:func:`list_owner_events`), so the trail is read-your-writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "audit_events"
PENDING = "pending_events"
# Documents that carry pending events: apps, people, support requests, license expansion
# requests and maintenance windows.
OWNERS = (
    "apps",
    "people",
    "support_requests",
    "license_expansion_requests",
    "maintenance_windows",
)


class AuditAction(StrEnum):
    APP_CREATED = "APP_CREATED"
    ACCOUNT_EXECUTIVE_SET = "ACCOUNT_EXECUTIVE_SET"
    TEAM_MEMBER_ADDED = "TEAM_MEMBER_ADDED"
    TEAM_MEMBER_REMOVED = "TEAM_MEMBER_REMOVED"
    TECHNICAL_CONTACT_CHANGED = "TECHNICAL_CONTACT_CHANGED"
    TECHNICAL_CONTACT_ADDED = "TECHNICAL_CONTACT_ADDED"
    TECHNICAL_CONTACT_REMOVED = "TECHNICAL_CONTACT_REMOVED"
    APP_DELIVERED = "APP_DELIVERED"
    HOSTING_CHANGED = "HOSTING_CHANGED"
    PERSON_CREATED = "PERSON_CREATED"
    MENDIX_ID_REGISTERED = "MENDIX_ID_REGISTERED"
    PERSON_STATUS_CHANGED = "PERSON_STATUS_CHANGED"
    LICENSE_ADDED = "LICENSE_ADDED"
    LICENSE_RENEWED = "LICENSE_RENEWED"
    LICENSE_CHANGED = "LICENSE_CHANGED"
    LICENSE_EXPANSION_REQUESTED = "LICENSE_EXPANSION_REQUESTED"
    SUPPORT_REQUEST_SUBMITTED = "SUPPORT_REQUEST_SUBMITTED"
    SUPPORT_REQUEST_COMMENTED = "SUPPORT_REQUEST_COMMENTED"
    SUPPORT_REQUEST_TRIAGED = "SUPPORT_REQUEST_TRIAGED"
    SUPPORT_REQUEST_RESOLVED = "SUPPORT_REQUEST_RESOLVED"
    SUPPORT_REQUEST_REJECTED = "SUPPORT_REQUEST_REJECTED"
    SUPPORT_REQUEST_APPROVED = "SUPPORT_REQUEST_APPROVED"
    MAINTENANCE_POSTED = "MAINTENANCE_POSTED"
    ENVIRONMENT_CREATED = "ENVIRONMENT_CREATED"
    ENVIRONMENT_STATE_CHANGED = "ENVIRONMENT_STATE_CHANGED"
    ENVIRONMENT_RIGHTS_GRANTED = "ENVIRONMENT_RIGHTS_GRANTED"
    ENVIRONMENT_RIGHTS_REVOKED = "ENVIRONMENT_RIGHTS_REVOKED"
    PROJECT_CONNECTED = "PROJECT_CONNECTED"
    ALERT_SETTINGS_CHANGED = "ALERT_SETTINGS_CHANGED"


class AuditEventRecord(Record):
    action: AuditAction
    actor_id: ObjectId | None
    app_id: ObjectId | None = None
    person_id: ObjectId | None = None
    version: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    environment_id: ObjectId | None = None
    production: bool | None = None  # set on environment events: whether it is production
    at: UtcDatetime


def _events(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    await _events(db).create_index([("app_id", ASCENDING), ("_id", ASCENDING)], name="app")
    await _events(db).create_index([("person_id", ASCENDING), ("_id", ASCENDING)], name="person")
    for owner in OWNERS:  # finds what is left to drain without a scan
        await db[owner].create_index(
            [(f"{PENDING}._id", ASCENDING)], name="pending_events", sparse=True
        )


def event(
    action: AuditAction,
    *,
    actor_id: ObjectId | None,
    app_id: ObjectId | None = None,
    person_id: ObjectId | None = None,
    version: int | None = None,
    before: Document | None = None,
    after: Document | None = None,
    environment_id: ObjectId | None = None,
    production: bool | None = None,
) -> Document:
    """One event as stored, with its own ``_id`` (made here, so a retried move is a no-op)."""
    extra: Document = {}
    if environment_id is not None:
        extra = {"environment_id": environment_id, "production": production}
    return {
        **extra,
        "_id": ObjectId(),
        "action": action.value,
        "actor_id": actor_id,
        "app_id": app_id,
        "person_id": person_id,
        "version": version,
        "before": before,
        "after": after,
        "at": now(),
    }


async def record(
    db: Database,
    action: AuditAction,
    *,
    actor_id: ObjectId | None,
    app_id: ObjectId | None = None,
    person_id: ObjectId | None = None,
    version: int | None = None,
    before: Document | None = None,
    after: Document | None = None,
    environment_id: ObjectId | None = None,
    production: bool | None = None,
) -> AuditEventRecord:
    """Append one event on its own (for records that are the change themselves).
    ``version`` is the app's version after the change it records."""
    doc = event(
        action,
        actor_id=actor_id,
        app_id=app_id,
        person_id=person_id,
        version=version,
        before=before,
        after=after,
        environment_id=environment_id,
        production=production,
    )
    await _events(db).insert_one(doc)
    return AuditEventRecord.model_validate(doc)


# --- draining pending events ----------------------------------------------------------------

FollowUp = Callable[[Database, AuditEventRecord], Awaitable[None]]
# Per-event follow-ups (e.g. rollup counts), run by the drain for every event it moves,
# before the event leaves ``pending_events``. A crash can make one run again for the same
# event: each must be idempotent by the event's ``_id``.
FOLLOW_UPS: list[FollowUp] = []


async def _move(db: Database, doc: Document) -> None:
    with contextlib.suppress(DuplicateKeyError):  # moved already (a crash, another process)
        await _events(db).insert_one(dict(doc))
    record = AuditEventRecord.model_validate(doc)
    for follow_up in FOLLOW_UPS:
        await follow_up(db, record)


async def drain(db: Database, owner: str, owner_id: Any) -> int:
    """Move the pending events of one document into the trail; returns how many moved.
    Safe to run again, at any point, in any process."""
    found = await db[owner].find_one({"_id": owner_id}, {PENDING: 1})
    pending: list[Document] = list((found or {}).get(PENDING) or [])
    if not pending:
        return 0
    for doc in pending:
        await _move(db, doc)
    ids = [doc["_id"] for doc in pending]
    await db[owner].update_one({"_id": owner_id}, {"$pull": {PENDING: {"_id": {"$in": ids}}}})
    await db[owner].update_one({"_id": owner_id, PENDING: {"$size": 0}}, {"$unset": {PENDING: ""}})
    return len(pending)


async def drain_all(db: Database, limit: int = 1000) -> int:
    """Drain every document left with pending events (after a crash); returns events moved."""
    moved = 0
    for owner in OWNERS:
        cursor = db[owner].find({f"{PENDING}._id": {"$exists": True}}, {"_id": 1})
        for doc in await cursor.limit(limit).to_list(None):
            moved += await drain(db, owner, doc["_id"])
    return moved


async def pending_of(db: Database, owner: str, owner_id: Any) -> list[AuditEventRecord]:
    found = await db[owner].find_one({"_id": owner_id}, {PENDING: 1})
    docs = (found or {}).get(PENDING) or []
    return [AuditEventRecord.model_validate(doc) for doc in docs]


def events_query(*, app_id: ObjectId | None = None, person_id: ObjectId | None = None) -> Document:
    clauses: list[Document] = []
    if app_id is not None:
        clauses.append({"app_id": app_id})
    if person_id is not None:
        clauses.append({"person_id": person_id})
    return {"$and": clauses} if clauses else {}


async def list_events(db: Database, query: Document, window: Window) -> Page[AuditEventRecord]:
    return await paginate(_events(db), query, window, AuditEventRecord.model_validate)


async def get_events(db: Database, ids: list[ObjectId]) -> list[AuditEventRecord | None]:
    docs = await _events(db).find({"_id": {"$in": list(set(ids))}}).to_list(None)
    by_id = {doc["_id"]: AuditEventRecord.model_validate(doc) for doc in docs}
    return [by_id.get(key) for key in ids]


async def list_owner_events(
    db: Database, owner: str, owner_id: Any, query: Document, window: Window
) -> Page[AuditEventRecord]:
    """:func:`list_events` plus the owner's events not drained yet (read-your-writes),
    deduplicated by ``_id`` and paged by the same keyset rules."""
    pending = await pending_of(db, owner, owner_id)
    if pending:
        ids = [item.id for item in pending]
        moved = {
            doc["_id"]
            for doc in await _events(db).find({"_id": {"$in": ids}}, {"_id": 1}).to_list(None)
        }
        pending = [item for item in pending if item.id not in moved]
    if not pending:
        return await list_events(db, query, window)
    backwards = window.last is not None and window.first is None
    limit = window.last if backwards else window.first
    assert limit is not None
    wider = replace(window, last=limit + 1) if backwards else replace(window, first=limit + 1)
    page = await list_events(db, query, wider)
    extra = [
        item
        for item in pending
        if (window.after is None or item.id > window.after)
        and (window.before is None or item.id < window.before)
    ]
    items = sorted([*page.items, *extra], key=lambda item: item.id)
    more = len(items) > limit
    items = items[-limit:] if backwards else items[:limit]
    return Page(
        items=items,
        keys=[item.id for item in items],
        has_next_page=more if not backwards else window.before is not None,
        has_previous_page=more if backwards else window.after is not None,
        total_count=page.total_count + len(pending),
    )
