"""Access tokens as use cases: create (the secret shown once), revoke, list; scoped reads.

A person manages their own tokens; Mendix Support sees and revokes anyone's. Creating one
over the API gives a person's token (FULL or READ_ONLY); a cloud node's METRICS token is made
with ``ownership token create --scope METRICS --app <App ID>``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated, Any

from bson import ObjectId
from pydantic import Field

from resolvers.errors import ErrorCode, fail
from resolvers.ids import AccessTokenId
from resolvers.inputs import Input, parse
from store import token_quota
from store import tokens as token_store
from store.db import Database
from store.pagination import Page, Window
from store.people import PersonRecord
from store.records import now
from store.tokens import TokenRecord, TokenScope

EXPIRY_ENV = "OWNERSHIP_TOKEN_EXPIRY_DAYS"
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 3650
# active (neither revoked nor expired) tokens one person may hold, over the API and the CLI
MAX_ACTIVE_TOKENS = 50

Label = Annotated[str, Field(min_length=1, max_length=100)]
ExpiryDays = Annotated[int, Field(ge=1, le=MAX_EXPIRY_DAYS)]


def default_expiry_days() -> int:
    """Days a new token lives unless told otherwise: ``OWNERSHIP_TOKEN_EXPIRY_DAYS`` or 90."""
    raw = os.environ.get(EXPIRY_ENV, "").strip()
    if not raw:
        return DEFAULT_EXPIRY_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise ValueError(f"{EXPIRY_ENV} must be a whole number of days, 1..{MAX_EXPIRY_DAYS}")
    return days


class CreateAccessTokenInput(Input):
    label: Label
    scope: TokenScope = TokenScope.FULL
    expires_in_days: ExpiryDays | None = None


class RevokeAccessTokenInput(Input):
    id: AccessTokenId


async def create_access_token(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> tuple[str, TokenRecord]:
    """A new token for the viewer; returns the secret (shown this once) and the record."""
    args = parse(CreateAccessTokenInput, data)
    if args.scope is TokenScope.METRICS:
        fail(
            ErrorCode.INVALID_INPUT,
            "scope: METRICS tokens belong to a cloud node; create one with "
            "`ownership token create --scope METRICS --app <App ID>`",
            ["input", "scope"],
        )
    days = args.expires_in_days or default_expiry_days()
    try:
        return await token_quota.issue_within(
            db,
            viewer.id,
            MAX_ACTIVE_TOKENS,
            scope=args.scope,
            label=args.label,
            expires_at=now() + timedelta(days=days),
        )
    except token_quota.TooManyTokens as refusal:
        fail(
            ErrorCode.TOO_MANY_TOKENS,
            f"You hold {refusal.limit} active access tokens, the most allowed: revoke one "
            "(revokeAccessToken) before creating another",
        )


async def revoke_access_token(
    db: Database, viewer: PersonRecord, data: dict[str, Any]
) -> TokenRecord:
    """Revoke one of the viewer's tokens (Support: anyone's, cloud nodes' included).

    Someone else's token is NOT_FOUND (its existence is not disclosed); a revoked one
    ALREADY_REVOKED. The token stops working on the next request (nothing is cached)."""
    key = parse(RevokeAccessTokenInput, data).id
    owner = None if viewer.is_support else viewer.id
    try:
        return await token_store.revoke_token(db, key, viewer.id, owner)
    except token_store.NotRevoked as refusal:
        if refusal.existing is None:
            fail(ErrorCode.NOT_FOUND, "No access token with this ID", ["input", "id"])
        fail(ErrorCode.ALREADY_REVOKED, "This access token is already revoked", ["input", "id"])


def may_see_tokens_of(viewer: PersonRecord, person_id: ObjectId) -> bool:
    return viewer.is_support or viewer.id == person_id


async def person_tokens(
    db: Database, viewer: PersonRecord, person_id: ObjectId, window: Window
) -> Page[TokenRecord] | None:
    """A person's tokens (never secrets), for that person and Support; None for others."""
    if not may_see_tokens_of(viewer, person_id):
        return None
    return await token_store.list_tokens(db, window, person_id)


async def visible_tokens(
    db: Database, viewer: PersonRecord, keys: list[ObjectId]
) -> list[TokenRecord]:
    """``node(id:)`` for tokens: your own; Support every one."""
    return await token_store.get_tokens(db, keys, None if viewer.is_support else viewer.id)
