"""The technical-contact rules: replacement (A4), more contacts (A5), delivery (A3), move (A6).

Each change is one conditional update in store/ whose filter is the rule (A7); a refusal is
explained from a fresh read in resolvers.changes.commit.
"""

from __future__ import annotations

from typing import Any

from resolvers import rights
from resolvers.apps import AppInput, AppPersonInput
from resolvers.auth import existing_person, visible_app
from resolvers.changes import commit, error, first, hosting_is, mendix_id_ok
from resolvers.errors import ErrorCode, UserError, UserErrors, fail
from resolvers.inputs import parse
from store import apps as app_store
from store import people as people_store
from store.apps import AppRecord, AppStatus, Hosting
from store.audit import AuditAction
from store.db import Database
from store.people import PersonRecord


async def change_technical_contact(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> AppRecord:
    """Mendix Cloud: replace the technical contact by a team member, atomically (A4, C5)."""
    args = parse(AppPersonInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.contact_or_support(viewer)
    right.check(app)
    person = await existing_person(db, args.person_id, "personId")

    def not_member(fresh: AppRecord) -> UserError | None:
        if args.person_id in fresh.technical_contact_ids:
            return error(ErrorCode.ALREADY_TECHNICAL_CONTACT, "Already the technical contact")
        if args.person_id not in fresh.member_ids:
            return error(
                ErrorCode.NOT_A_TEAM_MEMBER, "The new technical contact must be on the team"
            )
        return None

    return await commit(
        db,
        viewer,
        AuditAction.TECHNICAL_CONTACT_CHANGED,
        lambda write: app_store.change_technical_contact(
            db,
            app.id,
            args.person_id,
            has_mendix_id=person.mendix_id is not None,
            expected_version=args.expected_version,
            write=write,
        ),
        app,
        args.expected_version,
        first(hosting_is(Hosting.MENDIX_CLOUD), not_member, mendix_id_ok(person)),
        right,
    )


async def add_technical_contact(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> AppRecord:
    """On-Premises: add one more technical contact (Mendix Support only here, A5)."""
    args = parse(AppPersonInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.support_only(viewer)
    right.require()
    person = await existing_person(db, args.person_id, "personId")
    return await commit(
        db,
        viewer,
        AuditAction.TECHNICAL_CONTACT_ADDED,
        lambda write: app_store.add_technical_contact(
            db,
            app.id,
            args.person_id,
            has_mendix_id=person.mendix_id is not None,
            expected_version=args.expected_version,
            write=write,
        ),
        app,
        args.expected_version,
        first(
            hosting_is(Hosting.ON_PREMISES),
            lambda fresh: (
                error(ErrorCode.ALREADY_TECHNICAL_CONTACT, "Already a technical contact")
                if args.person_id in fresh.technical_contact_ids
                else None
            ),
            mendix_id_ok(person),
        ),
        right,
    )


async def remove_technical_contact(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> AppRecord:
    """On-Premises: remove a technical contact, only while another remains (A2, A5)."""
    args = parse(AppPersonInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.contact_or_support(viewer)
    right.check(app)

    def why(fresh: AppRecord) -> UserError | None:
        if args.person_id not in fresh.technical_contact_ids:
            return error(ErrorCode.NOT_A_TECHNICAL_CONTACT, "Not a technical contact of this app")
        if len(fresh.technical_contact_ids) < 2:
            return error(
                ErrorCode.LAST_TECHNICAL_CONTACT, "An app always keeps one technical contact"
            )
        return None

    return await commit(
        db,
        viewer,
        AuditAction.TECHNICAL_CONTACT_REMOVED,
        lambda write: app_store.remove_technical_contact(
            db, app.id, args.person_id, args.expected_version, write
        ),
        app,
        args.expected_version,
        first(hosting_is(Hosting.ON_PREMISES), why),
        right,
    )


async def deliver_app(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    """Deliver an ordered app; every technical contact needs a MendixID (A3)."""
    args = parse(AppInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.support_only(viewer)
    right.require()
    if app.status is AppStatus.DELIVERED:
        fail(ErrorCode.ALREADY_DELIVERED, "The app is delivered already", ["input", "appId"])
    contacts = await people_store.get_people(db, list(app.technical_contact_ids))
    missing = [person for person in contacts if person is None or person.mendix_id is None]
    if missing:
        raise UserErrors(
            [
                UserError(
                    f"Technical contact {person.email if person else '?'} has no MendixID",
                    ErrorCode.TECHNICAL_CONTACT_WITHOUT_MENDIX_ID,
                    ["input", "appId"],
                )
                for person in missing
            ]
        )
    return await commit(
        db,
        viewer,
        AuditAction.APP_DELIVERED,
        lambda write: app_store.deliver(
            db, app.id, app.technical_contact_ids, args.expected_version, write
        ),
        app,
        args.expected_version,
        lambda fresh: (
            error(ErrorCode.ALREADY_DELIVERED, "The app is delivered already", "appId")
            if fresh.status is AppStatus.DELIVERED
            else None
        ),
        right,
    )


async def move_to_mendix_cloud(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> AppRecord:
    """On-Premises -> Mendix Cloud, only with exactly one technical contact (A6)."""
    args = parse(AppInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.support_only(viewer)
    right.require()
    return await commit(
        db,
        viewer,
        AuditAction.HOSTING_CHANGED,
        lambda write: app_store.move_to_mendix_cloud(db, app.id, args.expected_version, write),
        app,
        args.expected_version,
        first(
            hosting_is(Hosting.ON_PREMISES),
            lambda fresh: (
                error(
                    ErrorCode.MULTIPLE_TECHNICAL_CONTACTS,
                    "Mendix Cloud apps have exactly one technical contact; remove the others first",
                    "appId",
                )
                if len(fresh.technical_contact_ids) != 1
                else None
            ),
        ),
        right,
    )
