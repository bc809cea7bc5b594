"""Support requests (S1): own collection; status changes are conditional on the status."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pydantic import BaseModel, ConfigDict
from pymongo import ASCENDING, ReturnDocument

from store import gated
from store.apps import COLLECTION as APPS
from store.apps import Hosting
from store.db import Database, Document
from store.gated import Gate
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "support_requests"
PENDING = "pending_events"  # audit events written with the change (store/audit.py drains)


class RequestKind(StrEnum):
    QUESTION = "QUESTION"
    CHANGE = "CHANGE"
    INCIDENT = "INCIDENT"


class Level(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Priority(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class RequestStatus(StrEnum):
    NEW = "NEW"
    TRIAGED = "TRIAGED"
    APPROVING = "APPROVING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RESOLVED = "RESOLVED"


OPEN = (RequestStatus.NEW, RequestStatus.TRIAGED)
_RANK = {Level.HIGH: 0, Level.MEDIUM: 1, Level.LOW: 2}
_PRIORITY = (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW, Priority.LOW)


def priority(impact: Level, urgency: Level) -> Priority:
    """The impact x urgency matrix: HIGH/HIGH is CRITICAL, one step down per level, LOW floor.

    impact \\ urgency   HIGH      MEDIUM    LOW
    HIGH               CRITICAL  HIGH      MEDIUM
    MEDIUM             HIGH      MEDIUM    LOW
    LOW                MEDIUM    LOW       LOW
    """
    return _PRIORITY[_RANK[impact] + _RANK[urgency]]


class CommentRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", arbitrary_types_allowed=True)

    id: ObjectId
    author_id: ObjectId
    body: str
    created_at: UtcDatetime


class SupportRequestRecord(Record):
    kind: RequestKind
    app_id: ObjectId
    requester_id: ObjectId
    subject: str
    body: str
    impact: Level
    urgency: Level
    priority: Priority
    status: RequestStatus
    technical_contact_id: ObjectId | None = None
    comments: tuple[CommentRecord, ...] = ()
    created_at: UtcDatetime
    updated_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    resolution: str | None = None
    claimed_at: UtcDatetime | None = None
    claimed_from: RequestStatus | None = None
    claimed_by: ObjectId | None = None


def requests_of(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    await requests_of(db).create_index([("app_id", ASCENDING), ("_id", ASCENDING)], name="app")
    await requests_of(db).create_index([("status", ASCENDING), ("_id", ASCENDING)], name="status")
    await gated.ensure_indexes(db)


async def create_request(
    db: Database,
    *,
    kind: RequestKind,
    app_id: ObjectId,
    requester_id: ObjectId,
    subject: str,
    body: str,
    impact: Level,
    urgency: Level,
    gate: Gate,
    technical_contact_id: ObjectId | None = None,
    events: Callable[[SupportRequestRecord], list[Document]] | None = None,
) -> SupportRequestRecord | None:
    """Make a request on the app as ``gate`` states it (its version and the requester's
    right), with its ``events`` (made from the new record) in the same write; a CHANGE
    naming a person also needs an On-Premises app where that person is not a technical
    contact yet (A5). None when the app no longer is so: refused, nothing written. The
    request reaches this collection through the app (store/gated.py)."""
    moment = now()
    doc: Document = {
        "_id": ObjectId(),
        "kind": kind.value,
        "app_id": app_id,
        "requester_id": requester_id,
        "subject": subject,
        "body": body,
        "impact": impact.value,
        "urgency": urgency.value,
        "priority": priority(impact, urgency).value,
        "status": RequestStatus.NEW.value,
        "technical_contact_id": technical_contact_id,
        "comments": [],
        "created_at": moment,
        "updated_at": moment,
        "resolved_at": None,
        "resolution": None,
        "claimed_at": None,
        "claimed_from": None,
        "claimed_by": None,
    }
    record = SupportRequestRecord.model_validate(doc)
    if events is not None:
        doc[PENDING] = [{**event, "app_id": app_id} for event in events(record)]
    rules: Document = {}
    if technical_contact_id is not None:
        rules = {
            "hosting": Hosting.ON_PREMISES.value,
            "technical_contact_ids": {"$ne": technical_contact_id},
        }
    if not await gated.create(db, app_id, gate, rules, COLLECTION, doc):
        return None
    return record


async def get_request(
    db: Database, request_id: ObjectId, scope: Document | None = None
) -> SupportRequestRecord | None:
    query: Document = {"_id": request_id}
    if scope:
        query = {"$and": [query, scope]}
    doc = await requests_of(db).find_one(query)
    return SupportRequestRecord.model_validate(doc) if doc else None


async def get_requests(
    db: Database, ids: list[ObjectId], scope: Document | None = None
) -> list[SupportRequestRecord | None]:
    query: Document = {"_id": {"$in": list(set(ids))}}
    if scope:
        query = {"$and": [query, scope]}
    docs = await requests_of(db).find(query).to_list(None)
    by_id = {doc["_id"]: SupportRequestRecord.model_validate(doc) for doc in docs}
    return [by_id.get(key) for key in ids]


async def update_request(
    db: Database,
    request_id: ObjectId,
    precondition: Document,
    update: Document,
    *,
    touch: bool = True,
    events: list[Document] | None = None,
) -> SupportRequestRecord | None:
    """One conditional update; None when the precondition no longer holds (refused).
    ``events`` are pushed into the request's pending audit events in the same write.

    ``touch=False`` for the approval claim, which is internal and undone on a refusal."""
    if touch:
        update = {**update, "$set": {**update.get("$set", {}), "updated_at": now()}}
    if events:
        update = {**update, "$push": {**update.get("$push", {}), PENDING: {"$each": events}}}
    doc = await requests_of(db).find_one_and_update(
        {"_id": request_id, **precondition}, update, return_document=ReturnDocument.AFTER
    )
    return SupportRequestRecord.model_validate(doc) if doc else None


def _open() -> Document:
    return {"status": {"$in": [status.value for status in OPEN]}}


async def add_comment(
    db: Database,
    request_id: ObjectId,
    author_id: ObjectId,
    body: str,
    status: RequestStatus,
    events: list[Document] | None = None,
) -> SupportRequestRecord | None:
    """Comment on an open request that is still at ``status`` (the events name it)."""
    if status not in OPEN:
        return None
    comment = {"id": ObjectId(), "author_id": author_id, "body": body, "created_at": now()}
    return await update_request(
        db, request_id, {"status": status.value}, {"$push": {"comments": comment}}, events=events
    )


async def triage(
    db: Database,
    request_id: ObjectId,
    impact: Level,
    urgency: Level,
    events: list[Document] | None = None,
) -> SupportRequestRecord | None:
    return await update_request(
        db,
        request_id,
        _open(),
        {
            "$set": {
                "status": RequestStatus.TRIAGED.value,
                "impact": impact.value,
                "urgency": urgency.value,
                "priority": priority(impact, urgency).value,
            }
        },
        events=events,
    )


async def close(
    db: Database,
    request_id: ObjectId,
    status: RequestStatus,
    resolution: str | None,
    events: list[Document] | None = None,
) -> SupportRequestRecord | None:
    """Resolve or reject an open request."""
    return await update_request(
        db,
        request_id,
        _open(),
        {"$set": {"status": status.value, "resolved_at": now(), "resolution": resolution}},
        events=events,
    )


async def app_ids_in(db: Database, app_scope: Document) -> list[ObjectId]:
    """The IDs of the apps matching ``app_scope`` (the viewer's apps)."""
    return list(await db[APPS].distinct("_id", app_scope))


def requests_query(
    *,
    app_ids: list[ObjectId] | None = None,
    status: RequestStatus | None = None,
    kind: RequestKind | None = None,
) -> Document:
    clauses: list[Document] = []
    if app_ids is not None:
        clauses.append({"app_id": {"$in": app_ids}})
    if status is not None:
        clauses.append({"status": status.value})
    if kind is not None:
        clauses.append({"kind": kind.value})
    return {"$and": clauses} if clauses else {}


def all_of(*parts: Document | None) -> Document:
    """Every one of the filters (None or empty: no condition)."""
    clauses = [part for part in parts if part]
    return {"$and": clauses} if clauses else {}


async def list_requests(
    db: Database, query: Document, window: Window
) -> Page[SupportRequestRecord]:
    return await paginate(requests_of(db), query, window, SupportRequestRecord.model_validate)
