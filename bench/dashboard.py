"""The GraphQL documents ``make bench`` times in process, as the API answers them: each
report alone and the dashboard page's whole document (as graph/static/dashboard.js sends
it), for Mendix Support and for a viewer on exactly :data:`VIEWER_APPS` teams."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from graph.context import Context, Loaders
from graph.schema import schema
from store import apps as app_store
from store import people as people_store
from store.db import Database
from store.people import PersonRecord

VIEWER_APPS = 50
_APPS = (
    "totalCount nodes { id name subdomain hosting status"
    " technicalContacts { name } licenses { expiresAt } }"
)
_RISKS = {
    "inactive": "appsWithInactiveTechnicalContact",
    "noMendixId": "appsWithTechnicalContactWithoutMendixId",
    "expiring": "appsWithLicensesExpiring",
    "noAlerts": "mendixCloudAppsWithoutAlerts",
    "manageByOthers": "appsWithProductionManagePermissionsGrantedToOthers",
}


def _risk(key: str) -> str:
    days = "days: $days, " if key == "expiring" else ""
    return f"{key}: {_RISKS[key]}({days}first: $first, filter: $filter) {{ {_APPS} }}"


TIMELINE = "licenseExpiryTimeline(months: $months) { month count }"
SUMMARY = "ownershipSummary { hosting status count }"
TOP = """topTechnicalContacts(first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { appCount mendixCloudCount onPremisesCount orderedCount
            person { id name email status hasMendixId } }
  }"""
TYPES = {"first": "Int!", "filter": "AppsFilter", "days": "Int!", "months": "Int!"}
VALUES = {"first": 10, "filter": None, "days": 30, "months": 12}


def _alone(*parts: str) -> str:
    """A query of ``parts``, declaring the variables they use."""
    body = "\n".join(parts)
    used = [name for name in TYPES if f"${name}" in body]
    head = ", ".join(f"${name}: {TYPES[name]}" for name in used)
    return f"query Dashboard({head}) {{\n{body}\n}}" if used else f"query {{\n{body}\n}}"


DASHBOARD = _alone(TIMELINE, "viewer { name isSupport }", SUMMARY, TOP, *map(_risk, _RISKS))


DOCUMENTS = {
    "summary": _alone(SUMMARY),
    "top contacts p1+total": _alone(TOP),
    "expiry timeline 12 months": _alone(TIMELINE),
    **{f"at risk: {key} p1+total": _alone(_risk(key)) for key in _RISKS},
    "DASHBOARD (whole document)": DASHBOARD,
}


async def execute(db: Database, viewer: PersonRecord, document: str) -> dict[str, Any]:
    result = await schema.execute(
        document,
        variable_values={name: value for name, value in VALUES.items() if f"${name}" in document},
        context_value=Context(db=db, viewer=viewer, loaders=Loaders.create(db)),
    )
    if result.errors:
        raise RuntimeError(result.errors)
    assert result.data is not None
    return result.data


async def viewers(db: Database) -> tuple[PersonRecord, PersonRecord]:
    """Support (from the generated data) and a new person on exactly VIEWER_APPS teams."""
    support = await people_store.get_person_by_email(db, "support@mendix.example")
    assert support is not None
    person = await people_store.create_person(
        db, email=f"viewer-{ObjectId()}@bench.example", name="Bench Viewer"
    )
    docs = await db[app_store.COLLECTION].find({}, {"_id": 1}).limit(VIEWER_APPS).to_list(None)
    ids = [doc["_id"] for doc in docs]
    # team membership moves no rollup counter; bench setup only
    await db[app_store.COLLECTION].update_many(
        {"_id": {"$in": ids}}, {"$push": {"member_ids": person.id}}
    )
    return support, person
