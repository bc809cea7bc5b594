"""Rate-limit windows: the points each token spent in a window, shared by every API process.

One document per (token, window), ``{_id: "<token id>:<window start>", used, expires_at}``;
processes add what they spent with one ``$inc`` and read the new total back. A TTL index drops
a window's document once it is over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument

from store.db import Database

COLLECTION = "rate_limits"


async def ensure_indexes(db: Database) -> None:
    await db[COLLECTION].create_index("expires_at", name="expiry", expireAfterSeconds=0)


async def add_usage(
    db: Database, token_id: str, window_start: int, window: int, amount: int
) -> int:
    """Add ``amount`` points to the token's window starting at ``window_start`` (epoch seconds)
    and return the window's total, every process's spending included."""
    expires = datetime.fromtimestamp(window_start + window, UTC) + timedelta(minutes=5)
    document = await db[COLLECTION].find_one_and_update(
        {"_id": f"{token_id}:{window_start}"},
        {"$inc": {"used": amount}, "$setOnInsert": {"expires_at": expires}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return int(document["used"]) if document else amount
