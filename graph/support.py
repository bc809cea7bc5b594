"""SupportRequest: the type, its queries and its mutations (S1, A5 approval)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from graph.connections import Connection, connection, paged
from graph.context import Context
from graph.nodes import record_node
from graph.orders import BY_ID, SupportRequestOrder
from graph.payloads import Payload, mutate
from graph.people import Person
from resolvers import orders
from resolvers import support as support_cases
from store import support as support_store
from store.pagination import Window
from store.support import CommentRecord, SupportRequestRecord

if TYPE_CHECKING:
    from graph.apps import App

Info = strawberry.Info[Context, None]
RequestKind = strawberry.enum(support_store.RequestKind, name="SupportRequestKind")
Level = strawberry.enum(support_store.Level, name="SupportLevel")
Priority = strawberry.enum(
    support_store.Priority,
    name="SupportPriority",
    description="From impact x urgency: HIGH/HIGH is CRITICAL, one step lower per level.",
)
RequestStatus = strawberry.enum(
    support_store.RequestStatus,
    name="SupportRequestStatus",
    description="NEW -> TRIAGED -> RESOLVED or REJECTED; a CHANGE naming a technical contact "
    "-> APPROVING -> APPROVED.",
)
AppRef = Annotated["App", strawberry.lazy("graph.apps")]


@strawberry.type
class SupportComment:
    body: str
    created_at: datetime

    @strawberry.field
    async def author(self, root: strawberry.Parent[CommentRecord], info: Info) -> Person | None:
        return await info.context.loaders.people.load(root.author_id)  # type: ignore[return-value]


@strawberry.type(description="A question, change or incident for Mendix Support.")
class SupportRequest(relay.Node):
    id: relay.NodeID[str]
    kind: RequestKind  # type: ignore[valid-type]
    subject: str
    body: str
    impact: Level  # type: ignore[valid-type]
    urgency: Level  # type: ignore[valid-type]
    priority: Priority  # type: ignore[valid-type]
    status: RequestStatus  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolution: str | None

    @strawberry.field
    def comments(self, root: strawberry.Parent[SupportRequestRecord]) -> list[SupportComment]:
        return list(root.comments)  # type: ignore[arg-type]

    @strawberry.field
    async def requester(
        self, root: strawberry.Parent[SupportRequestRecord], info: Info
    ) -> Person | None:
        return await info.context.loaders.people.load(root.requester_id)  # type: ignore[return-value]

    @strawberry.field(
        description="CHANGE: the person to add as a technical contact (A5); null while they "
        "are someone you may not see (not on any of your apps' teams)."
    )
    async def technical_contact(
        self, root: strawberry.Parent[SupportRequestRecord], info: Info
    ) -> Person | None:
        # named by the submitter, so read in the viewer's scope (never disclosed otherwise)
        from graph.visibility import visible_people

        if root.technical_contact_id is None:
            return None
        return await visible_people(info.context).load(root.technical_contact_id)  # type: ignore[return-value]

    @strawberry.field
    async def app(self, root: strawberry.Parent[SupportRequestRecord], info: Info) -> AppRef | None:
        from resolvers import apps as app_cases

        ctx = info.context
        return await app_cases.app_of(ctx.db, ctx.viewer, root.app_id)  # type: ignore[return-value]

    is_type_of, resolve_nodes = record_node(SupportRequestRecord, support_cases.visible_requests)


@strawberry.input
class SupportRequestsFilter:
    status: RequestStatus | None = None  # type: ignore[valid-type]
    kind: RequestKind | None = None  # type: ignore[valid-type]


@strawberry.input(description="A new support request (the app's technical contacts and team).")
class SubmitSupportRequestInput:
    kind: RequestKind  # type: ignore[valid-type]
    app_id: strawberry.ID
    subject: str
    body: str
    impact: Level  # type: ignore[valid-type]
    urgency: Level  # type: ignore[valid-type]
    technical_contact_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="CHANGE on an On-Premises app: the person to add as a technical contact.",
    )


@strawberry.input
class CommentOnSupportRequestInput:
    request_id: strawberry.ID
    body: str


@strawberry.input(description="Support sets impact and urgency; the priority follows.")
class TriageSupportRequestInput:
    request_id: strawberry.ID
    impact: Level  # type: ignore[valid-type]
    urgency: Level  # type: ignore[valid-type]


@strawberry.input
class CloseSupportRequestInput:
    request_id: strawberry.ID
    resolution: str | None = None


@strawberry.type
class SupportRequestPayload(Payload):
    support_request: SupportRequest | None = None


def requests_field(description: str) -> Any:
    """``supportRequests`` on App (the app is visible already)."""

    @paged(orders.support_request_order, SupportRequestOrder, BY_ID)
    async def resolve(
        root: Any, info: Info, window: Window, filter: SupportRequestsFilter | None = None
    ) -> Connection[SupportRequest]:
        ctx = info.context
        filters: Any = filter
        page = await support_cases.list_requests(ctx.db, ctx.viewer, filters, window, root.id)
        return connection(page)

    return strawberry.field(resolve, description=description)


def _mutation(use_case: Any, description: str, input_type: type) -> Any:
    async def resolve(self: Any, info: Info, input: Any) -> SupportRequestPayload:
        return await mutate(SupportRequestPayload, "support_request", use_case, info, input)

    resolve.__annotations__["input"] = input_type
    return strawberry.mutation(resolve, description=description)


@strawberry.type
class Query:
    @strawberry.field(description="Support requests of the apps you may see (Support: all).")
    @paged(orders.support_request_order, SupportRequestOrder, BY_ID)
    async def support_requests(
        self, info: Info, window: Window, filter: SupportRequestsFilter | None = None
    ) -> Connection[SupportRequest]:
        ctx = info.context
        filters: Any = filter
        page = await support_cases.list_requests(ctx.db, ctx.viewer, filters, window)
        return connection(page)


@strawberry.type
class Mutation:
    submit_support_request = _mutation(
        support_cases.submit,
        "Submit a question, change or incident (the app's technical contacts and team).",
        SubmitSupportRequestInput,
    )
    comment_on_support_request = _mutation(
        support_cases.comment,
        "Comment on an open request (the app's team, or Support).",
        CommentOnSupportRequestInput,
    )
    triage_support_request = _mutation(
        support_cases.triage, "Set impact and urgency (Support).", TriageSupportRequestInput
    )
    resolve_support_request = _mutation(
        support_cases.resolve, "Resolve an open request (Support).", CloseSupportRequestInput
    )
    reject_support_request = _mutation(
        support_cases.reject, "Reject an open request (Support).", CloseSupportRequestInput
    )
    approve_support_request = _mutation(
        support_cases.approve,
        "Approve a CHANGE request naming a technical contact (Support): adds the contact to "
        "the On-Premises app and emails the requester.",
        CloseSupportRequestInput,
    )
