"""Support's at-risk ``totalCount`` from the rollups (store/rollup_reads.py).

Support sees every app, so the number of apps at one risk, optionally narrowed by hosting,
is a rollup counter (licenses expiring: N + 1 day counters), whatever the number of apps.
Any other filter (status, region, search, a person, several risks) or another viewer: None,
and the caller counts the matching apps in its own scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from resolvers.app_views import DEFAULT_EXPIRING_DAYS, RISK_FILTERS, AppRisk, AppsFilter
from resolvers.inputs import parse
from store import rollup_reads
from store.apps import Hosting
from store.db import Database
from store.people import PersonRecord
from store.records import now

EXPIRING = "license_expiring"


@dataclass(frozen=True)
class Ask:
    """One risk (a key of store.reports.RISKS, or :data:`EXPIRING` within ``days``),
    narrowed by ``hosting`` at most."""

    risk: str
    days: int
    hosting: list[Hosting] | None


def rollup_ask(
    filters: Mapping[str, Any], risk: str | None = None, days: int | None = None
) -> Ask | None:
    """What the filter plus a report's own ``risk`` (and ``days`` for :data:`EXPIRING`) ask,
    when the rollups can answer it; None otherwise. Raises the filter's typed errors."""
    args = parse(AppsFilter, {**filters}, root="filter")
    rest = args.model_dump(exclude={"hosting", "risks", "license_expires_within_days"})
    if any(value is not None for value in rest.values()):
        return None
    risks = set(args.risks or ())
    wanted = {RISK_FILTERS[item] for item in risks - {AppRisk.LICENSE_EXPIRING}}
    windows = [value for value in (days, args.license_expires_within_days) if value is not None]
    if AppRisk.LICENSE_EXPIRING in risks or windows or risk == EXPIRING:
        wanted.add(EXPIRING)
    if risk is not None:
        wanted.add(risk)
    if len(wanted) != 1:
        return None
    return Ask(wanted.pop(), min(windows, default=DEFAULT_EXPIRING_DAYS), args.hosting)


async def support_total(
    db: Database,
    viewer: PersonRecord,
    filters: Mapping[str, Any],
    risk: str | None = None,
    days: int | None = None,
) -> int | None:
    """Support's count of the apps at one risk (narrowed by hosting at most) from the
    rollups; None when the rollups can't answer (another viewer, another filter)."""
    if not viewer.is_support:
        return None
    ask = rollup_ask(filters, risk, days)
    if ask is None:
        return None
    if ask.risk == EXPIRING:
        since = now()
        until = since + timedelta(days=ask.days)
        return await rollup_reads.expiring_count(db, since, until, ask.hosting)
    return await rollup_reads.risk_count(db, ask.risk, ask.hosting)
