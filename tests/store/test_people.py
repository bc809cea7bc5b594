"""Store functions for people: unique email and MendixID, MendixID set once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from store import people as people_store
from store import tokens as token_store
from tests.helpers import make_person


async def test_email_and_mendix_id_are_unique(db: Any) -> None:
    await make_person(db, "a@example.com", "A", "mx-a")
    await make_person(db, "b@example.com", "B")  # no MendixID: never collides
    await make_person(db, "c@example.com", "C")
    with pytest.raises(people_store.DuplicateEmail):
        await make_person(db, "a@example.com", "Again")
    with pytest.raises(people_store.DuplicateMendixId):
        await make_person(db, "d@example.com", "D", "mx-a")
    assert await db["people"].count_documents({}) == 3


async def test_mendix_id_is_set_once_even_when_racing(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    results = await asyncio.gather(
        *(people_store.register_mendix_id(db, person.id, f"mx-{i}") for i in range(50))
    )
    applied = [result for result in results if result is not None]
    assert len(applied) == 1
    stored = await people_store.get_person(db, person.id)
    assert stored is not None and stored.mendix_id == applied[0][1].mendix_id


async def test_get_people_keeps_key_order(db: Any) -> None:
    a = await make_person(db, "a@example.com", "A")
    b = await make_person(db, "b@example.com", "B")
    missing = type(a.id)()
    found = await people_store.get_people(db, [b.id, missing, a.id, b.id])
    assert [p.email if p else None for p in found] == [
        "b@example.com",
        None,
        "a@example.com",
        "b@example.com",
    ]


async def test_tokens_are_stored_as_hashes(db: Any) -> None:
    person = await make_person(db, "a@example.com", "A")
    token = await token_store.create_token(db, person.id)
    stored = await db["tokens"].find_one({})
    assert stored is not None and token not in str(stored)
    record = await token_store.find_token(db, token)
    assert record is not None and record.person_id == person.id
    assert await token_store.find_token(db, token + "x") is None
