"""Tokens: authentication reads the token and its person in one round trip."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from bson import ObjectId

from resolvers.auth import authenticate, authenticate_node, identify
from store import people as people_store
from store import tokens as token_store
from store.pagination import Window
from store.people import PersonStatus
from store.records import now
from store.tokens import TokenScope
from tests.helpers import dump, make_person

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


async def test_scopes_and_expiry_on_the_credential(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    full = await token_store.create_token(db, person.id)
    read_only = await token_store.create_token(db, person.id, scope=TokenScope.READ_ONLY)
    node = await token_store.create_node_token(db, ObjectId())
    seen = {}
    for name, token in (("full", full), ("read", read_only), ("node", node)):
        credential = await identify(db, f"Bearer {token}")
        assert credential is not None and credential.expires_at is not None
        seen[name] = credential
    assert (seen["full"].scope, seen["full"].may_write, seen["full"].may_use_graphql) == (
        TokenScope.FULL,
        True,
        True,
    )
    assert (seen["read"].may_write, seen["read"].may_use_graphql) == (False, True)
    assert (seen["node"].scope, seen["node"].may_use_graphql) == (TokenScope.METRICS, False)
    # default lifetime: 90 days from creation
    record = await token_store.find_token(db, full)
    assert record is not None
    assert record.expires_at - record.created_at == timedelta(days=90)
    assert len({c.token_id for c in seen.values()}) == 3
    assert seen["full"].token_id == str(record.key)  # the public id, never the secret


async def test_expired_and_revoked_tokens_are_refused(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    expired = await token_store.create_token(db, person.id, expires_at=now() - timedelta(seconds=1))
    assert await identify(db, f"Bearer {expired}") is None
    token = await token_store.create_token(db, person.id)
    record = await token_store.find_token(db, token)
    assert record is not None and await identify(db, f"Bearer {token}") is not None
    revoked = await token_store.revoke_token(db, record.key, person.id)
    assert revoked.revoked_at is not None and revoked.revoked_by == person.id
    assert await identify(db, f"Bearer {token}") is None  # on the very next request
    with pytest.raises(token_store.NotRevoked) as again:
        await token_store.revoke_token(db, record.key, person.id)
    assert again.value.existing is not None  # exists, already revoked
    with pytest.raises(token_store.NotRevoked) as missing:
        await token_store.revoke_token(db, ObjectId(), person.id)
    assert missing.value.existing is None


async def test_revoking_someone_elses_token_in_their_scope_finds_nothing(db: Any) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    bob = await make_person(db, "bob@example.com", "Bob")
    secret, record = await token_store.issue_token(
        db, scope=TokenScope.FULL, label="ann", person_id=ann.id
    )
    before = await dump(db)
    with pytest.raises(token_store.NotRevoked) as refusal:
        await token_store.revoke_token(db, record.key, bob.id, person_id=bob.id)
    assert refusal.value.existing is None
    assert await dump(db) == before
    assert await identify(db, f"Bearer {secret}") is not None


async def test_concurrent_revocations_revoke_once(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    _secret, record = await token_store.issue_token(
        db, scope=TokenScope.FULL, label="x", person_id=person.id
    )
    results = await asyncio.gather(
        *(token_store.revoke_token(db, record.key, person.id) for _ in range(10)),
        return_exceptions=True,
    )
    done = [r for r in results if isinstance(r, token_store.TokenRecord)]
    refused = [r for r in results if isinstance(r, token_store.NotRevoked)]
    assert (len(done), len(refused)) == (1, 9)
    stored = await token_store.find_token(db, _secret)
    assert stored is not None and stored.revoked_at == done[0].revoked_at


class _Writes:
    """Counts update calls on the tokens collection, passing everything else through."""

    def __init__(self, db: Any) -> None:
        self.db, self.updates = db, 0

    def __getitem__(self, name: str) -> Any:
        collection, counter = self.db[name], self

        class Counted:
            def __getattr__(self, attr: str) -> Any:
                counter.updates += attr.startswith("update") or attr.startswith("find_one_and")
                return getattr(collection, attr)

        return Counted()


async def test_last_use_is_written_at_most_once_a_minute(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    token = await token_store.create_token(db, person.id)
    assert (await token_store.find_token(db, token)).last_used_at is None  # type: ignore[union-attr]
    counted = _Writes(db)
    # many concurrent requests: each reads once; one conditional write lands
    results = await asyncio.gather(*(identify(counted, f"Bearer {token}") for _ in range(20)))
    assert all(result is not None for result in results)
    first = (await token_store.find_token(db, token)).last_used_at  # type: ignore[union-attr]
    assert first is not None
    writes = counted.updates
    for _ in range(5):  # within the minute: nothing more is written
        assert await identify(counted, f"Bearer {token}") is not None
    assert counted.updates == writes
    assert (await token_store.find_token(db, token)).last_used_at == first  # type: ignore[union-attr]
    # a minute later the next request writes again
    await db["tokens"].update_one(
        {"_id": token_store.digest(token)}, {"$set": {"last_used_at": first - timedelta(minutes=2)}}
    )
    assert await identify(counted, f"Bearer {token}") is not None
    later = (await token_store.find_token(db, token)).last_used_at  # type: ignore[union-attr]
    assert later is not None and later >= first
    assert counted.updates == writes + 1


async def test_last_use_conditional_write_lands_once_under_a_race(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    secret, record = await token_store.issue_token(
        db, scope=TokenScope.FULL, label="x", person_id=person.id
    )
    at = now()
    await asyncio.gather(
        *(token_store.record_use(db, record, at + timedelta(milliseconds=i)) for i in range(10))
    )
    stored = await token_store.find_token(db, secret)
    assert stored is not None and stored.last_used_at == at  # the first write; the rest: no-ops


async def test_tokens_stored_before_scopes_still_work_and_expire(db: Any) -> None:
    """A token document from before scopes, expiry and keys: FULL (a node's: METRICS),
    expiring 90 days after creation, with a key derived from its hash."""
    person = await make_person(db, "a@example.com", "A")
    fresh, old = "mxo_" + "a" * 43, "mxo_" + "b" * 43
    for secret, age in ((fresh, 10), (old, 91)):
        await db["tokens"].insert_one(
            {
                "_id": token_store.digest(secret),
                "person_id": person.id,
                "label": "cli",
                "created_at": now() - timedelta(days=age),
            }
        )
    node = "mxo_" + "c" * 43
    await db["tokens"].insert_one(
        {
            "_id": token_store.digest(node),
            "kind": "NODE",
            "app_id": ObjectId(),
            "label": "node",
            "created_at": now(),
        }
    )
    credential = await identify(db, f"Bearer {fresh}")
    assert credential is not None and credential.scope is TokenScope.FULL
    assert await identify(db, f"Bearer {old}") is None  # past the default 90 days
    node_credential = await identify(db, f"Bearer {node}")
    assert node_credential is not None and node_credential.scope is TokenScope.METRICS
    await token_store.ensure_indexes(db)  # gives them their key, idempotently
    await token_store.ensure_indexes(db)
    keys = [doc.get("key") async for doc in db["tokens"].find({})]
    assert all(isinstance(key, ObjectId) for key in keys) and len(set(keys)) == 3
    record = await token_store.find_token(db, fresh)
    assert record is not None and str(record.key) == credential.token_id


async def test_list_pages_in_creation_order(db: Any) -> None:
    ann = await make_person(db, "ann@example.com", "Ann")
    bob = await make_person(db, "bob@example.com", "Bob")
    mine = [
        (await token_store.issue_token(db, scope=TokenScope.FULL, label=f"t{i}", person_id=ann.id))[
            1
        ]
        for i in range(5)
    ]
    await token_store.create_token(db, bob.id)
    first = await token_store.list_tokens(db, Window(first=2), ann.id)
    assert [r.label for r in first.items] == ["t0", "t1"]
    assert (first.total_count, first.has_next_page) == (5, True)
    rest = await token_store.list_tokens(db, Window(first=10, after=first.keys[-1]), ann.id)
    assert [r.label for r in rest.items] == ["t2", "t3", "t4"] and not rest.has_next_page
    last = await token_store.list_tokens(db, Window(last=2, before=mine[4].key), ann.id)
    assert [r.label for r in last.items] == ["t2", "t3"] and last.has_previous_page
    everyone = await token_store.list_tokens(db, Window(first=100))
    assert everyone.total_count == 6


async def test_issue_refuses_a_scope_without_its_holder(db: Any) -> None:
    with pytest.raises(ValueError, match="METRICS"):
        await token_store.issue_token(db, scope=TokenScope.METRICS, label="x", person_id=ObjectId())
    with pytest.raises(ValueError, match="METRICS"):
        await token_store.issue_token(db, scope=TokenScope.READ_ONLY, label="x", app_id=ObjectId())
    assert await db["tokens"].count_documents({}) == 0
