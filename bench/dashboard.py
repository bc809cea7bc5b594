"""The GraphQL documents ``make bench`` times in process, as the API answers them, for Mendix
Support and for a viewer on exactly :data:`VIEWER_APPS` teams:

- the dashboard page's sign-in as graph/static/ sends it: ``Viewer``, then ``Overview`` and
  ``TopContacts`` at once (graph/operations/, with the variables the page sends for
  ``#/``), and each of its documents alone;
- every report alone: the summary, the expiry timeline, the page's five at-risk lists (the
  ``apps`` query with a risk filter, most urgent first, page 1 + ``totalCount``) and the
  API's five at-risk report fields (page 1 + ``totalCount``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from bson import ObjectId

from graph.context import Context, Loaders
from graph.schema import schema
from store import apps as app_store
from store import people as people_store
from store.db import Database
from store.people import PersonRecord

VIEWER_APPS = 50
OPERATIONS = Path(__file__).parents[1] / "graph" / "operations"
# what graph/static/overview.js sends for #/ (days 90, 12 months, 5 per list, 10 contacts)
ORDER = {"field": "NEXT_LICENSE_EXPIRY", "direction": "ASC"}
PAGE_VARIABLES: dict[str, dict[str, Any]] = {
    "Viewer": {},
    "Overview": {"hosting": None, "days": 90, "months": 12, "first": 5, "order": ORDER},
    "TopContacts": {"first": 10, "after": None},
}
PAGE = "dashboard sign-in: Viewer, then Overview + TopContacts"
Document = tuple[str, dict[str, Any]]  # text, variables
Job = Callable[[], Awaitable[Any]]


def operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


def _risk_list(filter_: str) -> Document:
    """One of the page's at-risk lists alone, with the Overview's own fragment."""
    fragment = operation("Overview").partition("fragment RiskList")[2]
    text = (
        "query Risk($first: Int!, $order: AppOrder!) {\n"
        f"  apps(first: $first, orderBy: $order, filter: {filter_}) {{ ...RiskList }}\n"
        f"}}\n\nfragment RiskList{fragment}"
    )
    return text, {"first": 5, "order": ORDER}


_FIELD_NODES = "totalCount nodes { id name hosting technicalContacts { name } }"
_REPORT_FIELDS = {
    "inactive contact": "appsWithInactiveTechnicalContact(first: 5)",
    "contact without MendixID": "appsWithTechnicalContactWithoutMendixId(first: 5)",
    "licenses expiring in 90 days": "appsWithLicensesExpiring(days: 90, first: 5)",
    "Mendix Cloud without alerts": "mendixCloudAppsWithoutAlerts(first: 5)",
    "Manage held by others": "appsWithProductionManagePermissionsGrantedToOthers(first: 5)",
}
_RISKS = {
    "inactive contact": "{risks: [TECHNICAL_CONTACT_INACTIVE]}",
    "contact without MendixID": "{risks: [TECHNICAL_CONTACT_WITHOUT_MENDIX_ID]}",
    "licenses expiring in 90 days": "{licenseExpiresWithinDays: 90}",
    "Mendix Cloud without alerts": "{risks: [NO_ALERT_EMAIL]}",
    "Manage held by others": "{risks: [PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS]}",
}

REPORTS: dict[str, Document] = {
    "page: Overview (summary, timeline, 5 lists)": (
        operation("Overview"),
        PAGE_VARIABLES["Overview"],
    ),
    "page: TopContacts (top contacts p1 + total)": (
        operation("TopContacts"),
        PAGE_VARIABLES["TopContacts"],
    ),
    "ownershipSummary": ("{ ownershipSummary { hosting status count } }", {}),
    "licenseExpiryTimeline(months: 12)": (
        "{ licenseExpiryTimeline(months: 12) { month count } }",
        {},
    ),
    **{f"page list: {name}": _risk_list(filter_) for name, filter_ in _RISKS.items()},
    **{
        f"report: {name}": (f"{{ r: {field} {{ {_FIELD_NODES} }} }}", {})
        for name, field in _REPORT_FIELDS.items()
    },
}


async def execute(db: Database, viewer: PersonRecord, document: Document) -> dict[str, Any]:
    text, variables = document
    result = await schema.execute(
        text,
        variable_values=variables,
        context_value=Context(db=db, viewer=viewer, loaders=Loaders.create(db)),
    )
    if result.errors:
        raise RuntimeError(result.errors)
    assert result.data is not None
    return result.data


async def sign_in(db: Database, viewer: PersonRecord) -> None:
    """The page's sign-in: Viewer, then Overview and TopContacts at once (main.js, overview.js)."""
    page = {name: (operation(name), values) for name, values in PAGE_VARIABLES.items()}
    await execute(db, viewer, page["Viewer"])
    await asyncio.gather(
        execute(db, viewer, page["Overview"]), execute(db, viewer, page["TopContacts"])
    )


def jobs(db: Database, viewer: PersonRecord) -> dict[str, Job]:
    """The page's sign-in and every report, as ``viewer``."""
    found: dict[str, Job] = {PAGE: partial(sign_in, db, viewer)}
    for name, document in REPORTS.items():
        found[name] = partial(execute, db, viewer, document)
    return found


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
