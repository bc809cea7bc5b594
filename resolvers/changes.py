"""Applying one conditional app update: audit it, or explain why it was refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from resolvers.errors import ErrorCode, UserError, UserErrors, fail
from store import apps as app_store
from store import audit as audit_store
from store.apps import AppRecord, AppStatus, Change, Hosting
from store.audit import AuditAction
from store.db import Database
from store.people import PersonRecord

# Which stored fields each action changes; the audit event records them before and after.
_AUDITED = {
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


def _state(app: AppRecord, fields: tuple[str, ...]) -> dict[str, Any]:
    values = app.model_dump(include=set(fields), mode="python")
    return {
        key: list(value) if isinstance(value, tuple) else value for key, value in values.items()
    }


Diagnose = Callable[[AppRecord], UserError | None]


async def commit(
    db: Database,
    viewer: PersonRecord,
    action: AuditAction,
    attempt: Awaitable[Change | None],
    app: AppRecord,
    expected_version: int | None,
    diagnose: Diagnose,
) -> AppRecord:
    """Await the conditional update; audit it, or explain a refusal from a fresh read."""
    change = await attempt
    if change is None:
        fresh = await app_store.get_app(db, app.id)
        if fresh is None:
            fail(ErrorCode.NOT_FOUND, "No app with this ID", ["input", "appId"])
        if expected_version is not None and fresh.version != expected_version:
            fail(
                ErrorCode.VERSION_CONFLICT,
                f"The app is at version {fresh.version}, not {expected_version}",
                ["input", "expectedVersion"],
            )
        error = diagnose(fresh)
        if error is None:
            error = UserError(
                "The app changed while this request ran; read it again and retry",
                ErrorCode.CONCURRENT_CHANGE,
            )
        raise UserErrors([error])
    fields = _AUDITED[action]
    await audit_store.record(
        db,
        action,
        actor_id=viewer.id,
        app_id=change.after.id,
        version=change.after.version,
        before=_state(change.before, fields),
        after=_state(change.after, fields),
    )
    return change.after


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
