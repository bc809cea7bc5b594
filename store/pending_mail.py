"""Emails written with the change that causes them, queued into the outbox idempotently.

A change that sends an email stores it in the changed (or created) document's
``pending_mail`` by the same atomic write: the change and its email succeed or fail
together (a license expansion request is made inside its app, email included, and moved
into its collection before this drain: store/gated.py). :func:`drain` then queues each
one in the outbox (store/notifications.py), where its ``dedupe_key`` is unique: a second
queueing (a crash after the first, or another process draining the same document) creates
nothing. Only then is it pulled from the document. The
process that made the change drains at once; the periodic task (:func:`drain_all`) finishes
what a crash left, from any process.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from store import notifications as outbox
from store.db import Database, Document
from store.notifications import NotificationKind

FIELD = "pending_mail"
# Collections whose documents may carry pending mail (license expansion requests; a raised
# alert's emails travel with the alert in its app: store/alerts.py).
OWNERS = ("license_expansion_requests",)


def mail(
    *,
    kind: NotificationKind,
    dedupe_key: str,
    recipient_id: ObjectId,
    to_email: str,
    subject: str,
    body: str,
    app_id: ObjectId | None = None,
) -> Document:
    """One email as stored with its change (the arguments of ``outbox.enqueue``)."""
    return {
        "kind": kind.value,
        "dedupe_key": dedupe_key,
        "recipient_id": recipient_id,
        "to_email": to_email,
        "subject": subject,
        "body": body,
        "app_id": app_id,
    }


async def ensure_indexes(db: Database, owner: str) -> None:
    """Finds what is left to queue without a scan (each owner's module calls this)."""
    await db[owner].create_index([(f"{FIELD}.dedupe_key", ASCENDING)], name=FIELD, sparse=True)


async def queue(db: Database, items: list[Document]) -> None:
    """Queue stored emails in the outbox; one queued before (same dedupe key) is skipped."""
    for item in items:
        await outbox.enqueue(
            db,
            kind=NotificationKind(item["kind"]),
            dedupe_key=item["dedupe_key"],
            recipient_id=item["recipient_id"],
            to_email=item["to_email"],
            subject=item["subject"],
            body=item["body"],
            app_id=item.get("app_id"),
        )


async def drain(db: Database, owner: str, owner_id: Any) -> int:
    """Queue the pending mail of one document; returns how many left the document.
    Safe to run again, at any point, in any process."""
    found = await db[owner].find_one({"_id": owner_id}, {FIELD: 1})
    pending: list[Document] = list((found or {}).get(FIELD) or [])
    if not pending:
        return 0
    await queue(db, pending)
    keys = [item["dedupe_key"] for item in pending]
    await db[owner].update_one({"_id": owner_id}, {"$pull": {FIELD: {"dedupe_key": {"$in": keys}}}})
    await db[owner].update_one({"_id": owner_id, FIELD: {"$size": 0}}, {"$unset": {FIELD: ""}})
    return len(pending)


async def drain_all(db: Database, limit: int = 1000) -> int:
    """Queue the mail of every document a crash left with some; returns how many."""
    queued = 0
    for owner in OWNERS:
        cursor = db[owner].find({f"{FIELD}.dedupe_key": {"$exists": True}}, {"_id": 1})
        for doc in await cursor.limit(limit).to_list(None):
            queued += await drain(db, owner, doc["_id"])
    return queued
