"""App use cases: the order (A1, A2), the account executive, the team, scoped reads.

Each change is one conditional update in store/ (the filter is the rule); see changes.py.
"""

from __future__ import annotations

from typing import Any

from resolvers import rights
from resolvers.auth import app_scope, existing_person, require_support, visible_app
from resolvers.changes import apply, audited, both, commit, error, finish
from resolvers.errors import ErrorCode, UserError, fail
from resolvers.ids import AppId, PersonId, decode
from resolvers.inputs import Input, Name, Region, Subdomain, Version, parse
from resolvers.permissions import removed_grant_events
from store import apps as app_store
from store import audit as audit_store
from store.apps import AppRecord, Fields, Hosting
from store.audit import AuditAction
from store.db import Database, Document
from store.people import PersonRecord


class CreateAppInput(Input):
    name: Name
    subdomain: Subdomain
    hosting: Hosting
    technical_contact_id: PersonId
    account_executive_id: PersonId | None = None
    region: Region | None = None


class AppPersonInput(Input):
    app_id: AppId
    person_id: PersonId
    expected_version: Version | None = None


class AppInput(Input):
    app_id: AppId
    expected_version: Version | None = None


async def create_app(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    """Record a signed order: the app starts ORDERED with its technical contact on the team."""
    args = parse(CreateAppInput, data)
    require_support(viewer)
    await existing_person(db, args.technical_contact_id, "technicalContactId")
    if args.account_executive_id is not None:
        await existing_person(db, args.account_executive_id, "accountExecutiveId")

    def created(app: AppRecord) -> list[Document]:
        return [
            audit_store.event(
                AuditAction.APP_CREATED,
                actor_id=viewer.id,
                after={
                    "name": app.name,
                    "subdomain": app.subdomain,
                    "hosting": app.hosting.value,
                    "status": app.status.value,
                    "technical_contact_ids": list(app.technical_contact_ids),
                    "account_executive_id": app.account_executive_id,
                    "region": app.region,
                },
            )
        ]

    try:
        app = await app_store.create_app(
            db,
            name=args.name,
            subdomain=args.subdomain,
            hosting=args.hosting,
            technical_contact_id=args.technical_contact_id,
            account_executive_id=args.account_executive_id,
            region=args.region,
            events=created,
        )
    except app_store.DuplicateSubdomain:
        fail(ErrorCode.DUPLICATE_SUBDOMAIN, "This subdomain is taken", ["input", "subdomain"])
    await finish(db, app.id)
    return app


async def set_account_executive(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> AppRecord:
    args = parse(AppPersonInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.support_only(viewer)
    right.require()
    await existing_person(db, args.person_id, "personId")
    return await commit(
        db,
        viewer,
        AuditAction.ACCOUNT_EXECUTIVE_SET,
        lambda write: app_store.set_account_executive(
            db, app.id, args.person_id, args.expected_version, write
        ),
        app,
        args.expected_version,
        lambda fresh: (
            error(
                ErrorCode.ALREADY_ACCOUNT_EXECUTIVE, "This person is the account executive already"
            )
            if fresh.account_executive_id == args.person_id
            else None
        ),
        right,
    )


async def add_team_member(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    args = parse(AppPersonInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.contact_or_support(viewer)
    right.check(app)
    await existing_person(db, args.person_id, "personId")
    return await commit(
        db,
        viewer,
        AuditAction.TEAM_MEMBER_ADDED,
        lambda write: app_store.add_member(
            db, app.id, args.person_id, args.expected_version, write
        ),
        app,
        args.expected_version,
        lambda fresh: (
            error(ErrorCode.ALREADY_TEAM_MEMBER, "Already on the team")
            if args.person_id in fresh.member_ids
            else None
        ),
        right,
    )


async def remove_team_member(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    """Remove someone from the team; a technical contact can't be removed from it."""
    args = parse(AppPersonInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.contact_or_support(viewer)
    right.check(app)

    def why(fresh: AppRecord) -> UserError | None:
        if args.person_id not in fresh.member_ids:
            return error(ErrorCode.NOT_A_TEAM_MEMBER, "This person is not on the team")
        if args.person_id in fresh.technical_contact_ids:
            return error(
                ErrorCode.TECHNICAL_CONTACT_IN_TEAM,
                "A technical contact can't be removed from the team",
            )
        return None

    # their environment grants go in the same update; each is audited as revoked
    change = await apply(
        db,
        app,
        lambda write: app_store.remove_member(
            db, app.id, args.person_id, args.expected_version, write
        ),
        right=right,
        record=both(
            audited(viewer, AuditAction.TEAM_MEMBER_REMOVED),
            lambda change: removed_grant_events(viewer, change, args.person_id),
        ),
        expected_version=args.expected_version,
        diagnose=why,
    )
    return change.after


# Reads take ``fields``: the record attributes the caller will read (None: all of them).
# Scoping is part of each query's filter, so nothing here reads the record after the fetch.


async def get_visible_apps(
    db: Database, viewer: PersonRecord, ids: list[Any], fields: Fields = None
) -> list[AppRecord | None]:
    return await app_store.get_apps(db, ids, app_scope(viewer), fields)


async def get_visible_app(
    db: Database, viewer: PersonRecord, global_id: str, fields: Fields = None
) -> AppRecord | None:
    """The app behind a global ID if the viewer may see it; a malformed ID is refused."""
    key = decode(global_id, "App")
    if key is None:
        fail(ErrorCode.INVALID_ID, "is not a valid App ID", ["id"])
    return await app_of(db, viewer, key, fields)


async def app_of(
    db: Database, viewer: PersonRecord, app_id: Any, fields: Fields = None
) -> AppRecord | None:
    """The app a record refers to (an alert, a request, an email), if the viewer may see it."""
    return await app_store.get_app(db, app_id, app_scope(viewer), fields)
