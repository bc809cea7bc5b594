"""Per-token rate limits: a budget of cost points per fixed window, shared by every process.

The shared count lives in MongoDB (store/ratelimits.py). A process does not ask it on every
request: it keeps, per token, the window's total it last read (``known``) and what it has
admitted since (``pending``), and admits a request while ``known + pending + cost`` stays
within the budget. It adds its pending points to the shared count (one ``$inc`` that returns
the new total) when they would pass its allowance (``ALLOWANCE`` of the budget, at least the
request's cost), and in the background at most every ``SYNC_SECONDS``.

Overshoot: a process can only admit what it has not yet written, so with P processes a
window can exceed its budget by at most P x max(allowance, the largest single cost).
Refusals are never wrong: the known total only grows within a window.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from graph.limits import Protection
from resolvers.auth import Credential
from store import ratelimits as store
from store.db import Database

log = logging.getLogger(__name__)

ALLOWANCE = 0.02
SYNC_SECONDS = 1.0


@dataclass(slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds
    retry_after: int  # seconds; 0 when allowed


class _Bucket:
    """One token's window in this process; ``remaining`` is kept equal to ``limit - known -
    pending`` (the extension's ``remaining``). ``limit`` and ``reset_text`` are fixed for the
    window: a budget that changes (Support granted or removed) applies from the next one."""

    __slots__ = (
        "allowance",
        "known",
        "limit",
        "pending",
        "remaining",
        "reset_at",
        "reset_text",
        "sync",
        "synced_at",
        "window",
    )

    def __init__(self, window: int, size: int, limit: int, now: float) -> None:
        self.window = window
        self.reset_at = window + size
        self.reset_text = datetime.fromtimestamp(self.reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.limit = limit
        self.allowance = limit * ALLOWANCE
        self.known = 0
        self.pending = 0
        self.remaining = limit
        self.synced_at = now
        self.sync: asyncio.Future[bool] | None = None

    def recount(self) -> None:
        remaining = self.limit - self.known - self.pending
        self.remaining = remaining if remaining > 0 else 0


class RateLimiter:
    def __init__(self, protection: Protection) -> None:
        self.protection = protection
        self.buckets: dict[str, _Bucket] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # background syncs

    def _limit(self, credential: Credential) -> int:
        protection = self.protection
        if credential.node_app_id is not None:
            return protection.budget_node
        if credential.person is not None and credential.person.is_support:
            return protection.budget_support
        return protection.budget_person

    def spend(self, db: Database, credential: Credential, cost: int) -> _Bucket | Decision | None:
        """Admit ``cost`` points without waiting: the token's bucket (admitted, counted), a
        refusal (nothing counted), or None when this process must first write what it
        admitted (its allowance is spent): then :meth:`charge`. The request path's call."""
        now = time.time()
        bucket = self.buckets.get(credential.token_id)
        if bucket is None or now >= bucket.reset_at or now < bucket.window:
            bucket = self._new_bucket(credential, now)
        remaining = bucket.remaining - cost
        if remaining < 0:
            return self._refused(bucket, now)
        pending = bucket.pending
        if pending and pending + cost > bucket.allowance:  # at most max(allowance, cost)
            return None
        bucket.pending = pending + cost
        bucket.remaining = remaining
        if bucket.sync is None and now - bucket.synced_at > SYNC_SECONDS:
            bucket.synced_at = now  # scheduled: one background sync at a time
            task = asyncio.get_running_loop().create_task(
                self._background(db, credential.token_id, bucket)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return bucket

    def _new_bucket(self, credential: Credential, now: float) -> _Bucket:
        size = self.protection.window_seconds
        window = int(now // size) * size
        if len(self.buckets) > 10_000:
            self._forget(window)
        bucket = self.buckets[credential.token_id] = _Bucket(
            window, size, self._limit(credential), now
        )
        return bucket

    def try_charge(self, db: Database, credential: Credential, cost: int) -> Decision | None:
        """:meth:`spend` as a :class:`Decision` (or None: :meth:`charge`)."""
        spent = self.spend(db, credential, cost)
        if isinstance(spent, _Bucket):
            return Decision(True, spent.limit, spent.remaining, spent.reset_at, 0)  # type: ignore[union-attr]
        return spent

    async def charge(self, db: Database, credential: Credential, cost: int) -> Decision:
        """Admit ``cost`` points for the token (counted) or refuse (nothing counted), writing
        this process's points to the shared count first when its allowance is spent."""
        while True:
            decision = self.try_charge(db, credential, cost)
            if decision is not None:
                return decision
            bucket = self.buckets[credential.token_id]
            if not await self._sync(db, credential.token_id, bucket):
                bucket.pending += cost  # the database is away: admit, counted here
                bucket.recount()
                return Decision(True, bucket.limit, bucket.remaining, bucket.reset_at, 0)

    def _refused(self, bucket: _Bucket, now: float) -> Decision:
        reset_at = bucket.reset_at
        retry_after = max(math.ceil(reset_at - now), 1)
        return Decision(False, bucket.limit, bucket.remaining, reset_at, retry_after)

    async def _sync(self, db: Database, key: str, bucket: _Bucket) -> bool:
        """Write the bucket's pending points and read the shared total back (one in flight);
        False when the database could not be reached."""
        if bucket.sync is not None:
            return await asyncio.shield(bucket.sync)
        bucket.sync = asyncio.get_running_loop().create_future()
        reached = False
        amount, bucket.pending = bucket.pending, 0
        try:
            total = await store.add_usage(
                db, key, bucket.window, self.protection.window_seconds, amount
            )
            bucket.known = max(bucket.known, total)
            reached = True
            bucket.recount()
        except Exception:  # the database is away: keep counting here, try again later
            log.warning("rate limit sync failed; counting locally", exc_info=True)
            bucket.pending += amount
            bucket.recount()
        finally:
            bucket.synced_at = time.time()
            bucket.sync.set_result(reached)
            bucket.sync = None
        return reached

    async def _background(self, db: Database, key: str, bucket: _Bucket) -> None:
        await self._sync(db, key, bucket)

    def _forget(self, window: int) -> None:
        for key in [k for k, b in self.buckets.items() if b.window != window]:
            del self.buckets[key]

    async def flush(self, db: Database) -> None:
        """Write every pending point (at shutdown)."""
        for key, bucket in list(self.buckets.items()):
            if bucket.pending:
                await self._sync(db, key, bucket)
