"""Licenses (O1, O2, C4): Support adds, renews and changes them; the app's technical contact
(or Support) asks the Account Executive for an expansion, which is recorded and emailed.

Who renews follows from hosting: Mendix for Mendix Cloud apps, the customer for On-Premises
(``renewedBy``); recording the new expiry is Support's either way, since a renewal is a
commercial agreement with Mendix.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from pydantic import Field

from resolvers import expansions, rights
from resolvers.auth import visible_app
from resolvers.changes import commit, error, on_app
from resolvers.errors import ErrorCode, UserError, UserErrors, fail
from resolvers.ids import AppId
from resolvers.inputs import Input, Version, parse
from store import licenses as license_store
from store import people as people_store
from store.apps import AppRecord, Change, LicenseRecord, Write
from store.audit import AuditAction
from store.db import Database
from store.gated import Gate
from store.later import finish_now
from store.licenses import ExpansionRequestRecord, license_of
from store.pagination import Page, Window
from store.people import PersonRecord

LicenseId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]

Plan = Annotated[str, Field(min_length=1, max_length=100)]
Users = Annotated[int, Field(ge=0, le=10_000_000)]
Message = Annotated[str, Field(max_length=5000)]


class AddLicenseInput(Input):
    app_id: AppId
    license_id: LicenseId
    plan: Plan
    named_users: Users
    concurrent_users: Users
    starts_at: datetime
    expires_at: datetime
    expected_version: Version | None = None


class RenewLicenseInput(Input):
    app_id: AppId
    license_id: LicenseId
    expires_at: datetime
    expected_version: Version | None = None


class ChangeLicenseInput(Input):
    app_id: AppId
    license_id: LicenseId
    plan: Plan | None = None
    named_users: Users | None = None
    concurrent_users: Users | None = None
    starts_at: datetime | None = None
    expected_version: Version | None = None


class ExpansionInput(Input):
    multi_line = frozenset({"message"})
    app_id: AppId
    license_id: LicenseId
    named_users: Users
    concurrent_users: Users
    message: Message | None = None


def _utc(moment: datetime) -> datetime:
    """Naive input times are UTC; stored at MongoDB's millisecond precision."""
    value = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _bad_dates() -> UserError:
    return UserError(
        "expiresAt must be later than startsAt", ErrorCode.INVALID_DATES, ["input", "expiresAt"]
    )


