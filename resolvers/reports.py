"""Report use cases: every aggregation scoped to the viewer (Support sees all apps)."""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bson import ObjectId

from resolvers import app_views, risk_totals
from resolvers import people as people_cases
from resolvers.auth import app_scope
from resolvers.errors import ErrorCode, fail
from resolvers.ids import decode
from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from store import reports as report_store
from store import risks as risk_store
from store import rollup_reads
from store.apps import AppRecord
from store.db import Database
from store.pagination import Page, Window
from store.people import PersonRecord
from store.records import now
from store.reports import ContactLoad, SummaryRow
from store.risks import MonthCount

_PREFIX = "load:"


class ContactOrder(StrEnum):
    APP_COUNT_DESC = "APP_COUNT_DESC"
    APP_COUNT_ASC = "APP_COUNT_ASC"


@dataclass(frozen=True)
class LoadPage:
    items: list[ContactLoad]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


async def summary(db: Database, viewer: PersonRecord) -> list[SummaryRow]:
    scope = app_scope(viewer)
    if scope is None:  # Support: every app, from the rollups (store/rollups.py)
        return await rollup_reads.summary(db)
    return await report_store.summary(db, scope)


async def regions(db: Database, viewer: PersonRecord) -> list[str]:
    return await report_store.regions(db, app_scope(viewer))


def encode_load_cursor(load: ContactLoad) -> str:
    return base64.b64encode(f"{_PREFIX}{load.app_count}:{load.id}".encode()).decode()


def _decode_load_cursor(value: str) -> tuple[int, ObjectId]:
    try:
        text = base64.b64decode(value, validate=True).decode() if len(value) <= 100 else ""
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    count, _, key = text.removeprefix(_PREFIX).partition(":")
    if not text.startswith(_PREFIX) or not count.isdigit() or not ObjectId.is_valid(key):
        fail(ErrorCode.INVALID_CURSOR, "`after` is not a cursor of this connection", ["after"])
    return int(count), ObjectId(key)


async def top_contacts(
    db: Database,
    viewer: PersonRecord,
    *,
    first: int | None,
    after: str | None,
    order: ContactOrder,
) -> LoadPage:
    """Technical contacts by number of visible apps; forward keyset paging on (count, id)."""
    size = DEFAULT_PAGE_SIZE if first is None else first
    if size < 0:
        fail(ErrorCode.INVALID_INPUT, "`first` must not be negative", ["first"])
    if size > MAX_PAGE_SIZE:
        fail(
            ErrorCode.PAGE_SIZE_EXCEEDED,
            f"Requesting {size} records exceeds the `first` limit of {MAX_PAGE_SIZE}",
            ["first"],
        )
    key = _decode_load_cursor(after) if after is not None else None
    scope = app_scope(viewer)
    descending = order is ContactOrder.APP_COUNT_DESC
    if scope is None:  # Support: every app, from the rollups
        (items, more), total = await asyncio.gather(
            rollup_reads.top_contacts(db, limit=size, descending=descending, after=key),
            rollup_reads.count_contacts(db),
        )
    else:
        items, more = await report_store.top_contacts(
            db, scope, limit=size, descending=descending, after=key
        )
        total = await report_store.count_contacts(db, scope)
    return LoadPage(
        items=items,
        cursors=[encode_load_cursor(item) for item in items],
        has_next_page=more,
        has_previous_page=key is not None,
        total_count=total,
    )


async def contact_load(db: Database, viewer: PersonRecord, person_id: str) -> ContactLoad | None:
    """A person's load over the apps the viewer may see; null for a person they may not see."""
    key = decode(person_id, "Person")
    if key is None:
        fail(ErrorCode.INVALID_ID, "is not a valid Person ID", ["personId"])
    [person] = await people_cases.visible_people(db, viewer, [key])
    if person is None:
        return None
    scope = app_scope(viewer)
    if scope is None:
        return await rollup_reads.contact_load(db, key)
    return await report_store.contact_load(db, scope, key)


MAX_DAYS = app_views.MAX_DAYS
MAX_MONTHS = 120


async def apps_at_risk(
    db: Database, viewer: PersonRecord, risk: str, filters: dict[str, Any], window: Window
) -> Page[AppRecord]:
    """Visible apps at ``risk`` (a key of store.reports.RISKS), narrowed by the apps filter.
    Support's ``totalCount`` from the rollups where they answer (resolvers/risk_totals.py):
    then the apps are not counted."""
    total = await risk_totals.support_total(db, viewer, filters, risk)
    condition = await report_store.RISKS[risk](db)
    return await app_views.list_apps(db, viewer, filters, window, also=[condition], total=total)


async def apps_with_expiring_licenses(
    db: Database, viewer: PersonRecord, days: int, filters: dict[str, Any], window: Window
) -> Page[AppRecord]:
    """Visible apps with a license expiring between now and ``days`` (1..3650) days ahead."""
    if not 1 <= days <= MAX_DAYS:
        fail(ErrorCode.INVALID_INPUT, f"`days` must be between 1 and {MAX_DAYS}", ["days"])
    total = await risk_totals.support_total(db, viewer, filters, risk_totals.EXPIRING, days)
    since = now()
    risk = risk_store.expiring_licenses(since, since + timedelta(days=days))
    return await app_views.list_apps(db, viewer, filters, window, also=[risk], total=total)


async def expiry_timeline(db: Database, viewer: PersonRecord, months: int) -> list[MonthCount]:
    """Visible licenses expiring per month, this month and the next ``months - 1`` (1..120)."""
    if not 1 <= months <= MAX_MONTHS:
        fail(ErrorCode.INVALID_INPUT, f"`months` must be between 1 and {MAX_MONTHS}", ["months"])
    scope = app_scope(viewer)
    if scope is None:  # month counters: a month's label never changes as days pass
        return await rollup_reads.expiry_timeline(db, now(), months)
    return await risk_store.expiry_timeline(db, scope, now(), months)
