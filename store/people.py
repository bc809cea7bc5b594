"""People: unique email, optional unique MendixID (set once), ACTIVE/INACTIVE."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from store import rollup_people, roster
from store.db import Database, Document
from store.embedded import mock_stored_many
from store.later import finish_now
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "people"
PENDING = "pending_events"  # audit events written with the change (store/audit.py drains)
# a status or MendixID change marks itself for its follow-up in the same update: the
# person-derived at-risk counts of their apps (store/rollup_people.py)
FOLLOW_UP = "rollup_pending"
LastSupport = roster.LastSupport
Events = Callable[["PersonRecord"], list[Document]]


class PersonStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class Role(StrEnum):
    SUPPORT = "SUPPORT"


class PersonRecord(Record):
    email: str
    name: str
    mendix_id: str | None = None
    status: PersonStatus = PersonStatus.ACTIVE
    roles: tuple[Role, ...] = ()
    created_at: UtcDatetime

    @property
    def is_support(self) -> bool:
        return Role.SUPPORT in self.roles

    @property
    def has_mendix_id(self) -> bool:
        return self.mendix_id is not None


class DuplicateEmail(Exception):
    pass


class DuplicateMendixId(Exception):
    pass


def _people(db: Database) -> Any:
    return db[COLLECTION]


async def ensure_indexes(db: Database) -> None:
    await _people(db).create_index([("email", ASCENDING)], unique=True, name="email_unique")
    # sparse: people without a MendixID have no such key and never collide
    await _people(db).create_index(
        [("mendix_id", ASCENDING)], unique=True, sparse=True, name="mendix_id_unique"
    )


def _duplicate(error: DuplicateKeyError) -> Exception:
    text = str(error.details or error)
    return DuplicateMendixId() if "mendix_id" in text else DuplicateEmail()


async def create_person(
    db: Database,
    *,
    email: str,
    name: str,
    mendix_id: str | None = None,
    roles: tuple[Role, ...] = (),
    events: Events | None = None,
) -> PersonRecord:
    """Insert a person, with ``events`` made from the new record; raises DuplicateEmail /
    DuplicateMendixId (the unique indexes decide)."""
    doc: Document = {
        "_id": ObjectId(),
        "email": email,
        "name": name,
        "status": PersonStatus.ACTIVE.value,
        "roles": [role.value for role in roles],
        "created_at": now(),
    }
    if mendix_id is not None:
        doc["mendix_id"] = mendix_id
    record = PersonRecord.model_validate(doc)
    if events is not None:
        doc[PENDING] = events(record)
    try:
        await _people(db).insert_one(doc)
    except DuplicateKeyError as error:
        raise _duplicate(error) from None
    if Role.SUPPORT in roles:
        await roster.join(db, record.id)
    return record


async def get_person(db: Database, person_id: ObjectId) -> PersonRecord | None:
    doc = await _people(db).find_one({"_id": person_id})
    return PersonRecord.model_validate(doc) if doc else None


async def get_person_by_email(db: Database, email: str) -> PersonRecord | None:
    doc = await _people(db).find_one({"email": email})
    return PersonRecord.model_validate(doc) if doc else None


async def get_people(db: Database, ids: list[ObjectId]) -> list[PersonRecord | None]:
    """Many people in one round trip, in the order of ``ids`` (None where missing)."""
    stored = mock_stored_many(db, COLLECTION, ids)
    if stored is not None:  # the embedded engine: by key, no scan, no copies
        return [None if doc is None else PersonRecord.model_validate(doc) for doc in stored]
    docs = await _people(db).find({"_id": {"$in": list(set(ids))}}).to_list(None)
    by_id = {doc["_id"]: PersonRecord.model_validate(doc) for doc in docs}
    return [by_id.get(key) for key in ids]


async def register_mendix_id(
    db: Database, person_id: ObjectId, mendix_id: str, events: list[Document] | None = None
) -> tuple[PersonRecord, PersonRecord] | None:
    """Set the MendixID once. Returns (before, after), or None if the person has one already.

    The filter states the precondition (no MendixID yet), so once set it never changes: rules
    that check a MendixID may rely on it staying.
    """
    try:
        before = await _people(db).find_one_and_update(
            {"_id": person_id, "mendix_id": {"$exists": False}},
            _with_events({"$set": {"mendix_id": mendix_id}}, events),
            return_document=ReturnDocument.BEFORE,
        )
    except DuplicateKeyError:
        raise DuplicateMendixId() from None
    if before is None:
        return None
    await _follow_up(db, person_id)
    old = PersonRecord.model_validate(before)
    return old, old.model_copy(update={"mendix_id": mendix_id})


def _with_events(update: Document, events: list[Document] | None) -> Document:
    """``update`` plus the change's audit events and its follow-up marker."""
    pushed: Document = {FOLLOW_UP: rollup_people.marker()}
    if events:
        pushed[PENDING] = {"$each": events}
    return {**update, "$push": pushed}


