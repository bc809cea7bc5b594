"""People: unique email, optional unique MendixID (set once), ACTIVE/INACTIVE."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from store.db import Database, Document
from store.embedded import mock_stored_many
from store.pagination import Page, Window, paginate
from store.records import Record, UtcDatetime, now

COLLECTION = "people"


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
) -> PersonRecord:
    """Insert a person; raises DuplicateEmail / DuplicateMendixId (the unique indexes decide)."""
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
    try:
        await _people(db).insert_one(doc)
    except DuplicateKeyError as error:
        raise _duplicate(error) from None
    return PersonRecord.model_validate(doc)


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
    db: Database, person_id: ObjectId, mendix_id: str
) -> tuple[PersonRecord, PersonRecord] | None:
    """Set the MendixID once. Returns (before, after), or None if the person has one already.

    The filter states the precondition (no MendixID yet), so once set it never changes: rules
    that check a MendixID may rely on it staying.
    """
    try:
        before = await _people(db).find_one_and_update(
            {"_id": person_id, "mendix_id": {"$exists": False}},
            {"$set": {"mendix_id": mendix_id}},
            return_document=ReturnDocument.BEFORE,
        )
    except DuplicateKeyError:
        raise DuplicateMendixId() from None
    if before is None:
        return None
    old = PersonRecord.model_validate(before)
    return old, old.model_copy(update={"mendix_id": mendix_id})


async def set_status(
    db: Database, person_id: ObjectId, status: PersonStatus
) -> tuple[PersonRecord, PersonRecord] | None:
    """Set the status; returns (before, after) or None when the person does not exist."""
    before = await _people(db).find_one_and_update(
        {"_id": person_id},
        {"$set": {"status": status.value}},
        return_document=ReturnDocument.BEFORE,
    )
    if before is None:
        return None
    old = PersonRecord.model_validate(before)
    return old, old.model_copy(update={"status": status})


async def add_role(db: Database, person_id: ObjectId, role: Role) -> None:
    await _people(db).update_one({"_id": person_id}, {"$addToSet": {"roles": role.value}})


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


async def list_people(db: Database, query: Document, window: Window) -> Page[PersonRecord]:
    return await paginate(_people(db), query, window, PersonRecord.model_validate)
