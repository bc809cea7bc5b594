"""Bearer tokens: random, shown once, stored only as a SHA-256 hash.

A token belongs to a person (``PERSON``) or to one app's cloud node (``NODE``), which may
only report that app's metrics.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING

from store import people as people_store
from store.db import Database, aggregate
from store.embedded import mock_stored
from store.people import PersonRecord
from store.records import UtcDatetime, now

COLLECTION = "tokens"
PREFIX = "mxo_"


class TokenKind(StrEnum):
    PERSON = "PERSON"
    NODE = "NODE"


class TokenRecord(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True, frozen=True)

    digest: str = Field(alias="_id")
    kind: TokenKind = TokenKind.PERSON
    person_id: ObjectId | None = None
    app_id: ObjectId | None = None
    label: str
    created_at: UtcDatetime


def _tokens(db: Database) -> Any:
    return db[COLLECTION]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def ensure_indexes(db: Database) -> None:
    await _tokens(db).create_index([("person_id", ASCENDING)], name="person")


async def create_token(db: Database, person_id: ObjectId, label: str = "cli") -> str:
    """Create a token for a person and return it; only its hash is stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    await _tokens(db).insert_one(
        {"_id": digest(token), "person_id": person_id, "label": label, "created_at": now()}
    )
    return token


async def create_node_token(db: Database, app_id: ObjectId, label: str = "node") -> str:
    """Create a token for one app's cloud node (metric reports only); only its hash is stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    await _tokens(db).insert_one(
        {
            "_id": digest(token),
            "kind": TokenKind.NODE.value,
            "app_id": app_id,
            "label": label,
            "created_at": now(),
        }
    )
    return token


async def find_token(db: Database, token: str) -> TokenRecord | None:
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    doc = await _tokens(db).find_one({"_id": digest(token)})
    return TokenRecord.model_validate(doc) if doc else None


async def find_token_and_person(
    db: Database, token: str
) -> tuple[TokenRecord | None, PersonRecord | None]:
    """The token and, for a person's token, that person as stored now: one round trip.

    A ``$lookup`` on ``_id`` (no pipeline, which the embedded engine lacks) joins the person
    to the token read, so authentication costs one database call instead of two. Nothing is
    cached: a deactivated person or a deleted token is refused on the next request.
    """
    if not token.startswith(PREFIX) or len(token) > 200:
        return None, None
    embedded, found = mock_stored(db, COLLECTION, digest(token))
    if embedded:  # the embedded engine: two lookups by key instead of scans
        if found is None:
            return None, None
        record = TokenRecord.model_validate(found)
        if record.person_id is None:
            return record, None
        _embedded, person = mock_stored(db, people_store.COLLECTION, record.person_id)
        return record, None if person is None else PersonRecord.model_validate(person)
    docs = await aggregate(
        _tokens(db),
        [
            {"$match": {"_id": digest(token)}},
            {"$limit": 1},
            {
                "$lookup": {
                    "from": people_store.COLLECTION,
                    "localField": "person_id",
                    "foreignField": "_id",
                    "as": "person",
                }
            },
        ],
    )
    if not docs:
        return None, None
    doc = docs[0]
    matched = doc.pop("person", None) or []
    record = TokenRecord.model_validate(doc)
    if record.person_id is None or not matched:
        return record, None
    return record, PersonRecord.model_validate(matched[0])
