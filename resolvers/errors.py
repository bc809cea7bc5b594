"""Typed refusals. Every expected failure is a UserError with a code, never an exception leak."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NoReturn

from pydantic import ValidationError


class ErrorCode(StrEnum):
    # request and input
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    INVALID_ID = "INVALID_ID"
    INVALID_INPUT = "INVALID_INPUT"
    BLANK = "BLANK"
    TOO_LONG = "TOO_LONG"
    INVALID_FORMAT = "INVALID_FORMAT"
    INVALID_EMAIL = "INVALID_EMAIL"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    INVALID_CURSOR = "INVALID_CURSOR"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    CONCURRENT_CHANGE = "CONCURRENT_CHANGE"
    # people
    DUPLICATE_EMAIL = "DUPLICATE_EMAIL"
    DUPLICATE_MENDIX_ID = "DUPLICATE_MENDIX_ID"
    MENDIX_ID_ALREADY_SET = "MENDIX_ID_ALREADY_SET"
    LAST_SUPPORT = "LAST_SUPPORT"
    # apps
    DUPLICATE_SUBDOMAIN = "DUPLICATE_SUBDOMAIN"
    WRONG_HOSTING_TYPE = "WRONG_HOSTING_TYPE"
    ALREADY_DELIVERED = "ALREADY_DELIVERED"
    ALREADY_TEAM_MEMBER = "ALREADY_TEAM_MEMBER"
    NOT_A_TEAM_MEMBER = "NOT_A_TEAM_MEMBER"
    ALREADY_TECHNICAL_CONTACT = "ALREADY_TECHNICAL_CONTACT"
    NOT_A_TECHNICAL_CONTACT = "NOT_A_TECHNICAL_CONTACT"
    TECHNICAL_CONTACT_IN_TEAM = "TECHNICAL_CONTACT_IN_TEAM"
    LAST_TECHNICAL_CONTACT = "LAST_TECHNICAL_CONTACT"
    TECHNICAL_CONTACT_WITHOUT_MENDIX_ID = "TECHNICAL_CONTACT_WITHOUT_MENDIX_ID"
    MULTIPLE_TECHNICAL_CONTACTS = "MULTIPLE_TECHNICAL_CONTACTS"
    ALREADY_ACCOUNT_EXECUTIVE = "ALREADY_ACCOUNT_EXECUTIVE"
    # licenses
    DUPLICATE_LICENSE = "DUPLICATE_LICENSE"
    LICENSE_NOT_FOUND = "LICENSE_NOT_FOUND"
    INVALID_DATES = "INVALID_DATES"
    EXPIRY_NOT_LATER = "EXPIRY_NOT_LATER"
    NO_ACCOUNT_EXECUTIVE = "NO_ACCOUNT_EXECUTIVE"
    NOT_AN_EXPANSION = "NOT_AN_EXPANSION"
    # support requests and maintenance
    REQUEST_NOT_OPEN = "REQUEST_NOT_OPEN"
    NOT_A_CONTACT_REQUEST = "NOT_A_CONTACT_REQUEST"
    NO_AFFECTED_APPS = "NO_AFFECTED_APPS"
    # Mendix Cloud environments, grants and alerts
    DUPLICATE_ENVIRONMENT_NAME = "DUPLICATE_ENVIRONMENT_NAME"
    MISSING_RIGHT = "MISSING_RIGHT"
    TECHNICAL_CONTACT_ONLY = "TECHNICAL_CONTACT_ONLY"
    ALREADY_GRANTED = "ALREADY_GRANTED"
    NOT_GRANTED = "NOT_GRANTED"
    ALREADY_IN_STATE = "ALREADY_IN_STATE"
    RECIPIENT_WITHOUT_MONITORING_ACCESS = "RECIPIENT_WITHOUT_MONITORING_ACCESS"
    INVALID_THRESHOLD = "INVALID_THRESHOLD"
    # access tokens
    INSUFFICIENT_SCOPE = "INSUFFICIENT_SCOPE"
    ALREADY_REVOKED = "ALREADY_REVOKED"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"


@dataclass(frozen=True)
class UserError:
    message: str
    code: ErrorCode
    field: list[str] | None = None


@dataclass
class UserErrors(Exception):
    """Raised by a use case to refuse; the graph layer turns it into payload userErrors."""

    errors: list[UserError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(error.message for error in self.errors)


def fail(code: ErrorCode, message: str, field: list[str] | None = None) -> NoReturn:
    raise UserErrors([UserError(message=message, code=code, field=field)])


_PYDANTIC_CODES = {
    "string_too_short": ErrorCode.BLANK,
    "too_short": ErrorCode.BLANK,
    "missing": ErrorCode.BLANK,
    "string_too_long": ErrorCode.TOO_LONG,
    "too_long": ErrorCode.TOO_LONG,
    "string_pattern_mismatch": ErrorCode.INVALID_FORMAT,
    "invalid_email": ErrorCode.INVALID_EMAIL,
    "invalid_id": ErrorCode.INVALID_ID,
    "invalid_cursor": ErrorCode.INVALID_CURSOR,
    "page_size_exceeded": ErrorCode.PAGE_SIZE_EXCEEDED,
    "invalid_threshold": ErrorCode.INVALID_THRESHOLD,
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def from_validation(error: ValidationError, root: str = "input") -> UserErrors:
    """Map pydantic's errors to typed UserErrors with GraphQL field paths."""
    errors = []
    for item in error.errors(include_url=False):
        path = [root, *(camel(str(part)) for part in item["loc"])]
        code = _PYDANTIC_CODES.get(item["type"], ErrorCode.INVALID_INPUT)
        message = item["msg"]
        if code is ErrorCode.BLANK:
            message = "must not be blank"
        elif code is ErrorCode.TOO_LONG and "max_length" in item.get("ctx", {}):
            message = f"must be at most {item['ctx']['max_length']} characters"
        errors.append(UserError(message=f"{path[-1]}: {message}", code=code, field=path))
    return UserErrors(errors)
