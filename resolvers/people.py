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
from store.pagination import Page, Window
from store.people import PersonRecord, PersonStatus


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
    args = parse(CreatePersonInput, data)
    try:
        person = await people_store.create_person(
            db, email=args.email, name=args.name, mendix_id=args.mendix_id
        )
    except people_store.DuplicateEmail:
        fail(ErrorCode.DUPLICATE_EMAIL, "A person with this email exists", ["input", "email"])
    except people_store.DuplicateMendixId:
        fail(ErrorCode.DUPLICATE_MENDIX_ID, "This MendixID is taken", ["input", "mendixId"])
    await audit_store.record(
        db,
        AuditAction.PERSON_CREATED,
        actor_id=viewer.id,
        person_id=person.id,
        after={"email": person.email, "name": person.name, "mendix_id": person.mendix_id},
    )
    return person


async def register_mendix_id(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> PersonRecord:
    """Set a person's MendixID, once: by that person or by Support."""
    args = parse(RegisterMendixIdInput, data)
    if not viewer.is_support and viewer.id != args.person_id:
        fail(ErrorCode.FORBIDDEN, "Only the person themself or Mendix Support may do this")
    await existing_person(db, args.person_id, "personId")
    try:
        change = await people_store.register_mendix_id(db, args.person_id, args.mendix_id)
    except people_store.DuplicateMendixId:
        fail(ErrorCode.DUPLICATE_MENDIX_ID, "This MendixID is taken", ["input", "mendixId"])
    if change is None:
        fail(
            ErrorCode.MENDIX_ID_ALREADY_SET,
            "This person has a MendixID already",
            ["input", "personId"],
        )
    _, after = change
    await audit_store.record(
        db,
        AuditAction.MENDIX_ID_REGISTERED,
        actor_id=viewer.id,
        person_id=after.id,
        before={"mendix_id": None},
        after={"mendix_id": after.mendix_id},
    )
    return after


async def set_person_status(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> PersonRecord:
    args = parse(SetPersonStatusInput, data)
    require_support(viewer)
    change = await people_store.set_status(db, args.person_id, args.status)
    if change is None:
        fail(ErrorCode.NOT_FOUND, "No person with this ID", ["input", "personId"])
    before, after = change
    if before.status is not after.status:
        await audit_store.record(
            db,
            AuditAction.PERSON_STATUS_CHANGED,
            actor_id=viewer.id,
            person_id=after.id,
            before={"status": before.status.value},
            after={"status": after.status.value},
        )
    return after


async def people_scope(db: Database, viewer: PersonRecord) -> Document | None:
    """People the viewer may see: themself and everyone on their apps; None means all."""
    scope = app_scope(viewer)
    if scope is None:
        return None
    ids = await app_store.people_on_apps(db, scope)
    return {"_id": {"$in": [viewer.id, *ids]}}


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
    if scope is not None:
        query = {"$and": [scope, query]} if query else scope
    return await people_store.list_people(db, query, window)
