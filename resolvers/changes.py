"""Applying one conditional app update with its audit events, or explaining its refusal.

Every app change goes through :func:`apply`: the update's filter states the rule (store/),
the caller's right (resolvers/rights.py) and the version it read, and the same atomic write
pushes the change's audit events into the app (store/audit.py drains them into the trail).
A refusal is explained from a fresh read by :func:`explain`: not found, version conflict, the
right, then the rule; when none of them is broken someone else changed the app meanwhile,
and the change is tried again on the fresh state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bson import ObjectId

from resolvers.errors import ErrorCode, UserError, UserErrors, fail
from resolvers.rights import Right
from store import apps as app_store
from store import audit as audit_store
from store.apps import AppRecord, AppStatus, Change, Hosting, Write
from store.audit import AuditAction
from store.db import Database, Document
from store.later import finish_now
from store.people import PersonRecord

# Which stored fields each action changes; the audit event records them before and after.
AUDITED = {
    AuditAction.ACCOUNT_EXECUTIVE_SET: ("account_executive_id",),
    AuditAction.TEAM_MEMBER_ADDED: ("member_ids",),
    AuditAction.TEAM_MEMBER_REMOVED: ("member_ids",),
    AuditAction.TECHNICAL_CONTACT_CHANGED: ("technical_contact_ids",),
    AuditAction.TECHNICAL_CONTACT_ADDED: ("technical_contact_ids", "member_ids"),
    AuditAction.TECHNICAL_CONTACT_REMOVED: ("technical_contact_ids",),
    AuditAction.APP_DELIVERED: ("status", "delivered_at"),
    AuditAction.HOSTING_CHANGED: ("hosting",),
    AuditAction.LICENSE_ADDED: ("licenses",),
    AuditAction.LICENSE_RENEWED: ("licenses",),
    AuditAction.LICENSE_CHANGED: ("licenses",),
}
# Unrelated changes that land between the read and the write are retried this often.
ATTEMPTS = 25


def _state(app: AppRecord, fields: tuple[str, ...]) -> dict[str, Any]:
    values = app.model_dump(include=set(fields), mode="python")
    return {
        key: list(value) if isinstance(value, tuple) else value for key, value in values.items()
    }


T = TypeVar("T")
Diagnose = Callable[[AppRecord], UserError | None]
Attempt = Callable[[Write], Awaitable[Change | None]]
Record = Callable[[Change], list[Document]]


def audited(viewer: PersonRecord, action: AuditAction, **extra: Any) -> Record:
    """The event of an app change that records the action's fields before and after."""
    fields = AUDITED[action]

    def record(change: Change) -> list[Document]:
        return [
            audit_store.event(
                action,
                actor_id=viewer.id,
                before=_state(change.before, fields),
                after={**_state(change.after, fields), **extra},
            )
        ]

    return record


def both(*records: Record) -> Record:
    return lambda change: [event for record in records for event in record(change)]


async def apply(
    db: Database,
    app: AppRecord,
    attempt: Attempt,
    *,
    right: Right,
    record: Record,
    expected_version: int | None,
    diagnose: Diagnose,
) -> Change:
    """Apply a change to ``app`` (as read) with its events in one conditional write."""
    change = await on_app(
        db,
        app,
        lambda base: attempt(Write(base, right.authority.condition, record)),
        right=right,
        diagnose=diagnose,
        expected_version=expected_version,
    )
    await finish(db, app.id)
    return change


async def on_app(
    db: Database,
    app: AppRecord,
    write: Callable[[AppRecord], Awaitable[T | None]],
    *,
    right: Right,
    diagnose: Diagnose,
    expected_version: int | None = None,
) -> T:
    """``write`` (one conditional write on the app as read, stating ``right`` in its filter;
    None when it matched nothing) until it writes: after a miss, :func:`explain` raises the
    typed refusal or gives the fresh app to try again on."""
    right.check(app)
    for _ in range(ATTEMPTS):
        done = await write(app)
        if done is not None:
            return done
        app = await explain(db, app.id, app.version, right, expected_version, diagnose)
    fail(ErrorCode.CONCURRENT_CHANGE, "The app kept changing; read it again and retry")


async def commit(
    db: Database,
    viewer: PersonRecord,
    action: AuditAction,
    attempt: Attempt,
    app: AppRecord,
    expected_version: int | None,
    diagnose: Diagnose,
    right: Right,
) -> AppRecord:
    """:func:`apply` for a change audited by its action's fields; returns the app after."""
    change = await apply(
        db,
        app,
        attempt,
        right=right,
        record=audited(viewer, action),
        expected_version=expected_version,
        diagnose=diagnose,
    )
    return change.after


async def explain(
    db: Database,
    app_id: ObjectId,
    read_version: int,
    right: Right,
    expected_version: int | None,
    diagnose: Diagnose,
) -> AppRecord:
    """Why a conditional update matched nothing, from a fresh read: raises the typed refusal,
    or returns the fresh app when only the version moved (to try again on it)."""
    fresh = await app_store.get_app(db, app_id)
    if fresh is None:
        fail(ErrorCode.NOT_FOUND, "No app with this ID", ["input", "appId"])
    if expected_version is not None and fresh.version != expected_version:
        fail(
            ErrorCode.VERSION_CONFLICT,
            f"The app is at version {fresh.version}, not {expected_version}",
            ["input", "expectedVersion"],
        )
    if not right.holds(fresh):
        raise UserErrors([right.error])
    error = diagnose(fresh)
    if error is None and fresh.version == read_version:
        error = UserError(
            "The app changed while this request ran; read it again and retry",
            ErrorCode.CONCURRENT_CHANGE,
        )
    if error is not None:
        raise UserErrors([error])
    return fresh


async def finish(db: Database, app_id: ObjectId) -> None:
    """Move the change's events into the audit trail now. Committed either way: if this
    fails, the events stay pending (and readable) until the periodic task moves them."""
    await finish_now(
        lambda: audit_store.drain(db, app_store.COLLECTION, app_id),
        "Audit events of app %s left pending",
        app_id,
    )


def error(code: ErrorCode, message: str, field: str = "personId") -> UserError:
    return UserError(message, code, ["input", field])


def hosting_is(hosting: Hosting) -> Diagnose:
    label = "Mendix Cloud" if hosting is Hosting.MENDIX_CLOUD else "On-Premises"

    def check(app: AppRecord) -> UserError | None:
        if app.hosting is not hosting:
            return error(ErrorCode.WRONG_HOSTING_TYPE, f"Only for {label} apps", "appId")
        return None

    return check


def first(*checks: Diagnose) -> Diagnose:
    def run(app: AppRecord) -> UserError | None:
        for check in checks:
            error = check(app)
            if error is not None:
                return error
        return None

    return run


def mendix_id_ok(person: PersonRecord) -> Diagnose:
    def check(app: AppRecord) -> UserError | None:
        if person.mendix_id is None and app.status is not AppStatus.ORDERED:
            return error(
                ErrorCode.TECHNICAL_CONTACT_WITHOUT_MENDIX_ID,
                "A delivered app's technical contact needs a MendixID",
            )
        return None

    return check
