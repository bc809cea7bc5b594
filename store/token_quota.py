"""How many active tokens a person holds, and creating one within a maximum.

The maximum is counted before the insert, and again after it, when a racing creation may
have passed it: then the new token is deleted before its secret was ever shown. Racing
creations at the limit may both be refused; they are never both kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId

from store.db import Database
from store.records import now
from store.tokens import COLLECTION, DEFAULT_LIFETIME, TokenRecord, TokenScope, issue_token


class TooManyTokens(Exception):
    """The person already holds ``limit`` active tokens; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} active tokens per person")
        self.limit = limit


def _tokens(db: Database) -> Any:
    return db[COLLECTION]


async def count_active(db: Database, person_id: ObjectId, at: datetime) -> int:
    """A person's tokens neither revoked nor expired at ``at`` (tokens stored before expiry
    existed expire ``DEFAULT_LIFETIME`` after their creation)."""
    older = {"expires_at": {"$exists": False}, "created_at": {"$gt": at - DEFAULT_LIFETIME}}
    query = {
        "person_id": person_id,
        "revoked_at": None,
        "$or": [{"expires_at": {"$gt": at}}, older],
    }
    return int(await _tokens(db).count_documents(query))


async def issue_within(
    db: Database,
    person_id: ObjectId,
    max_active: int,
    *,
    scope: TokenScope,
    label: str,
    expires_at: datetime | None = None,
) -> tuple[str, TokenRecord]:
    """A person's new token (the secret, shown once, and its record) unless they already
    hold ``max_active`` active ones: then TooManyTokens and nothing is kept."""
    if await count_active(db, person_id, now()) >= max_active:
        raise TooManyTokens(max_active)
    secret, record = await issue_token(
        db, scope=scope, label=label, person_id=person_id, expires_at=expires_at
    )
    if await count_active(db, person_id, record.created_at) > max_active:
        await _tokens(db).delete_one({"_id": record.digest})
        raise TooManyTokens(max_active)
    return secret, record
