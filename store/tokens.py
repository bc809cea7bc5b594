"""Bearer tokens: random, shown once, stored only as a SHA-256 hash.

A token belongs to a person (``PERSON``: scope ``FULL`` or ``READ_ONLY``) or to one app's
cloud node (``NODE``: scope ``METRICS``, which may only report that app's metrics). Every
token expires and can be revoked; its last use is recorded at most once a minute.

The document's ``_id`` is the hash (authentication reads it by key); ``key`` is the token's
public identity (its global ID, the CLI's ``token revoke``), an ObjectId in creation order.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymongo import ASCENDING, ReturnDocument

from store import people as people_store
from store.db import Database, Document, aggregate
from store.embedded import mock_stored
from store.pagination import Page, Window
from store.people import PersonRecord
from store.records import UtcDatetime, now

COLLECTION = "tokens"
PREFIX = "mxo_"
DEFAULT_LIFETIME = timedelta(days=90)
# last use is written at most this often per token (a conditional update), not per request
USE_RESOLUTION = timedelta(minutes=1)


class TokenKind(StrEnum):
    PERSON = "PERSON"
    NODE = "NODE"


class TokenScope(StrEnum):
    FULL = "FULL"  # everything the person may do
    READ_ONLY = "READ_ONLY"  # queries and subscriptions; every mutation is refused
    METRICS = "METRICS"  # a cloud node's: POST /metrics for its app, nothing else


class TokenRecord(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, populate_by_name=True, frozen=True)

    digest: str = Field(alias="_id")
    key: ObjectId
    kind: TokenKind = TokenKind.PERSON
    scope: TokenScope
    person_id: ObjectId | None = None
    app_id: ObjectId | None = None
    label: str
    created_at: UtcDatetime
    expires_at: UtcDatetime
    revoked_at: UtcDatetime | None = None
    revoked_by: ObjectId | None = None
    last_used_at: UtcDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _older_documents(cls, data: Any) -> Any:
        """Tokens stored before scopes and expiry: full (or metrics for a node), expiring
        ``DEFAULT_LIFETIME`` after creation; their key derives from the hash."""
        if not isinstance(data, dict) or {"key", "scope", "expires_at"} <= data.keys():
            return data
        filled = dict(data)
        digest = str(filled.get("_id", ""))
        if "key" not in filled and ObjectId.is_valid(digest[:24]):
            filled["key"] = ObjectId(digest[:24])
        if "scope" not in filled:
            node = filled.get("kind") == TokenKind.NODE.value
            filled["scope"] = TokenScope.METRICS if node else TokenScope.FULL
        created = filled.get("created_at")
        if "expires_at" not in filled and isinstance(created, datetime):
            filled["expires_at"] = created + DEFAULT_LIFETIME
        return filled

    @property
    def id(self) -> ObjectId:
        """The public identity (``key``), as every other record's ``id``."""
        return self.key

    def expired(self, at: datetime) -> bool:
        return self.expires_at <= at

    def usable(self, at: datetime) -> bool:
        return self.revoked_at is None and not self.expired(at)


class NotRevoked(Exception):
    """revoke_token found no such token (in the given scope) or it was already revoked."""

    def __init__(self, existing: TokenRecord | None) -> None:
        super().__init__("already revoked" if existing else "no such token")
        self.existing = existing


def _tokens(db: Database) -> Any:
    return db[COLLECTION]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def ensure_indexes(db: Database) -> None:
    await _tokens(db).create_index([("person_id", ASCENDING)], name="person")
    # tokens stored before `key` existed get the one their record derives (idempotent)
    async for doc in _tokens(db).find({"key": {"$exists": False}}, {"_id": 1}):
        if isinstance(doc["_id"], str) and ObjectId.is_valid(doc["_id"][:24]):
            await _tokens(db).update_one(
                {"_id": doc["_id"], "key": {"$exists": False}},
                {"$set": {"key": ObjectId(doc["_id"][:24])}},
            )
    # sparse: a key-less document (written by an older process) never collides
    await _tokens(db).create_index(
        [("key", ASCENDING)], unique=True, sparse=True, name="key_unique"
    )


