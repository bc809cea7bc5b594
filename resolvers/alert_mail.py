"""Alert emails (C2): one per recipient per status change, through the outbox."""

from __future__ import annotations

from store import pending_mail
from store.alerts import AlertRecord
from store.apps import AppRecord
from store.cloud import RULES
from store.db import Document
from store.notifications import NotificationKind
from store.people import PersonRecord


def alert_mails(
    app: AppRecord, environment: str, alert: AlertRecord, recipients: list[PersonRecord]
) -> list[Document]:
    """The alert's email for each recipient, stored with the alert; the dedupe key makes
    queueing it again harmless."""
    category, status = alert.category, alert.status
    unit = RULES[category].unit
    value = alert.value
    subject = f"[{status.value}] {app.name} ({environment}): {category.value} at {value:g}{unit}"
    body = (
        f"{category.value} on {environment} of {app.name} ({app.subdomain}) went from "
        f"{alert.previous_status.value} to {status.value}: {value:g}{unit} "
        f"(warning {alert.warning:g}{unit}, critical {alert.critical:g}{unit}).\n\n"
        "Alert settings: the Monitoring tab of the environment.\n\nMendix Cloud"
    )
    return [
        pending_mail.mail(
            kind=NotificationKind.ALERT,
            dedupe_key=f"alert:{alert.id}:{person.id}",
            recipient_id=person.id,
            to_email=person.email,
            subject=subject,
            body=body,
            app_id=app.id,
        )
        for person in recipients
    ]
