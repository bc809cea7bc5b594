"""Alert: the type, the node's metric report mutation and the live subscription."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from graph.context import Context, Loaders
from graph.environments import AlertCategory, Environment, MetricStatus
from graph.errors import UserError, user_errors
from graph.nodes import record_node
from graph.payloads import Payload
from graph.people import Person
from resolvers import alerts as alert_cases
from resolvers import apps as app_cases
from resolvers import environments as env_cases
from resolvers.auth import still_valid
from resolvers.errors import ErrorCode, UserErrors, fail
from resolvers.ids import decode
from resolvers.live import hub_of
from store.alerts import AlertRecord

if TYPE_CHECKING:
    from graph.apps import App

Info = strawberry.Info[Context, None]
AppRef = Annotated["App", strawberry.lazy("graph.apps")]


@strawberry.type(description="A monitored category changed status (raised once per change).")
class Alert(relay.Node):
    id: relay.NodeID[str]
    category: AlertCategory  # type: ignore[valid-type]
    status: MetricStatus  # type: ignore[valid-type]
    previous_status: MetricStatus  # type: ignore[valid-type]
    sequence: int = strawberry.field(description="The category's n-th status change here.")
    value: float = strawberry.field(description="The sample that caused the change.")
    warning: float
    critical: float
    unit: str
    environment_name: str
    production: bool
    email_enabled: bool
    email_recipients: list[str] = strawberry.field(
        description="Addresses the alert email is for (recorded; sending is the outbox's job)."
    )
    at: datetime

    @strawberry.field(description="True when the status went back to NORMAL.")
    def recovered(self, root: strawberry.Parent[AlertRecord]) -> bool:
        return root.recovered

    @strawberry.field(description="The technical contact(s) and configured recipients.")
    async def recipients(self, root: strawberry.Parent[AlertRecord], info: Info) -> list[Person]:
        found = await info.context.loaders.people.load_many(list(root.recipient_ids))
        return [person for person in found if person is not None]  # type: ignore[misc]

    @strawberry.field
    async def environment(
        self, root: strawberry.Parent[AlertRecord], info: Info
    ) -> Environment | None:
        ctx = info.context
        found = await env_cases.get_visible_environment(ctx.db, ctx.viewer, root.environment_id)
        return found  # type: ignore[return-value]

    @strawberry.field
    async def app(self, root: strawberry.Parent[AlertRecord], info: Info) -> AppRef | None:
        ctx = info.context
        return await app_cases.app_of(ctx.db, ctx.viewer, root.app_id)  # type: ignore[return-value]

    is_type_of, resolve_nodes = record_node(AlertRecord, alert_cases.visible_alerts)


@strawberry.input
class MetricSampleInput:
    category: AlertCategory  # type: ignore[valid-type]
    value: float = strawberry.field(description="Percent; APP_NOT_RESPONDING: seconds.")


@strawberry.input(description="Samples from an app's cloud node (node token only).")
class ReportMetricsInput:
    environment_id: strawberry.ID
    samples: list[MetricSampleInput]


@strawberry.type
class ReportMetricsPayload(Payload):
    alerts: list[Alert] = strawberry.field(default_factory=list)


async def report(context: Context, data: dict[str, Any]) -> list[AlertRecord]:
    """Run a node's report and hand its alerts to this process's subscribers at once."""
    if context.node_app_id is None:
        fail(ErrorCode.FORBIDDEN, "Metric reports need the app's node token")
    reported = await alert_cases.report_metrics(context.db, context.node_app_id, data)
    hub = hub_of(context)
    if hub is not None:
        for event in reported.events:
            hub.deliver(event)
    return reported.alerts


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Report metric samples (the app's cloud node).",
        deprecation_reason="A node's METRICS token opens only POST /metrics (same body); "
        "/graphql refuses it.",
    )
    async def report_metrics(self, info: Info, input: ReportMetricsInput) -> ReportMetricsPayload:
        try:
            alerts = await report(info.context, dataclasses.asdict(input))
        except UserErrors as refusal:
            return ReportMetricsPayload(user_errors=user_errors(refusal))
        # a node token sees no person: who is emailed stays with those who may read the alert
        anonymous = [
            a.model_copy(update={"email_recipients": (), "recipient_ids": ()}) for a in alerts
        ]
        return ReportMetricsPayload(alerts=anonymous)  # type: ignore[arg-type]


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Alerts as they are raised: of one app, or (no appId) of all your apps; "
        "only environments where you have Access to monitoring (Support: all)."
    )
    async def alert_raised(
        self, info: Info, app_id: strawberry.ID | None = None
    ) -> AsyncGenerator[Alert, None]:
        # A coroutine returning the stream, so that a refusal happens before the stream
        # starts and reaches the client as a typed `error` message.
        ctx = info.context
        key = None
        if app_id is not None:
            key = decode(app_id, "App")
            if key is None:
                fail(ErrorCode.INVALID_ID, "is not a valid App ID", ["appId"])
            if await app_cases.app_of(ctx.db, ctx.viewer, key) is None:
                fail(ErrorCode.NOT_FOUND, "No app with this ID", ["appId"])
        hub = hub_of(ctx)
        if hub is None:
            fail(ErrorCode.INVALID_INPUT, "Subscriptions need a WebSocket connection")
        return _alerts(ctx, hub, key)  # type: ignore[return-value]


async def _alerts(ctx: Context, hub: Any, key: Any) -> AsyncGenerator[AlertRecord, None]:
    """Each event checked afresh: the viewer still active, still allowed to see it."""
    queue = hub.subscribe()
    try:
        while True:
            event = await queue.get()
            if key is not None and event["app_id"] != key:
                continue
            if not await alert_cases.still_active(ctx.db, ctx.viewer):
                return  # set INACTIVE while subscribed: the subscription ends
            if not await still_valid(ctx.db, ctx.credential):
                return  # its token revoked or expired while subscribed: the same
            alert = AlertRecord.model_validate(event["payload"])
            if await alert_cases.may_see(ctx.db, ctx.viewer, alert):
                ctx.loaders = Loaders.create(ctx.db)  # nothing cached across events
                yield alert
    finally:
        hub.unsubscribe(queue)


__all__ = ["Alert", "Mutation", "Subscription", "UserError"]
