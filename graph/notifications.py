"""Notification (an outbox email) and MaintenanceWindow: types, queries, mutation."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from graph.connections import Connection, connection, paged
from graph.context import Context
from graph.nodes import record_node
from graph.orders import NEWEST_FIRST, NotificationOrder
from graph.payloads import Payload, mutate
from graph.people import Person
from resolvers import maintenance as maintenance_cases
from resolvers import notifications as notification_cases
from resolvers import orders
from resolvers.ids import encode
from store import notifications as outbox
from store.maintenance import MaintenanceWindowRecord
from store.notifications import NotificationRecord
from store.pagination import Window

if TYPE_CHECKING:
    from graph.apps import App

Info = strawberry.Info[Context, None]
NotificationKind = strawberry.enum(outbox.NotificationKind)
DeliveryStatus = strawberry.enum(
    outbox.DeliveryStatus,
    description="PENDING: queued (or waiting for a retry); SENDING: claimed by a sender; "
    "SENT: accepted by the SMTP server; FAILED: gave up after the last retry.",
)
AppRef = Annotated["App", strawberry.lazy("graph.apps")]


@strawberry.type(description="An email to a person, kept in the outbox and delivered by SMTP.")
class Notification(relay.Node):
    id: relay.NodeID[str]
    kind: NotificationKind  # type: ignore[valid-type]
    status: DeliveryStatus  # type: ignore[valid-type]
    to_email: str
    subject: str
    body: str
    attempts: int = strawberry.field(description="Delivery attempts so far.")
    next_attempt_at: datetime = strawberry.field(description="When it is (re)tried next.")
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @strawberry.field(description="The Message-ID header, the same on every delivery attempt.")
    def message_id(self, root: strawberry.Parent[NotificationRecord]) -> str:
        return root.message_id

    @strawberry.field
    async def recipient(
        self, root: strawberry.Parent[NotificationRecord], info: Info
    ) -> Person | None:
        return await info.context.loaders.people.load(root.recipient_id)  # type: ignore[return-value]

    @strawberry.field(description="The app it is about, if you may see it.")
    async def app(self, root: strawberry.Parent[NotificationRecord], info: Info) -> AppRef | None:
        if root.app_id is None:
            return None
        from resolvers import apps as app_cases

        ctx = info.context
        return await app_cases.app_of(ctx.db, ctx.viewer, root.app_id)  # type: ignore[return-value]

    is_type_of, resolve_nodes = record_node(
        NotificationRecord, notification_cases.visible_notifications
    )


@strawberry.type(description="Planned maintenance of Mendix Cloud apps, posted by Support.")
class MaintenanceWindow:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    region: str | None = strawberry.field(description="Only apps in this region, if set.")
    created_at: datetime
    notified_at: datetime | None = strawberry.field(
        description="When the notices were queued for every technical contact."
    )

    @strawberry.field
    def id(self, root: strawberry.Parent[MaintenanceWindowRecord]) -> strawberry.ID:
        return strawberry.ID(encode("MaintenanceWindow", root.id))

    @strawberry.field(description="The Mendix Cloud apps it affects.")
    async def apps(
        self, root: strawberry.Parent[MaintenanceWindowRecord], info: Info
    ) -> list[AppRef]:
        return await maintenance_cases.window_apps(info.context.db, root)  # type: ignore[return-value]


@strawberry.input
class NotificationsFilter:
    status: DeliveryStatus | None = None  # type: ignore[valid-type]
    kind: NotificationKind | None = None  # type: ignore[valid-type]
    recipient_id: strawberry.ID | None = None


@strawberry.input(
    description="A maintenance window for every Mendix Cloud app, one region, or listed apps."
)
class PostMaintenanceWindowInput:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    region: str | None = None
    app_ids: list[strawberry.ID] | None = None


@strawberry.type
class PostMaintenanceWindowPayload(Payload):
    maintenance_window: MaintenanceWindow | None = None


def notifications_field(description: str, fetch: Any) -> Any:
    """A ``notifications`` connection field on a type whose root ID ``fetch`` takes."""

    @paged(orders.notification_order, NotificationOrder, NEWEST_FIRST)
    async def resolve(root: Any, info: Info, window: Window) -> Connection[Notification]:
        ctx = info.context
        return connection(await fetch(ctx.db, ctx.viewer, root.id, window))

    return strawberry.field(resolve, description=description)


@strawberry.type
class Query:
    @strawberry.field(
        description="The outbox: Support reads every email, others the ones sent to them."
    )
    @paged(orders.notification_order, NotificationOrder, NEWEST_FIRST)
    async def notifications(
        self, info: Info, window: Window, filter: NotificationsFilter | None = None
    ) -> Connection[Notification]:
        ctx = info.context
        filters: Any = filter
        page = await notification_cases.list_notifications(ctx.db, ctx.viewer, filters, window)
        return connection(page)

    @strawberry.field(description="Maintenance windows (Support; others get theirs by email).")
    @paged()
    async def maintenance_windows(
        self, info: Info, window: Window
    ) -> Connection[MaintenanceWindow]:
        ctx = info.context
        return connection(await maintenance_cases.list_windows(ctx.db, ctx.viewer, window))


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Post a maintenance window (Support): each technical contact of an "
        "affected Mendix Cloud app gets one email."
    )
    async def post_maintenance_window(
        self, info: Info, input: PostMaintenanceWindowInput
    ) -> PostMaintenanceWindowPayload:
        return await mutate(
            PostMaintenanceWindowPayload,
            "maintenance_window",
            maintenance_cases.post_window,
            info,
            input,
        )
