"""store/gated.py against a database: a record is pushed into its app only where the gate
(version, right) and the rules hold, and moved into its collection exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId

from store import apps as app_store
from store import gated
from store.apps import Hosting
from store.gated import Gate
from store.rights import team_member
from tests.helpers import dump, make_person

TARGET = "support_requests"


async def _app(db: Any) -> Any:
    contact = await make_person(db, "tc@example.com", "Contact", "mx-tc")
    return await app_store.create_app(
        db,
        name="App",
        subdomain="app",
        hosting=Hosting.ON_PREMISES,
        technical_contact_id=contact.id,
    )


@pytest.mark.parametrize("broken", ["version", "right", "rule"])
async def test_a_gate_or_rule_that_no_longer_holds_writes_nothing(db: Any, broken: str) -> None:
    app = await _app(db)
    stranger = ObjectId()
    right = team_member(stranger if broken == "right" else app.member_ids[0], "no").condition
    gate = Gate(app.version + (1 if broken == "version" else 0), right)
    rules = {"hosting": Hosting.MENDIX_CLOUD.value} if broken == "rule" else {}
    before = await dump(db)
    assert not await gated.create(db, app.id, gate, rules, TARGET, {"_id": ObjectId()})
    assert await dump(db) == before


async def test_a_record_is_moved_once_and_never_overwritten(db: Any) -> None:
    app = await _app(db)
    doc = {"_id": ObjectId(), "subject": "first"}
    assert await gated.create(db, app.id, Gate(app.version), {}, TARGET, doc)
    assert await db[TARGET].find_one({"_id": doc["_id"]}) == doc
    # as if a crash left the same record in the app after its move: moved again, a no-op
    entry = {"_id": doc["_id"], "target": TARGET, "doc": {**doc, "subject": "again"}}
    await db["apps"].update_one({"_id": app.id}, {"$push": {gated.FIELD: entry}})
    assert await gated.move_all(db) == 1
    assert await db[TARGET].find({}).to_list(None) == [doc]
    assert await gated.move_all(db) == 0
    stored = await db["apps"].find_one({"_id": app.id})
    assert gated.FIELD not in stored and stored["version"] == app.version


async def test_only_known_collections_are_written(db: Any) -> None:
    app = await _app(db)
    with pytest.raises(ValueError, match="not a gated collection"):
        await gated.create(db, app.id, Gate(app.version), {}, "people", {"_id": ObjectId()})
    entry = {"_id": ObjectId(), "target": "people", "doc": {"_id": ObjectId()}}
    await db["apps"].update_one({"_id": app.id}, {"$push": {gated.FIELD: entry}})
    assert await gated.move(db, app.id) == 0
    assert await db["people"].count_documents({"_id": entry["doc"]["_id"]}) == 0
