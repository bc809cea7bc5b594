"""People use cases: create, register a MendixID, set status, scoped reads."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from resolvers.auth import app_scope, existing_person, require_support
from resolvers.errors import ErrorCode, fail
from resolvers.ids import PersonId
from resolvers.inputs import Email, Input, MendixId, Name, Search, parse
from store import apps as app_store
from store import audit as audit_store
from store import people as people_store
from store.audit import AuditAction
from store.db import Database, Document
from store.later import finish_now
from store.pagination import Page, Window
from store.people import PersonRecord, PersonStatus
from store.records import now


class CreatePersonInput(Input):
    email: Email
    name: Name
    mendix_id: MendixId | None = None


class RegisterMendixIdInput(Input):
    person_id: PersonId
    mendix_id: MendixId


class SetPersonStatusInput(Input):
    person_id: PersonId
    status: PersonStatus


class PeopleFilter(Input):
    search: Search | None = None
    status: PersonStatus | None = None
    has_mendix_id: bool | None = None


async def create_person(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> PersonRecord:
    """Add a person (to invite them to a team). Whether an email is registered is not
    disclosed to whom may not see its person: for anyone but Support an email of someone
    they cannot see answers as a creation would (:func:`_as_invited`), and only Support sets
    a MendixID here (a taken one would say it exists; people register their own)."""
    args = parse(CreatePersonInput, data)
    if args.mendix_id is not None and not viewer.is_support:
        fail(
            ErrorCode.FORBIDDEN,
            "Only Mendix Support sets a MendixID when adding a person; people register "
            "their own (registerMendixId)",
            ["input", "mendixId"],
        )

    def created(person: PersonRecord) -> list[Document]:
        return [
            audit_store.event(
                AuditAction.PERSON_CREATED,
                actor_id=viewer.id,
                person_id=person.id,
                after={"email": person.email, "name": person.name, "mendix_id": person.mendix_id},
            )
        ]

    try:
        person = await people_store.create_person(
            db, email=args.email, name=args.name, mendix_id=args.mendix_id, events=created
        )
    except people_store.DuplicateEmail:
        existing = await people_store.get_person_by_email(db, args.email)
        if existing is not None and not await _may_see(db, viewer, existing.id):
            return _as_invited(existing, args)
        fail(ErrorCode.DUPLICATE_EMAIL, "A person with this email exists", ["input", "email"])
    except people_store.DuplicateMendixId:
        fail(ErrorCode.DUPLICATE_MENDIX_ID, "This MendixID is taken", ["input", "mendixId"])
    await _drain(db, person.id)
    return person


async def _may_see(db: Database, viewer: PersonRecord, person_id: ObjectId) -> bool:
    return (await visible_people(db, viewer, [person_id]))[0] is not None


def _as_invited(existing: PersonRecord, args: CreatePersonInput) -> PersonRecord:
    """The answer to adding a person already registered, for a caller who may not see them:
    what a new person made from the same input would show, with the person's real ID (so
    the caller can go on, e.g. addTeamMember, as after a creation); nothing stored is shown
    and nothing is written. Afterwards, as for a new person, ``node(id:)`` answers null to
    the caller until the person is on one of their apps."""
    return PersonRecord(id=existing.id, email=existing.email, name=args.name, created_at=now())


async def _drain(db: Database, person_id: ObjectId) -> None:
    """Move the change's events into the trail now. Committed either way: if this fails, the
    events stay pending until the periodic task moves them (store/later.py)."""
    await finish_now(
        lambda: audit_store.drain(db, people_store.COLLECTION, person_id),
        "Audit events of person %s left pending",
        person_id,
    )


async def register_mendix_id(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> PersonRecord:
    """Set a person's MendixID, once: by that person or by Support."""
    args = parse(RegisterMendixIdInput, data)
    if not viewer.is_support and viewer.id != args.person_id:
        fail(ErrorCode.FORBIDDEN, "Only the person themself or Mendix Support may do this")
    await existing_person(db, args.person_id, "personId")
    registered = audit_store.event(
        AuditAction.MENDIX_ID_REGISTERED,
        actor_id=viewer.id,
        person_id=args.person_id,
        before={"mendix_id": None},
        after={"mendix_id": args.mendix_id},
    )
    try:
        change = await people_store.register_mendix_id(
            db, args.person_id, args.mendix_id, [registered]
        )
    except people_store.DuplicateMendixId:
        fail(ErrorCode.DUPLICATE_MENDIX_ID, "This MendixID is taken", ["input", "mendixId"])
    if change is None:
        fail(
            ErrorCode.MENDIX_ID_ALREADY_SET,
            "This person has a MendixID already",
            ["input", "personId"],
        )
    _, after = change
    await _drain(db, after.id)
    return after


async def set_person_status(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> PersonRecord:
    args = parse(SetPersonStatusInput, data)
    require_support(viewer)

    def changed(before: PersonRecord, after: PersonRecord) -> list[Document]:
        return [
            audit_store.event(
                AuditAction.PERSON_STATUS_CHANGED,
                actor_id=viewer.id,
                person_id=after.id,
                before={"status": before.status.value},
                after={"status": after.status.value},
            )
        ]

    try:
        change = await people_store.set_status(db, args.person_id, args.status, changed)
    except people_store.LastSupport:
        fail(
            ErrorCode.LAST_SUPPORT,
            "This is the last active Mendix Support person; activate another one first",
            ["input", "personId"],
        )
    if change is None:
        fail(ErrorCode.NOT_FOUND, "No person with this ID", ["input", "personId"])
    await _drain(db, args.person_id)
    return change[1]


async def people_scope(db: Database, viewer: PersonRecord) -> Document | None:
    """People the viewer may see: themself and everyone on their apps; None means all."""
    scope = app_scope(viewer)
    if scope is None:
        return None
    ids = await app_store.people_on_apps(db, scope)
    return people_store.people_query(ids=[viewer.id, *ids])


async def visible_people(
    db: Database, viewer: PersonRecord, ids: list[ObjectId]
) -> list[PersonRecord | None]:
    found = await people_store.get_people(db, ids)
    if viewer.is_support:
        return found
    allowed = set(await app_store.people_on_apps(db, app_store.visible_to(viewer.id)))
    allowed.add(viewer.id)
    return [person if person and person.id in allowed else None for person in found]


async def list_people(
    db: Database,
    viewer: PersonRecord,
    filters: dict[str, Any],
    window: Window,
) -> Page[PersonRecord]:
    args = parse(PeopleFilter, filters, root="filter")
    query = people_store.people_query(
        search=args.search, status=args.status, has_mendix_id=args.has_mendix_id
    )
    scope = await people_scope(db, viewer)
    return await people_store.list_people(db, people_store.all_of(scope, query), window)
