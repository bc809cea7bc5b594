"""What happened to generated apps, so their app view is not empty: the audit trail of their
creation and delivery, support requests on a few, and alerts on a few Mendix Cloud
environments (their current alert status follows the last alert).

Drawn from its own random stream (the apps and people of a given seed stay as they were) and
shaped exactly as the use cases write them (store/audit.py, store/support.py,
store/alerts.py). Call after ownership/generate_cloud.py has added environments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bson import ObjectId

from store.apps import AppStatus
from store.audit import AuditAction
from store.cloud import RULES, AlertCategory, MetricStatus
from store.db import Document
from store.support import Level, RequestKind, RequestStatus, priority

_SUBJECTS = {
    RequestKind.QUESTION: ("How do we rotate the API keys?", "Renewal quote for next year"),
    RequestKind.CHANGE: ("Move the app to another region", "Add a test environment"),
    RequestKind.INCIDENT: ("Production is slow every morning", "Login page returns errors"),
}
# a category's status changes, as its node would report them
_COURSES = (
    ((MetricStatus.WARNING, 80.0),),
    ((MetricStatus.WARNING, 80.0), (MetricStatus.CRITICAL, 97.0)),
    ((MetricStatus.WARNING, 80.0), (MetricStatus.NORMAL, 40.0)),
    ((MetricStatus.CRITICAL, 97.0), (MetricStatus.NORMAL, 35.0)),
)


@dataclass
class Activity:
    audit: list[Document] = field(default_factory=list)
    requests: list[Document] = field(default_factory=list)
    alerts: list[Document] = field(default_factory=list)


def _event(action: AuditAction, app: Document, actor: ObjectId | None, at: datetime) -> Document:
    return {
        "_id": ObjectId(),
        "action": action.value,
        "actor_id": actor,
        "app_id": app["_id"],
        "person_id": None,
        "version": None,
        "before": None,
        "after": None,
        "at": at,
    }


def _history(app: Document, support: ObjectId | None) -> list[Document]:
    created = _event(AuditAction.APP_CREATED, app, support, app["ordered_at"])
    created["version"] = 1
    created["after"] = {
        "name": app["name"],
        "subdomain": app["subdomain"],
        "hosting": app["hosting"],
        "status": AppStatus.ORDERED.value,
        "technical_contact_ids": app["technical_contact_ids"][:1],  # one at the order (A2)
        "account_executive_id": app["account_executive_id"],
        "region": app.get("region"),
    }
    events = [created]
    contacts = app["technical_contact_ids"]
    for count in range(2, len(contacts) + 1):  # On-Premises contacts added later (A5)
        added = _event(AuditAction.TECHNICAL_CONTACT_ADDED, app, support, app["ordered_at"])
        added["before"] = {"technical_contact_ids": contacts[: count - 1]}
        added["after"] = {"technical_contact_ids": contacts[:count]}
        events.append(added)
    if app["status"] == AppStatus.DELIVERED.value:
        delivered = _event(AuditAction.APP_DELIVERED, app, support, app["delivered_at"])
        delivered["version"] = app["version"]
        delivered["before"] = {"status": AppStatus.ORDERED.value, "delivered_at": None}
        delivered["after"] = {"status": app["status"], "delivered_at": app["delivered_at"]}
        events.append(delivered)
    return events


def _request(rng: random.Random, app: Document, created: datetime) -> Document:
    kind = rng.choice(tuple(RequestKind))
    impact, urgency = rng.choice(tuple(Level)), rng.choice(tuple(Level))
    status = rng.choice((RequestStatus.NEW, RequestStatus.TRIAGED, RequestStatus.RESOLVED))
    at = created - timedelta(days=rng.randint(0, 90), minutes=rng.randrange(24 * 60))
    done = status is RequestStatus.RESOLVED
    return {
        "_id": ObjectId(),
        "kind": kind.value,
        "app_id": app["_id"],
        "requester_id": rng.choice(app["member_ids"]),
        "subject": rng.choice(_SUBJECTS[kind]),
        "body": "Details in the attached notes.",
        "impact": impact.value,
        "urgency": urgency.value,
        "priority": priority(impact, urgency).value,
        "status": status.value,
        "technical_contact_id": None,
        "comments": [],
        "created_at": at,
        "updated_at": at + timedelta(hours=4) if status is not RequestStatus.NEW else at,
        "resolved_at": at + timedelta(days=1) if done else None,
        "resolution": "Answered in the ticket." if done else None,
        "claimed_at": None,
        "claimed_from": None,
    }


def _alerts(
    rng: random.Random, app: Document, emails: dict[ObjectId, str], created: datetime
) -> list[Document]:
    environment = rng.choice(app["environments"])
    category = rng.choice(
        (AlertCategory.APP_CPU, AlertCategory.APP_DISK, AlertCategory.DATABASE_CPU)
    )
    rule, settings = RULES[category], environment["alert_settings"]
    threshold = settings.get("thresholds", {}).get(category.value, {})
    contacts = app["technical_contact_ids"]
    previous, at, alerts = MetricStatus.NORMAL, created - timedelta(days=rng.randint(1, 20)), []
    for sequence, (status, value) in enumerate(rng.choice(_COURSES), start=1):
        at += timedelta(minutes=rng.randint(5, 600))
        alerts.append(
            {
                "_id": ObjectId(),
                "app_id": app["_id"],
                "environment_id": environment["environment_id"],
                "environment_name": environment["name"],
                "production": environment["production"],
                "category": category.value,
                "status": status.value,
                "previous_status": previous.value,
                "sequence": sequence,
                "value": value,
                "warning": threshold.get("warning", rule.warning),
                "critical": threshold.get("critical", rule.critical),
                "unit": rule.unit,
                "recipient_ids": contacts,
                "email_enabled": settings["email_enabled"],
                "email_recipients": [emails[key] for key in contacts if key in emails],
                "at": at,
            }
        )
        previous = status
    environment["alert_status"][category.value] = previous.value
    return alerts


def add_activity(
    apps: list[Document],
    people: list[Document],
    support: ObjectId | None,
    seed: int,
    created: datetime,
) -> Activity:
    """Build (without inserting) the activity of generated apps; changes apps' alert status."""
    rng = random.Random(f"activity-{seed}")
    emails = {person["_id"]: person["email"] for person in people}
    activity = Activity()
    for app in apps:
        activity.audit += _history(app, support)
        if rng.random() < 0.05:
            activity.requests += [_request(rng, app, created) for _ in range(rng.randint(1, 2))]
        if app.get("environments") and rng.random() < 0.08:
            activity.alerts += _alerts(rng, app, emails, created)
    return activity
