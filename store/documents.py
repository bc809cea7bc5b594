"""Trusted documents: GraphQL documents registered by their SHA-256, shared by every process.

``_id`` is the document's ID, ``sha256:<64 hex digits>`` of its exact text; the text never
changes for an ID, so storing one twice is a no-op.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from store.db import Database
from store.records import UtcDatetime, now

COLLECTION = "documents"


class DocumentRecord(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    id: str = Field(alias="_id")
    body: str
    # where it was registered from: "file" (a documents folder), "cli", "apq" (a client)
    source: str
    name: str | None = None
    created_at: UtcDatetime


def _documents(db: Database) -> Any:
    return db[COLLECTION]


async def put_document(
    db: Database, document_id: str, body: str, source: str, name: str | None = None
) -> bool:
    """Store a document under its ID; True when it was new."""
    result = await _documents(db).update_one(
        {"_id": document_id},
        {
            "$setOnInsert": {
                "body": body,
                "source": source,
                "name": name,
                "created_at": now(),
            }
        },
        upsert=True,
    )
    return result.upserted_id is not None


async def get_document(db: Database, document_id: str) -> DocumentRecord | None:
    found = await _documents(db).find_one({"_id": document_id})
    return None if found is None else DocumentRecord.model_validate(found)


async def all_documents(db: Database) -> list[DocumentRecord]:
    cursor = _documents(db).find({}).sort("_id", 1)
    return [DocumentRecord.model_validate(found) async for found in cursor]
