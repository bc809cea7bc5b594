"""UserError, the refusal type every mutation payload carries."""

from __future__ import annotations

import strawberry

from resolvers import errors

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
