"""Alerts (C2): one document per status change of a monitored category, never per sample."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from store.cloud import AlertCategory, MetricStatus
from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "alerts"


class AlertRecord(Record):
    app_id: ObjectId
    environment_id: ObjectId
    environment_name: str
    production: bool
    category: AlertCategory
    status: MetricStatus
    previous_status: MetricStatus
    sequence: int  # the category's n-th status change on this environment
    value: float
    warning: float
    critical: float
    unit: str
    recipient_ids: tuple[ObjectId, ...]
    email_enabled: bool
    # The addresses the alert is for. Sending is the notifications outbox's job (another
    # issue); until it lands they are recorded here.
    email_recipients: tuple[str, ...]
    at: UtcDatetime

    @property
    def recovered(self) -> bool:
        return self.status is MetricStatus.NORMAL


def _alerts(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    alerts = _alerts(db)
    await alerts.create_index([("app_id", ASCENDING), ("_id", ASCENDING)], name="app")
    await alerts.create_index([("environment_id", ASCENDING), ("_id", ASCENDING)], name="env")


async def insert_alert(db: Database, fields: Document) -> AlertRecord:
    doc: Document = {"_id": ObjectId(), **fields, "at": now()}
    await _alerts(db).insert_one(doc)
    return AlertRecord.model_validate(doc)


def alerts_query(
    *,
    app_id: ObjectId | None = None,
    environment_ids: list[ObjectId] | None = None,
    category: AlertCategory | None = None,
) -> Document:
    """Typed values only; ``environment_ids`` limits to those environments (empty: none)."""
    clauses: list[Document] = []
    if app_id is not None:
        clauses.append({"app_id": app_id})
    if environment_ids is not None:
        clauses.append({"environment_id": {"$in": environment_ids}})
    if category is not None:
        clauses.append({"category": category.value})
    return {"$and": clauses} if clauses else {}


async def list_alerts(db: Database, query: Document, window: Window) -> Page[AlertRecord]:
    return await paginate(_alerts(db), query, window, AlertRecord.model_validate)


async def get_alerts(db: Database, ids: list[ObjectId]) -> list[AlertRecord | None]:
    docs = await _alerts(db).find({"_id": {"$in": list(set(ids))}}).to_list(None)
    by_id = {doc["_id"]: AlertRecord.model_validate(doc) for doc in docs}
    return [by_id.get(key) for key in ids]


def to_document(alert: AlertRecord) -> Document:
    return alert.model_dump(by_alias=True, mode="python")
