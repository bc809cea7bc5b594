"""Email notifications: what is written to the outbox, the renewal run (O1, C4), and who may
read which notification.

Each notification has a dedupe key stored under a unique index (store/notifications.py), so
"exactly once per (license, expiry, threshold, contact)" and "once per (window, contact)" hold
for racing runners and across restarts: the second insert fails, nothing is read first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId

from resolvers.ids import PersonId
from resolvers.inputs import Input, parse
from store import licenses as license_store
from store import maintenance as maintenance_store
from store import notifications as outbox
from store import people as people_store
from store.apps import AppRecord, LicenseRecord
from store.db import Database
from store.maintenance import MaintenanceWindowRecord
from store.notifications import DeliveryStatus, NotificationKind, NotificationRecord
from store.pagination import Page, Window
from store.people import PersonRecord, PersonStatus
from store.records import now

RENEWAL_THRESHOLDS = (60, 30, 7)


@dataclass(frozen=True)
class RunReport:
    """What one run of the notice task queued (duplicates skipped are not counted)."""

    renewal_notices: int = 0
    maintenance_notices: int = 0


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def threshold_reached(expires_at: datetime, at: datetime) -> int | None:
    """The tightest threshold (60/30/7 days) a license inside its last 60 days has reached.

    Thresholds passed while no runner ran are not sent late: a license found 5 days before
    expiry gets the 7-day notice only.
    """
    left = expires_at - at
    if left < timedelta(0):
        return None
    reached = [days for days in RENEWAL_THRESHOLDS if left <= timedelta(days=days)]
    return min(reached) if reached else None


def renewal_key(app: AppRecord, license: LicenseRecord, days: int, person_id: ObjectId) -> str:
    # The expiry is part of the key: a renewed license gets notices again for its new expiry.
    return f"renewal:{app.id}:{license.license_id}:{_day(license.expires_at)}:{days}:{person_id}"


async def _contacts(db: Database, ids: tuple[ObjectId, ...]) -> list[PersonRecord]:
    people = await people_store.get_people(db, list(ids))
    return [p for p in people if p is not None and p.status is PersonStatus.ACTIVE]


async def run_renewal_notices(db: Database, at: datetime | None = None) -> int:
    """Queue each due renewal notice once per (license, expiry, threshold, contact)."""
    moment = at or now()
    horizon = moment + timedelta(days=max(RENEWAL_THRESHOLDS))
    queued = 0
    for app in await license_store.apps_with_expiring_licenses(db, moment, horizon):
        contacts = await _contacts(db, app.technical_contact_ids)
        for license in app.licenses:
            days = threshold_reached(license.expires_at, moment)
            if days is None:
                continue
            for person in contacts:
                created = await outbox.enqueue(
                    db,
                    kind=NotificationKind.LICENSE_RENEWAL,
                    dedupe_key=renewal_key(app, license, days, person.id),
                    recipient_id=person.id,
                    to_email=person.email,
                    app_id=app.id,
                    subject=f"{app.name}: license {license.license_id} expires within {days} days",
                    body=(
                        f"Dear {person.name},\n\nThe {license.plan} license "
                        f"{license.license_id} of {app.name} ({app.subdomain}) expires on "
                        f"{_day(license.expires_at)}. As the app runs On-Premises, please "
                        "renew it in time; your Account Executive can help.\n\nMendix"
                    ),
                )
                queued += created is not None
    return queued


async def notify_maintenance(db: Database, window: MaintenanceWindowRecord) -> int:
    """One email per technical contact of the affected apps, however many apps they have."""
    queued = 0
    for app in await maintenance_store.affected_apps(db, window):
        for person in await _contacts(db, app.technical_contact_ids):
            created = await outbox.enqueue(
                db,
                kind=NotificationKind.MAINTENANCE,
                dedupe_key=f"maintenance:{window.id}:{person.id}",
                recipient_id=person.id,
                to_email=person.email,
                app_id=app.id,
                subject=f"Planned maintenance: {window.title}",
                body=(
                    f"Dear {person.name},\n\nMendix Support plans maintenance from "
                    f"{window.starts_at.isoformat()} to {window.ends_at.isoformat()} that "
                    f"affects {app.name} ({app.subdomain}) on Mendix Cloud.\n\n"
                    f"{window.description}\n\nMendix Support"
                ),
            )
            queued += created is not None
    await maintenance_store.mark_notified(db, window.id)
    return queued


async def run_notices(db: Database, at: datetime | None = None) -> RunReport:
    """One pass of the periodic task: renewal notices, and maintenance windows whose
    notification was interrupted (a crash after posting) are completed."""
    renewals = await run_renewal_notices(db, at)
    maintenance = 0
    for window in await maintenance_store.unnotified(db):
        maintenance += await notify_maintenance(db, window)
    return RunReport(renewal_notices=renewals, maintenance_notices=maintenance)


async def send_to(
    db: Database,
    person: PersonRecord,
    *,
    kind: NotificationKind,
    dedupe_key: str,
    subject: str,
    body: str,
    app_id: ObjectId | None = None,
) -> NotificationRecord | None:
    return await outbox.enqueue(
        db,
        kind=kind,
        dedupe_key=dedupe_key,
        recipient_id=person.id,
        to_email=person.email,
        subject=subject,
        body=body,
        app_id=app_id,
    )


# Reading notifications, scoped to the viewer: Support reads all; everyone else their own.


class NotificationsFilter(Input):
    status: DeliveryStatus | None = None
    kind: outbox.NotificationKind | None = None
    recipient_id: PersonId | None = None


def _reader(viewer: PersonRecord) -> ObjectId | None:
    """Whose mail the viewer may read: None for Support (everyone's), else their own."""
    return None if viewer.is_support else viewer.id


async def list_notifications(
    db: Database, viewer: PersonRecord, filters: dict[str, Any], window: Window
) -> Page[NotificationRecord]:
    args = parse(NotificationsFilter, filters, root="filter")
    query = outbox.notifications_query(
        recipient_id=args.recipient_id,
        status=args.status,
        kind=args.kind,
        visible_to=_reader(viewer),
    )
    return await outbox.list_notifications(db, query, window)


async def person_notifications(
    db: Database, viewer: PersonRecord, person_id: ObjectId, window: Window
) -> Page[NotificationRecord]:
    """A person's mail: visible to the person and to Support; others see an empty list."""
    query = outbox.notifications_query(recipient_id=person_id, visible_to=_reader(viewer))
    return await outbox.list_notifications(db, query, window)


async def app_notifications(
    db: Database, viewer: PersonRecord, app_id: ObjectId, window: Window
) -> Page[NotificationRecord]:
    """An app's mail (the app is visible already): Support all, others those sent to them."""
    query = outbox.notifications_query(app_id=app_id, visible_to=_reader(viewer))
    return await outbox.list_notifications(db, query, window)


async def visible_notifications(
    db: Database, viewer: PersonRecord, ids: list[ObjectId]
) -> list[NotificationRecord | None]:
    return await outbox.get_notifications(db, ids, _reader(viewer))
