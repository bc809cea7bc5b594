"""Environment (Mendix Cloud): the type, its grants, the viewer's permissions, mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from graph.connections import Connection, connection, page_window
from graph.context import Context
from graph.fast import loads, reads
from graph.nodes import record_node
from graph.payloads import Payload, mutate
from graph.people import Person
from resolvers import alerts as alert_cases
from resolvers import environments as env_cases
from resolvers import permissions as permission_cases
from resolvers.environments import EnvironmentView
from resolvers.permissions import GrantView
from store import cloud

if TYPE_CHECKING:
    from graph.alerts import Alert
    from graph.apps import App

Info = strawberry.Info[Context, None]
AppRef = Annotated["App", strawberry.lazy("graph.apps")]
AlertRef = Annotated["Alert", strawberry.lazy("graph.alerts")]

EnvironmentRight = strawberry.enum(
    cloud.EnvironmentRight,
    description="Mendix Cloud rights per environment: Transport rights (deploy, start/stop), "
    "Access to backups, API rights, Access to monitoring (alerts, metrics), View logs, "
    "Manage permissions.",
)
EnvironmentState = strawberry.enum(cloud.EnvironmentState)
AlertCategory = strawberry.enum(cloud.AlertCategory)
MetricStatus = strawberry.enum(cloud.MetricStatus)


@strawberry.type(description="One explicitly granted right (technical contacts hold all).")
class EnvironmentGrant:
    right: EnvironmentRight  # type: ignore[valid-type]
    granted_at: datetime

    @strawberry.field(metadata={**reads(), **loads("person_id", "people", many=False)})
    async def person(self, root: strawberry.Parent[GrantView], info: Info) -> Person | None:
        return await info.context.loaders.people.load(root.person_id)  # type: ignore[return-value]

    @strawberry.field(metadata={**reads(), **loads("granted_by", "people", many=False)})
    async def granted_by(self, root: strawberry.Parent[GrantView], info: Info) -> Person | None:
        if root.granted_by is None:
            return None
        return await info.context.loaders.people.load(root.granted_by)  # type: ignore[return-value]

    @strawberry.field(metadata=reads(nested=True))
    def environment(self, root: strawberry.Parent[GrantView]) -> Environment:
        return EnvironmentView(root.app, root.environment)  # type: ignore[return-value]


@strawberry.type(description="What the viewer may do on this environment (to enable buttons).")
class EnvironmentPermissions:
    rights: list[EnvironmentRight] = strawberry.field(  # type: ignore[valid-type]
        description="Effective rights: every right for the technical contact, else the grants."
    )
    can_deploy: bool
    can_start_stop: bool
    can_access_backups: bool
    can_use_api: bool
    can_view_monitoring: bool
    can_configure_alerts: bool
    can_view_logs: bool
    can_grant_rights: bool = strawberry.field(description="Grant/revoke all but Manage.")
    can_grant_manage_permissions: bool
    can_connect_project: bool
    is_technical_contact: bool


@strawberry.type(description="A category's warning and critical thresholds.")
class AlertThreshold:
    category: AlertCategory  # type: ignore[valid-type]
    warning: float
    critical: float
    unit: str = strawberry.field(description="PERCENT or SECONDS (without a response).")
    lower_is_worse: bool = strawberry.field(description="True for database free space.")
    default_warning: float
    default_critical: float


@strawberry.type(description="Alert settings of one environment (Monitoring).")
class AlertSettings:
    email_enabled: bool
    thresholds: list[AlertThreshold]
    recipient_ids: strawberry.Private[tuple[Any, ...]]

    @strawberry.field(description="Extra recipients besides the technical contact.")
    async def recipients(self, info: Info) -> list[Person]:
        found = await info.context.loaders.people.load_many(list(self.recipient_ids))
        return [person for person in found if person is not None]  # type: ignore[misc]


@strawberry.type(description="A monitored category's current status.")
class CategoryStatus:
    category: AlertCategory  # type: ignore[valid-type]
    status: MetricStatus  # type: ignore[valid-type]


async def _visible_environments(
    db: Any, viewer: Any, keys: list[Any]
) -> list[EnvironmentView | None]:
    return [await env_cases.get_visible_environment(db, viewer, key) for key in keys]


@strawberry.type(description="A Mendix Cloud environment of an app (e.g. Test, Acceptance).")
class Environment(relay.Node):
    id: relay.NodeID[str]
    name: str
    production: bool
    state: EnvironmentState  # type: ignore[valid-type]
    created_at: datetime

    @strawberry.field(metadata=reads(nested=True))
    def app(self, root: strawberry.Parent[EnvironmentView]) -> AppRef:
        return root.app  # type: ignore[return-value]

    @strawberry.field(
        description="Explicit grants on this environment.", metadata=reads("grants", nested=True)
    )
    def grants(self, root: strawberry.Parent[EnvironmentView]) -> list[EnvironmentGrant]:
        return permission_cases.environment_grants(root.app, root.environment)  # type: ignore[return-value]

    @strawberry.field(
        description="What you may do here.", metadata=reads("technical_contact_ids", "grants")
    )
    def viewer_permissions(
        self, root: strawberry.Parent[EnvironmentView], info: Info
    ) -> EnvironmentPermissions:
        permissions = permission_cases.viewer_permissions(
            info.context.viewer, root.app, root.environment
        )
        return EnvironmentPermissions(**vars(permissions))

    @strawberry.field(metadata=reads())
    def alert_settings(self, root: strawberry.Parent[EnvironmentView]) -> AlertSettings:
        settings = root.environment.alert_settings
        rows = []
        for category, rule in cloud.RULES.items():
            threshold = settings.threshold(category)
            rows.append(
                AlertThreshold(
                    category=category,
                    warning=threshold.warning,
                    critical=threshold.critical,
                    unit=rule.unit,
                    lower_is_worse=rule.lower_is_worse,
                    default_warning=rule.warning,
                    default_critical=rule.critical,
                )
            )
        return AlertSettings(
            email_enabled=settings.email_enabled,
            thresholds=rows,
            recipient_ids=settings.recipient_ids,
        )

    @strawberry.field(description="Current status per monitored category.", metadata=reads())
    def alert_status(self, root: strawberry.Parent[EnvironmentView]) -> list[CategoryStatus]:
        return [
            CategoryStatus(category=category, status=root.environment.status(category))
            for category in cloud.AlertCategory
        ]

    @strawberry.field(
        description="Alert history, oldest first (needs Access to monitoring).",
        metadata=reads("id", "environments", "technical_contact_ids", "grants"),
    )
    async def alerts(
        self,
        root: strawberry.Parent[EnvironmentView],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        category: AlertCategory | None = None,  # type: ignore[valid-type]
    ) -> Connection[AlertRef]:
        ctx = info.context
        page = await alert_cases.alert_history(
            ctx.db,
            ctx.viewer,
            root.app,
            page_window(first, after, last, before),
            environment_id=root.environment.environment_id,
            category=category,
        )
        return connection(page)

    is_type_of, resolve_nodes = record_node(EnvironmentView, _visible_environments)


@strawberry.input
class AddEnvironmentInput:
    app_id: strawberry.ID
    name: str
    production: bool = False
    expected_version: int | None = None


@strawberry.input(description="Start (RUNNING) or stop (STOPPED); needs Transport rights.")
class SetEnvironmentStateInput:
    environment_id: strawberry.ID
    state: EnvironmentState  # type: ignore[valid-type]
    expected_version: int | None = None


@strawberry.input(description="Rights of one team member on one environment.")
class EnvironmentRightsInput:
    environment_id: strawberry.ID
    person_id: strawberry.ID
    rights: list[EnvironmentRight]  # type: ignore[valid-type]
    expected_version: int | None = None


@strawberry.input(description="Connect a project to the app's node; resets every grant.")
class ConnectProjectInput:
    app_id: strawberry.ID
    project_id: str
    expected_version: int | None = None


@strawberry.input
class AlertThresholdInput:
    category: AlertCategory  # type: ignore[valid-type]
    warning: float
    critical: float


@strawberry.input(description="Change what is given; thresholds replace per category.")
class UpdateAlertSettingsInput:
    environment_id: strawberry.ID
    email_enabled: bool | None = None
    recipient_ids: list[strawberry.ID] | None = None
    thresholds: list[AlertThresholdInput] | None = None
    expected_version: int | None = None


@strawberry.type
class EnvironmentPayload(Payload):
    environment: Environment | None = None


def _mutation(use_case: Any, description: str, input_type: type) -> Any:
    async def resolve(self: Any, info: Info, input: Any) -> EnvironmentPayload:
        return await mutate(EnvironmentPayload, "environment", use_case, info, input)

    resolve.__annotations__["input"] = input_type
    return strawberry.mutation(resolve, description=description)


@strawberry.type
class Mutation:
    add_environment = _mutation(
        env_cases.add_environment,
        "Add an environment to a Mendix Cloud app (Support), with Mendix's alert defaults.",
        AddEnvironmentInput,
    )
    set_environment_state = _mutation(
        env_cases.set_environment_state,
        "Start or stop an environment (Transport rights).",
        SetEnvironmentStateInput,
    )
    grant_environment_rights = _mutation(
        permission_cases.grant_rights,
        "Grant rights to a team member (Manage permissions; that one only by the technical "
        "contact).",
        EnvironmentRightsInput,
    )
    revoke_environment_rights = _mutation(
        permission_cases.revoke_rights,
        "Revoke explicitly granted rights (same authority as granting them).",
        EnvironmentRightsInput,
    )
    update_alert_settings = _mutation(
        alert_cases.update_alert_settings,
        "Change an environment's alert settings (Access to monitoring).",
        UpdateAlertSettingsInput,
    )
