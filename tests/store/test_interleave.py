"""Concurrent requests interleave on both tiers: a task's read and its following write are
separated by other tasks' calls (mongomock-motor alone would run each task to its end)."""

from __future__ import annotations

import asyncio
from typing import Any


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
