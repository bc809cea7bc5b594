"""Every collection's indexes, created at each start (idempotently) by :func:`ensure_indexes`.

Each store module declares its own indexes in its ``ensure_indexes(db)``; this is the list
of those modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.db import Database


async def ensure_indexes(db: Database) -> None:
    """Create every collection's indexes; safe to call on every start."""
    from store import (  # here, not at the top: these modules import store.db
        alerts,
        apps,
        audit,
        embedded_index,
        events,
        licenses,
        maintenance,
        notifications,
        orders,
        people,
        ratelimits,
        reports,
        rollups,
        support,
        tokens,
    )

    modules = (people, apps, audit, tokens, licenses, notifications, support, maintenance)
    for module in (*modules, alerts, events, reports, ratelimits, orders, rollups):
        await module.ensure_indexes(db)
    embedded_index.prepare(db)  # the embedded engine's own (store/embedded_index.py)
