"""Access grants per environment (C3, C5) and what the viewer may do there.

- grant/revoke Manage permissions: the technical contact only;
- grant/revoke the other rights: holders of Manage permissions (and the technical contact);
- grants go to team members only; removing a member pulls their grants (store/apps.py);
- connect a project to the node: the technical contact only; it resets every grant.
Every grant and revocation is audited, production environments marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from bson import ObjectId
from pydantic import Field

from resolvers import rights as authority
from resolvers.auth import app_scope, visible_app
from resolvers.changes import apply, first
from resolvers.environments import (
    MANAGE,
    EnvironmentView,
    environment_event,
    mendix_cloud,
    viewer_rights,
    visible_environment,
)
from resolvers.errors import ErrorCode, UserError
from resolvers.ids import AppId, EnvironmentId, PersonId
from resolvers.inputs import Input, Version, parse
from store import audit as audit_store
from store import environments as env_store
from store.apps import AppRecord, Change
from store.audit import AuditAction
from store.cloud import EnvironmentRecord, EnvironmentRight
from store.db import Database, Document
from store.people import PersonRecord

Rights = Annotated[list[EnvironmentRight], Field(min_length=1, max_length=len(EnvironmentRight))]
ProjectId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class RightsInput(Input):
    environment_id: EnvironmentId
    person_id: PersonId
    rights: Rights
    expected_version: Version | None = None


class ConnectProjectInput(Input):
    app_id: AppId
    project_id: ProjectId
    expected_version: Version | None = None


def _held(app: AppRecord, environment_id: ObjectId, person_id: ObjectId) -> list[str]:
    return sorted(
        grant.right.value
        for grant in app.grants
        if grant.environment_id == environment_id and grant.person_id == person_id
    )


def grants_event(
    viewer: PersonRecord,
    action: AuditAction,
    change: Change,
    env: EnvironmentRecord,
    person_id: ObjectId,
) -> Document:
    """One person's rights on one environment before and after a change."""
    key = env.environment_id
    return environment_event(
        viewer,
        action,
        env,
        person_id,
        {"environment": env.name, "rights": _held(change.before, key, person_id)},
        {"environment": env.name, "rights": _held(change.after, key, person_id)},
    )


