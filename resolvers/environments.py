"""Mendix Cloud environments and access grants (C3, C5).

Who may do what (rights are per environment; the technical contact holds all implicitly):
- add an environment: Mendix Support;
- start/stop: Transport rights;
- grant/revoke Manage permissions: the technical contact only;
- grant/revoke the other rights: holders of Manage permissions (and the technical contact);
- connect a project to the node: the technical contact only; it resets every grant.
Each change is one conditional update in store/environments.py (the filter is the rule); a
refusal is explained from a fresh read. Every grant and revocation is audited, production
environments marked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from bson import ObjectId
from pydantic import Field

from resolvers.auth import app_scope, existing_person, require_support, visible_app
from resolvers.errors import ErrorCode, UserError, UserErrors, fail
from resolvers.ids import AppId, EnvironmentId, PersonId
from resolvers.inputs import Input, Version, parse
from store import apps as app_store
from store import audit as audit_store
from store import environments as env_store
from store.apps import AppRecord, Change, Hosting
from store.audit import AuditAction
from store.cloud import EnvironmentRecord, EnvironmentRight, EnvironmentState, rights_of
from store.db import Database
from store.people import PersonRecord

MANAGE = EnvironmentRight.MANAGE_PERMISSIONS
Rights = Annotated[list[EnvironmentRight], Field(min_length=1, max_length=len(EnvironmentRight))]
ProjectId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]


class AddEnvironmentInput(Input):
    app_id: AppId
    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][\w .-]*$")]
    production: bool = False
    expected_version: Version | None = None


class SetStateInput(Input):
    environment_id: EnvironmentId
    state: EnvironmentState
    expected_version: Version | None = None


class RightsInput(Input):
    environment_id: EnvironmentId
    person_id: PersonId
    rights: Rights
    expected_version: Version | None = None


class ConnectProjectInput(Input):
    app_id: AppId
    project_id: ProjectId
    expected_version: Version | None = None


def locate(app: AppRecord, environment_id: ObjectId) -> tuple[int, EnvironmentRecord]:
    for index, environment in enumerate(app.environments):
        if environment.environment_id == environment_id:
            return index, environment
    fail(ErrorCode.NOT_FOUND, "No environment with this ID", ["input", "environmentId"])


async def visible_environment(
    db: Database, viewer: PersonRecord, environment_id: ObjectId
) -> tuple[AppRecord, int, EnvironmentRecord]:
    """The environment and its app if the viewer may see the app; otherwise NOT_FOUND."""
    app = await env_store.find_by_environment(db, environment_id, app_scope(viewer))
    if app is None:
        fail(ErrorCode.NOT_FOUND, "No environment with this ID", ["input", "environmentId"])
    index, environment = locate(app, environment_id)
    return app, index, environment


def viewer_rights(viewer: PersonRecord, app: AppRecord, environment_id: ObjectId) -> set[Any]:
    return rights_of(viewer.id, environment_id, app.technical_contact_ids, app.grants)


Diagnose = Callable[[AppRecord], UserError | None]


async def apply(
    db: Database,
    app_id: ObjectId,
    attempt: Awaitable[Change | None],
    version: int | None,
    *why: Diagnose,
) -> Change:
    """Await a conditional update; on refusal name the first broken rule from a fresh read."""
    change = await attempt
    if change is not None:
        return change
    fresh = await app_store.get_app(db, app_id)
    if fresh is None:
        fail(ErrorCode.NOT_FOUND, "No app with this ID", ["input", "appId"])
    if version is not None and fresh.version != version:
        fail(
            ErrorCode.VERSION_CONFLICT,
            f"The app is at version {fresh.version}, not {version}",
            ["input", "expectedVersion"],
        )
    for check in why:
        error = check(fresh)
        if error is not None:
            raise UserErrors([error])
    raise UserErrors(
        [
            UserError(
                "The app changed while this request ran; read it again and retry",
                ErrorCode.CONCURRENT_CHANGE,
            )
        ]
    )


def mendix_cloud(app: AppRecord) -> UserError | None:
    if app.hosting is not Hosting.MENDIX_CLOUD:
        return UserError(
            "Only Mendix Cloud apps have environments",
            ErrorCode.WRONG_HOSTING_TYPE,
            ["input", "appId"],
        )
    return None


def needs_right(
    viewer: PersonRecord, environment_id: ObjectId, right: EnvironmentRight
) -> Diagnose:
    def check(app: AppRecord) -> UserError | None:
        if right not in viewer_rights(viewer, app, environment_id):
            label = right.value.replace("_", " ").capitalize()
            return UserError(f"You need {label} on this environment", ErrorCode.MISSING_RIGHT)
        return None

    return check


def authority(viewer: PersonRecord, environment_id: ObjectId, rights: list[Any]) -> Diagnose:
    def check(app: AppRecord) -> UserError | None:
        if MANAGE in rights and viewer.id not in app.technical_contact_ids:
            return UserError(
                "Only the technical contact grants or revokes Manage permissions",
                ErrorCode.TECHNICAL_CONTACT_ONLY,
                ["input", "rights"],
            )
        return needs_right(viewer, environment_id, MANAGE)(app)

    return check


async def add_environment(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> EnvironmentView:
    args = parse(AddEnvironmentInput, data)
    app = await visible_app(db, viewer, args.app_id)
    require_support(viewer)
    change = await apply(
        db,
        app.id,
        env_store.add_environment(
            db,
            app.id,
            name=args.name,
            production=args.production,
            expected_version=args.expected_version,
        ),
        args.expected_version,
        mendix_cloud,
        lambda fresh: (
            UserError(
                "This app has an environment with this name",
                ErrorCode.DUPLICATE_ENVIRONMENT_NAME,
                ["input", "name"],
            )
            if any(env.name == args.name for env in fresh.environments)
            else None
        ),
    )
    environment = change.after.environments[-1]
    await _audit(
        db,
        viewer,
        AuditAction.ENVIRONMENT_CREATED,
        change,
        environment,
        None,
        None,
        {"name": environment.name, "production": environment.production},
    )
    return EnvironmentView(change.after, environment)


async def set_environment_state(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> EnvironmentView:
    """Start or stop an environment (Transport rights)."""
    args = parse(SetStateInput, data)
    app, index, environment = await visible_environment(db, viewer, args.environment_id)
    change = await apply(
        db,
        app.id,
        env_store.set_state(
            db,
            app.id,
            index,
            environment.environment_id,
            args.state,
            viewer.id,
            args.expected_version,
        ),
        args.expected_version,
        needs_right(viewer, environment.environment_id, EnvironmentRight.TRANSPORT_RIGHTS),
        lambda fresh: (
            UserError(
                f"The environment is {args.state.value} already",
                ErrorCode.ALREADY_IN_STATE,
                ["input", "state"],
            )
            if fresh.environments[index].state is args.state
            else None
        ),
    )
    after = change.after.environments[index]
    await _audit(
        db,
        viewer,
        AuditAction.ENVIRONMENT_STATE_CHANGED,
        change,
        after,
        None,
        {"state": environment.state.value},
        {"state": after.state.value},
    )
    return EnvironmentView(change.after, after)


@dataclass  # not frozen: strawberry's relay marks node results with an attribute
class EnvironmentView:
    """An environment together with the app it belongs to (what the graph layer shows)."""

    app: AppRecord
    environment: EnvironmentRecord

    @property
    def id(self) -> ObjectId:
        return self.environment.environment_id

    @property
    def name(self) -> str:
        return self.environment.name

    @property
    def production(self) -> bool:
        return self.environment.production

    @property
    def state(self) -> EnvironmentState:
        return self.environment.state

    @property
    def created_at(self) -> Any:
        return self.environment.created_at


def _held(app: AppRecord, environment_id: ObjectId, person_id: ObjectId) -> list[str]:
    return sorted(
        grant.right.value
        for grant in app.grants
        if grant.environment_id == environment_id and grant.person_id == person_id
    )


async def _audit(
    db: Database,
    viewer: PersonRecord,
    action: AuditAction,
    change: Change,
    environment: EnvironmentRecord,
    person_id: ObjectId | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await audit_store.record(
        db,
        action,
        actor_id=viewer.id,
        app_id=change.after.id,
        person_id=person_id,
        version=change.after.version,
        before=before,
        after=after,
        environment_id=environment.environment_id,
        production=environment.production,
    )


async def _grants_audit(
    db: Database,
    viewer: PersonRecord,
    action: AuditAction,
    change: Change,
    env: EnvironmentRecord,
    person_id: ObjectId,
) -> None:
    key = env.environment_id
    await _audit(
        db,
        viewer,
        action,
        change,
        env,
        person_id,
        {"environment": env.name, "rights": _held(change.before, key, person_id)},
        {"environment": env.name, "rights": _held(change.after, key, person_id)},
    )


async def grant_rights(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> EnvironmentView:
    args = parse(RightsInput, data)
    rights = sorted(set(args.rights))
    app, index, environment = await visible_environment(db, viewer, args.environment_id)
    await existing_person(db, args.person_id, "personId")
    key = environment.environment_id
    change = await apply(
        db,
        app.id,
        env_store.grant(db, app.id, key, args.person_id, rights, viewer.id, args.expected_version),
        args.expected_version,
        mendix_cloud,
        authority(viewer, key, rights),
        lambda fresh: (
            UserError(
                "Rights go to team members only", ErrorCode.NOT_A_TEAM_MEMBER, ["input", "personId"]
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
    )
    await _grants_audit(
        db, viewer, AuditAction.ENVIRONMENT_RIGHTS_GRANTED, change, environment, args.person_id
    )
    return EnvironmentView(change.after, change.after.environments[index])


async def revoke_rights(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> EnvironmentView:
    args = parse(RightsInput, data)
    rights = sorted(set(args.rights))
    app, index, environment = await visible_environment(db, viewer, args.environment_id)
    key = environment.environment_id
    change = await apply(
        db,
        app.id,
        env_store.revoke(db, app.id, key, args.person_id, rights, viewer.id, args.expected_version),
        args.expected_version,
        mendix_cloud,
        authority(viewer, key, rights),
        lambda fresh: (
            UserError(
                "The person does not hold all of these rights",
                ErrorCode.NOT_GRANTED,
                ["input", "rights"],
            )
            if not {right.value for right in rights} <= set(_held(fresh, key, args.person_id))
            else None
        ),
    )
    await _grants_audit(
        db, viewer, AuditAction.ENVIRONMENT_RIGHTS_REVOKED, change, environment, args.person_id
    )
    return EnvironmentView(change.after, change.after.environments[index])


async def audit_removed_grants(
    db: Database, viewer: PersonRecord, change: Change, person_id: ObjectId
) -> None:
    """Removing a team member pulls their grants in the same update; audit each environment."""
    for environment in change.before.environments:
        key = environment.environment_id
        if _held(change.before, key, person_id):
            await _grants_audit(
                db, viewer, AuditAction.ENVIRONMENT_RIGHTS_REVOKED, change, environment, person_id
            )


async def connect_project(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    """Connect a project to the app's node (technical contact only); every grant is reset."""
    args = parse(ConnectProjectInput, data)
    app = await visible_app(db, viewer, args.app_id)
    change = await apply(
        db,
        app.id,
        env_store.connect_project(db, app.id, args.project_id, viewer.id, args.expected_version),
        args.expected_version,
        mendix_cloud,
        lambda fresh: (
            UserError(
                "Only the technical contact connects a project",
                ErrorCode.TECHNICAL_CONTACT_ONLY,
                ["input", "appId"],
            )
            if viewer.id not in fresh.technical_contact_ids
            else None
        ),
    )
    await audit_store.record(
        db,
        AuditAction.PROJECT_CONNECTED,
        actor_id=viewer.id,
        app_id=app.id,
        version=change.after.version,
        before={"project_id": change.before.project_id, "grants": len(change.before.grants)},
        after={"project_id": change.after.project_id, "grants": 0},
    )
    for environment in change.before.environments:
        for person_id in sorted(
            {
                g.person_id
                for g in change.before.grants
                if g.environment_id == environment.environment_id
            }
        ):
            await _grants_audit(
                db, viewer, AuditAction.ENVIRONMENT_RIGHTS_REVOKED, change, environment, person_id
            )
    return change.after


async def get_visible_environment(
    db: Database, viewer: PersonRecord, key: ObjectId
) -> EnvironmentView | None:
    app = await env_store.find_by_environment(db, key, app_scope(viewer))
    if app is None:
        return None
    return EnvironmentView(app, locate(app, key)[1])


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
    held = viewer_rights(viewer, app, environment.environment_id)
    contact = viewer.id in app.technical_contact_ids
    return Permissions(
        rights=sorted(held),
        can_deploy=EnvironmentRight.TRANSPORT_RIGHTS in held,
        can_start_stop=EnvironmentRight.TRANSPORT_RIGHTS in held,
        can_access_backups=EnvironmentRight.ACCESS_TO_BACKUPS in held,
        can_use_api=EnvironmentRight.API_RIGHTS in held,
        can_view_monitoring=EnvironmentRight.ACCESS_TO_MONITORING in held or viewer.is_support,
        can_configure_alerts=EnvironmentRight.ACCESS_TO_MONITORING in held,
        can_view_logs=EnvironmentRight.VIEW_LOGS in held,
        can_grant_rights=MANAGE in held,
        can_grant_manage_permissions=contact,
        can_connect_project=contact,
        is_technical_contact=contact,
    )
