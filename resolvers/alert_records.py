"""An alert's record (C2): the alert of a status change and its emails, one per
recipient, written with the change (store/alerts.py) and queued in the outbox from there."""

from __future__ import annotations

from collections.abc import Callable

from store import alerts as alert_store
from store import pending_mail
from store import people as people_store
from store.alerts import AlertRecord
from store.apps import AppRecord
from store.cloud import (
    RULES,
    AlertCategory,
    EnvironmentRecord,
    EnvironmentRight,
    MetricStatus,
    rights_of,
)
from store.db import Database, Document
from store.notifications import NotificationKind
from store.people import PersonRecord, PersonStatus

MONITORING = EnvironmentRight.ACCESS_TO_MONITORING


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


async def alert_record(
    db: Database,
    app: AppRecord,
    environment: EnvironmentRecord,
    category: AlertCategory,
    previous: MetricStatus,
    status: MetricStatus,
    value: float,
) -> tuple[Callable[[int], Document], list[Document]]:
    """The record of a status change (its alert and emails), to be written with it: made
    from the change's sequence number by the first function, kept in the list."""
    settings = environment.alert_settings
    threshold = settings.threshold(category)
    key = environment.environment_id
    recipients = list(app.technical_contact_ids) + [
        person
        for person in settings.recipient_ids
        if MONITORING in rights_of(person, key, app.technical_contact_ids, app.grants)
    ]
    recipients = list(dict.fromkeys(recipients))
    mailed: list[PersonRecord] = []
    if settings.email_enabled:
        people = await people_store.get_people(db, recipients)
        mailed = [p for p in people if p is not None and p.status is PersonStatus.ACTIVE]
    fields = {
        "app_id": app.id,
        "environment_id": key,
        "environment_name": environment.name,
        "production": environment.production,
        "category": category.value,
        "status": status.value,
        "previous_status": previous.value,
        "value": value,
        "warning": threshold.warning,
        "critical": threshold.critical,
        "unit": RULES[category].unit,
        "recipient_ids": recipients,
        "email_enabled": settings.email_enabled,
        "email_recipients": [person.email for person in mailed],
    }

    made: list[Document] = []

    def make(sequence: int) -> Document:
        made.append(
            alert_store.pending_alert(
                {**fields, "sequence": sequence},
                lambda alert: alert_mails(app, environment.name, alert, mailed),
            )
        )
        return made[-1]

    return make, made
