"""The periodic task: while the API serves, queue due notices and deliver the outbox, and
finish what a crashed request left (audit events still pending in their documents, support
approvals whose approver stopped).

Every step is safe to run in several processes at once (dedupe keys, claims, idempotent
moves), so each API replica may run it; nothing here keeps state between passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ownership.mailer import DeliveryReport, SmtpSettings, deliver_pending
from resolvers.approvals import finish_stale
from resolvers.audit import finish_pending
from resolvers.notifications import RunReport, run_notices
from store import gated
from store.db import Database, Store

log = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None]]
STOP_GRACE = 30.0


@dataclass(frozen=True)
class PassReport:
    notices: RunReport
    delivery: DeliveryReport | None
    approvals_settled: int = 0
    events_drained: int = 0


async def recover(db: Database) -> tuple[int, int]:
    """Finish what crashes left: stale support approvals, then pending audit events."""
    settled = await finish_stale(db)
    drained = await gated.move_all(db) + await finish_pending(db)
    return settled, drained


async def run_once(db: Database, smtp: SmtpSettings | None) -> PassReport:
    """Finish what crashes left, queue due renewal and maintenance notices, then deliver
    what is due (when SMTP is set)."""
    settled, drained = await recover(db)
    notices = await run_notices(db)
    delivery = await deliver_pending(db, smtp) if smtp is not None else None
    return PassReport(notices, delivery, settled, drained)


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
                    if report.approvals_settled or report.events_drained:
                        log.info(
                            "Recovered: %d stale approvals, %d pending audit events",
                            report.approvals_settled,
                            report.events_drained,
                        )
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
