"""Apps: one document each, technical contacts and team embedded, rules as conditional updates.

Every change is one ``find_one_and_update`` whose filter states the rule's precondition: when
it matches nothing the change is refused, so racing requests can never break a rule (A7).
Given a ``Write`` (the use cases always give one), the same update also states the caller's
right and the version it read, and pushes the change's audit events into the app's
``pending_events`` (store/audit.py moves them into the trail).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, create_model
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from store.cloud import EnvironmentRecord, GrantRecord
from store.db import Database, Document
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

log = logging.getLogger(__name__)

COLLECTION = "apps"
# the soonest future license expiry, kept in the document (store/licenses.py); NO_EXPIRY when
# no license expires after now, so such apps come last in ascending order
NEXT_EXPIRY = "next_license_expiry"
NO_EXPIRY = datetime(9999, 12, 31, tzinfo=UTC)
PENDING = "pending_events"  # audit events written with a change (store/audit.py drains)


class Hosting(StrEnum):
    MENDIX_CLOUD = "MENDIX_CLOUD"
    ON_PREMISES = "ON_PREMISES"


class AppStatus(StrEnum):
    ORDERED = "ORDERED"
    DELIVERED = "DELIVERED"


class LicenseRecord(BaseModel):
    """One license, embedded in its app (``licenses``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    license_id: str
    plan: str
    named_users: int
    concurrent_users: int
    starts_at: UtcDatetime
    expires_at: UtcDatetime


class AppRecord(Record):
    name: str
    subdomain: str
    hosting: Hosting
    status: AppStatus
    technical_contact_ids: tuple[ObjectId, ...]
    member_ids: tuple[ObjectId, ...]
    account_executive_id: ObjectId | None = None
    ordered_at: UtcDatetime
    delivered_at: UtcDatetime | None = None
    version: int
    region: str | None = None
    licenses: tuple[LicenseRecord, ...] = ()
    # Mendix Cloud (store/cloud.py): environments, explicit grants, the connected project
    environments: tuple[EnvironmentRecord, ...] = ()
    grants: tuple[GrantRecord, ...] = ()
    project_id: str | None = None


def next_expiry(licenses: Iterable[LicenseRecord | datetime | None], moment: datetime) -> datetime:
    """The soonest of these expiries (or licenses') after ``moment``; NO_EXPIRY if none."""
    found = NO_EXPIRY
    for item in licenses:
        value = item.expires_at if isinstance(item, LicenseRecord) else item
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            if moment < value < found:
                found = value
    return found


# --- projected reads ------------------------------------------------------------------------
# A read may name the attributes it needs (``fields``; None = all). MongoDB then returns only
# those keys and they are validated into an ``AppRecord`` subclass that has only those
# fields: a malformed key that was not asked for is not read, so it cannot fail the read,
# and an attribute that was not asked for raises AttributeError (never a made-up default).

Fields = frozenset[str] | None


@lru_cache(maxsize=256)
def projected(fields: frozenset[str]) -> type[AppRecord] | None:
    """``AppRecord`` with only ``fields`` (``id`` included); None when it can't be built
    (an unknown name, or a pydantic whose model rebuilding ignores pruned fields): then
    read the whole document."""
    known = AppRecord.model_fields
    if "id" not in fields or not fields <= known.keys():
        return None
    cls = create_model(AppRecord.__name__, __base__=AppRecord, __module__=__name__)
    cls.__qualname__ = AppRecord.__qualname__
    cls.__pydantic_fields__ = {name: info for name, info in known.items() if name in fields}
    cls.model_rebuild(force=True)
    return cls if cls.model_fields.keys() == fields else None


def _reading(fields: Fields) -> tuple[Document | None, type[AppRecord]]:
    """The find projection and the record class for a read of ``fields``."""
    cls = projected(fields) if fields is not None else None
    if cls is None:
        return None, AppRecord
    known = AppRecord.model_fields
    return {known[name].alias or name: 1 for name in sorted(fields)}, cls  # type: ignore[arg-type]


@dataclass(frozen=True)
class Change:
    """An applied change: the app before and after it."""

    before: AppRecord
    after: AppRecord


class DuplicateSubdomain(Exception):
    pass


def _apps(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    apps = _apps(db)
    await apps.create_index([("subdomain", ASCENDING)], unique=True, name="subdomain_unique")
    await apps.create_index([("member_ids", ASCENDING)], name="member_ids")
    await apps.create_index([("technical_contact_ids", ASCENDING)], name="technical_contact_ids")
    await apps.create_index([("account_executive_id", ASCENDING)], name="account_executive_id")
    await apps.create_index([("hosting", ASCENDING), ("status", ASCENDING)], name="hosting_status")
    await apps.create_index([("environments.environment_id", ASCENDING)], name="environment_ids")
    await apps.create_index([("grants.person_id", ASCENDING)], name="grant_person_ids")


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


async def get_app(
    db: Database, app_id: ObjectId, scope: Document | None = None, fields: Fields = None
) -> AppRecord | None:
    query: Document = {"_id": app_id}
    if scope:
        query = {"$and": [query, scope]}
    projection, cls = _reading(fields)
    doc = await _apps(db).find_one(query, projection)
    return cls.model_validate(doc) if doc else None


async def get_apps(
    db: Database, ids: list[ObjectId], scope: Document | None = None, fields: Fields = None
) -> list[AppRecord | None]:
    """Many apps in one round trip, in the order of ``ids`` (None where missing or hidden)."""
    query: Document = {"_id": {"$in": list(set(ids))}}
    if scope:
        query = {"$and": [query, scope]}
    projection, cls = _reading(fields)
    docs = await _apps(db).find(query, projection).to_list(None)
    by_id = {doc["_id"]: cls.model_validate(doc) for doc in docs}
    return [by_id.get(key) for key in ids]


def visible_to(person_id: ObjectId) -> Document:
    """Apps a person may see: on the team (technical contacts always are) or account executive."""
    return {"$or": [{"member_ids": person_id}, {"account_executive_id": person_id}]}


def _one_of(key: str, values: Sequence[str]) -> Document:
    return {key: values[0]} if len(values) == 1 else {key: {"$in": list(values)}}


def apps_query(
    *,
    scope: Document | None = None,
    hosting: Sequence[Hosting] | None = None,
    status: Sequence[AppStatus] | None = None,
    technical_contact_id: ObjectId | None = None,
    team_member_id: ObjectId | None = None,
    account_executive_id: ObjectId | None = None,
    region: Sequence[str] | None = None,
    license_plan: Sequence[str] | None = None,
    search: str | None = None,
    also: Sequence[Document] = (),
) -> Document:
    """A filter document built only from typed values (never a client's operator document).

    Every condition given must hold (AND); a list matches any of its values (an empty list
    matches nothing). ``also``: further filter documents built by the store (at-risk
    conditions, store/risks.py and store/reports.py)."""
    clauses: list[Document] = [scope] if scope else []
    if hosting is not None:
        clauses.append(_one_of("hosting", [value.value for value in hosting]))
    if status is not None:
        clauses.append(_one_of("status", [value.value for value in status]))
    if technical_contact_id is not None:
        clauses.append({"technical_contact_ids": technical_contact_id})
    if team_member_id is not None:
        clauses.append({"member_ids": team_member_id})
    if account_executive_id is not None:
        clauses.append({"account_executive_id": account_executive_id})
    if region is not None:
        clauses.append(_one_of("region", region))
    if license_plan is not None:
        clauses.append(_one_of("licenses.plan", license_plan))
    if search:
        pattern = re.escape(search)
        clauses.append(
            {
                "$or": [
                    {"name": {"$regex": pattern, "$options": "i"}},
                    {"subdomain": {"$regex": pattern, "$options": "i"}},
                ]
            }
        )
    clauses += also
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


async def list_apps(
    db: Database, query: Document, window: Window, fields: Fields = None
) -> Page[AppRecord]:
    projection, cls = _reading(fields)
    return await paginate(_apps(db), query, window, cls.model_validate, projection)


Events = Callable[[Change], list[Document]]


@dataclass(frozen=True)
class Write:
    """How a use case applies a change: to the app as it read it (``base``: the update's
    filter pins its version, so the events describe exactly the state it replaced), with the
    caller's authority stated in the filter (``authority``, store/rights.py), and the audit
    events that record it pushed into the app's ``pending_events`` in the same update
    (store/audit.py drains them into the audit trail)."""

    base: AppRecord
    authority: Document
    events: Events


APPLIED = "applied_request_ids"  # support requests whose change the app has (support.py)


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

    try:
        await rollups.drain(db, app_id)
    except Exception:  # committed either way: the periodic task applies it
        log.warning("Rollup delta of app %s left pending; the periodic task applies it", app_id)


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


def _needs_mendix_id(has_mendix_id: bool) -> Document:
    # A contact without a MendixID is only acceptable while the app is not delivered (A3).
    return {} if has_mendix_id else {"status": AppStatus.ORDERED.value}


def _without(ids: tuple[ObjectId, ...], person_id: ObjectId) -> tuple[ObjectId, ...]:
    return tuple(key for key in ids if key != person_id)


def _with(ids: tuple[ObjectId, ...], person_id: ObjectId) -> tuple[ObjectId, ...]:
    return ids if person_id in ids else (*ids, person_id)


async def add_member(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    return await apply_change(
        db,
        app_id,
        {"member_ids": {"$ne": person_id}},
        {"$push": {"member_ids": person_id}},
        lambda old: {"member_ids": _with(old.member_ids, person_id)},
        expected_version,
        write,
    )


async def remove_member(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Remove a team member who is not a technical contact, and their grants with them."""
    return await apply_change(
        db,
        app_id,
        {"member_ids": person_id, "technical_contact_ids": {"$ne": person_id}},
        {"$pull": {"member_ids": person_id, "grants": {"person_id": person_id}}},
        lambda old: {
            "member_ids": _without(old.member_ids, person_id),
            "grants": tuple(grant for grant in old.grants if grant.person_id != person_id),
        },
        expected_version,
        write,
    )


async def change_technical_contact(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    *,
    has_mendix_id: bool,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Mendix Cloud: replace the one technical contact by a team member (A4), atomically."""
    return await apply_change(
        db,
        app_id,
        {
            "hosting": Hosting.MENDIX_CLOUD.value,
            "member_ids": person_id,
            "technical_contact_ids": {"$ne": person_id},
            **_needs_mendix_id(has_mendix_id),
        },
        {"$set": {"technical_contact_ids": [person_id]}},
        lambda old: {"technical_contact_ids": (person_id,)},
        expected_version,
        write,
    )


async def add_technical_contact(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    *,
    has_mendix_id: bool,
    expected_version: int | None = None,
    write: Write | None = None,
    request_id: ObjectId | None = None,
) -> Change | None:
    """On-Premises: one more technical contact (A5); they join the team. With ``request_id``
    (an approved support request) the app records that request's change, once."""
    precondition: Document = {
        "hosting": Hosting.ON_PREMISES.value,
        "technical_contact_ids": {"$ne": person_id},
        **_needs_mendix_id(has_mendix_id),
    }
    joined: Document = {"member_ids": person_id}
    if request_id is not None:
        precondition[APPLIED] = {"$ne": request_id}
        joined[APPLIED] = request_id
    return await apply_change(
        db,
        app_id,
        precondition,
        {"$push": {"technical_contact_ids": person_id}, "$addToSet": joined},
        lambda old: {
            "technical_contact_ids": (*old.technical_contact_ids, person_id),
            "member_ids": _with(old.member_ids, person_id),
        },
        expected_version,
        write,
    )


async def request_applied(db: Database, app_id: ObjectId, request_id: ObjectId) -> bool:
    """Whether the app records the change of support request ``request_id``."""
    found = await _apps(db).find_one({"_id": app_id, APPLIED: request_id}, {"_id": 1})
    return found is not None


async def remove_technical_contact(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """On-Premises: remove a technical contact only while another remains (A2, A5)."""
    return await apply_change(
        db,
        app_id,
        {
            "hosting": Hosting.ON_PREMISES.value,
            "technical_contact_ids": person_id,
            "technical_contact_ids.1": {"$exists": True},
        },
        {"$pull": {"technical_contact_ids": person_id}},
        lambda old: {"technical_contact_ids": _without(old.technical_contact_ids, person_id)},
        expected_version,
        write,
    )


async def deliver(
    db: Database,
    app_id: ObjectId,
    checked_contact_ids: tuple[ObjectId, ...],
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Deliver, provided the contacts are still exactly the ones checked for a MendixID (A3).

    MendixIDs are never removed once set, so contacts that had one still have one.
    """
    delivered_at = now()
    return await apply_change(
        db,
        app_id,
        {"status": AppStatus.ORDERED.value, "technical_contact_ids": list(checked_contact_ids)},
        {"$set": {"status": AppStatus.DELIVERED.value, "delivered_at": delivered_at}},
        lambda old: {"status": AppStatus.DELIVERED, "delivered_at": delivered_at},
        expected_version,
        write,
    )


async def move_to_mendix_cloud(
    db: Database,
    app_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """On-Premises -> Mendix Cloud, only with exactly one technical contact (A6)."""
    return await apply_change(
        db,
        app_id,
        {"hosting": Hosting.ON_PREMISES.value, "technical_contact_ids": {"$size": 1}},
        {"$set": {"hosting": Hosting.MENDIX_CLOUD.value}},
        lambda old: {"hosting": Hosting.MENDIX_CLOUD},
        expected_version,
        write,
    )


async def set_account_executive(
    db: Database,
    app_id: ObjectId,
    person_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    return await apply_change(
        db,
        app_id,
        {"account_executive_id": {"$ne": person_id}},
        {"$set": {"account_executive_id": person_id}},
        lambda old: {"account_executive_id": person_id},
        expected_version,
        write,
    )


async def people_on_apps(db: Database, scope: Document) -> list[ObjectId]:
    """Everyone on the team of, or account executive for, the apps matching ``scope``."""
    members = await _apps(db).distinct("member_ids", scope)
    executives = await _apps(db).distinct("account_executive_id", scope)
    return [*members, *(key for key in executives if key is not None)]
