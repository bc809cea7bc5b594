"""Maintenance windows for Mendix Cloud apps (C1), posted by Support; own collection.

A window is inserted with its audit event (``pending_events``, drained by store/audit.py) and
``notified_at`` unset: its emails go out after the insert, and the periodic notice task sends
any a crash left unsent (:func:`unnotified`), each once (dedupe keys)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from store.apps import COLLECTION as APPS
from store.apps import AppRecord, Hosting
from store.audit import PENDING
from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "maintenance_windows"


class MaintenanceWindowRecord(Record):
    title: str
    description: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    region: str | None = None
    app_ids: tuple[ObjectId, ...] | None = None
    posted_by: ObjectId
    created_at: UtcDatetime
    notified_at: UtcDatetime | None = None


def _windows(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    await _windows(db).create_index([("notified_at", ASCENDING)], name="notified_at")


async def create_window(
    db: Database,
    *,
    title: str,
    description: str,
    starts_at: Any,
    ends_at: Any,
    region: str | None,
    app_ids: list[ObjectId] | None,
    posted_by: ObjectId,
    events: Callable[[MaintenanceWindowRecord], list[Document]] | None = None,
) -> MaintenanceWindowRecord:
    """Insert a window with its audit ``events`` (made from the new record) in the same
    write; store/audit.py moves them into the trail, the notice task emails the contacts."""
    doc: Document = {
        "_id": ObjectId(),
        "title": title,
        "description": description,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "region": region,
        "app_ids": app_ids,
        "posted_by": posted_by,
        "created_at": now(),
        "notified_at": None,
    }
    record = MaintenanceWindowRecord.model_validate(doc)
    if events is not None:
        doc[PENDING] = events(record)
    await _windows(db).insert_one(doc)
    return record


def affected_query(window: MaintenanceWindowRecord) -> Document:
    """The Mendix Cloud apps a window affects: all, those in its region, or its list."""
    query: Document = {"hosting": Hosting.MENDIX_CLOUD.value}
    if window.region is not None:
        query["region"] = window.region
    if window.app_ids is not None:
        query["_id"] = {"$in": list(window.app_ids)}
    return query


async def affected_apps(db: Database, window: MaintenanceWindowRecord) -> list[AppRecord]:
    docs = await db[APPS].find(affected_query(window)).sort("_id", 1).to_list(None)
    return [AppRecord.model_validate(doc) for doc in docs]


async def mark_notified(db: Database, window_id: ObjectId) -> None:
    await _windows(db).update_one(
        {"_id": window_id, "notified_at": None}, {"$set": {"notified_at": now()}}
    )


async def unnotified(db: Database) -> list[MaintenanceWindowRecord]:
    docs = await _windows(db).find({"notified_at": None}).sort("_id", 1).to_list(None)
    return [MaintenanceWindowRecord.model_validate(doc) for doc in docs]


async def list_windows(
    db: Database, query: Document, window: Window
) -> Page[MaintenanceWindowRecord]:
    return await paginate(_windows(db), query, window, MaintenanceWindowRecord.model_validate)


async def get_windows(db: Database, ids: list[ObjectId]) -> list[MaintenanceWindowRecord | None]:
    docs = await _windows(db).find({"_id": {"$in": list(set(ids))}}).to_list(None)
    by_id = {doc["_id"]: MaintenanceWindowRecord.model_validate(doc) for doc in docs}
    return [by_id.get(key) for key in ids]


def new_id() -> ObjectId:
    return ObjectId()
