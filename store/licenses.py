"""Licenses, embedded in their app (``licenses``), and license expansion requests.

Adding a license is one ``$push`` whose filter says the license ID is new. Renewing or changing
one rewrites the app's ``licenses`` array under a version precondition (mongomock has neither
``array_filters`` nor a reliable positional ``$`` in ``find_one_and_update``): whoever changed
the app in between makes the filter miss, and the change is refused, never lost.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bson import ObjectId
from pymongo import ASCENDING

from store.apps import COLLECTION as APPS
from store.apps import AppRecord, Change, Hosting, LicenseRecord, Write, apply_change
from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

EXPANSIONS = "license_expansion_requests"


class Renewer(StrEnum):
    MENDIX = "MENDIX"
    CUSTOMER = "CUSTOMER"


def renewed_by(hosting: Hosting) -> Renewer:
    """Mendix renews Mendix Cloud licenses itself (C4); On-Premises customers renew theirs."""
    return Renewer.MENDIX if hosting is Hosting.MENDIX_CLOUD else Renewer.CUSTOMER


class ExpansionRequestRecord(Record):
    app_id: ObjectId
    license_id: str
    requester_id: ObjectId
    account_executive_id: ObjectId
    named_users: int
    concurrent_users: int
    message: str | None = None
    created_at: UtcDatetime


async def ensure_indexes(db: Database) -> None:
    await db[APPS].create_index(
        [("hosting", ASCENDING), ("licenses.expires_at", ASCENDING)], name="license_expiry"
    )
    await db[APPS].create_index([("region", ASCENDING)], name="region")
    await db[EXPANSIONS].create_index([("app_id", ASCENDING), ("_id", ASCENDING)], name="app")


def _doc(license: LicenseRecord) -> Document:
    return license.model_dump(mode="python")


async def add_license(
    db: Database,
    app_id: ObjectId,
    license: LicenseRecord,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Add a license whose ID the app does not have yet."""
    return await apply_change(
        db,
        app_id,
        {"licenses.license_id": {"$ne": license.license_id}},
        {"$push": {"licenses": _doc(license)}},
        lambda old: {"licenses": (*old.licenses, license)},
        expected_version,
        write,
    )


async def replace_license(
    db: Database,
    app: AppRecord,
    license: LicenseRecord,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Replace the license with the same ID, provided ``app`` is still the stored version."""
    if expected_version is not None and expected_version != app.version:
        return None
    updated = tuple(
        license if item.license_id == license.license_id else item for item in app.licenses
    )
    return await apply_change(
        db,
        app.id,
        {"licenses.license_id": license.license_id},
        {"$set": {"licenses": [_doc(item) for item in updated]}},
        lambda old: {"licenses": updated},
        app.version,
        write,
    )


def expiring_query(until: datetime, since: datetime) -> Document:
    """On-Premises apps with a license expiring in [since, until] (Mendix Cloud: none, C4)."""
    return {
        "hosting": Hosting.ON_PREMISES.value,
        # $elemMatch: both bounds on the same license (a plain range on the array field may
        # be met by two different licenses on real MongoDB)
        "licenses": {"$elemMatch": {"expires_at": {"$gte": since, "$lte": until}}},
    }


async def apps_with_expiring_licenses(
    db: Database, since: datetime, until: datetime
) -> list[AppRecord]:
    docs = await db[APPS].find(expiring_query(until, since)).sort("_id", 1).to_list(None)
    return [AppRecord.model_validate(doc) for doc in docs]


async def record_expansion(
    db: Database,
    *,
    app_id: ObjectId,
    license_id: str,
    requester_id: ObjectId,
    account_executive_id: ObjectId,
    named_users: int,
    concurrent_users: int,
    message: str | None,
) -> ExpansionRequestRecord:
    doc: Document = {
        "_id": ObjectId(),
        "app_id": app_id,
        "license_id": license_id,
        "requester_id": requester_id,
        "account_executive_id": account_executive_id,
        "named_users": named_users,
        "concurrent_users": concurrent_users,
        "message": message,
        "created_at": now(),
    }
    await db[EXPANSIONS].insert_one(doc)
    return ExpansionRequestRecord.model_validate(doc)


async def list_expansions(
    db: Database, app_id: ObjectId, window: Window
) -> Page[ExpansionRequestRecord]:
    return await paginate(
        db[EXPANSIONS], {"app_id": app_id}, window, ExpansionRequestRecord.model_validate
    )


def license_of(app: AppRecord, license_id: str) -> LicenseRecord | None:
    return next((item for item in app.licenses if item.license_id == license_id), None)
