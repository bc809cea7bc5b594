"""The outbox: every email is a document here first, then a sender delivers it.

Exactly-once *creation*: each notification has a ``dedupe_key`` under a unique index, so a
second insert for the same (license, threshold, contact) or (window, contact) fails with a
duplicate key instead of a read-then-write race; two runners racing, or a restart, create it
once.

At-least-once *delivery*: a sender claims a message (PENDING -> SENDING with a lease and a claim
token), sends it, then marks it SENT. If it crashes after sending and before marking, the lease
expires and a sender sends it again, with the same ``Message-ID`` header (derived from ``_id``),
so the duplicate is recognisable by any receiver. Nothing is lost: a message leaves the outbox
only by being marked SENT, or FAILED after ``max_attempts``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pydantic import ValidationError
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "notifications"
MESSAGE_ID_DOMAIN = "ownership.mendix.example"


class NotificationKind(StrEnum):
    LICENSE_RENEWAL = "LICENSE_RENEWAL"
    MAINTENANCE = "MAINTENANCE"
    LICENSE_EXPANSION_REQUEST = "LICENSE_EXPANSION_REQUEST"
    SUPPORT_REQUEST_APPROVED = "SUPPORT_REQUEST_APPROVED"
    ALERT = "ALERT"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class NotificationRecord(Record):
    kind: NotificationKind
    dedupe_key: str
    recipient_id: ObjectId
    to_email: str
    app_id: ObjectId | None = None
    subject: str
    body: str
    status: DeliveryStatus
    attempts: int = 0
    next_attempt_at: UtcDatetime
    lease_until: UtcDatetime | None = None
    claim: str | None = None
    last_error: str | None = None
    created_at: UtcDatetime
    sent_at: UtcDatetime | None = None

    @property
    def message_id(self) -> str:
        """The same on every delivery attempt, so a resent message is recognisably the same."""
        return f"<{self.id}@{MESSAGE_ID_DOMAIN}>"


def _outbox(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    outbox = _outbox(db)
    await outbox.create_index([("dedupe_key", ASCENDING)], unique=True, name="dedupe_key_unique")
    await outbox.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due")
    await outbox.create_index([("recipient_id", ASCENDING), ("_id", ASCENDING)], name="recipient")
    await outbox.create_index([("app_id", ASCENDING), ("_id", ASCENDING)], name="app")


async def enqueue(
    db: Database,
    *,
    kind: NotificationKind,
    dedupe_key: str,
    recipient_id: ObjectId,
    to_email: str,
    subject: str,
    body: str,
    app_id: ObjectId | None = None,
) -> NotificationRecord | None:
    """Insert a PENDING message; None when one with this ``dedupe_key`` exists already."""
    moment = now()
    doc: Document = {
        "_id": ObjectId(),
        "kind": kind.value,
        "dedupe_key": dedupe_key,
        "recipient_id": recipient_id,
        "to_email": to_email,
        "app_id": app_id,
        "subject": subject,
        "body": body,
        "status": DeliveryStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": moment,
        "lease_until": None,
        "claim": None,
        "last_error": None,
        "created_at": moment,
        "sent_at": None,
    }
    try:
        await _outbox(db).insert_one(doc)
    except DuplicateKeyError:
        return None
    return NotificationRecord.model_validate(doc)


async def claim_next(
    db: Database, *, lease: timedelta, at: datetime | None = None
) -> NotificationRecord | None:
    """Claim one due message: PENDING and due, or SENDING whose claimer's lease ran out.

    A stored document that is not a readable message (written by an older version, edited by
    hand) is marked FAILED with the reason, and the next one is claimed: it can't jam the queue.
    """
    moment = at or now()
    while True:
        token = str(ObjectId())
        doc = await _outbox(db).find_one_and_update(
            {
                "$or": [
                    {"status": DeliveryStatus.PENDING.value, "next_attempt_at": {"$lte": moment}},
                    {"status": DeliveryStatus.SENDING.value, "lease_until": {"$lt": moment}},
                ]
            },
            {
                "$set": {
                    "status": DeliveryStatus.SENDING.value,
                    "lease_until": moment + lease,
                    "claim": token,
                },
                "$inc": {"attempts": 1},
            },
            sort=[("next_attempt_at", ASCENDING), ("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        try:
            return NotificationRecord.model_validate(doc)
        except ValidationError as error:
            await _outbox(db).update_one(
                {"_id": doc["_id"], "claim": token},
                {
                    "$set": {
                        "status": DeliveryStatus.FAILED.value,
                        "lease_until": None,
                        "last_error": f"Unreadable message: {error}"[:500],
                    }
                },
            )


async def mark_sent(db: Database, message: NotificationRecord) -> bool:
    """Mark SENT, only if this claim still holds (a claimer whose lease ran out can't)."""
    result = await _outbox(db).update_one(
        {"_id": message.id, "claim": message.claim, "status": DeliveryStatus.SENDING.value},
        {"$set": {"status": DeliveryStatus.SENT.value, "sent_at": now(), "lease_until": None}},
    )
    return bool(result.modified_count)


async def mark_failed(
    db: Database, message: NotificationRecord, error: str, *, retry_at: datetime | None
) -> bool:
    """Back to PENDING until ``retry_at``, or FAILED for good when ``retry_at`` is None."""
    status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
    result = await _outbox(db).update_one(
        {"_id": message.id, "claim": message.claim, "status": DeliveryStatus.SENDING.value},
        {
            "$set": {
                "status": status.value,
                "next_attempt_at": retry_at or message.next_attempt_at,
                "lease_until": None,
                "last_error": error[:500],
            }
        },
    )
    return bool(result.modified_count)


def notifications_query(
    *,
    recipient_id: ObjectId | None = None,
    app_id: ObjectId | None = None,
    status: DeliveryStatus | None = None,
    kind: NotificationKind | None = None,
    visible_to: ObjectId | None = None,
) -> Document:
    """The filter for these conditions; ``visible_to`` limits it to one person's own mail (a
    reader who is not Support), so another person's ``recipient_id`` matches nothing."""
    clauses: list[Document] = []
    if visible_to is not None:
        clauses.append({"recipient_id": visible_to})
    if recipient_id is not None:
        clauses.append({"recipient_id": recipient_id})
    if app_id is not None:
        clauses.append({"app_id": app_id})
    if status is not None:
        clauses.append({"status": status.value})
    if kind is not None:
        clauses.append({"kind": kind.value})
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses} if clauses else {}


async def list_notifications(
    db: Database, query: Document, window: Window
) -> Page[NotificationRecord]:
    return await paginate(_outbox(db), query, window, NotificationRecord.model_validate)


async def get_notifications(
    db: Database, ids: list[ObjectId], visible_to: ObjectId | None = None
) -> list[NotificationRecord | None]:
    """By ID, in key order; with ``visible_to`` only that person's own (None for others)."""
    query: Document = {"_id": {"$in": list(set(ids))}}
    if visible_to is not None:
        query = {"$and": [query, {"recipient_id": visible_to}]}
    docs = await _outbox(db).find(query).to_list(None)
    by_id = {doc["_id"]: NotificationRecord.model_validate(doc) for doc in docs}
    return [by_id.get(key) for key in ids]
