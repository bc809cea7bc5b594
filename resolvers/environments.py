"""Mendix Cloud environments (C3): adding them, start/stop, reading them with their app.

Who may do what (rights are per environment; the technical contact holds all implicitly):
- add an environment: Mendix Support (Mendix Cloud apps only);
- start/stop: Transport rights.
Grants are in resolvers/permissions.py, alerts in resolvers/alerts.py. Each change is one
conditional update in store/environments.py whose filter is the rule and the viewer's right
(resolvers/rights.py), written with its audit events; ``resolvers.changes.apply`` runs it and
explains a refusal from a fresh read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from bson import ObjectId
from pydantic import Field

from resolvers import rights
from resolvers.auth import app_scope, visible_app
from resolvers.changes import apply, first
from resolvers.errors import ErrorCode, UserError, fail
from resolvers.ids import AppId, EnvironmentId
from resolvers.inputs import Input, Version, parse
from store import audit as audit_store
from store import environments as env_store
from store.apps import AppRecord, Change, Hosting
from store.audit import AuditAction
from store.cloud import EnvironmentRecord, EnvironmentRight, EnvironmentState, rights_of
from store.db import Database, Document
from store.people import PersonRecord

MANAGE = EnvironmentRight.MANAGE_PERMISSIONS


class AddEnvironmentInput(Input):
    app_id: AppId
    name: Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9][\w .-]*$")]
    production: bool = False
    expected_version: Version | None = None


class SetStateInput(Input):
    environment_id: EnvironmentId
    state: EnvironmentState
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


def mendix_cloud(app: AppRecord) -> UserError | None:
    if app.hosting is not Hosting.MENDIX_CLOUD:
        return UserError(
            "Only Mendix Cloud apps have environments",
            ErrorCode.WRONG_HOSTING_TYPE,
            ["input", "appId"],
        )
    return None


async def add_environment(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> EnvironmentView:
    args = parse(AddEnvironmentInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.support_only(viewer)
    right.require()

    def record(change: Change) -> list[Document]:
        environment = change.after.environments[-1]
        after = {"name": environment.name, "production": environment.production}
        created = AuditAction.ENVIRONMENT_CREATED
        return [environment_event(viewer, created, environment, None, None, after)]

    change = await apply(
        db,
        app,
        lambda write: env_store.add_environment(
            db,
            app.id,
            name=args.name,
            production=args.production,
            expected_version=args.expected_version,
            write=write,
        ),
        right=right,
        record=record,
        expected_version=args.expected_version,
        diagnose=first(
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
        ),
    )
    return EnvironmentView(change.after, change.after.environments[-1])


async def set_environment_state(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> EnvironmentView:
    """Start or stop an environment (Transport rights)."""
    args = parse(SetStateInput, data)
    app, index, environment = await visible_environment(db, viewer, args.environment_id)
    key = environment.environment_id

    def record(change: Change) -> list[Document]:
        before = change.before.environments[index]
        after = change.after.environments[index]
        return [
            environment_event(
                viewer,
                AuditAction.ENVIRONMENT_STATE_CHANGED,
                after,
                None,
                {"state": before.state.value},
                {"state": after.state.value},
            )
        ]

    change = await apply(
        db,
        app,
        lambda write: env_store.set_state(
            db, app.id, index, key, args.state, viewer.id, args.expected_version, write
        ),
        right=rights.environment_right(viewer, key, EnvironmentRight.TRANSPORT_RIGHTS),
        record=record,
        expected_version=args.expected_version,
        diagnose=lambda fresh: (
            UserError(
                f"The environment is {args.state.value} already",
                ErrorCode.ALREADY_IN_STATE,
                ["input", "state"],
            )
            if fresh.environments[index].state is args.state
            else None
        ),
    )
    return EnvironmentView(change.after, change.after.environments[index])


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


def environment_event(
    viewer: PersonRecord,
    action: AuditAction,
    environment: EnvironmentRecord,
    person_id: ObjectId | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> Document:
    """An environment's audit event (production marked), recorded with its change."""
    return audit_store.event(
        action,
        actor_id=viewer.id,
        person_id=person_id,
        before=before,
        after=after,
        environment_id=environment.environment_id,
        production=environment.production,
    )


async def get_visible_environment(
    db: Database, viewer: PersonRecord, key: ObjectId
) -> EnvironmentView | None:
    app = await env_store.find_by_environment(db, key, app_scope(viewer))
    if app is None:
        return None
    return EnvironmentView(app, locate(app, key)[1])
