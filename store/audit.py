"""The audit trail: who changed what, when, with the state before and after."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "audit_events"


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
    """Append one event. ``version`` is the app's version after the change it records."""
    extra: Document = {}
    if environment_id is not None:
        extra = {"environment_id": environment_id, "production": production}
    doc: Document = {
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
    await _events(db).insert_one(doc)
    return AuditEventRecord.model_validate(doc)


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
