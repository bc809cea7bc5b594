"""The periodic notice task: while the API serves, queue due notices and deliver the outbox.

Every step is safe to run in several processes at once (dedupe keys, claims), so each API
replica may run it; nothing here keeps state between passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ownership.mailer import DeliveryReport, SmtpSettings, deliver_pending
from resolvers.notifications import RunReport, run_notices
from store.db import Database, Store

log = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None]]
STOP_GRACE = 30.0


@dataclass(frozen=True)
class PassReport:
    notices: RunReport
    delivery: DeliveryReport | None


async def run_once(db: Database, smtp: SmtpSettings | None) -> PassReport:
    """Queue due renewal and maintenance notices, then deliver what is due (when SMTP is set)."""
    notices = await run_notices(db)
    delivery = await deliver_pending(db, smtp) if smtp is not None else None
    return PassReport(notices, delivery)


def periodic(smtp: SmtpSettings | None, interval: float) -> Callable[[Store], Awaitable[Stop]]:
    """A lifespan hook: starts the loop on the open store and returns how to stop it."""

    async def start(store: Store) -> Stop:
        stopping = asyncio.Event()

        async def loop() -> None:
            while not stopping.is_set():
                try:
                    report = await run_once(store.db, smtp)
                    if report.notices.renewal_notices or report.notices.maintenance_notices:
                        log.info("Queued notices: %s", report.notices)
                except Exception:  # keep serving; the next pass retries
                    log.exception("Notice pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=interval)

        task = asyncio.create_task(loop(), name="notices")

        async def stop() -> None:
            """Let the pass under way finish (so a sent message is also marked SENT), then end;
            a pass stuck longer than STOP_GRACE is cancelled (its claims expire and retry)."""
            stopping.set()
            try:
                await asyncio.wait_for(task, timeout=STOP_GRACE)
            except TimeoutError:
                log.warning("Notice pass did not finish in %ss; cancelled", STOP_GRACE)

        return stop

    return start
