"""Creating an app and applying a rule's conditional update to it (A7).

Every change is one ``find_one_and_update`` whose filter states the rule's precondition: when
it matches nothing the change is refused, so racing requests can never break a rule (A7).
Given a ``Write`` (the use cases always give one), the same update also states the caller's
right and the version it read, and pushes the change's audit events into the app's
``pending_events`` (store/audit.py moves them into the trail). The rules themselves are in
store/app_rules.py; ``store.apps`` re-exports both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from store.app_records import (
    COLLECTION,
    NEXT_EXPIRY,
    NO_EXPIRY,
    PENDING,
    AppRecord,
    AppStatus,
    Change,
    DuplicateSubdomain,
    Hosting,
    Write,
)
from store.db import Database, Document
from store.later import finish_now
from store.records import now


def _apps(db: Database) -> Any:
    return db[COLLECTION]


async def create_app(
    db: Database,
    *,
    name: str,
    subdomain: str,
    hosting: Hosting,
    technical_contact_id: ObjectId,
    account_executive_id: ObjectId | None = None,
    region: str | None = None,
    events: Callable[[AppRecord], list[Document]] | None = None,
) -> AppRecord:
    """Insert an ordered app with its technical contact, who joins the team (A2); ``events``
    (made from the new record) are written with it, pending (store/audit.py)."""
    doc: Document = {
        "_id": ObjectId(),
        "name": name,
        "subdomain": subdomain,
        "hosting": hosting.value,
        "status": AppStatus.ORDERED.value,
        "technical_contact_ids": [technical_contact_id],
        "member_ids": [technical_contact_id],
        "account_executive_id": account_executive_id,
        "ordered_at": now(),
        "delivered_at": None,
        "version": 1,
        "region": region,
        "licenses": [],
        NEXT_EXPIRY: NO_EXPIRY,
    }
    from store import rollups  # it builds on this module's records

    record = AppRecord.model_validate(doc)
    if events is not None:
        doc[PENDING] = [
            {**event, "app_id": record.id, "version": record.version} for event in events(record)
        ]
    doc[rollups.PENDING] = [rollups.entry(None, record)]  # counted with the insert itself
    try:
        await _apps(db).insert_one(doc)
    except DuplicateKeyError:
        raise DuplicateSubdomain() from None
    await _drain_rollups(db, record.id)
    return record


async def apply_change(
    db: Database,
    app_id: ObjectId,
    precondition: Document,
    update: Document,
    derive: Callable[[AppRecord], dict[str, Any]],
    expected_version: int | None,
    write: Write | None = None,
) -> Change | None:
    """Apply ``update`` only where ``precondition`` holds; None when it did not (refused).

    ``derive`` gives the changed fields from the stored state the update ran on, so the
    returned ``after`` is exactly what the update wrote. With ``write`` the update also
    states the authority, applies only to ``write.base``'s version and pushes the change's
    audit events (each with its own ``_id``) in the same atomic write.
    """
    if write is not None:
        return await _apply_recorded(db, precondition, update, derive, expected_version, write)
    # unrecorded (store-level callers): pinned to the version read, so the rollup delta
    # pushed with it describes exactly the state it replaced; another change in between is
    # read again, a broken precondition is a refusal
    for _ in range(_ATTEMPTS):
        found = await _apps(db).find_one({"_id": app_id})
        if found is None:
            return None
        old = AppRecord.model_validate(found)
        if expected_version is not None and old.version != expected_version:
            return None
        new = old.model_copy(update={**derive(old), "version": old.version + 1})
        query: Document = {"_id": app_id, "version": old.version, **precondition}
        full = _with_rollup({**update, "$inc": {"version": 1}}, old, new)
        if await _apps(db).find_one_and_update(query, full, {"_id": 1}) is not None:
            await _drain_rollups(db, app_id)
            return Change(old, new)
        moved = await _apps(db).find_one({"_id": app_id}, {"version": 1})
        if moved is None or moved["version"] == old.version:
            return None
    return None


_ATTEMPTS = 25


def _with_rollup(update: Document, before: AppRecord, after: AppRecord) -> Document:
    """``update`` that also pushes the change's rollup delta (store/rollups.py)."""
    from store import rollups  # it builds on this module's records

    full: Document = {key: dict(value) for key, value in update.items()}  # a copy to add to
    pending = rollups.entry(before, after)
    if pending is not None:
        full.setdefault("$push", {})[rollups.PENDING] = {"$each": [pending]}
    return full


async def _drain_rollups(db: Database, app_id: ObjectId) -> None:
    from store import rollups

    await finish_now(
        lambda: rollups.drain(db, app_id), "Rollup delta of app %s left pending", app_id
    )


async def _apply_recorded(
    db: Database,
    precondition: Document,
    update: Document,
    derive: Callable[[AppRecord], dict[str, Any]],
    expected_version: int | None,
    write: Write,
) -> Change | None:
    base = write.base
    if expected_version is not None and expected_version != base.version:
        return None
    version = base.version + 1
    planned = Change(base, base.model_copy(update={**derive(base), "version": version}))
    events = [{**event, "app_id": base.id, "version": version} for event in write.events(planned)]
    query: Document = {"_id": base.id, "version": base.version, **precondition}
    if write.authority:
        query = {"$and": [query, write.authority]}
    full = _with_rollup({**update, "$inc": {"version": 1}}, base, planned.after)
    if events:
        full.setdefault("$push", {})[PENDING] = {"$each": events}
    after = await _apps(db).find_one_and_update(query, full, return_document=ReturnDocument.AFTER)
    if after is None:
        return None
    await _drain_rollups(db, base.id)
    return Change(base, AppRecord.model_validate(after))
