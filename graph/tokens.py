"""AccessToken: the type, its mutations, and the guard that applies a token's scope.

The scope comes from the request's credential (resolvers/auth.py ``Credential``), decided
once per request: a READ_ONLY token may run queries and subscriptions, never a mutation; a
METRICS token nothing here (it reports at POST /metrics). In-process callers without a
credential (tests, the CLI) are not limited.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from bson import ObjectId
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.connections import Connection, connection, page_window
from graph.context import Context
from graph.errors import user_errors
from graph.nodes import record_node
from graph.payloads import Payload
from resolvers import tokens as token_cases
from resolvers.auth import Credential
from resolvers.errors import ErrorCode, UserErrors
from store import tokens as token_store
from store.records import now
from store.tokens import TokenRecord

if TYPE_CHECKING:
    from graph.apps import App
    from graph.people import Person

Info = strawberry.Info[Context, None]
AccessTokenScope = strawberry.enum(
    token_store.TokenScope,
    name="AccessTokenScope",
    description="FULL: everything its person may do. READ_ONLY: queries and subscriptions; "
    "every mutation is refused (INSUFFICIENT_SCOPE). METRICS: a cloud node's token, only for "
    "POST /metrics of its app.",
)
PersonRef = Annotated["Person", strawberry.lazy("graph.people")]
AppRef = Annotated["App", strawberry.lazy("graph.apps")]


@strawberry.type(description="A bearer token's metadata; the secret is shown only at creation.")
class AccessToken(relay.Node):
    id: relay.NodeID[str]
    label: str
    scope: AccessTokenScope  # type: ignore[valid-type]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="Last request made with it (recorded at most once a minute)."
    )
    revoked_at: datetime | None

    @strawberry.field(description="Whether it is past its expiry.")
    def expired(self, root: strawberry.Parent[TokenRecord]) -> bool:
        return root.expired(now())

    @strawberry.field(description="Whether requests with it are accepted now.")
    def active(self, root: strawberry.Parent[TokenRecord]) -> bool:
        return root.usable(now())

    @strawberry.field(description="The person it belongs to (none for a cloud node's token).")
    async def person(self, root: strawberry.Parent[TokenRecord], info: Info) -> PersonRef | None:
        if root.person_id is None:
            return None
        return await info.context.loaders.people.load(root.person_id)  # type: ignore[return-value]

    @strawberry.field(description="A METRICS token's app, if you may see it.")
    async def app(self, root: strawberry.Parent[TokenRecord], info: Info) -> AppRef | None:
        if root.app_id is None:
            return None
        from resolvers import apps as app_cases

        ctx = info.context
        return await app_cases.app_of(ctx.db, ctx.viewer, root.app_id)  # type: ignore[return-value]

    is_type_of, resolve_nodes = record_node(TokenRecord, token_cases.visible_tokens)


async def access_tokens_of(
    info: Info,
    person_id: ObjectId,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[AccessToken] | None:
    """``Person.accessTokens``: that person's tokens for themselves and Support, else null."""
    ctx = info.context
    window = page_window(first, after, last, before)
    page = await token_cases.person_tokens(ctx.db, ctx.viewer, person_id, window)
    return None if page is None else connection(page)


@strawberry.input
class CreateAccessTokenInput:
    label: str = strawberry.field(description="What it is for (1-100 characters).")
    scope: AccessTokenScope = token_store.TokenScope.FULL  # type: ignore[valid-type]
    expires_in_days: int | None = strawberry.field(
        default=None,
        description="1-3650; default OWNERSHIP_TOKEN_EXPIRY_DAYS on the server (90).",
    )


@strawberry.input
class RevokeAccessTokenInput:
    id: strawberry.ID


@strawberry.type
class CreateAccessTokenPayload(Payload):
    access_token: AccessToken | None = None
    token: str | None = strawberry.field(
        default=None,
        description="The secret, for `Authorization: Bearer ...`: shown this once, never again.",
    )


@strawberry.type
class AccessTokenPayload(Payload):
    access_token: AccessToken | None = None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create an access token for yourself.")
    async def create_access_token(
        self, info: Info, input: CreateAccessTokenInput
    ) -> CreateAccessTokenPayload:
        ctx = info.context
        data = {
            "label": input.label,
            "scope": input.scope,
            "expires_in_days": input.expires_in_days,
        }
        try:
            secret, record = await token_cases.create_access_token(ctx.db, ctx.viewer, data)
        except UserErrors as refusal:
            return CreateAccessTokenPayload(user_errors=user_errors(refusal))
        return CreateAccessTokenPayload(access_token=record, token=secret)  # type: ignore[arg-type]

    @strawberry.mutation(description="Revoke one of your tokens (Support: anyone's).")
    async def revoke_access_token(
        self, info: Info, input: RevokeAccessTokenInput
    ) -> AccessTokenPayload:
        ctx = info.context
        try:
            record = await token_cases.revoke_access_token(ctx.db, ctx.viewer, {"id": input.id})
        except UserErrors as refusal:
            return AccessTokenPayload(user_errors=user_errors(refusal))
        return AccessTokenPayload(access_token=record)  # type: ignore[arg-type]


def scope_refusal(credential: Credential | None, operation: OperationType) -> str | None:
    """Why the credential may not run this operation, or None."""
    if credential is None:
        return None
    if not credential.may_use_graphql:
        return "A METRICS token may only report its app's metrics at POST /metrics"
    if operation is OperationType.MUTATION and not credential.may_write:
        return "A READ_ONLY token may not run mutations; use a FULL token"
    return None


class ScopeGuard(SchemaExtension):
    """Refuses, before anything runs, an operation the request's token scope does not
    allow: a GraphQL error with ``extensions.code`` INSUFFICIENT_SCOPE (HTTP 403)."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        credential = getattr(context.context, "credential", None)
        reason = scope_refusal(credential, context.operation_type)
        if reason is not None:
            raise GraphQLError(reason, extensions={"code": ErrorCode.INSUFFICIENT_SCOPE.value})
        yield
