"""Validated input shapes shared by the use cases."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, ClassVar, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from resolvers.errors import from_validation

M = TypeVar("M", bound=BaseModel)


LINE_BREAKS = frozenset("\n\r\t")


def control_characters(text: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The control characters, line and paragraph separators in ``text`` (minus ``allowed``):
    what could break an email header or a log line."""
    return [
        char
        for char in text
        if char not in allowed and unicodedata.category(char) in ("Cc", "Zl", "Zp")
    ]


def _check_text(value: object, allowed: frozenset[str]) -> None:
    if isinstance(value, str):
        if control_characters(value, allowed):
            raise PydanticCustomError(
                "control_characters",
                "must not contain line breaks or control characters"
                if not allowed
                else "must not contain control characters other than line breaks and tabs",
            )
    elif isinstance(value, list | tuple):
        for item in value:
            _check_text(item, allowed)


class Input(BaseModel):
    """Every input model. Text is single-line: a line break or any other control character is
    refused (INVALID_INPUT at its field) before anything else, since names, subjects and titles
    end up in email headers. Fields named in ``multi_line`` (bodies, descriptions) may hold
    line breaks and tabs, no other control characters."""

    model_config = ConfigDict(
        str_strip_whitespace=True, arbitrary_types_allowed=True, extra="forbid", frozen=True
    )
    multi_line: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _single_line(cls, value: object, info: ValidationInfo) -> object:
        _check_text(value, LINE_BREAKS if info.field_name in cls.multi_line else frozenset())
        return value


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
