"""A license expansion request's rule, audit event and email (O2, C4); the use case is
resolvers/licenses.py ``request_expansion``.

The request is made by one conditional write on the app (store/gated.py) whose filter states
the requester's right, the app version the rule was checked on, the license as read and the
Account Executive the email goes to; :func:`rule` explains a refusal from a fresh read.
"""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.changes import Diagnose, error
from resolvers.errors import ErrorCode, UserError
from resolvers.ids import encode
from store import audit as audit_store
from store import pending_mail
from store.apps import AppRecord, LicenseRecord
from store.audit import AuditAction
from store.db import Document
from store.licenses import ExpansionRequestRecord, license_of
from store.notifications import NotificationKind
from store.people import PersonRecord


@dataclass(frozen=True)
class Wanted:
    """What the requester asks for."""

    license_id: str
    named_users: int
    concurrent_users: int
    message: str | None


def rule(wanted: Wanted) -> Diagnose:
    """The app has the license, the request asks for more users (never fewer) and the app
    has an Account Executive."""

    def check(app: AppRecord) -> UserError | None:
        current = license_of(app, wanted.license_id)
        if current is None:
            return error(ErrorCode.LICENSE_NOT_FOUND, "The app has no such license", "licenseId")
        counts = (wanted.named_users, wanted.concurrent_users)
        have = (current.named_users, current.concurrent_users)
        if counts == have or counts[0] < have[0] or counts[1] < have[1]:
            return error(
                ErrorCode.NOT_AN_EXPANSION,
                "An expansion asks for more users than the license has, and never fewer",
                "namedUsers",
            )
        if app.account_executive_id is None:
            return no_executive()
        return None

    return check


def no_executive() -> UserError:
    return error(
        ErrorCode.NO_ACCOUNT_EXECUTIVE,
        "The app has no Account Executive; ask Mendix Support to set one",
        "appId",
    )


def event(
    viewer: PersonRecord,
    app: AppRecord,
    executive: PersonRecord,
    wanted: Wanted,
    request: ExpansionRequestRecord,
) -> Document:
    """``LICENSE_EXPANSION_REQUESTED``, on the app version the request was made on."""
    return audit_store.event(
        AuditAction.LICENSE_EXPANSION_REQUESTED,
        actor_id=viewer.id,
        app_id=app.id,
        version=app.version,
        after={
            "license_id": wanted.license_id,
            "named_users": wanted.named_users,
            "concurrent_users": wanted.concurrent_users,
            "account_executive_id": executive.id,
            "expansion_request_id": encode("LicenseExpansionRequest", request.id),
        },
    )


def mail(
    viewer: PersonRecord,
    app: AppRecord,
    executive: PersonRecord,
    current: LicenseRecord,
    wanted: Wanted,
    request: ExpansionRequestRecord,
) -> Document:
    """The Account Executive's email (queued once: its dedupe key is the request's)."""
    return pending_mail.mail(
        kind=NotificationKind.LICENSE_EXPANSION_REQUEST,
        dedupe_key=f"expansion:{request.id}",
        recipient_id=executive.id,
        to_email=executive.email,
        app_id=app.id,
        subject=f"License expansion request for {app.name}",
        body=(
            f"Dear {executive.name},\n\n{viewer.name} <{viewer.email}> asks to expand "
            f"license {current.license_id} ({current.plan}) of {app.name} "
            f"({app.subdomain}) from {current.named_users} named / "
            f"{current.concurrent_users} concurrent users to {wanted.named_users} named / "
            f"{wanted.concurrent_users} concurrent users."
            + (f"\n\nMessage:\n{wanted.message}" if wanted.message else "")
        ),
    )
