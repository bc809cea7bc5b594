"""Who may make each change: every right defined once, for the write and for ``viewerCan``.

A :class:`Right` is a store :class:`~store.rights.Authority` (what the person alone decides,
plus the condition the app document must meet) with the typed refusal to give when it does
not hold. A use case refuses at once when the person-level half says no, states the
condition in its conditional update's filter (so a right lost between the read and the
write refuses the write) and explains a refusal with :meth:`Right.holds` on a fresh read;
``App.viewerCan`` answers with the same :meth:`Right.holds`. docs/authority-and-records.md
has the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bson import ObjectId

from resolvers.errors import ErrorCode, UserError, UserErrors
from store import rights as authority
from store.apps import AppRecord
from store.cloud import EnvironmentRight
from store.people import PersonRecord
from store.rights import Authority

MANAGE = EnvironmentRight.MANAGE_PERMISSIONS


@dataclass(frozen=True)
class Right:
    authority: Authority
    error: UserError

    def require(self) -> None:
        """Refuse now when the person alone decides no (per request, before any read)."""
        if not self.authority.granted:
            raise UserErrors([self.error])

    def holds(self, app: AppRecord) -> bool:
        return self.authority.holds(app)

    def check(self, app: AppRecord) -> None:
        """Refuse unless the right holds on ``app`` as read (the write states it again)."""
        self.require()
        if not self.holds(app):
            raise UserErrors([self.error])


def _forbidden(message: str) -> UserError:
    return UserError(message, ErrorCode.FORBIDDEN)


def support_only(viewer: PersonRecord) -> Right:
    """Mendix Support (a person-level right: nothing on the app decides it)."""
    error = _forbidden("Only Mendix Support may do this")
    if viewer.is_support:
        return Right(authority.anyone(), error)
    return Right(authority.nobody(error.message), error)


def contact_or_support(viewer: PersonRecord) -> Right:
    """Mendix Support, or a technical contact of the app (stated in the update's filter)."""
    error = _forbidden("Only the app's technical contact or Mendix Support may do this")
    if viewer.is_support:
        return Right(authority.anyone(), error)
    return Right(authority.technical_contact(viewer.id, error.message), error)


def team_member(viewer: PersonRecord) -> Right:
    """On the app's team (technical contacts always are)."""
    error = _forbidden("Only the app's technical contacts and team members may do this")
    return Right(authority.team_member(viewer.id, error.message), error)


def technical_contact_only(viewer: PersonRecord, field: str = "appId") -> Right:
    error = UserError(
        "Only the technical contact may do this", ErrorCode.TECHNICAL_CONTACT_ONLY, ["input", field]
    )
    return Right(authority.technical_contact(viewer.id, error.message), error)


def environment_right(
    viewer: PersonRecord, environment_id: ObjectId, right: EnvironmentRight
) -> Right:
    """Holding ``right`` on the environment (technical contacts hold all of them)."""
    label = right.value.replace("_", " ").capitalize()
    error = UserError(f"You need {label} on this environment", ErrorCode.MISSING_RIGHT)
    return Right(authority.environment_right(environment_id, viewer.id, right, label), error)


def grant_rights(
    viewer: PersonRecord, environment_id: ObjectId, rights: list[EnvironmentRight]
) -> Right:
    """Only the technical contact grants or revokes Manage permissions; holders of Manage
    permissions (and the technical contact) grant and revoke the others (C3)."""
    if MANAGE in rights:
        error = UserError(
            "Only the technical contact grants or revokes Manage permissions",
            ErrorCode.TECHNICAL_CONTACT_ONLY,
            ["input", "rights"],
        )
        return Right(authority.technical_contact(viewer.id, error.message), error)
    return environment_right(viewer, environment_id, MANAGE)


# What App.viewerCan answers: each app mutation's right, by the mutation's GraphQL name. The
# use cases call the same functions (see each one), so the answer is the check.
APP_RIGHTS: dict[str, Callable[[PersonRecord], Right]] = {
    "setAccountExecutive": support_only,
    "addTeamMember": contact_or_support,
    "removeTeamMember": contact_or_support,
    "changeTechnicalContact": contact_or_support,
    "addTechnicalContact": support_only,
    "removeTechnicalContact": contact_or_support,
    "deliverApp": support_only,
    "moveAppToMendixCloud": support_only,
    "connectProject": technical_contact_only,
    "addEnvironment": support_only,
    "addLicense": support_only,
    "renewLicense": support_only,
    "changeLicense": support_only,
    "requestLicenseExpansion": contact_or_support,
    "submitSupportRequest": team_member,
}


def viewer_can(viewer: PersonRecord, app: AppRecord) -> dict[str, bool]:
    """For each app mutation: whether the viewer holds its right on ``app``."""
    return {name: right(viewer).holds(app) for name, right in APP_RIGHTS.items()}
