"""Mendix Cloud environments and access grants (C3), embedded in the app document.

Every rule is one conditional update whose filter is the precondition (A7). Grants are one
flat list per app (``grants: [{environment_id, person_id, right, ...}]``) so that removing a
team member pulls all their grants in the same update without ``$[]`` (which mongomock
lacks). Environment-level fields are addressed by the environment's index
(``environments.<i>``) together with a filter that the element at that index is the
environment: environments are only ever appended, so the index is stable, and this needs no
positional operator (mongomock applies ``$`` with ``$elemMatch`` to the wrong element).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import ObjectId

from store.alerts import PENDING as PENDING_ALERTS
from store.apps import COLLECTION, AppRecord, Change, Hosting, Write, apply_change
from store.cloud import (
    AlertCategory,
    AlertSettings,
    EnvironmentRecord,
    EnvironmentRight,
    EnvironmentState,
    GrantRecord,
    MetricStatus,
    default_alert_settings,
)
from store.db import Database, Document
from store.records import now

MANAGE = EnvironmentRight.MANAGE_PERMISSIONS
MONITORING = EnvironmentRight.ACCESS_TO_MONITORING


def _apps(db: Database) -> Any:
    return db[COLLECTION]


def holds(environment_id: ObjectId, person_id: ObjectId, right: EnvironmentRight) -> Document:
    """Filter: the person holds ``right`` on the environment (technical contacts implicitly)."""
    return {
        "$or": [
            {"technical_contact_ids": person_id},
            {"grants": _grant_match(environment_id, person_id, right)},
        ]
    }


def _grant_match(environment_id: ObjectId, person_id: ObjectId, right: EnvironmentRight) -> Any:
    return {
        "$elemMatch": {"environment_id": environment_id, "person_id": person_id, "right": right}
    }


def _at(index: int, environment_id: ObjectId) -> Document:
    return {f"environments.{index}.environment_id": environment_id}


async def find_by_environment(
    db: Database, environment_id: ObjectId, scope: Document | None = None
) -> AppRecord | None:
    query: Document = {"environments.environment_id": environment_id}
    if scope:
        query = {"$and": [query, scope]}
    doc = await _apps(db).find_one(query)
    return AppRecord.model_validate(doc) if doc else None


async def apps_with_grants_of(
    db: Database, person_id: ObjectId, scope: Document | None, limit: int
) -> list[AppRecord]:
    query: Document = {"grants.person_id": person_id}
    if scope:
        query = {"$and": [query, scope]}
    docs = await _apps(db).find(query).sort("_id", 1).limit(limit).to_list(None)
    return [AppRecord.model_validate(doc) for doc in docs]


async def add_environment(
    db: Database,
    app_id: ObjectId,
    *,
    name: str,
    production: bool,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Mendix Cloud only; environment names are unique within the app."""
    environment = {
        "environment_id": ObjectId(),
        "name": name,
        "production": production,
        "state": EnvironmentState.NOT_DEPLOYED.value,
        "alert_settings": default_alert_settings(),
        "alert_status": {category.value: MetricStatus.NORMAL.value for category in AlertCategory},
        "created_at": now(),
    }
    return await apply_change(
        db,
        app_id,
        {"hosting": Hosting.MENDIX_CLOUD.value, "environments.name": {"$ne": name}},
        {"$push": {"environments": environment}},
        lambda old: {
            "environments": (*old.environments, EnvironmentRecord.model_validate(environment))
        },
        expected_version,
        write,
    )


