"""Concurrent requests interleave on the mock tier as they do over the wire: a task's read
and its following write are separated by other tasks' calls (mongomock-motor alone runs each
task to its end, so the mock tier's race tests never raced)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest


@pytest.mark.mock_only("over the wire the order of replies depends on the network")
async def test_gathered_tasks_interleave_between_read_and_write(db: Any) -> None:
    await db["things"].insert_one({"_id": 1, "n": 0})
    order: list[str] = []

    async def task(name: str) -> None:
        await db["things"].find_one({"_id": 1})
        order.append(f"{name} read")
        await db["things"].update_one({"_id": 1}, {"$inc": {"n": 1}})
        order.append(f"{name} wrote")

    await asyncio.gather(task("a"), task("b"))
    assert order.index("b read") < order.index("a wrote")
    assert (await db["things"].find_one({"_id": 1}))["n"] == 2


@pytest.mark.mock_only("over the wire the order of replies depends on the network")
async def test_a_read_waits_its_turn_like_a_round_trip(db: Any) -> None:
    """A read issued after another task's write started does not overtake it: each call
    yields before it runs, as a round trip does (before, reads ran at once: n was 0)."""
    await db["things"].insert_one({"_id": 1, "n": 0})

    async def write() -> None:
        await db["things"].update_one({"_id": 1}, {"$inc": {"n": 1}})

    async def read() -> int:
        doc = await db["things"].find_one({"_id": 1})
        return int(doc["n"])

    async def listing() -> int:
        docs = await db["things"].find({"_id": 1}).to_list(None)
        return int(docs[0]["n"])

    _, seen, listed = await asyncio.gather(write(), read(), listing())
    assert (seen, listed) == (1, 1)
