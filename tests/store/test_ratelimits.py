"""Rate-limit windows in the database: every process's spending adds up, per token and window."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from store import ratelimits


def _window(offset: int = 0) -> int:
    """The current hour's start (a past window's document would expire at once)."""
    return int(time.time() // 3600) * 3600 + offset


async def test_concurrent_additions_all_count(db: Any) -> None:
    totals = await asyncio.gather(
        *(ratelimits.add_usage(db, "tok", _window(), 3600, amount) for amount in range(1, 21))
    )
    assert max(totals) == sum(range(1, 21))
    assert len(set(totals)) == 20  # each addition saw its own total: none lost, none merged


async def test_tokens_and_windows_are_separate(db: Any) -> None:
    now, later = _window(), _window(3600)
    assert await ratelimits.add_usage(db, "a", now, 3600, 5) == 5
    assert await ratelimits.add_usage(db, "b", now, 3600, 7) == 7
    assert await ratelimits.add_usage(db, "a", later, 3600, 1) == 1
    assert await ratelimits.add_usage(db, "a", now, 3600, 2) == 7
    document = await db[ratelimits.COLLECTION].find_one({"_id": f"a:{now}"})
    assert document["used"] == 7 and document["expires_at"] is not None