async def add_license(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    args = parse(AddLicenseInput, data)
    app = await visible_app(db, viewer, args.app_id)
    right = rights.support_only(viewer)
    right.require()
    if _utc(args.expires_at) <= _utc(args.starts_at):
        raise UserErrors([_bad_dates()])
    license = LicenseRecord(
        license_id=args.license_id,
        plan=args.plan,
        named_users=args.named_users,
        concurrent_users=args.concurrent_users,
        starts_at=_utc(args.starts_at),
        expires_at=_utc(args.expires_at),
    )
    return await commit(
        db,
        viewer,
        AuditAction.LICENSE_ADDED,
        lambda write: license_store.add_license(db, app.id, license, args.expected_version, write),
        app,
        args.expected_version,
        lambda fresh: (
            error(ErrorCode.DUPLICATE_LICENSE, "The app has this license already", "licenseId")
            if license_of(fresh, args.license_id)
            else None
        ),
        right,
    )


async def _rewrite(
    db: Database,
    viewer: PersonRecord,
    action: AuditAction,
    app: AppRecord,
    license_id: str,
    expected_version: int | None,
    revise: Callable[[LicenseRecord], LicenseRecord],
) -> AppRecord:
    """Replace one license of the app as read (the write pins its version; on an unrelated
    concurrent change it is revised again from the fresh state, unless the client pinned
    ``expectedVersion``)."""

    def attempt(write: Write) -> Awaitable[Change | None]:
        current = license_of(write.base, license_id)
        if current is None:
            fail(ErrorCode.LICENSE_NOT_FOUND, "The app has no such license", ["input", "licenseId"])
        return license_store.replace_license(
            db, write.base, revise(current), expected_version, write
        )

    return await commit(
        db,
        viewer,
        action,
        attempt,
        app,
        expected_version,
        lambda fresh: None,
        rights.support_only(viewer),
    )


async def renew_license(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    """A new, later expiry (Support). Renewal notices start over for the new expiry."""
    args = parse(RenewLicenseInput, data)
    app = await visible_app(db, viewer, args.app_id)
    rights.support_only(viewer).require()
    expires_at = _utc(args.expires_at)

    def revise(current: LicenseRecord) -> LicenseRecord:
        if expires_at <= current.expires_at:
            fail(
                ErrorCode.EXPIRY_NOT_LATER,
                f"A renewal must expire after {current.expires_at.isoformat()}",
                ["input", "expiresAt"],
            )
        return current.model_copy(update={"expires_at": expires_at})

    return await _rewrite(
        db,
        viewer,
        AuditAction.LICENSE_RENEWED,
        app,
        args.license_id,
        args.expected_version,
        revise,
    )


async def change_license(db: Database, viewer: PersonRecord, data: dict[str, Any]) -> AppRecord:
    """Change plan, user counts or start date (Support)."""
    args = parse(ChangeLicenseInput, data)
    app = await visible_app(db, viewer, args.app_id)
    rights.support_only(viewer).require()
    changes = args.model_dump(
        include={"plan", "named_users", "concurrent_users", "starts_at"}, exclude_none=True
    )
    if not changes:
        fail(ErrorCode.INVALID_INPUT, "Nothing to change", ["input"])
    if "starts_at" in changes:
        changes["starts_at"] = _utc(changes["starts_at"])

    def revise(current: LicenseRecord) -> LicenseRecord:
        updated = current.model_copy(update=changes)
        if updated.expires_at <= updated.starts_at:
            raise UserErrors([_bad_dates()])
        return updated

    return await _rewrite(
        db,
        viewer,
        AuditAction.LICENSE_CHANGED,
        app,
        args.license_id,
        args.expected_version,
        revise,
    )


async def request_expansion(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> ExpansionRequestRecord:
    """O2/C4: more users goes to the app's Account Executive: recorded, then emailed. Made
    by one conditional write on the app that states the requester's right and the rule
    (resolvers/expansions.py): a right lost a moment before is a refusal, never a request."""
    args = parse(ExpansionInput, data)
    wanted = expansions.Wanted(
        args.license_id, args.named_users, args.concurrent_users, args.message
    )
    app = await visible_app(db, viewer, args.app_id)
    right = rights.contact_or_support(viewer)
    request = await on_app(
        db,
        app,
        lambda base: _expand(db, viewer, base, right, wanted),
        right=right,
        diagnose=expansions.rule(wanted),
    )
    await finish_now(
        partial(license_store.drain_expansion, db, request.id),
        "Expansion request %s left its email or event pending",
        request.id,
    )
    return request


async def _expand(
    db: Database,
    viewer: PersonRecord,
    app: AppRecord,
    right: rights.Right,
    wanted: expansions.Wanted,
) -> ExpansionRequestRecord | None:
    """One attempt on ``app`` as read; None when the app is no longer so (nothing made)."""
    broken = expansions.rule(wanted)(app)
    if broken is not None:
        raise UserErrors([broken])
    current = license_of(app, wanted.license_id)
    assert current is not None and app.account_executive_id is not None  # the rule holds
    executive = await people_store.get_person(db, app.account_executive_id)
    if executive is None:
        raise UserErrors([expansions.no_executive()])
    return await license_store.record_expansion(
        db,
        gate=Gate(app.version, right.authority.condition),
        app_id=app.id,
        license=current,
        requester_id=viewer.id,
        account_executive_id=executive.id,
        named_users=wanted.named_users,
        concurrent_users=wanted.concurrent_users,
        message=wanted.message,
        events=lambda made: [expansions.event(viewer, app, executive, wanted, made)],
        mail=lambda made: [expansions.mail(viewer, app, executive, current, wanted, made)],
    )


async def app_expansions(db: Database, app_id: Any, window: Window) -> Page[ExpansionRequestRecord]:
    return await license_store.list_expansions(db, app_id, window)
