"""Batch functions for the per-request DataLoaders: results in key order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bson import ObjectId

from store import people as people_store
from store.db import Database
from store.people import PersonRecord

PeopleBatch = Callable[[list[ObjectId]], Awaitable[list[PersonRecord | None]]]


def people_batch(db: Database) -> PeopleBatch:
    """One query for all the people a request asks for in the same tick."""

    async def load(ids: list[ObjectId]) -> list[PersonRecord | None]:
        return await people_store.get_people(db, ids)

    return load
