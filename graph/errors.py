"""UserError in payloads, and typed GraphQL errors for queries."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import strawberry
from graphql import GraphQLError

from resolvers import errors

T = TypeVar("T")

ErrorCode = strawberry.enum(errors.ErrorCode, name="UserErrorCode")


@strawberry.type(description="A refusal: which input field, why, and a code to branch on.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "email"].'
    )
    message: str
    code: ErrorCode  # type: ignore[valid-type]


def user_errors(refusal: errors.UserErrors) -> list[UserError]:
    return [UserError(field=e.field, message=e.message, code=e.code) for e in refusal.errors]


async def query(awaitable: Awaitable[T]) -> T:
    """Run a query use case; a refusal becomes a GraphQL error carrying its code."""
    try:
        return await awaitable
    except errors.UserErrors as refusal:
        first = refusal.errors[0]
        raise GraphQLError(
            str(refusal), extensions={"code": first.code.value, "field": first.field}
        ) from None
