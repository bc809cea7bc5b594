"""The embedded engine answers ``_id`` filters by key (store/embedded_keys.py): the same
documents as mongomock's scan, reads and conditional updates alike, testing one document."""

from __future__ import annotations

from typing import Any

import mongomock.collection
import pytest
from bson import ObjectId

from store import embedded_keys

pytestmark = pytest.mark.mock_only(reason="a shortcut of the embedded engine (mongomock)")


@pytest.fixture
def tested(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every document mongomock's matcher is asked about."""
    seen: list[Any] = []
    applies = mongomock.collection.filter_applies

    def counting(filter: Any, document: Any) -> bool:
        seen.append(document)
        return bool(applies(filter, document))

    monkeypatch.setattr(mongomock.collection, "filter_applies", counting)
    monkeypatch.setattr(embedded_keys, "filter_applies", counting)
    return seen


async def test_an_id_lookup_tests_one_document(db: Any, tested: list[Any]) -> None:
    docs = [{"_id": ObjectId(), "n": n} for n in range(200)]
    await db["things"].insert_many(docs)
    tested.clear()
    assert await db["things"].find_one({"_id": docs[7]["_id"]}) == docs[7]
    assert len(tested) == 1
    tested.clear()
    await db["things"].update_one({"_id": docs[9]["_id"], "n": 9}, {"$set": {"n": 90}})
    assert len(tested) == 1


async def test_id_filters_mean_what_they_meant(db: Any) -> None:
    things = db["things"]
    key = ObjectId()
    await things.insert_many([{"_id": key, "n": 1, "tags": ["a"]}, {"_id": "named", "n": 2}])
    assert await things.find_one({"_id": key, "n": 2}) is None  # the rest of the filter holds
    assert await things.find_one({"_id": key, "tags": "a"}) == {"_id": key, "n": 1, "tags": ["a"]}
    assert await things.find_one({"_id": "named"}) == {"_id": "named", "n": 2}
    assert await things.find_one({"_id": ObjectId()}) is None
    assert await things.count_documents({"_id": {"$in": [key, "named"]}}) == 2  # not by key
    refused = await things.update_one({"_id": key, "n": 5}, {"$set": {"n": 6}})
    assert refused.matched_count == 0
    missing = ObjectId()
    await things.update_one({"_id": missing, "n": 3}, {"$set": {"m": 1}}, upsert=True)
    assert await things.find_one({"_id": missing}) == {"_id": missing, "n": 3, "m": 1}
    await things.delete_one({"_id": "named"})
    assert await things.count_documents({}) == 2
