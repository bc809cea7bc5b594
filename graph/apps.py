"""App: the type, its queries and its mutations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay

from graph.alerts import Alert
from graph.app_views import ORDER_HELP, AppOrder, AppsFilter, AppStatus, Hosting, app_connection
from graph.audit import AuditEvent
from graph.connections import Connection, connection, page_window, paged
from graph.context import Context
from graph.environments import AlertCategory, ConnectProjectInput, Environment
from graph.fast import (
    declare,
    loads,
    reads,
    selected_attributes,
)
from graph.licenses import License, LicenseExpansionRequest, licenses_of
from graph.nodes import record_node
from graph.notifications import Notification, notifications_field
from graph.orders import NEWEST_FIRST, AuditEventOrder
from graph.payloads import Payload, mutate
from graph.people import Person
from graph.support import requests_field
from graph.viewer_can import AppViewerCan, app_viewer_can
from resolvers import app_views, orders
from resolvers import apps as app_cases
from resolvers import audit as audit_cases
from resolvers import contacts as contact_cases
from resolvers import licenses as license_cases
from resolvers import notifications as notification_cases
from resolvers import permissions as permission_cases
from resolvers.alerts import alert_history
from resolvers.environments import EnvironmentView
from resolvers.errors import ErrorCode, fail
from resolvers.ids import decode
from store.apps import AppRecord
from store.pagination import Window

Info = strawberry.Info[Context, None]


async def _people(info: Info, ids: Iterable[Any]) -> list[Person]:
    found = await info.context.loaders.people.load_many(list(ids))
    return [person for person in found if person is not None]  # type: ignore[misc]


@strawberry.type(description="A Mendix app and who answers for it.")
class App(relay.Node):
    id: relay.NodeID[str]
    name: str
    subdomain: str
    hosting: Hosting  # type: ignore[valid-type]
    status: AppStatus  # type: ignore[valid-type]
    ordered_at: datetime = strawberry.field(description="When the order was signed.")
    delivered_at: datetime | None
    version: int = strawberry.field(description="Grows by one with every change (expectedVersion).")
    region: str | None = strawberry.field(description="Mendix Cloud region, for maintenance.")
    project_id: str | None = strawberry.field(
        description="Mendix Cloud: the project connected to the app's node."
    )

    @strawberry.field(
        description="The app's licenses and who renews them.",
        metadata=reads("licenses", "hosting"),
    )
    def licenses(self, root: strawberry.Parent[AppRecord]) -> list[License]:
        return licenses_of(root)

    @strawberry.field(
        description="Requests for more users sent to the Account Executive.",
        metadata=reads("id"),
    )
    async def license_expansion_requests(
        self,
        root: strawberry.Parent[AppRecord],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[LicenseExpansionRequest]:
        window = page_window(first, after, last, before)
        return connection(await license_cases.app_expansions(info.context.db, root.id, window))

    notifications: Connection[Notification] = declare(
        notifications_field(
            "Emails about this app: Support sees all, others those sent to them.",
            notification_cases.app_notifications,
        ),
        "id",
    )
    support_requests = declare(requests_field("Support requests about this app."), "id")

    @strawberry.field(
        description="Mendix Cloud environments (none for On-Premises apps).",
        metadata=reads("environments", nested=True),
    )
    def environments(self, root: strawberry.Parent[AppRecord]) -> list[Environment]:
        return [EnvironmentView(root, env) for env in root.environments]  # type: ignore[misc]

    @strawberry.field(
        description="Alert history, oldest first: environments where you have Access to "
        "monitoring (Support: all).",
        metadata=reads("id", "environments", "technical_contact_ids", "grants"),
    )
    async def alerts(
        self,
        root: strawberry.Parent[AppRecord],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        environment_id: strawberry.ID | None = None,
        category: AlertCategory | None = None,  # type: ignore[valid-type]
    ) -> Connection[Alert]:
        ctx = info.context
        window = page_window(first, after, last, before)
        key = None
        if environment_id is not None:
            key = decode(environment_id, "Environment")
            if key is None:
                fail(ErrorCode.INVALID_ID, "is not a valid Environment ID", ["environmentId"])
        page = await alert_history(ctx.db, ctx.viewer, root, window, key, category)
        return connection(page)

    @strawberry.field(
        description="Exactly one for Mendix Cloud; one or more for On-Premises.",
        metadata={
            **loads("technical_contact_ids", "people", many=True),
            **reads("technical_contact_ids"),
        },
    )
    async def technical_contacts(
        self, root: strawberry.Parent[AppRecord], info: Info
    ) -> list[Person]:
        return await _people(info, root.technical_contact_ids)

    @strawberry.field(
        description="The team; technical contacts are always on it.",
        metadata={**loads("member_ids", "people", many=True), **reads("member_ids")},
    )
    async def team_members(self, root: strawberry.Parent[AppRecord], info: Info) -> list[Person]:
        return await _people(info, root.member_ids)

    @strawberry.field(
        description="Whom to ask for a license expansion.",
        metadata={
            **loads("account_executive_id", "people", many=False),
            **reads("account_executive_id"),
        },
    )
    async def account_executive(
        self, root: strawberry.Parent[AppRecord], info: Info
    ) -> Person | None:
        if root.account_executive_id is None:
            return None
        return await info.context.loaders.people.load(root.account_executive_id)  # type: ignore[return-value]

    @strawberry.field(
        description="Every change of contact, team or status (newest first by default).",
        metadata=reads("id"),
    )
    @paged(orders.audit_event_order, AuditEventOrder, NEWEST_FIRST)
    async def audit_trail(
        self, root: strawberry.Parent[AppRecord], info: Info, window: Window
    ) -> Connection[AuditEvent]:
        return connection(await audit_cases.app_events(info.context.db, root.id, window))

    # --- viewerCan (authority; resolvers/rights.py) ---
    @strawberry.field(
        description="What you may do to this app: each mutation's right, as the mutation "
        "checks it (its rules may still refuse it).",
        metadata=reads("technical_contact_ids", "member_ids", "grants"),
    )
    def viewer_can(self, root: strawberry.Parent[AppRecord], info: Info) -> AppViewerCan:
        return app_viewer_can(info.context.viewer, root)

    # --- end viewerCan ---

    is_type_of, resolve_nodes = record_node(
        AppRecord,
        app_cases.get_visible_apps,
        lambda info: selected_attributes(info, "App", AppRecord),
    )


@strawberry.input
class CreateAppInput:
    name: str
    subdomain: str
    hosting: Hosting  # type: ignore[valid-type]
    technical_contact_id: strawberry.ID
    account_executive_id: strawberry.ID | None = None
    region: str | None = strawberry.field(default=None, description="Mendix Cloud region.")


@strawberry.input(description="An app and a person; expectedVersion refuses a stale change.")
class AppPersonInput:
    app_id: strawberry.ID
    person_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input(description="An app; expectedVersion refuses a stale change.")
class AppInput:
    app_id: strawberry.ID
    expected_version: int | None = None


@strawberry.type
class AppPayload(Payload):
    app: App | None = None


@strawberry.type
class Query:
    @strawberry.field(description="An app you may see, or null.")
    async def app(self, info: Info, id: strawberry.ID) -> App | None:
        ctx = info.context
        fields = selected_attributes(info, "App", AppRecord)
        return await app_cases.get_visible_app(ctx.db, ctx.viewer, id, fields)  # type: ignore[return-value]

    @strawberry.field(description="Apps you may see (Support: all), filtered and ordered.")
    @paged(app_views.app_order, AppOrder, ORDER_HELP)
    async def apps(
        self, info: Info, window: Window, filter: AppsFilter | None = None
    ) -> Connection[App]:
        return await app_connection(info, window, filter)  # type: ignore[arg-type]


def _app_mutation(use_case: Any, description: str, input_type: type) -> Any:
    async def resolve(self: Any, info: Info, input: Any) -> AppPayload:
        return await mutate(AppPayload, "app", use_case, info, input)

    resolve.__annotations__["input"] = input_type
    return strawberry.mutation(resolve, description=description)


@strawberry.type
class Mutation:
    create_app = _app_mutation(
        app_cases.create_app,
        "Record a signed order (Support): the app starts ORDERED with its technical contact.",
        CreateAppInput,
    )
    set_account_executive = _app_mutation(
        app_cases.set_account_executive,
        "Set the app's account executive (Support).",
        AppPersonInput,
    )
    add_team_member = _app_mutation(
        app_cases.add_team_member, "Add a person to the app's team.", AppPersonInput
    )
    remove_team_member = _app_mutation(
        app_cases.remove_team_member,
        "Remove a person from the team; a technical contact can't be removed.",
        AppPersonInput,
    )
    change_technical_contact = _app_mutation(
        contact_cases.change_technical_contact,
        "Mendix Cloud: replace the technical contact by a team member.",
        AppPersonInput,
    )
    add_technical_contact = _app_mutation(
        contact_cases.add_technical_contact,
        "On-Premises: add a technical contact (Support).",
        AppPersonInput,
    )
    remove_technical_contact = _app_mutation(
        contact_cases.remove_technical_contact,
        "On-Premises: remove a technical contact while another remains.",
        AppPersonInput,
    )
    deliver_app = _app_mutation(
        contact_cases.deliver_app,
        "Deliver an ordered app (Support); every technical contact needs a MendixID.",
        AppInput,
    )
    connect_project = _app_mutation(
        permission_cases.connect_project,
        "Mendix Cloud: connect a project to the app's node (technical contact); resets grants.",
        ConnectProjectInput,
    )
    move_app_to_mendix_cloud = _app_mutation(
        contact_cases.move_to_mendix_cloud,
        "Move an On-Premises app with exactly one technical contact to Mendix Cloud (Support).",
        AppInput,
    )
