"""Dashboard reports: aggregations over the apps the viewer may see (Support: all).

Each report is one field here over one use case in resolvers/reports.py and one pipeline or
filter in store/reports.py. An at-risk report is an app connection (``totalCount`` = the
count) built by :func:`_risk_field` from a key of ``store.reports.RISKS``.
"""

from __future__ import annotations

from typing import Any

import strawberry

from graph.app_views import ORDER_HELP, AppOrder, AppsFilter, AppStatus, Hosting
from graph.apps import App
from graph.connections import Connection, PageInfo, connection, paged
from graph.context import Context
from graph.people import Person
from resolvers import app_views
from resolvers import reports as report_cases
from store.pagination import Window
from store.reports import ContactLoad

Info = strawberry.Info[Context, None]
ContactOrder = strawberry.enum(
    report_cases.ContactOrder, description="How to sort technical contacts by their load."
)


@strawberry.type(description="How many apps you may see have this hosting type and status.")
class HostingStatusCount:
    hosting: Hosting  # type: ignore[valid-type]
    status: AppStatus  # type: ignore[valid-type]
    count: int


@strawberry.type(description="A technical contact and the apps (that you may see) they answer for.")
class TechnicalContactLoad:
    app_count: int = strawberry.field(description="Apps where the person is technical contact.")
    mendix_cloud_count: int
    on_premises_count: int
    ordered_count: int = strawberry.field(description="Of those, apps not yet delivered.")

    @strawberry.field
    async def person(self, root: strawberry.Parent[ContactLoad], info: Info) -> Person | None:
        return await info.context.loaders.people.load(root.id)  # type: ignore[return-value]


@strawberry.type(description="How many licenses of the apps you may see expire in one month (UTC).")
class LicenseExpiryMonth:
    month: str = strawberry.field(description="The calendar month, as YYYY-MM.")
    count: int


def _load_connection(page: report_cases.LoadPage) -> Connection[TechnicalContactLoad]:
    return Connection(
        nodes=list(page.items),  # type: ignore[arg-type]
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        total_count=page.total_count,
        keys=list(page.cursors),
        encode=str,
    )


def _risk_field(risk: str, description: str) -> Any:
    """An app connection of the visible apps at ``risk``, filterable like ``apps``."""

    @paged(app_views.app_order, AppOrder, ORDER_HELP)
    async def resolve(
        self: Any, info: Info, window: Window, filter: AppsFilter | None = None
    ) -> Connection[App]:
        ctx = info.context
        filters: Any = filter
        return connection(
            await report_cases.apps_at_risk(ctx.db, ctx.viewer, risk, filters, window)
        )

    return strawberry.field(resolve, description=description)


@strawberry.type
class Query:
    @strawberry.field(description="Apps you may see by hosting type x status (zeros included).")
    async def ownership_summary(self, info: Info) -> list[HostingStatusCount]:
        ctx = info.context
        return await report_cases.summary(ctx.db, ctx.viewer)  # type: ignore[return-value]

    @strawberry.field(description="Mendix Cloud regions of the apps you may see, sorted.")
    async def app_regions(self, info: Info) -> list[str]:
        return await report_cases.regions(info.context.db, info.context.viewer)

    @strawberry.field(description="Technical contacts by how many of your visible apps they own.")
    async def top_technical_contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        order_by: ContactOrder = report_cases.ContactOrder.APP_COUNT_DESC,  # type: ignore[valid-type]
    ) -> Connection[TechnicalContactLoad]:
        ctx = info.context
        page = await report_cases.top_contacts(
            ctx.db, ctx.viewer, first=first, after=after, order=order_by
        )
        return _load_connection(page)

    @strawberry.field(description="One person's load over the apps you may see, or null.")
    async def technical_contact_load(
        self, info: Info, person_id: strawberry.ID
    ) -> TechnicalContactLoad | None:
        ctx = info.context
        return await report_cases.contact_load(ctx.db, ctx.viewer, person_id)  # type: ignore[return-value]

    apps_with_inactive_technical_contact = _risk_field(
        "inactive_contact", "At risk: apps whose technical contact is INACTIVE."
    )
    apps_with_technical_contact_without_mendix_id = _risk_field(
        "contact_without_mendix_id",
        "At risk: apps with a technical contact who has no MendixID (can't be delivered).",
    )
    mendix_cloud_apps_without_alerts = _risk_field(
        "cloud_without_alerts",
        "At risk: Mendix Cloud apps where no environment sends alert email (alert email off in "
        "every environment, or no environments yet).",
    )
    apps_with_production_manage_permissions_granted_to_others = _risk_field(
        "foreign_manage_permissions",
        "At risk: apps with a production environment on which someone who is not a technical "
        "contact holds an explicit MANAGE_PERMISSIONS grant.",
    )

    @strawberry.field(
        description="At risk: apps with a license expiring between now and `days` days ahead "
        "(1..3650). Mendix renews Mendix Cloud licenses itself: filter on ON_PREMISES for the "
        "ones customers must renew."
    )
    @paged(app_views.app_order, AppOrder, ORDER_HELP)
    async def apps_with_licenses_expiring(
        self,
        info: Info,
        window: Window,
        days: int = 30,
        filter: AppsFilter | None = None,
    ) -> Connection[App]:
        ctx = info.context
        filters: Any = filter
        return connection(
            await report_cases.apps_with_expiring_licenses(
                ctx.db, ctx.viewer, days, filters, window
            )
        )

    @strawberry.field(
        description="Licenses of the apps you may see expiring per month: this month and the "
        "next `months - 1` (1..120), zeros included."
    )
    async def license_expiry_timeline(
        self, info: Info, months: int = 12
    ) -> list[LicenseExpiryMonth]:
        ctx = info.context
        rows = await report_cases.expiry_timeline(ctx.db, ctx.viewer, months)
        return rows  # type: ignore[return-value]
