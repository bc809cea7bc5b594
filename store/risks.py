"""At-risk filters and the license expiry timeline, over data embedded in the app document.

Like store/reports.py, each is a filter document on apps (so the app list reuses keyset paging
and ``totalCount``) or one aggregation, using only what both mongomock and MongoDB run. Two
mongomock differences this module steers around (checked in mongomock 4.3):

- a range on an array field (``{"licenses.expires_at": {$gte, $lte}}``) may be satisfied by
  two different elements on MongoDB; :func:`expiring_licenses` uses ``$elemMatch`` so one
  license must lie in the range on both engines;
- mongomock evaluates ``{$not: [expr]}`` wrongly (false for ``{$not: [false]}``); the grant
  test uses ``{$eq: [{$in: ...}, false]}`` instead.

The timeline groups by ``$dateToString`` (UTC, ``%Y-%m``); no ``$dateTrunc``, no ``$facet``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId
from pymongo import ASCENDING

from store import apps as app_store
from store.apps import Hosting
from store.cloud import EnvironmentRight
from store.db import Database, Document, aggregate
from store.records import Record


class MonthCount(Record):
    """Licenses expiring in one calendar month (UTC); ``id`` is unused (a fresh ObjectId)."""

    month: str  # "YYYY-MM"
    count: int


async def ensure_indexes(db: Database) -> None:
    # explicit grants of one right are rare: an index finds the apps with a MANAGE grant
    await db[app_store.COLLECTION].create_index([("grants.right", ASCENDING)], name="grant_rights")


def expiring_licenses(since: datetime, until: datetime) -> Document:
    """Apps with a license (any hosting) whose expiry lies in [since, until]."""
    return {"licenses": {"$elemMatch": {"expires_at": {"$gte": since, "$lte": until}}}}


def cloud_without_alerts() -> Document:
    """Mendix Cloud apps where no environment sends alert email: every environment has
    ``alert_settings.email_enabled`` false, or the app has no environments at all.

    Environments start with Mendix's default settings (email on, default thresholds), so an
    app only lands here when someone switched alert email off everywhere, or before its first
    environment exists (nothing is monitored yet).
    """
    return {
        "hosting": Hosting.MENDIX_CLOUD.value,
        "environments.alert_settings.email_enabled": {"$ne": True},
    }


_MANAGE = EnvironmentRight.MANAGE_PERMISSIONS.value
_PRODUCTION_IDS: Document = {
    "$map": {
        "input": {
            "$filter": {
                "input": {"$ifNull": ["$environments", []]},
                "as": "e",
                "cond": {"$eq": ["$$e.production", True]},
            }
        },
        "as": "e",
        "in": "$$e.environment_id",
    }
}
_FOREIGN_MANAGE_GRANTS: Document = {
    "$filter": {
        "input": {"$ifNull": ["$grants", []]},
        "as": "g",
        "cond": {
            "$and": [
                {"$eq": ["$$g.right", _MANAGE]},
                {"$eq": [{"$in": ["$$g.person_id", "$technical_contact_ids"]}, False]},
                {"$in": ["$$g.environment_id", _PRODUCTION_IDS]},
            ]
        },
    }
}


def foreign_manage_permissions() -> Document:
    """Apps with a production environment on which someone who is not a technical contact
    holds an explicit MANAGE_PERMISSIONS grant (technical contacts hold it implicitly).

    The ``grants.right`` clause is served by the ``grant_rights`` index; the ``$expr`` then
    compares each such grant with the same document's environments and contacts.
    """
    return {
        "grants.right": _MANAGE,
        "$expr": {"$gt": [{"$size": _FOREIGN_MANAGE_GRANTS}, 0]},
    }


def month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    index = start.year * 12 + start.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


async def expiry_timeline(
    db: Database, scope: Document | None, start: datetime, months: int
) -> list[MonthCount]:
    """Licenses (of the apps in scope) expiring per month, ``months`` months from the month of
    ``start``; zeros included. Served by the ``license_expiry`` index (``$elemMatch`` on
    ``licenses.expires_at``) plus the scope's indexes."""
    since = month_start(start)
    until = add_months(since, months)
    window = {"$gte": since, "$lt": until}
    match: Document = {"licenses": {"$elemMatch": {"expires_at": window}}}
    pipeline: list[Document] = [
        {"$match": {"$and": [scope, match]} if scope else match},
        {"$project": {"_id": 0, "licenses.expires_at": 1}},
        {"$unwind": "$licenses"},
        {"$match": {"licenses.expires_at": window}},
        {
            "$group": {
                "_id": {"$dateToString": {"format": "%Y-%m", "date": "$licenses.expires_at"}},
                "count": {"$sum": 1},
            }
        },
    ]
    rows = await aggregate(db[app_store.COLLECTION], pipeline)
    counts = {row["_id"]: row["count"] for row in rows}
    labels = [add_months(since, offset).strftime("%Y-%m") for offset in range(months)]
    return [MonthCount(_id=ObjectId(), month=label, count=counts.get(label, 0)) for label in labels]