async def grant_rights(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> EnvironmentView:
    args = parse(RightsInput, data)
    rights = sorted(set(args.rights))
    app, index, environment = await visible_environment(db, viewer, args.environment_id)
    # no existence check: grants go to team members only, so a person who is not on the
    # team and an ID that is no person answer alike (NOT_A_TEAM_MEMBER)
    key = environment.environment_id
    granted = AuditAction.ENVIRONMENT_RIGHTS_GRANTED
    change = await apply(
        db,
        app,
        lambda write: env_store.grant(
            db, app.id, key, args.person_id, rights, viewer.id, args.expected_version, write
        ),
        right=authority.grant_rights(viewer, key, rights),
        record=lambda change: [grants_event(viewer, granted, change, environment, args.person_id)],
        expected_version=args.expected_version,
        diagnose=first(
            mendix_cloud,
            lambda fresh: (
                UserError(
                    "Rights go to team members only",
                    ErrorCode.NOT_A_TEAM_MEMBER,
                    ["input", "personId"],
                )
                if args.person_id not in fresh.member_ids
                else None
            ),
            lambda fresh: (
                UserError(
                    "The person holds some of these rights already",
                    ErrorCode.ALREADY_GRANTED,
                    ["input", "rights"],
                )
                if set(_held(fresh, key, args.person_id)) & {right.value for right in rights}
                else None
            ),
        ),
    )
    return EnvironmentView(change.after, change.after.environments[index])


async def revoke_rights(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> EnvironmentView:
    args = parse(RightsInput, data)
    rights = sorted(set(args.rights))
    app, index, environment = await visible_environment(db, viewer, args.environment_id)
    key = environment.environment_id
    revoked = AuditAction.ENVIRONMENT_RIGHTS_REVOKED
    change = await apply(
        db,
        app,
        lambda write: env_store.revoke(
            db, app.id, key, args.person_id, rights, viewer.id, args.expected_version, write
        ),
        right=authority.grant_rights(viewer, key, rights),
        record=lambda change: [grants_event(viewer, revoked, change, environment, args.person_id)],
        expected_version=args.expected_version,
        diagnose=first(
            mendix_cloud,
            lambda fresh: (
                UserError(
                    "The person does not hold all of these rights",
                    ErrorCode.NOT_GRANTED,
                    ["input", "rights"],
                )
                if not {right.value for right in rights} <= set(_held(fresh, key, args.person_id))
                else None
            ),
        ),
    )
    return EnvironmentView(change.after, change.after.environments[index])


def removed_grant_events(
    viewer: PersonRecord, change: Change, person_id: ObjectId
) -> list[Document]:
    """Removing a team member pulls their grants in the same update: one revocation event
    per environment where they held any."""
    return [
        grants_event(viewer, AuditAction.ENVIRONMENT_RIGHTS_REVOKED, change, environment, person_id)
        for environment in change.before.environments
        if _held(change.before, environment.environment_id, person_id)
    ]


async def connect_project(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    """Connect a project to the app's node (technical contact only); every grant is reset."""
    args = parse(ConnectProjectInput, data)
    app = await visible_app(db, viewer, args.app_id)

    def record(change: Change) -> list[Document]:
        connected = audit_store.event(
            AuditAction.PROJECT_CONNECTED,
            actor_id=viewer.id,
            before={"project_id": change.before.project_id, "grants": len(change.before.grants)},
            after={"project_id": change.after.project_id, "grants": 0},
        )
        revoked = [
            grants_event(
                viewer, AuditAction.ENVIRONMENT_RIGHTS_REVOKED, change, environment, person_id
            )
            for environment in change.before.environments
            for person_id in sorted(
                {
                    g.person_id
                    for g in change.before.grants
                    if g.environment_id == environment.environment_id
                }
            )
        ]
        return [connected, *revoked]

    change = await apply(
        db,
        app,
        lambda write: env_store.connect_project(
            db, app.id, args.project_id, viewer.id, args.expected_version, write
        ),
        right=authority.technical_contact_only(viewer),
        record=record,
        expected_version=args.expected_version,
        diagnose=mendix_cloud,
    )
    return change.after


@dataclass
class GrantView:
    app: AppRecord
    environment: EnvironmentRecord
    person_id: ObjectId
    right: EnvironmentRight
    granted_by: ObjectId | None
    granted_at: Any


def environment_grants(app: AppRecord, environment: EnvironmentRecord) -> list[GrantView]:
    return [
        GrantView(app, environment, g.person_id, g.right, g.granted_by, g.granted_at)
        for g in app.grants
        if g.environment_id == environment.environment_id
    ]


MAX_GRANT_APPS = 500


async def person_grants(db: Database, viewer: PersonRecord, person_id: ObjectId) -> list[GrantView]:
    """A person's explicit grants on the apps the viewer may see (at most 500 apps)."""
    apps = await env_store.apps_with_grants_of(db, person_id, app_scope(viewer), MAX_GRANT_APPS)
    views: list[GrantView] = []
    for app in apps:
        for environment in app.environments:
            views += [v for v in environment_grants(app, environment) if v.person_id == person_id]
    return views


@dataclass(frozen=True)
class Permissions:
    """What the viewer may do on one environment, for a frontend to enable buttons."""

    rights: list[EnvironmentRight]
    can_deploy: bool
    can_start_stop: bool
    can_access_backups: bool
    can_use_api: bool
    can_view_monitoring: bool
    can_configure_alerts: bool
    can_view_logs: bool
    can_grant_rights: bool
    can_grant_manage_permissions: bool
    can_connect_project: bool
    is_technical_contact: bool


def viewer_permissions(
    viewer: PersonRecord, app: AppRecord, environment: EnvironmentRecord
) -> Permissions:
    """The buttons: each ``can`` that a mutation checks is that mutation's right
    (resolvers/rights.py), evaluated on the app as the mutation's write states it."""
    key = environment.environment_id
    held = viewer_rights(viewer, app, key)
    transport = authority.environment_right(viewer, key, EnvironmentRight.TRANSPORT_RIGHTS)
    monitoring = authority.environment_right(viewer, key, EnvironmentRight.ACCESS_TO_MONITORING)
    contact = viewer.id in app.technical_contact_ids
    return Permissions(
        rights=sorted(held),
        can_deploy=EnvironmentRight.TRANSPORT_RIGHTS in held,
        can_start_stop=transport.holds(app),
        can_access_backups=EnvironmentRight.ACCESS_TO_BACKUPS in held,
        can_use_api=EnvironmentRight.API_RIGHTS in held,
        can_view_monitoring=EnvironmentRight.ACCESS_TO_MONITORING in held or viewer.is_support,
        can_configure_alerts=monitoring.holds(app),
        can_view_logs=EnvironmentRight.VIEW_LOGS in held,
        can_grant_rights=authority.grant_rights(viewer, key, [EnvironmentRight.VIEW_LOGS]).holds(
            app
        ),
        can_grant_manage_permissions=authority.grant_rights(viewer, key, [MANAGE]).holds(app),
        can_connect_project=authority.technical_contact_only(viewer).holds(app),
        is_technical_contact=contact,
    )
