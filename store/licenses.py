"""Licenses, embedded in their app (``licenses``), and license expansion requests.

Each app also stores ``next_license_expiry``: the soonest expiry of its licenses that lies
in the future (:data:`store.apps.NO_EXPIRY`, a far-future date, when none does), so apps can
be ordered and keyset-paged by it on an index (``next_license_expiry``, ``_id``). Adding a
license lowers it with ``$min`` in the same update; replacing one sets it in the same update.
Time passing makes a stored key stale (a license expires, nobody writes):
:func:`settle_next_expiries` recomputes those (the ones before now, found on the index) and
any app that has no key yet, and runs before every read in that order.

Adding a license is one ``$push`` whose filter says the license ID is new. Renewing or changing
one rewrites the app's ``licenses`` array under a version precondition (mongomock has neither
``array_filters`` nor a reliable positional ``$`` in ``find_one_and_update``): whoever changed
the app in between makes the filter miss, and the change is refused, never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from bson import ObjectId
from pymongo import ASCENDING

from store import audit, gated, pending_mail
from store.apps import COLLECTION as APPS
from store.apps import (
    NEXT_EXPIRY,
    AppRecord,
    Change,
    Hosting,
    LicenseRecord,
    Write,
    apply_change,
    next_expiry,
)
from store.audit import PENDING
from store.db import Database, Document, find_all
from store.gated import Gate
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
    await pending_mail.ensure_indexes(db, EXPANSIONS)
    await gated.ensure_indexes(db)


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
        {"$push": {"licenses": _doc(license)}, **_lowering(license)},
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
        {
            "$set": {
                "licenses": [_doc(item) for item in updated],
                NEXT_EXPIRY: next_expiry(updated, now()),
            }
        },
        lambda old: {"licenses": updated},
        app.version,
        write,
    )


def _lowering(license: LicenseRecord) -> Document:
    """A future license can only bring the app's next expiry closer."""
    if license.expires_at <= now():
        return {}
    return {"$min": {NEXT_EXPIRY: license.expires_at}}


async def settle_next_expiries(db: Database, moment: datetime) -> int:
    """Recompute the next expiry of the apps whose stored one has passed by ``moment`` or
    that have none yet; returns how many changed. Idempotent, safe in any process at once:
    each write is conditional on the app's version (a license change in between bumps it,
    and that change settled the key itself) and on the key it read."""
    apps = db[APPS]
    stale = {"$or": [{NEXT_EXPIRY: {"$lt": moment}}, {NEXT_EXPIRY: {"$exists": False}}]}
    docs = await find_all(apps, stale, ["_id", "licenses", "version", NEXT_EXPIRY])
    changed = 0
    for doc in docs:
        expiries = [item.get("expires_at") for item in doc.get("licenses") or ()]
        value = next_expiry(expiries, moment)
        condition: Document = {"_id": doc["_id"], "version": doc.get("version")}
        condition[NEXT_EXPIRY] = doc.get(NEXT_EXPIRY, {"$exists": False})
        result = await apps.update_one(condition, {"$set": {NEXT_EXPIRY: value}})
        changed += result.modified_count
    return changed


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
    gate: Gate,
    app_id: ObjectId,
    license: LicenseRecord,
    requester_id: ObjectId,
    account_executive_id: ObjectId,
    named_users: int,
    concurrent_users: int,
    message: str | None,
    events: Callable[[ExpansionRequestRecord], list[Document]],
    mail: Callable[[ExpansionRequestRecord], list[Document]],
) -> ExpansionRequestRecord | None:
    """Make a request to expand ``license`` (as read) with its audit ``events`` and its
    ``mail`` (made from the new record) in one write, on the app as ``gate`` states it (its
    version and the requester's right), still with that license and that Account Executive
    (who the email goes to). None when the app no longer is so: refused, nothing written.
    The request reaches this collection through the app (store/gated.py);
    :func:`drain_expansion` then moves its email and event on."""
    doc: Document = {
        "_id": ObjectId(),
        "app_id": app_id,
        "license_id": license.license_id,
        "requester_id": requester_id,
        "account_executive_id": account_executive_id,
        "named_users": named_users,
        "concurrent_users": concurrent_users,
        "message": message,
        "created_at": now(),
    }
    record = ExpansionRequestRecord.model_validate(doc)
    doc[PENDING] = [{**event, "app_id": app_id} for event in events(record)]
    doc[pending_mail.FIELD] = mail(record)
    rules: Document = {
        "account_executive_id": account_executive_id,
        "licenses": {
            "$elemMatch": {
                "license_id": license.license_id,
                "named_users": license.named_users,
                "concurrent_users": license.concurrent_users,
            }
        },
    }
    if not await gated.create(db, app_id, gate, rules, EXPANSIONS, doc):
        return None
    return record


async def drain_expansion(db: Database, request_id: ObjectId) -> None:
    """Queue the request's email and move its audit event into the trail (each idempotent:
    safe to run again after a crash, in any process; the periodic task does for any left)."""
    await pending_mail.drain(db, EXPANSIONS, request_id)
    await audit.drain(db, EXPANSIONS, request_id)


async def list_expansions(
    db: Database, app_id: ObjectId, window: Window
) -> Page[ExpansionRequestRecord]:
    return await paginate(
        db[EXPANSIONS], {"app_id": app_id}, window, ExpansionRequestRecord.model_validate
    )


def license_of(app: AppRecord, license_id: str) -> LicenseRecord | None:
    return next((item for item in app.licenses if item.license_id == license_id), None)
