"""Ownership reports: aggregations over many apps, each one pipeline or indexed query.

Every function takes the viewer's app ``scope`` (None = every app, Mendix Support) and uses
only what both mongomock and MongoDB run: counts and ``distinct`` over indexes, and pipeline
stages: ``$match``, ``$project``, ``$unwind``,
``$group`` (with ``$sum``/``$cond``), ``$sort``, ``$limit``. No ``$facet``, no ``$lookup``.

At-risk reports are "which apps match this filter": :data:`RISKS` maps a report name to an
async builder of the filter document, so the app list (keyset paging, ``totalCount``) reuses
``store.apps.list_apps``. A new report (licenses expiring, cloud apps without alert settings,
...) is one builder here plus one GraphQL field. Indexes serving each are in the README
("Dashboards").
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

from bson import ObjectId
from pymongo import ASCENDING

from store import apps as app_store
from store import people as people_store
from store import risks, rollup_people
from store.apps import AppStatus, Hosting
from store.db import Database, Document, aggregate, distinct, find_all
from store.people import PersonStatus
from store.records import Record


class SummaryRow(Record):
    """How many apps have one hosting type and status; ``id`` is unused (a fresh ObjectId)."""

    hosting: Hosting
    status: AppStatus
    count: int


class ContactLoad(Record):
    """A technical contact (``id`` = the person) and the apps they answer for."""

    app_count: int
    mendix_cloud_count: int
    on_premises_count: int
    ordered_count: int


async def ensure_indexes(db: Database) -> None:
    """Indexes serving the reports that the owning modules do not create already."""
    people = db[people_store.COLLECTION]
    await people.create_index([("status", ASCENDING)], name="status")
    # the unique MendixID index is sparse, so it can't find people *without* one
    await people.create_index([("mendix_id", ASCENDING), ("status", ASCENDING)], name="mendix_id")
    await risks.ensure_indexes(db)


def _scoped(scope: Document | None, *clauses: Document) -> Document:
    parts = [part for part in (scope, *clauses) if part]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


def _match(scope: Document | None) -> list[Document]:
    return [{"$match": scope}] if scope else []


async def summary(db: Database, scope: Document | None) -> list[SummaryRow]:
    """Apps by hosting type x status (every combination, zeros included).

    For a viewer: one read of their apps' hosting and status through the ``member_ids`` /
    ``account_executive_id`` indexes (work proportional to their apps; one pass on the
    embedded engine), counted here. For every app (``scope`` None, Support's direct
    aggregation, which ``rollups verify`` compares with): one count per combination over the
    ``hosting_status`` index alone, concurrently.
    """
    apps = db[app_store.COLLECTION]
    cells = [(hosting, status) for hosting in Hosting for status in AppStatus]
    if scope:
        docs = await find_all(apps, scope, ["hosting", "status"])
        found = Counter((doc["hosting"], doc["status"]) for doc in docs)
        counts = [found[(h.value, s.value)] for h, s in cells]
    else:
        counts = await asyncio.gather(
            *(apps.count_documents({"hosting": h.value, "status": s.value}) for h, s in cells)
        )
    return [
        SummaryRow(_id=ObjectId(), hosting=hosting, status=status, count=count)
        for (hosting, status), count in zip(cells, counts, strict=True)
    ]


def _is(field: str, value: str) -> Document:
    return {"$sum": {"$cond": [{"$eq": [field, value]}, 1, 0]}}


_LOAD_GROUP: Document = {
    "app_count": {"$sum": 1},
    "mendix_cloud_count": _is("$hosting", Hosting.MENDIX_CLOUD.value),
    "on_premises_count": _is("$hosting", Hosting.ON_PREMISES.value),
    "ordered_count": _is("$status", AppStatus.ORDERED.value),
}


def _contact_rows(scope: Document | None) -> list[Document]:
    return [
        *_match(scope),
        {"$project": {"_id": 0, "technical_contact_ids": 1, "hosting": 1, "status": 1}},
        {"$unwind": "$technical_contact_ids"},
        {"$group": {"_id": "$technical_contact_ids", **_LOAD_GROUP}},
    ]


async def top_contacts(
    db: Database,
    scope: Document | None,
    *,
    limit: int,
    descending: bool = True,
    after: tuple[int, ObjectId] | None = None,
) -> tuple[list[ContactLoad], bool]:
    """Technical contacts by number of apps (ties by person id), keyset-paged after
    ``(app_count, person_id)``; returns the page and whether more follow."""
    pipeline = _contact_rows(scope)
    if after is not None:
        count, key = after
        beyond = "$lt" if descending else "$gt"
        pipeline.append(
            {
                "$match": {
                    "$or": [
                        {"app_count": {beyond: count}},
                        {"app_count": count, "_id": {"$gt": key}},
                    ]
                }
            }
        )
    pipeline += [
        {"$sort": {"app_count": -1 if descending else 1, "_id": 1}},
        {"$limit": limit + 1},
    ]
    rows = await aggregate(db[app_store.COLLECTION], pipeline)
    return [ContactLoad.model_validate(row) for row in rows[:limit]], len(rows) > limit


async def count_contacts(db: Database, scope: Document | None) -> int:
    """How many people are technical contact of at least one app in scope (index: distinct)."""
    return len(await distinct(db[app_store.COLLECTION], "technical_contact_ids", scope or {}))


async def contact_load(db: Database, scope: Document | None, person_id: ObjectId) -> ContactLoad:
    """One person's load over the apps in scope (zeros when they have none)."""
    pipeline = [
        {"$match": _scoped(scope, {"technical_contact_ids": person_id})},
        {"$project": {"_id": 0, "hosting": 1, "status": 1}},
        {"$group": {"_id": None, **_LOAD_GROUP}},
    ]
    rows = await aggregate(db[app_store.COLLECTION], pipeline)
    found = rows[0] if rows else dict.fromkeys(_LOAD_GROUP, 0)
    return ContactLoad.model_validate({**found, "_id": person_id})


