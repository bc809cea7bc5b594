"""Who the viewer is and what they may see and do.

Support sees every app; everyone else sees the apps where they are on the team (technical
contacts always are) or account executive. Who may change what is the matrix in the README
("Who may do what"); each use case states its check with the helpers below.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bson import ObjectId

from resolvers.errors import ErrorCode, fail
from store import apps as app_store
from store import people as people_store
from store import tokens as token_store
from store.apps import AppRecord
from store.db import Database, Document
from store.people import PersonRecord, PersonStatus
from store.records import now
from store.tokens import TokenKind, TokenRecord, TokenScope


@dataclass(frozen=True, slots=True)
class Credential:
    """What a valid bearer token stands for: a person's token (``person``) or one app's cloud
    node (``node_app_id``), with the token's ``scope`` and ``expires_at``. ``token_id`` names
    the token without revealing it (its public key's hex: rate limits, access log); never the
    secret. The scope is decided here, once per request."""

    token_id: str
    person: PersonRecord | None = None
    node_app_id: ObjectId | None = None
    scope: TokenScope = TokenScope.FULL
    expires_at: datetime | None = None
    token_key: ObjectId | None = None  # the token's public key (its AccessToken ID)

    @property
    def may_write(self) -> bool:
        """Whether mutations are allowed (a FULL token)."""
        return self.scope is TokenScope.FULL

    @property
    def may_use_graphql(self) -> bool:
        """Whether /graphql (HTTP and WebSocket) is open to it: not to a metrics token."""
        return self.scope is not TokenScope.METRICS


async def identify(db: Database, authorization: str | None) -> Credential | None:
    """What ``Authorization: Bearer <token>`` stands for: a credential naming the active
    person, or the app of a cloud node's token; None without a valid token (unknown,
    expired, revoked, or its person INACTIVE).

    One database round trip (the token with its person joined), nothing kept in memory; the
    token's last use is written too when the stored one is over a minute old (a conditional
    update, so at most once a minute per token whatever the request rate).
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    record, person = await token_store.find_token_and_person(db, token.strip())
    at = now()
    if record is None or not record.usable(at):
        return None
    credential = _credential(record, person)
    if credential is not None and token_store.use_is_due(record, at):
        await token_store.record_use(db, record, at)
    return credential


def _credential(record: TokenRecord, person: PersonRecord | None) -> Credential | None:
    token_id = str(record.key)
    if record.kind is TokenKind.NODE:
        if record.app_id is None or record.scope is not TokenScope.METRICS:
            return None
        return Credential(
            token_id,
            node_app_id=record.app_id,
            scope=record.scope,
            expires_at=record.expires_at,
            token_key=record.key,
        )
    if record.person_id is None or record.scope is TokenScope.METRICS:
        return None
    if person is None or person.status is not PersonStatus.ACTIVE:
        return None
    return Credential(
        token_id,
        person=person,
        scope=record.scope,
        expires_at=record.expires_at,
        token_key=record.key,
    )


async def still_valid(db: Database, credential: Credential | None) -> bool:
    """Whether a long-lived connection's token still works: not expired, not revoked (read
    afresh). In-process callers without a credential are not limited."""
    if credential is None or credential.token_key is None:
        return True
    at = now()
    if credential.expires_at is not None and credential.expires_at <= at:
        return False
    found = await token_store.get_tokens(db, [credential.token_key])
    return bool(found) and found[0].usable(at)


async def authenticate(db: Database, authorization: str | None) -> PersonRecord | None:
    """The active person behind an ``Authorization: Bearer <token>`` header, if any."""
    credential = await identify(db, authorization)
    return None if credential is None else credential.person


async def authenticate_node(db: Database, authorization: str | None) -> ObjectId | None:
    """The app whose cloud node sent ``Authorization: Bearer <node token>``, if any."""
    credential = await identify(db, authorization)
    return None if credential is None else credential.node_app_id


def app_scope(viewer: PersonRecord) -> Document | None:
    """The filter limiting apps to the viewer's; None means every app (Support)."""
    return None if viewer.is_support else app_store.visible_to(viewer.id)


async def visible_app(db: Database, viewer: PersonRecord, app_id: ObjectId) -> AppRecord:
    """The app if the viewer may see it; otherwise NOT_FOUND (existence is not disclosed)."""
    app = await app_store.get_app(db, app_id, app_scope(viewer))
    if app is None:
        fail(ErrorCode.NOT_FOUND, "No app with this ID", ["input", "appId"])
    return app


def require_support(viewer: PersonRecord) -> None:
    if not viewer.is_support:
        fail(ErrorCode.FORBIDDEN, "Only Mendix Support may do this")


def require_contact_or_support(viewer: PersonRecord, app: AppRecord) -> None:
    if not viewer.is_support and viewer.id not in app.technical_contact_ids:
        fail(ErrorCode.FORBIDDEN, "Only the app's technical contact or Mendix Support may do this")


async def existing_person(db: Database, person_id: ObjectId, field: str) -> PersonRecord:
    person = await people_store.get_person(db, person_id)
    if person is None:
        fail(ErrorCode.NOT_FOUND, "No person with this ID", ["input", field])
    return person
