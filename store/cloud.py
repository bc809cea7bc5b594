"""Mendix Cloud shapes embedded in an app document: environments, alert settings, grants.

No database access here (store/environments.py and store/alerts.py change them), so
store/apps.py can declare them on ``AppRecord`` without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bson import ObjectId
from pydantic import BaseModel, ConfigDict

from store.records import UtcDatetime


class EnvironmentRight(StrEnum):
    """The rights Mendix Cloud grants per environment and team member."""

    TRANSPORT_RIGHTS = "TRANSPORT_RIGHTS"  # deploy, start/stop
    ACCESS_TO_BACKUPS = "ACCESS_TO_BACKUPS"
    API_RIGHTS = "API_RIGHTS"
    ACCESS_TO_MONITORING = "ACCESS_TO_MONITORING"  # alerts, metrics
    VIEW_LOGS = "VIEW_LOGS"
    MANAGE_PERMISSIONS = "MANAGE_PERMISSIONS"


class EnvironmentState(StrEnum):
    NOT_DEPLOYED = "NOT_DEPLOYED"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class AlertCategory(StrEnum):
    APP_CPU = "APP_CPU"
    APP_DISK = "APP_DISK"
    APP_MEMORY = "APP_MEMORY"
    DATABASE_CPU = "DATABASE_CPU"
    DATABASE_FREE_SPACE = "DATABASE_FREE_SPACE"
    APP_NOT_RESPONDING = "APP_NOT_RESPONDING"


class MetricStatus(StrEnum):
    NORMAL = "NORMAL"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


@dataclass(frozen=True)
class CategoryRule:
    """A category's unit, allowed threshold range, direction and Mendix default thresholds."""

    unit: str
    minimum: float
    maximum: float
    lower_is_worse: bool
    warning: float
    critical: float

    def status(self, value: float, warning: float, critical: float) -> MetricStatus:
        if self.lower_is_worse:
            if value <= critical:
                return MetricStatus.CRITICAL
            return MetricStatus.WARNING if value <= warning else MetricStatus.NORMAL
        if value >= critical:
            return MetricStatus.CRITICAL
        return MetricStatus.WARNING if value >= warning else MetricStatus.NORMAL


PERCENT = "PERCENT"
SECONDS = "SECONDS"

RULES: dict[AlertCategory, CategoryRule] = {
    AlertCategory.APP_CPU: CategoryRule(PERCENT, 0, 100, False, 70, 90),
    AlertCategory.APP_DISK: CategoryRule(PERCENT, 0, 100, False, 75, 85),
    AlertCategory.APP_MEMORY: CategoryRule(PERCENT, 0, 100, False, 90, 95),
    AlertCategory.DATABASE_CPU: CategoryRule(PERCENT, 0, 100, False, 70, 90),
    # free space: lower is worse, so the warning threshold lies above the critical one
    AlertCategory.DATABASE_FREE_SPACE: CategoryRule(PERCENT, 0, 100, True, 25, 10),
    # seconds since the app last answered its health check
    AlertCategory.APP_NOT_RESPONDING: CategoryRule(SECONDS, 1, 86_400, False, 60, 300),
}


class Embedded(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True, extra="ignore")


class Threshold(Embedded):
    warning: float
    critical: float


class AlertSettings(Embedded):
    email_enabled: bool = True
    recipient_ids: tuple[ObjectId, ...] = ()
    thresholds: dict[AlertCategory, Threshold]

    def threshold(self, category: AlertCategory) -> Threshold:
        rule = RULES[category]
        return self.thresholds.get(category) or Threshold(
            warning=rule.warning, critical=rule.critical
        )


class EnvironmentRecord(Embedded):
    environment_id: ObjectId
    name: str
    production: bool
    state: EnvironmentState
    alert_settings: AlertSettings
    alert_status: dict[AlertCategory, MetricStatus] = {}
    created_at: UtcDatetime

    def status(self, category: AlertCategory) -> MetricStatus:
        return self.alert_status.get(category, MetricStatus.NORMAL)


class GrantRecord(Embedded):
    """One right of one team member on one environment, granted explicitly."""

    environment_id: ObjectId
    person_id: ObjectId
    right: EnvironmentRight
    granted_by: ObjectId | None = None
    granted_at: UtcDatetime


def default_alert_settings() -> dict[str, object]:
    return {
        "email_enabled": True,
        "recipient_ids": [],
        "thresholds": {
            category.value: {"warning": rule.warning, "critical": rule.critical}
            for category, rule in RULES.items()
        },
    }


def rights_of(
    person_id: ObjectId,
    environment_id: ObjectId,
    technical_contact_ids: tuple[ObjectId, ...],
    grants: tuple[GrantRecord, ...],
) -> set[EnvironmentRight]:
    """Effective rights: all of them for a technical contact (implicit), else the grants."""
    if person_id in technical_contact_ids:
        return set(EnvironmentRight)
    return {
        grant.right
        for grant in grants
        if grant.person_id == person_id and grant.environment_id == environment_id
    }