# --- apps at risk: each a filter document on apps --------------------------------------------


async def _people_ids(db: Database, query: Document) -> list[ObjectId]:
    return list(await distinct(db[people_store.COLLECTION], "_id", query))


async def inactive_contact(db: Database) -> Document:
    """Apps whose technical contact (any of them) is INACTIVE, from the people directly."""
    ids = await _people_ids(db, {"status": PersonStatus.INACTIVE.value})
    return {"technical_contact_ids": {"$in": ids}}


async def contact_without_mendix_id(db: Database) -> Document:
    """Apps with a technical contact who has no MendixID (the app can't be delivered, A3),
    from the people directly."""
    ids = await _people_ids(db, {"mendix_id": None})
    return {"technical_contact_ids": {"$in": ids}}


async def cloud_without_alerts(db: Database) -> Document:
    """Mendix Cloud apps where no environment sends alert email (see store/risks.py)."""
    return risks.cloud_without_alerts()


async def foreign_manage_permissions(db: Database) -> Document:
    """Apps where a non-technical-contact holds MANAGE_PERMISSIONS on a production environment."""
    return risks.foreign_manage_permissions()


async def inactive_contact_carried(db: Database) -> Document:
    """:func:`inactive_contact`, read on the state each app carries (store/rollup_people.py)."""
    return await rollup_people.at_risk(db, "inactive_contact")


async def contact_without_mendix_id_carried(db: Database) -> Document:
    """:func:`contact_without_mendix_id`, read on the state each app carries."""
    return await rollup_people.at_risk(db, "contact_without_mendix_id")


RiskFilter = Callable[[Database], Awaitable[Document]]

# the direct filters (``rollups verify`` compares the rollups with them): the person-derived
# ones read the ids of every such person, then test every app's contacts against them
DIRECT: dict[str, RiskFilter] = {
    "inactive_contact": inactive_contact,
    "contact_without_mendix_id": contact_without_mendix_id,
    "cloud_without_alerts": cloud_without_alerts,
    "foreign_manage_permissions": foreign_manage_permissions,
}
# what the lists read: the same apps, the person-derived ones on the ``contact_risks`` index
RISKS: dict[str, RiskFilter] = {
    **DIRECT,
    "inactive_contact": inactive_contact_carried,
    "contact_without_mendix_id": contact_without_mendix_id_carried,
}
# licenses expiring within N days take an argument: store.risks.expiring_licenses


async def risk_query(db: Database, risk: str, query: Document) -> Document:
    """``query`` (already scoped and filtered) narrowed to the apps at ``risk``."""
    return _scoped(query, await RISKS[risk](db))


async def regions(db: Database, scope: Document | None) -> list[str]:
    """The Mendix Cloud regions of the apps in scope, sorted (for a region filter)."""
    found = await distinct(db[app_store.COLLECTION], "region", _scoped(scope))
    return sorted(region for region in found if isinstance(region, str) and region)
