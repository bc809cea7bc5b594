"""Maintenance windows (C1): Mendix Support posts one for all Mendix Cloud apps, one region,
or a list; each technical contact of an affected app gets one email per window."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from resolvers.auth import require_support
from resolvers.errors import ErrorCode, UserError, UserErrors, fail
from resolvers.ids import AppId, encode
from resolvers.inputs import Input, Name, Region, parse
from resolvers.notifications import notify_maintenance
from store import apps as app_store
from store import audit as audit_store
from store import maintenance as maintenance_store
from store.apps import AppRecord, Hosting
from store.audit import AuditAction
from store.db import Database
from store.later import finish_now
from store.maintenance import MaintenanceWindowRecord
from store.pagination import Page, Window
from store.people import PersonRecord
from store.records import now

MAX_APPS = 100


class PostMaintenanceInput(Input):
    multi_line = frozenset({"description"})
    title: Name
    description: Annotated[str, Field(min_length=1, max_length=10_000)]
    starts_at: datetime
    ends_at: datetime
    region: Region | None = None
    app_ids: Annotated[list[AppId], Field(min_length=1, max_length=MAX_APPS)] | None = None


def _utc(moment: datetime) -> datetime:
    value = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


async def post_window(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> MaintenanceWindowRecord:
    args = parse(PostMaintenanceInput, data)
    require_support(viewer)
    starts_at, ends_at = _utc(args.starts_at), _utc(args.ends_at)
    if ends_at <= starts_at:
        fail(ErrorCode.INVALID_DATES, "endsAt must be later than startsAt", ["input", "endsAt"])
    if args.region is not None and args.app_ids is not None:
        fail(
            ErrorCode.INVALID_INPUT,
            "Give a region or a list of apps, not both (neither: every Mendix Cloud app)",
            ["input", "appIds"],
        )
    app_ids = list(dict.fromkeys(args.app_ids)) if args.app_ids is not None else None
    if app_ids is not None:
        found = await app_store.get_apps(db, app_ids)
        errors = [
            _refusal(index, app)
            for index, app in enumerate(found)
            if app is None or app.hosting is not Hosting.MENDIX_CLOUD
        ]
        if errors:
            raise UserErrors(errors)
    window = MaintenanceWindowRecord(
        _id=maintenance_store.new_id(),
        title=args.title,
        description=args.description,
        starts_at=starts_at,
        ends_at=ends_at,
        region=args.region,
        app_ids=tuple(app_ids) if app_ids is not None else None,
        posted_by=viewer.id,
        created_at=now(),
    )
    if not await maintenance_store.affected_apps(db, window):
        fail(ErrorCode.NO_AFFECTED_APPS, "No Mendix Cloud app is affected", ["input", "region"])
    stored = await maintenance_store.create_window(
        db,
        title=window.title,
        description=window.description,
        starts_at=starts_at,
        ends_at=ends_at,
        region=window.region,
        app_ids=app_ids,
        posted_by=viewer.id,
        events=lambda stored: [
            audit_store.event(
                AuditAction.MAINTENANCE_POSTED,
                actor_id=viewer.id,
                after={
                    "maintenance_window_id": encode("MaintenanceWindow", stored.id),
                    "title": stored.title,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "region": stored.region,
                    "app_ids": (
                        [encode("App", key) for key in app_ids] if app_ids is not None else None
                    ),
                },
            )
        ],
    )
    await finish_now(
        lambda: _announce(db, stored),
        "Maintenance window %s left its event or emails pending",
        stored.id,
    )
    return (await maintenance_store.get_windows(db, [stored.id]))[0] or stored


async def _announce(db: Database, window: MaintenanceWindowRecord) -> None:
    """Move the posted window's event into the trail and email its apps' contacts."""
    await audit_store.drain(db, maintenance_store.COLLECTION, window.id)
    await notify_maintenance(db, window)


def _refusal(index: int, app: AppRecord | None) -> UserError:
    if app is None:
        return UserError(
            "No app with this ID", ErrorCode.NOT_FOUND, ["input", "appIds", str(index)]
        )
    return UserError(
        "Maintenance notices are for Mendix Cloud apps",
        ErrorCode.WRONG_HOSTING_TYPE,
        ["input", "appIds", str(index)],
    )


async def list_windows(
    db: Database, viewer: PersonRecord, window: Window
) -> Page[MaintenanceWindowRecord]:
    """Support sees every window; others read theirs through their notifications."""
    query = {} if viewer.is_support else {"_id": None}
    return await maintenance_store.list_windows(db, query, window)


async def window_apps(db: Database, window: MaintenanceWindowRecord) -> list[AppRecord]:
    return await maintenance_store.affected_apps(db, window)
