"""Tokens: authentication reads the token and its person in one round trip."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from resolvers.auth import authenticate, authenticate_node, identify
from store import people as people_store
from store import tokens as token_store
from store.people import PersonStatus
from tests.helpers import make_person

_EMBEDDED = "_AsyncMongoMockCollection__collection"


class _Calls:
    """Counts database calls on every collection of ``db``."""

    def __init__(self, db: Any) -> None:
        self.db, self.calls = db, 0

    def __getitem__(self, name: str) -> Any:
        collection, counter = self.db[name], self

        class Counted:
            def __getattr__(self, attr: str) -> Any:
                value = getattr(collection, attr)  # AttributeError when the client has none
                # store.db.aggregate reads the embedded engine through its synchronous
                # collection (one read, no cursor); that access is the round trip there
                counter.calls += attr in ("find", "find_one", "aggregate", _EMBEDDED)
                return value

        return Counted()


async def test_token_and_person_in_one_round_trip(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    token = await token_store.create_token(db, person.id)
    counted = _Calls(db)
    credential = await identify(counted, f"Bearer {token}")
    assert credential is not None and credential.person == person and credential.token_id
    assert counted.calls == 1
    record, found = await token_store.find_token_and_person(db, token)
    assert record is not None and record.person_id == person.id
    assert found == person


async def test_node_unknown_and_inactive_tokens(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    app_id = ObjectId()
    node = await token_store.create_node_token(db, app_id)
    credential = await identify(db, f"Bearer {node}")
    assert credential is not None and credential.person is None
    assert credential.node_app_id == app_id
    assert await authenticate(db, f"Bearer {node}") is None
    assert await authenticate_node(db, f"Bearer {node}") == app_id
    assert await identify(db, "Bearer mxo_unknown") is None
    assert await token_store.find_token_and_person(db, "not-a-token") == (None, None)
    token = await token_store.create_token(db, person.id)
    await people_store.set_status(db, person.id, PersonStatus.INACTIVE)
    assert await identify(db, f"Bearer {token}") is None  # read now, never cached
    assert await authenticate_node(db, f"Bearer {token}") is None
    orphan = await token_store.create_token(db, ObjectId())  # its person no longer exists
    assert await identify(db, f"Bearer {orphan}") is None
