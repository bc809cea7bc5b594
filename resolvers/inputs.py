"""Validated input shapes shared by the use cases."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from resolvers.errors import from_validation

M = TypeVar("M", bound=BaseModel)


class Input(BaseModel):
    model_config = ConfigDict(
        str_strip_whitespace=True, arbitrary_types_allowed=True, extra="forbid", frozen=True
    )


def parse(model: type[M], data: dict[str, Any], root: str = "input") -> M:
    """Validate ``data`` into ``model`` or raise UserErrors naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise from_validation(error, root) from None


def _email(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise PydanticCustomError(
            "invalid_email", "is not a valid email address: {reason}", {"reason": str(error)}
        ) from None
    return checked.normalized.lower()


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


Email = Annotated[str, Field(min_length=1, max_length=254), AfterValidator(_email)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
MendixId = Annotated[
    str, Field(min_length=1, max_length=254, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
]
Subdomain = Annotated[
    str,
    BeforeValidator(_lower),
    Field(min_length=1, max_length=63, pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"),
]
Search = Annotated[str, Field(max_length=100)]
Version = Annotated[int, Field(ge=1)]
Region = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9-]*$")]
