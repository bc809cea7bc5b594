"""License (embedded in App), license mutations and expansion requests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.context import Context
from graph.payloads import Payload, mutate
from graph.people import Person
from resolvers import licenses as license_cases
from resolvers.ids import encode
from store import licenses as license_store
from store.apps import AppRecord
from store.licenses import ExpansionRequestRecord

if TYPE_CHECKING:
    from graph.apps import App

Info = strawberry.Info[Context, None]
Renewer = strawberry.enum(
    license_store.Renewer, description="Who renews: Mendix (Mendix Cloud) or the customer."
)
AppRef = Annotated["App", strawberry.lazy("graph.apps")]


@strawberry.type(description="A license of an app.")
class License:
    license_id: str = strawberry.field(description="The license's ID (unique within the app).")
    plan: str
    named_users: int
    concurrent_users: int
    starts_at: datetime
    expires_at: datetime
    renewed_by: Renewer = strawberry.field(  # type: ignore[valid-type]
        description="MENDIX for Mendix Cloud apps (no renewal notices), CUSTOMER for "
        "On-Premises (renewal notices 60, 30 and 7 days ahead)."
    )


def licenses_of(app: AppRecord) -> list[License]:
    renewer = license_store.renewed_by(app.hosting)
    return [
        License(
            license_id=item.license_id,
            plan=item.plan,
            named_users=item.named_users,
            concurrent_users=item.concurrent_users,
            starts_at=item.starts_at,
            expires_at=item.expires_at,
            renewed_by=renewer,
        )
        for item in app.licenses
    ]


@strawberry.type(description="A request for more users, addressed to the Account Executive.")
class LicenseExpansionRequest:
    license_id: str
    named_users: int = strawberry.field(description="Named users asked for.")
    concurrent_users: int = strawberry.field(description="Concurrent users asked for.")
    message: str | None
    created_at: datetime

    @strawberry.field
    def id(self, root: strawberry.Parent[ExpansionRequestRecord]) -> strawberry.ID:
        return strawberry.ID(encode("LicenseExpansionRequest", root.id))

    @strawberry.field
    async def requester(
        self, root: strawberry.Parent[ExpansionRequestRecord], info: Info
    ) -> Person | None:
        return await info.context.loaders.people.load(root.requester_id)  # type: ignore[return-value]

    @strawberry.field(description="The Account Executive it was sent to.")
    async def account_executive(
        self, root: strawberry.Parent[ExpansionRequestRecord], info: Info
    ) -> Person | None:
        return await info.context.loaders.people.load(root.account_executive_id)  # type: ignore[return-value]


@strawberry.input(description="A new license (Mendix Support). Times without a zone are UTC.")
class AddLicenseInput:
    app_id: strawberry.ID
    license_id: str
    plan: str
    named_users: int
    concurrent_users: int
    starts_at: datetime
    expires_at: datetime
    expected_version: int | None = None


@strawberry.input(description="A renewal: a later expiry (Mendix Support).")
class RenewLicenseInput:
    app_id: strawberry.ID
    license_id: str
    expires_at: datetime
    expected_version: int | None = None


@strawberry.input(description="Change a license's plan, user counts or start (Mendix Support).")
class ChangeLicenseInput:
    app_id: strawberry.ID
    license_id: str
    plan: str | None = None
    named_users: int | None = None
    concurrent_users: int | None = None
    starts_at: datetime | None = None
    expected_version: int | None = None


@strawberry.input(description="Ask the Account Executive for more users on a license.")
class RequestLicenseExpansionInput:
    app_id: strawberry.ID
    license_id: str
    named_users: int
    concurrent_users: int
    message: str | None = None


@strawberry.type
class LicenseAppPayload(Payload):
    app: AppRef | None = None


@strawberry.type
class RequestLicenseExpansionPayload(Payload):
    expansion_request: LicenseExpansionRequest | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add a license to an app (Mendix Support).")
    async def add_license(self, info: Info, input: AddLicenseInput) -> LicenseAppPayload:
        return await mutate(LicenseAppPayload, "app", license_cases.add_license, info, input)

    @strawberry.mutation(description="Record a renewal: a later expiry (Mendix Support).")
    async def renew_license(self, info: Info, input: RenewLicenseInput) -> LicenseAppPayload:
        return await mutate(LicenseAppPayload, "app", license_cases.renew_license, info, input)

    @strawberry.mutation(description="Change plan, user counts or start (Mendix Support).")
    async def change_license(self, info: Info, input: ChangeLicenseInput) -> LicenseAppPayload:
        return await mutate(LicenseAppPayload, "app", license_cases.change_license, info, input)

    @strawberry.mutation(
        description="Ask the app's Account Executive for more users (technical contact or "
        "Support): recorded and emailed."
    )
    async def request_license_expansion(
        self, info: Info, input: RequestLicenseExpansionInput
    ) -> RequestLicenseExpansionPayload:
        return await mutate(
            RequestLicenseExpansionPayload,
            "expansion_request",
            license_cases.request_expansion,
            info,
            input,
        )
