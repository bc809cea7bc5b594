"""Inputs of the app lists: ``AppsFilter``, ``AppOrder`` and their enums, and the one
resolver every app connection shares (``apps``, ``Person.teamMemberOf``/``accountExecutiveOf``/
``technicalContactOf``). Imports nothing from graph/apps.py or graph/people.py, so both can
use it."""

from __future__ import annotations

from typing import Any

import strawberry

from graph.connections import Connection, OrderDirection, connection
from graph.context import Context
from graph.fast import connection_attributes
from resolvers import app_views, risk_totals
from resolvers.pagination import Direction
from store import apps as app_store
from store.apps import AppRecord
from store.pagination import Window

Info = strawberry.Info[Context, None]
Hosting = strawberry.enum(app_store.Hosting)
AppStatus = strawberry.enum(app_store.AppStatus)
AppRisk = strawberry.enum(
    app_views.AppRisk, description="An at-risk condition; in `AppsFilter.risks` all must hold."
)
AppOrderField = strawberry.enum(
    app_views.AppOrderField,
    description="What apps are ordered by; ties (and apps without a value) by id. "
    "NEXT_LICENSE_EXPIRY: the soonest license expiry still ahead (apps without one come last "
    "ascending); DELIVERED_AT: apps not delivered come last ascending. NAME: by code point "
    "(case-sensitive).",
)


@strawberry.input(description="How to order apps.")
class AppOrder:
    field: AppOrderField  # type: ignore[valid-type]
    direction: OrderDirection = Direction.ASC  # type: ignore[valid-type]


@strawberry.input(
    description="Conditions an app must all meet; a list matches any of its values (an empty "
    "list matches nothing)."
)
class AppsFilter:
    hosting: list[Hosting] | None = None  # type: ignore[valid-type]
    status: list[AppStatus] | None = None  # type: ignore[valid-type]
    technical_contact_id: strawberry.ID | None = None
    team_member_id: strawberry.ID | None = None
    account_executive_id: strawberry.ID | None = None
    region: list[str] | None = strawberry.field(default=None, description="Mendix Cloud regions.")
    license_expires_within_days: int | None = strawberry.field(
        default=None,
        description="A license expires between now and this many days ahead (1..3650); also "
        "the horizon of the LICENSE_EXPIRING risk (default 30).",
    )
    license_plan: list[str] | None = strawberry.field(
        default=None, description="Has a license of one of these plans."
    )
    risks: list[AppRisk] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="At-risk conditions, all of which must hold."
    )
    search: str | None = strawberry.field(default=None, description="Part of name or subdomain.")


ORDER_HELP = "Default: oldest first (by id)."


async def app_connection(
    info: Info, window: Window, filter: dict[str, Any], **fixed: Any
) -> Connection[Any]:
    """A page of the apps the viewer may see matching ``filter`` (and ``fixed``), reading
    only the stored fields the selection needs."""
    ctx = info.context
    fields = connection_attributes(info, "App", AppRecord)
    # Support's at-risk totals from the rollups (then the apps are not counted)
    total = None if fixed else await risk_totals.support_total(ctx.db, ctx.viewer, filter)
    page = await app_views.list_apps(
        ctx.db, ctx.viewer, filter, window, fields, total=total, **fixed
    )
    return connection(page)
