"""Person: the type, its queries and its mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from graph.app_views import ORDER_HELP, AppOrder, AppsFilter, app_connection
from graph.connections import Connection, connection, paged
from graph.context import Context
from graph.nodes import record_node
from graph.orders import BY_ID, NEWEST_FIRST, NotificationOrder, PersonOrder
from graph.payloads import Payload, mutate
from resolvers import app_views, orders
from resolvers import people as people_cases
from store import people as people_store
from store.pagination import Window
from store.people import PersonRecord

if TYPE_CHECKING:
    from graph.apps import App
    from graph.environments import EnvironmentGrant
    from graph.notifications import Notification
    from graph.tokens import AccessToken

Info = strawberry.Info[Context, None]
PersonStatus = strawberry.enum(people_store.PersonStatus)
AppRef = Annotated["App", strawberry.lazy("graph.apps")]
NotificationRef = Annotated["Notification", strawberry.lazy("graph.notifications")]
GrantRef = Annotated["EnvironmentGrant", strawberry.lazy("graph.environments")]
AccessTokenRef = Annotated["AccessToken", strawberry.lazy("graph.tokens")]


def _apps_of(role: str, description: str) -> Any:
    """An app connection of the visible apps where the person has ``role`` (an AppsFilter
    key), filterable and orderable like ``apps``."""

    @paged(app_views.app_order, AppOrder, ORDER_HELP)
    async def resolve(
        root: strawberry.Parent[PersonRecord],
        info: Info,
        window: Window,
        filter: AppsFilter | None = None,
    ) -> Connection[AppRef]:
        return await app_connection(info, window, filter, **{role: root.id})  # type: ignore[arg-type]

    return strawberry.field(resolve, description=description)


@strawberry.type(description="A person who can own, work on or sell Mendix apps.")
class Person(relay.Node):
    id: relay.NodeID[str]
    email: str
    name: str
    mendix_id: str | None = strawberry.field(description="Set once the person has an account.")
    status: PersonStatus  # type: ignore[valid-type]
    created_at: datetime

    # stored-record properties, read as plain fields (no resolver: the compiled path reads them)
    has_mendix_id: bool = strawberry.field(
        description="Whether the person has a MendixID (needed for delivery)."
    )
    is_support: bool = strawberry.field(description="Whether the person is Mendix Support.")

    technical_contact_of = _apps_of(
        "technical_contact_id", "Apps (that you may see) where this person is technical contact."
    )
    team_member_of = _apps_of(
        "team_member_id", "Apps (that you may see) where this person is on the team."
    )
    account_executive_of = _apps_of(
        "account_executive_id", "Apps (that you may see) where this person is account executive."
    )

    @strawberry.field(description="Emails sent to this person (visible to them and Support).")
    @paged(orders.notification_order, NotificationOrder, NEWEST_FIRST)
    async def notifications(
        self, root: strawberry.Parent[PersonRecord], info: Info, window: Window
    ) -> Connection[NotificationRef]:
        from resolvers import notifications as notification_cases

        ctx = info.context
        page = await notification_cases.person_notifications(ctx.db, ctx.viewer, root.id, window)
        return connection(page)

    @strawberry.field(description="Explicit environment grants, on the apps you may see.")
    async def environment_grants(
        self, root: strawberry.Parent[PersonRecord], info: Info
    ) -> list[GrantRef]:
        from resolvers.permissions import person_grants

        return await person_grants(info.context.db, info.context.viewer, root.id)  # type: ignore[return-value]

    # access tokens (graph/tokens.py): one block
    @strawberry.field(
        description="This person's access tokens, never their secrets: for the person "
        "and Mendix Support; null for anyone else."
    )
    async def access_tokens(
        self,
        root: strawberry.Parent[PersonRecord],
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AccessTokenRef] | None:
        from graph.tokens import access_tokens_of

        return await access_tokens_of(info, root.id, first, after, last, before)

    is_type_of, resolve_nodes = record_node(PersonRecord, people_cases.visible_people)


@strawberry.input
class PeopleFilter:
    search: str | None = strawberry.field(default=None, description="Part of name or email.")
    status: PersonStatus | None = None  # type: ignore[valid-type]
    has_mendix_id: bool | None = None


@strawberry.input
class CreatePersonInput:
    email: str
    name: str
    mendix_id: str | None = None


@strawberry.input
class RegisterMendixIdInput:
    person_id: strawberry.ID
    mendix_id: str


@strawberry.input
class SetPersonStatusInput:
    person_id: strawberry.ID
    status: PersonStatus  # type: ignore[valid-type]


@strawberry.type
class PersonPayload(Payload):
    person: Person | None = None


@strawberry.type
class Query:
    @strawberry.field(description="The person making the request.")
    def viewer(self, info: Info) -> Person:
        return info.context.viewer  # type: ignore[return-value]

    @strawberry.field(description="People you may see: yourself and everyone on your apps.")
    @paged(orders.person_order, PersonOrder, BY_ID)
    async def people(
        self, info: Info, window: Window, filter: PeopleFilter | None = None
    ) -> Connection[Person]:
        ctx = info.context
        filters: Any = filter
        page = await people_cases.list_people(ctx.db, ctx.viewer, filters, window)
        return connection(page)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Add a person (e.g. to invite them to a team).")
    async def create_person(self, info: Info, input: CreatePersonInput) -> PersonPayload:
        return await mutate(PersonPayload, "person", people_cases.create_person, info, input)

    @strawberry.mutation(description="Record a person's MendixID; it can be set only once.")
    async def register_mendix_id(self, info: Info, input: RegisterMendixIdInput) -> PersonPayload:
        return await mutate(PersonPayload, "person", people_cases.register_mendix_id, info, input)

    @strawberry.mutation(description="Mark a person ACTIVE or INACTIVE (Mendix Support).")
    async def set_person_status(self, info: Info, input: SetPersonStatusInput) -> PersonPayload:
        return await mutate(PersonPayload, "person", people_cases.set_person_status, info, input)
