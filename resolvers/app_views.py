"""Flexible views of apps: the apps filter, at-risk conditions and orders, scoped to the viewer.

Every app list (``apps``, ``Person.teamMemberOf``/``accountExecutiveOf``/``technicalContactOf``
and the at-risk reports) reads through :func:`list_apps`: the viewer's scope AND the filter's
conditions (each list matches any of its values; ``risks`` must all hold), in the chosen
order (keyset cursors over (key, id), store/pagination.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from resolvers.auth import app_scope
from resolvers.ids import PersonId
from resolvers.inputs import Input, Name, Region, Search, parse
from resolvers.pagination import order_of
from store import apps as app_store
from store import licenses as license_store
from store import reports as report_store
from store import risks as risk_store
from store.apps import NEXT_EXPIRY, AppRecord, AppStatus, Fields, Hosting
from store.db import Database, Document
from store.pagination import Order, Page, Window
from store.people import PersonRecord
from store.records import now

MAX_DAYS = 3650
DEFAULT_EXPIRING_DAYS = 30
MAX_VALUES = 50


class AppRisk(StrEnum):
    TECHNICAL_CONTACT_INACTIVE = "TECHNICAL_CONTACT_INACTIVE"
    TECHNICAL_CONTACT_WITHOUT_MENDIX_ID = "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID"
    LICENSE_EXPIRING = "LICENSE_EXPIRING"
    NO_ALERT_EMAIL = "NO_ALERT_EMAIL"
    PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS = "PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS"


# the at-risk conditions built by store/reports.py (LICENSE_EXPIRING takes the days: below)
RISK_FILTERS = {
    AppRisk.TECHNICAL_CONTACT_INACTIVE: "inactive_contact",
    AppRisk.TECHNICAL_CONTACT_WITHOUT_MENDIX_ID: "contact_without_mendix_id",
    AppRisk.NO_ALERT_EMAIL: "cloud_without_alerts",
    AppRisk.PRODUCTION_MANAGE_PERMISSIONS_HELD_BY_OTHERS: "foreign_manage_permissions",
}


class AppOrderField(StrEnum):
    NAME = "NAME"
    ORDERED_AT = "ORDERED_AT"
    DELIVERED_AT = "DELIVERED_AT"
    NEXT_LICENSE_EXPIRY = "NEXT_LICENSE_EXPIRY"


ORDERS: Mapping[AppOrderField, Order] = {
    AppOrderField.NAME: Order("name"),
    AppOrderField.ORDERED_AT: Order("ordered_at"),
    AppOrderField.DELIVERED_AT: Order("delivered_at"),  # ORDERED apps: none, last ascending
    AppOrderField.NEXT_LICENSE_EXPIRY: Order(NEXT_EXPIRY),
}


def app_order(order_by: Mapping[str, Any] | None) -> Order:
    """The store order for an ``AppOrder`` input (None: oldest first, by id)."""
    return order_of(order_by, ORDERS)


def _values(item: Any) -> Any:
    return Annotated[list[item], Field(max_length=MAX_VALUES)]


class AppsFilter(Input):
    hosting: _values(Hosting) | None = None  # type: ignore[valid-type]
    status: _values(AppStatus) | None = None  # type: ignore[valid-type]
    technical_contact_id: PersonId | None = None
    team_member_id: PersonId | None = None
    account_executive_id: PersonId | None = None
    region: _values(Region) | None = None  # type: ignore[valid-type]
    license_expires_within_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    license_plan: _values(Name) | None = None  # type: ignore[valid-type]
    risks: _values(AppRisk) | None = None  # type: ignore[valid-type]
    search: Search | None = None


async def apps_filter(
    db: Database,
    viewer: PersonRecord,
    filters: Mapping[str, Any],
    *,
    also: list[Document] | None = None,
    **fixed: Any,
) -> Document:
    """The viewer's scope AND the filter (validated: typed errors name the bad field) AND
    ``fixed`` conditions that override the filter's (e.g. a Person connection's person)."""
    args = parse(AppsFilter, {**filters}, root="filter")
    values = args.model_dump(exclude={"risks", "license_expires_within_days"})
    clauses = list(also or ())
    if fixed:  # AND, not instead of: a filter can't widen a person's connection
        clauses.append(app_store.apps_query(**fixed))
    days = args.license_expires_within_days
    risks = set(args.risks or ())
    if days is not None or AppRisk.LICENSE_EXPIRING in risks:
        since = now()
        until = since + timedelta(days=days or DEFAULT_EXPIRING_DAYS)
        clauses.append(risk_store.expiring_licenses(since, until))
    for risk in sorted(risks - {AppRisk.LICENSE_EXPIRING}):
        clauses.append(await report_store.RISKS[RISK_FILTERS[risk]](db))
    return app_store.apps_query(scope=app_scope(viewer), **values, also=clauses)


async def list_apps(
    db: Database,
    viewer: PersonRecord,
    filters: Mapping[str, Any],
    window: Window,
    fields: Fields = None,
    *,
    also: list[Document] | None = None,
    total: int | None = None,
    **fixed: Any,
) -> Page[AppRecord]:
    """A page of the apps the viewer may see that match ``filters`` (and ``fixed``);
    ``total``: their number when the caller knows it (the rollups): then not counted."""
    query = await apps_filter(db, viewer, filters, also=also, **fixed)
    if window.order.key == NEXT_EXPIRY:
        await license_store.settle_next_expiries(db, now())
    return await app_store.list_apps(db, query, window, fields, total)
