"""Alert settings, metric reports and alert history (C2).

- Settings per environment: Access to monitoring (the technical contact holds it); extra
  recipients must have it too. Thresholds are checked: range, and warning before critical
  in the category's direction (database free space: lower is worse).
- Metric reports come from the app's cloud node (a node token scoped to that app). A
  category's status (NORMAL/WARNING/CRITICAL) lives in the app document; it changes by a
  conditional update whose filter states the old status, so of racing reports exactly one
  raises the alert for each change, recovery included, never one per sample.
- History: the alerts of the environments where the viewer has Access to monitoring
  (Support: all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any

from bson import ObjectId
from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from resolvers import rights
from resolvers.alert_records import alert_record
from resolvers.changes import apply, first
from resolvers.environments import (
    EnvironmentView,
    environment_event,
    locate,
    mendix_cloud,
    viewer_rights,
    visible_environment,
)
from resolvers.errors import ErrorCode, UserError, fail
from resolvers.ids import EnvironmentId, PersonId
from resolvers.inputs import Input, Version, parse
from store import alerts as alert_store
from store import apps as app_store
from store import environments as env_store
from store import people as people_store
from store.alerts import AlertRecord
from store.apps import AppRecord, Change
from store.audit import AuditAction
from store.cloud import (
    RULES,
    AlertCategory,
    EnvironmentRight,
    rights_of,
)
from store.db import Database, Document
from store.later import finish_now
from store.pagination import Page, Window
from store.people import PersonRecord, PersonStatus

MONITORING = EnvironmentRight.ACCESS_TO_MONITORING
MAX_RETRIES = 20


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise PydanticCustomError("invalid_threshold", "must be a finite number")
    return value


Number = Annotated[float, AfterValidator(_finite)]


class ThresholdInput(Input):
    category: AlertCategory
    warning: Number
    critical: Number

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdInput:
        rule = RULES[self.category]
        for value in (self.warning, self.critical):
            if not rule.minimum <= value <= rule.maximum:
                raise PydanticCustomError(
                    "invalid_threshold",
                    "{category} thresholds lie between {low} and {high} ({unit})",
                    {
                        "category": self.category.value,
                        "low": rule.minimum,
                        "high": rule.maximum,
                        "unit": rule.unit,
                    },
                )
        wrong = (
            self.warning <= self.critical if rule.lower_is_worse else self.warning >= self.critical
        )
        if wrong:
            order = "above" if rule.lower_is_worse else "below"
            raise PydanticCustomError(
                "invalid_threshold",
                "{category}: the warning threshold must lie {order} the critical one",
                {"category": self.category.value, "order": order},
            )
        return self


def _unique_categories(items: list[ThresholdInput] | None) -> list[ThresholdInput] | None:
    if items is not None and len({item.category for item in items}) != len(items):
        raise PydanticCustomError("invalid_threshold", "each category at most once")
    return items


class AlertSettingsInput(Input):
    environment_id: EnvironmentId
    email_enabled: bool | None = None
    recipient_ids: Annotated[list[PersonId], Field(max_length=50)] | None = None
    thresholds: Annotated[
        list[ThresholdInput] | None,
        Field(max_length=len(AlertCategory)),
        AfterValidator(_unique_categories),
    ] = None
    expected_version: Version | None = None


class SampleInput(Input):
    category: AlertCategory
    value: Number

    @model_validator(mode="after")
    def _in_range(self) -> SampleInput:
        rule = RULES[self.category]
        if self.value < 0 or (rule.unit == "PERCENT" and self.value > 100):
            raise PydanticCustomError(
                "invalid_input", "{category}: value out of range", {"category": self.category.value}
            )
        return self


class ReportInput(Input):
    environment_id: EnvironmentId
    samples: Annotated[list[SampleInput], Field(min_length=1, max_length=50)]


async def update_alert_settings(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> EnvironmentView:
    args = parse(AlertSettingsInput, data)
    app, index, environment = await visible_environment(db, viewer, args.environment_id)
    key = environment.environment_id
    recipients = list(dict.fromkeys(args.recipient_ids)) if args.recipient_ids is not None else None
    thresholds = {t.category: (t.warning, t.critical) for t in args.thresholds or ()}
    if args.email_enabled is None and recipients is None and not thresholds:
        fail(
            ErrorCode.INVALID_INPUT,
            "Nothing to change: pass emailEnabled, recipientIds or thresholds",
            ["input"],
        )

    def recipients_ok(fresh: AppRecord) -> UserError | None:
        for position, person in enumerate(recipients or ()):
            if MONITORING not in rights_of(person, key, fresh.technical_contact_ids, fresh.grants):
                return UserError(
                    "Alert recipients need Access to monitoring on this environment",
                    ErrorCode.RECIPIENT_WITHOUT_MONITORING_ACCESS,
                    ["input", "recipientIds", str(position)],
                )
        return None

    def record(change: Change) -> list[Document]:
        before = change.before.environments[index].alert_settings.model_dump(mode="python")
        after = change.after.environments[index].alert_settings.model_dump(mode="python")
        changed = AuditAction.ALERT_SETTINGS_CHANGED
        return [environment_event(viewer, changed, environment, None, before, after)]

    change = await apply(
        db,
        app,
        lambda write: env_store.update_alert_settings(
            db,
            app.id,
            index,
            key,
            viewer.id,
            email_enabled=args.email_enabled,
            recipient_ids=recipients,
            thresholds=thresholds,
            expected_version=args.expected_version,
            write=write,
        ),
        right=rights.environment_right(viewer, key, MONITORING),
        record=record,
        expected_version=args.expected_version,
        diagnose=first(mendix_cloud, recipients_ok),
    )
    after = change.after.environments[index]
    return EnvironmentView(change.after, after)


@dataclass(frozen=True)
class Reported:
    """The alerts a report raised and their live events (for this process's subscribers)."""

    alerts: list[AlertRecord] = field(default_factory=list)
    events: list[Document] = field(default_factory=list)


async def report_metrics(db: Database, node_app_id: ObjectId, data: dict[str, Any]) -> Reported:
    """Apply a node's samples; returns the alerts raised (one per status change). Each
    status change is written with its alert and emails (store/alerts.py), recorded at once
    here or, after a crash, by the periodic task."""
    args = parse(ReportInput, data)
    app = await env_store.find_by_environment(db, args.environment_id, {"_id": node_app_id})
    if app is None:
        fail(
            ErrorCode.NOT_FOUND,
            "No environment with this ID on this node's app",
            ["input", "environmentId"],
        )
    raised = Reported()
    for sample in args.samples:
        for _ in range(MAX_RETRIES):
            index, environment = locate(app, args.environment_id)
            threshold = environment.alert_settings.threshold(sample.category)
            rule = RULES[sample.category]
            new = rule.status(sample.value, threshold.warning, threshold.critical)
            old = environment.status(sample.category)
            if new is old:
                break
            record, made = await alert_record(
                db, app, environment, sample.category, old, new, sample.value
            )
            sequence = await env_store.change_status(
                db, app.id, index, environment.environment_id, sample.category, old, new, record
            )
            if sequence is not None:
                raised.alerts.append(alert_store.alert_of(made[-1]))
                break
            # another report changed the status first: judge this sample against the new one
            fresh = await app_store.get_app(db, app.id)
            if fresh is None:
                fail(ErrorCode.NOT_FOUND, "No app with this ID", ["input", "environmentId"])
            app = fresh
        else:
            fail(ErrorCode.CONCURRENT_CHANGE, "The status kept changing; report again")
    if raised.alerts:
        drained = await finish_now(
            lambda: alert_store.drain(db, app.id), "Alerts of app %s left pending", app.id
        )
        raised.events.extend(drained or [])
    return raised


def monitored_environments(viewer: PersonRecord, app: AppRecord) -> list[ObjectId]:
    """The app's environments whose alerts the viewer may see."""
    return [
        env.environment_id
        for env in app.environments
        if viewer.is_support or MONITORING in viewer_rights(viewer, app, env.environment_id)
    ]


async def alert_history(
    db: Database,
    viewer: PersonRecord,
    app: AppRecord,
    window: Window,
    environment_id: ObjectId | None = None,
    category: AlertCategory | None = None,
) -> Page[AlertRecord]:
    """Alerts of an app the viewer may see, oldest first, limited to monitored environments."""
    allowed = monitored_environments(viewer, app)
    if environment_id is not None:
        allowed = [key for key in allowed if key == environment_id]
    query = alert_store.alerts_query(app_id=app.id, environment_ids=allowed, category=category)
    return await alert_store.list_alerts(db, query, window)


async def may_see(db: Database, viewer: PersonRecord, alert: AlertRecord) -> bool:
    """Read afresh: the viewer sees the app and has Access to monitoring on the environment."""
    from resolvers.auth import app_scope

    app = await app_store.get_app(db, alert.app_id, app_scope(viewer))
    return app is not None and alert.environment_id in monitored_environments(viewer, app)


async def still_active(db: Database, viewer: PersonRecord) -> bool:
    """Whether a long-lived connection's person may still use the API."""
    person = await people_store.get_person(db, viewer.id)
    return person is not None and person.status is PersonStatus.ACTIVE


async def visible_alerts(
    db: Database, viewer: PersonRecord, ids: list[ObjectId]
) -> list[AlertRecord | None]:
    alerts = await alert_store.get_alerts(db, ids)
    return [alert if alert and await may_see(db, viewer, alert) else None for alert in alerts]