async def issue_token(
    db: Database,
    *,
    scope: TokenScope,
    label: str,
    person_id: ObjectId | None = None,
    app_id: ObjectId | None = None,
    expires_at: datetime | None = None,
) -> tuple[str, TokenRecord]:
    """Create a token; returns the secret (shown once, never stored) and its record.

    A METRICS token belongs to an app's node (``app_id``); FULL and READ_ONLY to a person."""
    if (scope is TokenScope.METRICS) != (app_id is not None) or (person_id is None) == (
        app_id is None
    ):
        raise ValueError("a METRICS token needs an app; FULL and READ_ONLY a person")
    secret = PREFIX + secrets.token_urlsafe(32)
    created = now()
    doc: Document = {
        "_id": digest(secret),
        "key": ObjectId(),
        "kind": (TokenKind.NODE if app_id is not None else TokenKind.PERSON).value,
        "scope": scope.value,
        "label": label,
        "created_at": created,
        "expires_at": expires_at or created + DEFAULT_LIFETIME,
    }
    if person_id is not None:
        doc["person_id"] = person_id
    if app_id is not None:
        doc["app_id"] = app_id
    await _tokens(db).insert_one(doc)
    return secret, TokenRecord.model_validate(doc)


async def create_token(
    db: Database,
    person_id: ObjectId,
    label: str = "cli",
    *,
    scope: TokenScope = TokenScope.FULL,
    expires_at: datetime | None = None,
) -> str:
    """Create a token for a person and return it; only its hash is stored."""
    secret, _record = await issue_token(
        db, scope=scope, label=label, person_id=person_id, expires_at=expires_at
    )
    return secret


async def create_node_token(
    db: Database, app_id: ObjectId, label: str = "node", *, expires_at: datetime | None = None
) -> str:
    """Create a token for one app's cloud node (metric reports only); only its hash is stored."""
    secret, _record = await issue_token(
        db, scope=TokenScope.METRICS, label=label, app_id=app_id, expires_at=expires_at
    )
    return secret


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
    cached: a deactivated person or a revoked token is refused on the next request.
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


def use_is_due(record: TokenRecord, at: datetime) -> bool:
    """Whether a use at ``at`` should be written (the last one is over a minute old)."""
    return record.last_used_at is None or record.last_used_at <= at - USE_RESOLUTION


async def record_use(db: Database, record: TokenRecord, at: datetime) -> None:
    """Set ``last_used_at`` unless another request did within the last minute: a
    conditional update, so racing requests write it once."""
    await _tokens(db).update_one(
        {
            "_id": record.digest,
            "$or": [{"last_used_at": None}, {"last_used_at": {"$lte": at - USE_RESOLUTION}}],
        },
        {"$set": {"last_used_at": at}},
    )


def _owned(person_id: ObjectId | None) -> Document:
    return {} if person_id is None else {"person_id": person_id}


async def get_tokens(
    db: Database, keys: list[ObjectId], person_id: ObjectId | None = None
) -> list[TokenRecord]:
    """Tokens by key; with ``person_id`` only that person's."""
    cursor = _tokens(db).find({"key": {"$in": keys}, **_owned(person_id)})
    return [TokenRecord.model_validate(doc) async for doc in cursor]


async def list_tokens(
    db: Database, window: Window, person_id: ObjectId | None = None
) -> Page[TokenRecord]:
    """A page of tokens in creation order (keyset on ``key``); with ``person_id`` theirs."""
    query = _owned(person_id)
    bounds: Document = {}
    if window.after is not None:
        bounds["$gt"] = window.after
    if window.before is not None:
        bounds["$lt"] = window.before
    keyed = {**query, "key": bounds} if bounds else query
    backwards = window.last is not None and window.first is None
    limit = window.last if backwards else window.first
    assert limit is not None
    cursor = _tokens(db).find(keyed).sort("key", -1 if backwards else 1).limit(limit + 1)
    docs = await cursor.to_list(None)
    more = len(docs) > limit
    docs = docs[:limit]
    if backwards:
        docs.reverse()
    records = [TokenRecord.model_validate(doc) for doc in docs]
    return Page(
        items=records,
        keys=[record.key for record in records],
        has_next_page=more if not backwards else window.before is not None,
        has_previous_page=more if backwards else window.after is not None,
        total_count=await _tokens(db).count_documents(query),
    )


async def revoke_token(
    db: Database, key: ObjectId, revoked_by: ObjectId | None, person_id: ObjectId | None = None
) -> TokenRecord:
    """Revoke a token (with ``person_id``: only if it is theirs). One conditional update:
    of racing revocations one succeeds; raises NotRevoked otherwise."""
    doc = await _tokens(db).find_one_and_update(
        {"key": key, "revoked_at": None, **_owned(person_id)},
        {"$set": {"revoked_at": now(), "revoked_by": revoked_by}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is not None:
        return TokenRecord.model_validate(doc)
    existing = await _tokens(db).find_one({"key": key, **_owned(person_id)})
    raise NotRevoked(None if existing is None else TokenRecord.model_validate(existing))