async def _follow_up(db: Database, person_id: ObjectId) -> None:
    await finish_now(
        lambda: rollup_people.follow_person(db, person_id),
        "Follow-up of person %s left pending",
        person_id,
    )


async def set_status(
    db: Database,
    person_id: ObjectId,
    status: PersonStatus,
    events: Callable[[PersonRecord, PersonRecord], list[Document]] | None = None,
) -> tuple[PersonRecord, PersonRecord] | None:
    """Set the status; returns (before, after) or None when the person does not exist.
    ``events`` (from before and after) are written with a change. Deactivating the last
    active Mendix Support raises LastSupport (store/roster.py keeps that race-safe)."""
    current = await get_person(db, person_id)
    if current is None:
        return None
    if current.status is status:
        return current, current
    if current.is_support and status is PersonStatus.INACTIVE:
        await roster.leave(db, person_id)
    before = current.model_copy(update={"status": current.status})
    after = current.model_copy(update={"status": status})
    # two statuses: a document not at ``status`` is at the other one, which ``before`` says
    changed = await _people(db).find_one_and_update(
        {"_id": person_id, "status": {"$ne": status.value}},
        _with_events({"$set": {"status": status.value}}, events(before, after) if events else None),
        return_document=ReturnDocument.AFTER,
    )
    if changed is None:  # set meanwhile by someone else: nothing changed here
        fresh = await get_person(db, person_id)
        return None if fresh is None else (fresh, fresh)
    if current.is_support and status is PersonStatus.ACTIVE:
        await roster.join(db, person_id)
    await _follow_up(db, person_id)
    return before, PersonRecord.model_validate(changed)


async def add_role(db: Database, person_id: ObjectId, role: Role) -> None:
    await _people(db).update_one({"_id": person_id}, {"$addToSet": {"roles": role.value}})
    person = await get_person(db, person_id)
    if role is Role.SUPPORT and person is not None and person.status is PersonStatus.ACTIVE:
        await roster.join(db, person_id)


def people_query(
    *,
    ids: list[ObjectId] | None = None,
    search: str | None = None,
    status: PersonStatus | None = None,
    has_mendix_id: bool | None = None,
) -> Document:
    """A filter document built only from typed values (never a client's operator document)."""
    clauses: list[Document] = []
    if ids is not None:
        clauses.append({"_id": {"$in": ids}})
    if search:
        pattern = re.escape(search)
        clauses.append(
            {
                "$or": [
                    {"name": {"$regex": pattern, "$options": "i"}},
                    {"email": {"$regex": pattern, "$options": "i"}},
                ]
            }
        )
    if status is not None:
        clauses.append({"status": status.value})
    if has_mendix_id is not None:
        clauses.append({"mendix_id": {"$exists": has_mendix_id}})
    return {"$and": clauses} if clauses else {}


def all_of(*parts: Document | None) -> Document:
    """Every one of the filters (None or empty: no condition)."""
    clauses = [part for part in parts if part]
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses} if clauses else {}


async def list_people(db: Database, query: Document, window: Window) -> Page[PersonRecord]:
    return await paginate(_people(db), query, window, PersonRecord.model_validate)
