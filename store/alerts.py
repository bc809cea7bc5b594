"""Alerts (C2): one document per status change of a monitored category, never per sample.

A status change and its record are one write: the conditional update of the category's
status (store/environments.py ``change_status``) pushes the alert, with its emails, into
the app's ``pending_alerts``. :func:`drain` then inserts the alert (under the ``_id`` made
with it), queues its emails (dedupe keys) and publishes its live event (same ``_id``), each
a no-op when done before, and only then pulls it from the app. The reporting process drains
at once; the periodic task (:func:`drain_all`) finishes what a crash left, from any process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from store import events as event_store
from store import pending_mail
from store.apps import COLLECTION as APPS
from store.cloud import AlertCategory, MetricStatus
from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "alerts"
PENDING = "pending_alerts"  # in the app: alerts written with their status change


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
    await db[APPS].create_index([(f"{PENDING}._id", ASCENDING)], name=PENDING, sparse=True)


def pending_alert(fields: Document, mail: Callable[[AlertRecord], list[Document]]) -> Document:
    """An alert as pushed with its status change: the record (``alert``) and its emails
    (``mail``, store/pending_mail.py documents made from the record)."""
    doc: Document = {"_id": ObjectId(), **fields, "at": now()}
    alert = AlertRecord.model_validate(doc)
    return {"_id": alert.id, "alert": doc, "mail": mail(alert)}


def alert_of(pending: Document) -> AlertRecord:
    return AlertRecord.model_validate(pending["alert"])


async def drain(db: Database, app_id: ObjectId) -> list[Document]:
    """Record the app's pending alerts: insert each, queue its emails, publish its live
    event; returns those events. Safe to run again, at any point, in any process."""
    found = await db[APPS].find_one({"_id": app_id}, {PENDING: 1})
    pending: list[Document] = list((found or {}).get(PENDING) or [])
    if not pending:
        return []
    published = []
    for entry in pending:
        with contextlib.suppress(DuplicateKeyError):  # inserted before (a crash, a process)
            await _alerts(db).insert_one(dict(entry["alert"]))
        await pending_mail.queue(db, entry["mail"])
        alert = alert_of(entry)
        published.append(
            await event_store.publish(
                db, event_store.ALERT_RAISED, app_id, to_document(alert), key=alert.id
            )
        )
    ids = [entry["_id"] for entry in pending]
    await db[APPS].update_one({"_id": app_id}, {"$pull": {PENDING: {"_id": {"$in": ids}}}})
    await db[APPS].update_one({"_id": app_id, PENDING: {"$size": 0}}, {"$unset": {PENDING: ""}})
    return published


async def drain_all(db: Database, limit: int = 1000) -> int:
    """Record every alert a crash left pending in its app; returns how many."""
    cursor = db[APPS].find({f"{PENDING}._id": {"$exists": True}}, {"_id": 1})
    recorded = 0
    for doc in await cursor.limit(limit).to_list(None):
        recorded += len(await drain(db, doc["_id"]))
    return recorded


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
