"""Follow-ups of a committed change, run at once by the process that made it.

A change and its record are already one write (pending events, rollup deltas, pending mail
and alerts in the changed document); the follow-up only moves them on, idempotently. If it
fails here nothing is lost: the periodic task finishes it from any process. So a failure is
logged, not raised: the caller's change stands and its answer is the change's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


async def finish_now(work: Callable[[], Awaitable[T]], pending: str, *args: object) -> T | None:
    """``await work()``; on an error (raised by the call or while awaited) log
    ``pending % args`` (what stays pending) at WARNING and answer None."""
    try:
        return await work()
    except Exception:
        log.warning(pending + "; the periodic task finishes it", *args)
        return None