async def set_state(
    db: Database,
    app_id: ObjectId,
    index: int,
    environment_id: ObjectId,
    state: EnvironmentState,
    actor_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Start/stop needs Transport rights on the environment."""
    path = f"environments.{index}.state"
    return await apply_change(
        db,
        app_id,
        {
            "hosting": Hosting.MENDIX_CLOUD.value,
            **_at(index, environment_id),
            path: {"$ne": state.value},
            **holds(environment_id, actor_id, EnvironmentRight.TRANSPORT_RIGHTS),
        },
        {"$set": {path: state.value}},
        lambda old: {"environments": _replace(old, index, state=state)},
        expected_version,
        write,
    )


def _replace(old: AppRecord, index: int, **fields: Any) -> tuple[Any, ...]:
    items = list(old.environments)
    items[index] = items[index].model_copy(update=fields)
    return tuple(items)


def _authority(environment_id: ObjectId, actor_id: ObjectId, rights: list[EnvironmentRight]) -> Any:
    # Only the technical contact grants or revokes Manage permissions; holders of Manage
    # permissions (and the technical contact) grant and revoke the others.
    if MANAGE in rights:
        return {"technical_contact_ids": actor_id}
    return holds(environment_id, actor_id, MANAGE)


async def grant(
    db: Database,
    app_id: ObjectId,
    environment_id: ObjectId,
    person_id: ObjectId,
    rights: list[EnvironmentRight],
    actor_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Grant rights to a team member, none of which they hold yet."""
    at = now()
    new = [
        {
            "environment_id": environment_id,
            "person_id": person_id,
            "right": right.value,
            "granted_by": actor_id,
            "granted_at": at,
        }
        for right in rights
    ]
    return await apply_change(
        db,
        app_id,
        {
            "hosting": Hosting.MENDIX_CLOUD.value,
            "environments.environment_id": environment_id,
            "member_ids": person_id,
            "$and": [
                _authority(environment_id, actor_id, rights),
                *(
                    {"grants": {"$not": _grant_match(environment_id, person_id, right)}}
                    for right in rights
                ),
            ],
        },
        {"$push": {"grants": {"$each": new}}},
        lambda old: {
            "grants": (*old.grants, *(GrantRecord.model_validate(doc) for doc in new)),
        },
        expected_version,
        write,
    )


async def revoke(
    db: Database,
    app_id: ObjectId,
    environment_id: ObjectId,
    person_id: ObjectId,
    rights: list[EnvironmentRight],
    actor_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Revoke explicitly granted rights, all of which the person holds."""
    values = [right.value for right in rights]
    return await apply_change(
        db,
        app_id,
        {
            "hosting": Hosting.MENDIX_CLOUD.value,
            "$and": [
                _authority(environment_id, actor_id, rights),
                *({"grants": _grant_match(environment_id, person_id, right)} for right in rights),
            ],
        },
        {
            "$pull": {
                "grants": {
                    "environment_id": environment_id,
                    "person_id": person_id,
                    "right": {"$in": values},
                }
            }
        },
        lambda old: {
            "grants": tuple(
                grant
                for grant in old.grants
                if not (
                    grant.environment_id == environment_id
                    and grant.person_id == person_id
                    and grant.right in rights
                )
            )
        },
        expected_version,
        write,
    )


async def connect_project(
    db: Database,
    app_id: ObjectId,
    project_id: str,
    actor_id: ObjectId,
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Connect a project to the app's node: technical contact only; resets every grant."""
    return await apply_change(
        db,
        app_id,
        {"hosting": Hosting.MENDIX_CLOUD.value, "technical_contact_ids": actor_id},
        {"$set": {"project_id": project_id, "grants": []}},
        lambda old: {"project_id": project_id, "grants": ()},
        expected_version,
        write,
    )


async def update_alert_settings(
    db: Database,
    app_id: ObjectId,
    index: int,
    environment_id: ObjectId,
    actor_id: ObjectId,
    *,
    email_enabled: bool | None,
    recipient_ids: list[ObjectId] | None,
    thresholds: dict[AlertCategory, tuple[float, float]],
    expected_version: int | None = None,
    write: Write | None = None,
) -> Change | None:
    """Needs Access to monitoring; every extra recipient must have it too."""
    base = f"environments.{index}.alert_settings"
    changes: Document = {}
    if email_enabled is not None:
        changes[f"{base}.email_enabled"] = email_enabled
    if recipient_ids is not None:
        changes[f"{base}.recipient_ids"] = recipient_ids
    for category, (warning, critical) in thresholds.items():
        changes[f"{base}.thresholds.{category.value}"] = {"warning": warning, "critical": critical}
    checks = [holds(environment_id, actor_id, MONITORING)]
    checks += [holds(environment_id, person, MONITORING) for person in recipient_ids or ()]

    def derive(old: AppRecord) -> dict[str, Any]:
        settings = old.environments[index].alert_settings
        update: dict[str, Any] = {
            "thresholds": {
                **settings.thresholds,
                **{
                    category: {"warning": w, "critical": c}
                    for category, (w, c) in thresholds.items()
                },
            }
        }
        if email_enabled is not None:
            update["email_enabled"] = email_enabled
        if recipient_ids is not None:
            update["recipient_ids"] = tuple(recipient_ids)
        fresh = AlertSettings.model_validate({**settings.model_dump(), **update})
        return {"environments": _replace(old, index, alert_settings=fresh)}

    return await apply_change(
        db,
        app_id,
        {"hosting": Hosting.MENDIX_CLOUD.value, **_at(index, environment_id), "$and": checks},
        {"$set": changes},
        derive,
        expected_version,
        write,
    )


async def change_status(
    db: Database,
    app_id: ObjectId,
    index: int,
    environment_id: ObjectId,
    category: AlertCategory,
    old: MetricStatus,
    new: MetricStatus,
    record: Callable[[int], Document] | None = None,
) -> int | None:
    """Move a category's status from ``old`` to ``new``; None when it is no longer ``old``.

    The filter states the old status and the count of changes read, so of racing reports
    exactly one wins each transition. Returns the category's count of status changes
    (1, 2, ...), which orders the alerts. ``record`` makes the change's alert from that
    count; it goes into the app's pending alerts in the same write (store/alerts.py).
    Monitoring state is not configuration: the app's ``version`` does not change.
    """
    path = f"environments.{index}.alert_status.{category.value}"
    counter = f"environments.{index}.alert_changes.{category.value}"
    where = {"_id": app_id, **_at(index, environment_id), path: old.value}
    found = await _apps(db).find_one(where, {"environments": 1})
    if found is None:
        return None
    count = (found["environments"][index].get("alert_changes") or {}).get(category.value)
    sequence = int(count or 0) + 1
    update: Document = {"$set": {path: new.value}, "$inc": {counter: 1}}
    if record is not None:
        update["$push"] = {PENDING_ALERTS: record(sequence)}
    result = await _apps(db).update_one({**where, counter: count}, update)
    return sequence if result.modified_count else None
