"""Who the viewer is and what they may see and do.

Support sees every app; everyone else sees the apps where they are on the team (technical
contacts always are) or account executive. Who may change what is the matrix in the README
("Who may do what"); each use case states its check with the helpers below.
"""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId

from resolvers.errors import ErrorCode, fail
from store import apps as app_store
from store import people as people_store
from store import tokens as token_store
from store.apps import AppRecord
from store.db import Database, Document
from store.people import PersonRecord, PersonStatus
from store.tokens import TokenKind


@dataclass(frozen=True, slots=True)
class Credential:
    """What a valid bearer token stands for: a person's token (``person``) or one app's cloud
    node (``node_app_id``). ``token_id`` names the token without revealing it (rate limits,
    access log); never the secret."""

    token_id: str
    person: PersonRecord | None = None
    node_app_id: ObjectId | None = None


async def identify(db: Database, authorization: str | None) -> Credential | None:
    """What ``Authorization: Bearer <token>`` stands for: a credential naming the active
    person, or the app of a cloud node's token; None without a valid token.

    One database round trip (the token with its person joined), nothing kept in memory.
    """
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    record, person = await token_store.find_token_and_person(db, token.strip())
    if record is None:
        return None
    token_id = record.digest[:16]
    if record.kind is TokenKind.NODE:
        return None if record.app_id is None else Credential(token_id, node_app_id=record.app_id)
    if record.kind is not TokenKind.PERSON or record.person_id is None:
        return None
    if person is None or person.status is not PersonStatus.ACTIVE:
        return None
    return Credential(token_id, person=person)


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
