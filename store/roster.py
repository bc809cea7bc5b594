"""The active Support roster: one document listing the active Mendix Support people, so that
"never deactivate the last one" is a single conditional update (two Supports deactivating
each other at once cannot both succeed; a per-person update could not see the other).

Deactivating leaves the roster first (refused when it would empty it), then sets the
person's status; activating sets the status first, then joins. A crash between the two
steps leaves the roster short of an active person: it then refuses more, never less. The
roster is built from the people collection the first time it is needed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from store.db import Database

COLLECTION = "support_roster"
ACTIVE = "active"


class LastSupport(Exception):
    """Deactivating this person would leave no active Mendix Support."""


def _roster(db: Database) -> Any:
    return db[COLLECTION]


async def _ensure(db: Database) -> None:
    if await _roster(db).find_one({"_id": ACTIVE}, {"_id": 1}) is not None:
        return
    ids = await db["people"].distinct("_id", {"roles": "SUPPORT", "status": "ACTIVE"})
    with contextlib.suppress(DuplicateKeyError):  # another process built it meanwhile
        await _roster(db).update_one(
            {"_id": ACTIVE}, {"$setOnInsert": {"ids": list(ids)}}, upsert=True
        )


async def leave(db: Database, person_id: ObjectId) -> None:
    """Take an active Support person off the roster; raises LastSupport if they are the
    only one left. A person not on it (inactive, not Support) is let through."""
    await _ensure(db)
    left = await _roster(db).update_one(
        {"_id": ACTIVE, "ids": person_id, "ids.1": {"$exists": True}},
        {"$pull": {"ids": person_id}},
    )
    if left.modified_count:
        return
    if await _roster(db).find_one({"_id": ACTIVE, "ids": person_id}, {"_id": 1}) is not None:
        raise LastSupport()


async def join(db: Database, person_id: ObjectId) -> None:
    """Put an active Support person on the roster (idempotent)."""
    await _ensure(db)
    await _roster(db).update_one({"_id": ACTIVE}, {"$addToSet": {"ids": person_id}})


async def active_support(db: Database) -> list[ObjectId]:
    await _ensure(db)
    found = await _roster(db).find_one({"_id": ACTIVE})
    return list((found or {}).get("ids") or [])
