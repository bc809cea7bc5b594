"""Apps: one document each, technical contacts and team embedded, rules as conditional updates.

This module is the apps' store API: the reads and query building here, and re-exported from
store/app_records.py (records, projections, ``Change``/``Write``), store/app_changes.py
(creating, ``apply_change``) and store/app_rules.py (the rules' conditional writes).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING

from store import embedded_index
from store.app_changes import apply_change, create_app
from store.app_records import (
    APPLIED,
    COLLECTION,
    NEXT_EXPIRY,
    NO_EXPIRY,
    PENDING,
    AppRecord,
    AppStatus,
    Change,
    DuplicateSubdomain,
    Events,
    Fields,
    Hosting,
    LicenseRecord,
    Write,
    next_expiry,
    projected,
)
from store.app_records import reading as _reading
from store.app_rules import (
    add_member,
    add_technical_contact,
    change_technical_contact,
    deliver,
    move_to_mendix_cloud,
    remove_member,
    remove_technical_contact,
    request_applied,
    set_account_executive,
)
from store.db import Database, Document, distinct
from store.pagination import Page, Window, paginate

__all__ = [
    "APPLIED",
    "COLLECTION",
    "NEXT_EXPIRY",
    "NO_EXPIRY",
    "PENDING",
    "AppRecord",
    "AppStatus",
    "Change",
    "DuplicateSubdomain",
    "Events",
    "Fields",
    "Hosting",
    "LicenseRecord",
    "Page",
    "Window",
    "Write",
    "add_member",
    "add_technical_contact",
    "apply_change",
    "apps_query",
    "change_technical_contact",
    "create_app",
    "deliver",
    "ensure_indexes",
    "get_app",
    "get_apps",
    "list_apps",
    "move_to_mendix_cloud",
    "next_expiry",
    "people_on_apps",
    "projected",
    "remove_member",
    "remove_technical_contact",
    "request_applied",
    "set_account_executive",
    "visible_to",
]


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


async def get_app(
    db: Database, app_id: ObjectId, scope: Document | None = None, fields: Fields = None
) -> AppRecord | None:
    query: Document = {"_id": app_id}
    if scope:
        query = {"$and": [query, scope]}
    projection, cls = _reading(fields)
    found = embedded_index.find_all(_apps(db), query)  # by key, not mongomock's scan
    if found is not None:
        await asyncio.sleep(0)  # a turn for other tasks, as the engine's reads give
        doc = found[0] if found else None
    else:
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
    docs = embedded_index.find_all(_apps(db), query)
    if docs is not None:
        await asyncio.sleep(0)
    else:
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
    db: Database,
    query: Document,
    window: Window,
    fields: Fields = None,
    total: int | None = None,
) -> Page[AppRecord]:
    """A page of the apps matching ``query``; ``total``: their number, when known (then
    not counted)."""
    projection, cls = _reading(fields)
    apps = _apps(db)
    memory = embedded_index.pager(apps)
    return await paginate(apps, query, window, cls.model_validate, projection, memory, total)


async def people_on_apps(db: Database, scope: Document) -> list[ObjectId]:
    """Everyone on the team of, or account executive for, the apps matching ``scope``."""
    members = await distinct(_apps(db), "member_ids", scope)
    executives = await distinct(_apps(db), "account_executive_id", scope)
    return [*members, *(key for key in executives if key is not None)]
