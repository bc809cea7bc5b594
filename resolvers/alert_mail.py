"""Alert emails (C2): one per recipient per status change, through the outbox."""

from __future__ import annotations

from resolvers.notifications import send_to
from store.alerts import AlertRecord
from store.apps import AppRecord
from store.cloud import RULES, AlertCategory, MetricStatus
from store.db import Database
from store.notifications import NotificationKind
from store.people import PersonRecord


async def mail_alert(
    db: Database,
    app: AppRecord,
    environment: str,
    category: AlertCategory,
    previous: MetricStatus,
    status: MetricStatus,
    value: float,
    recipients: list[PersonRecord],
    alert: AlertRecord,
) -> None:
    """Queue the alert's email for each recipient; the dedupe key makes a retry harmless."""
    unit = RULES[category].unit
    subject = f"[{status.value}] {app.name} ({environment}): {category.value} at {value:g}{unit}"
    body = (
        f"{category.value} on {environment} of {app.name} ({app.subdomain}) went from "
        f"{previous.value} to {status.value}: {value:g}{unit} "
        f"(warning {alert.warning:g}{unit}, critical {alert.critical:g}{unit}).\n\n"
        "Alert settings: the Monitoring tab of the environment.\n\nMendix Cloud"
    )
    for person in recipients:
        await send_to(
            db,
            person,
            kind=NotificationKind.ALERT,
            dedupe_key=f"alert:{alert.id}:{person.id}",
            subject=subject,
            body=body,
            app_id=app.id,
        )
