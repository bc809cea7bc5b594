"""Mutation payloads: the changed object plus ``userErrors``; refusals never raise."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from graph.context import Context
from graph.errors import UserError, user_errors
from resolvers.errors import UserErrors
from store.db import Database
from store.people import PersonRecord

P = TypeVar("P", bound="Payload")

UseCase = Callable[[Database, PersonRecord, dict[str, Any]], Awaitable[Any]]


@strawberry.type
class Payload:
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the mutation was refused; empty on success."
    )


async def mutate(
    payload: type[P],
    field: str,
    use_case: UseCase,
    info: strawberry.Info[Context, None],
    input: Any,
) -> P:
    """Run a use case with the input as a plain dict; a refusal fills ``userErrors``."""
    ctx = info.context
    try:
        result = await use_case(ctx.db, ctx.viewer, dataclasses.asdict(input))
    except UserErrors as refusal:
        return payload(user_errors=user_errors(refusal))
    return payload(**{field: result})
