"""Trusted documents: which document a request runs, and who may send which.

A request names its document in one of three ways:

- ``query``: the text itself;
- ``documentId: "sha256:<hex>"``: GraphQL over HTTP's persisted documents (text registered
  beforehand: ``ownership documents add``, or a documents folder read at startup);
- ``extensions.persistedQuery {version: 1, sha256Hash}``: Apollo's automatic persisted
  queries. The hash alone answers PERSISTED_QUERY_NOT_FOUND when unknown; the client then
  sends text and hash, and the text is registered once the hash is verified.

With ``TRUSTED_DOCUMENTS_ONLY=1`` only registered documents run, except for Support: any
other text (or APQ registration) is refused with TRUSTED_DOCUMENT_REQUIRED.

Registering on a miss is a write made for a client, so it follows the token (a
:class:`Registration`): a READ_ONLY token registers only documents without a mutation (its
mutation still runs, and is refused INSUFFICIENT_SCOPE, but is not kept), and every
registration spends ``REGISTRATION_COST`` points of the token's rate limit on top of the
operation's own cost; with too few points left the text runs unregistered.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from resolvers.auth import Credential
from store import documents as document_store
from store.db import Database
from store.people import PersonRecord

PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")
MAX_LENGTH = 100_000  # characters of one registered document
# rate-limit points one automatic-persisted-query registration spends (a parse, a validation
# and a database write), besides what running the operation costs
REGISTRATION_COST = 10


class DocumentErrorCode(StrEnum):
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
    INVALID_DOCUMENT_ID = "INVALID_DOCUMENT_ID"
    INVALID_DOCUMENT = "INVALID_DOCUMENT"
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"


@dataclass
class DocumentError(Exception):
    """A request whose document cannot run; ``status`` is its HTTP status."""

    code: DocumentErrorCode
    message: str
    status: int = 400

    def __str__(self) -> str:
        return self.message


# What a document's text is checked with before it is registered: the GraphQL errors'
# messages (empty when it parses and validates against the schema with its limits).
Check = Callable[[str], list[str]]
# This process's copy of registered texts, by document ID (graph/documents.py bounds it).
Known = MutableMapping[str, str]


@dataclass(frozen=True)
class Registration:
    """Who asks to register a text on a miss, as the transport knows them."""

    credential: Credential | None  # None in process (tests, the CLI): not limited
    writes: Callable[[str], bool]  # whether a text holds a mutation (parsed by graph/)
    # spend points of the token's rate limit: False when they are not left (nothing spent)
    charge: Callable[[int], Awaitable[bool]] | None = None

    async def allows(self, body: str) -> bool:
        credential = self.credential
        if credential is not None and not credential.may_write and self.writes(body):
            return False  # a read-only token keeps nothing that writes
        return self.charge is None or await self.charge(REGISTRATION_COST)


def trusted_only() -> bool:
    return os.environ.get("TRUSTED_DOCUMENTS_ONLY", "0") == "1"


def document_id(body: str) -> str:
    return PREFIX + hashlib.sha256(body.encode()).hexdigest()


def parse_document_id(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(PREFIX):
        raise DocumentError(
            DocumentErrorCode.INVALID_DOCUMENT_ID,
            'documentId must be "sha256:" followed by the document\'s SHA-256 in hex',
        )
    if _HEX.fullmatch(value[len(PREFIX) :]) is None:
        raise DocumentError(
            DocumentErrorCode.INVALID_DOCUMENT_ID,
            "documentId's hash must be 64 lowercase hex digits",
        )
    return value


def _apq(extensions: dict[str, Any] | None) -> str | None:
    """The document ID an Apollo persisted-query extension names, or None without one."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise DocumentError(
            DocumentErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
            "Unsupported persistedQuery: send {version: 1, sha256Hash: <hex>}",
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or _HEX.fullmatch(digest) is None:
        raise DocumentError(
            DocumentErrorCode.INVALID_DOCUMENT_ID,
            "persistedQuery.sha256Hash must be 64 lowercase hex digits",
        )
    return PREFIX + digest


def _refuse_untrusted(viewer: PersonRecord | None) -> None:
    if trusted_only() and (viewer is None or not viewer.is_support):
        raise DocumentError(
            DocumentErrorCode.TRUSTED_DOCUMENT_REQUIRED,
            "This API runs registered documents only: send a documentId (or a persisted "
            "query hash) of a registered document",
            status=403,
        )


async def lookup(db: Database, identifier: str, known: Known) -> str | None:
    """The text registered under ``identifier``: this process's copy, else the database's."""
    text = known.get(identifier)
    if text is not None:
        return text
    record = await document_store.get_document(db, identifier)
    return None if record is None else record.body


def _valid(body: str, check: Check) -> None:
    if len(body) > MAX_LENGTH:
        raise DocumentError(
            DocumentErrorCode.INVALID_DOCUMENT, f"A document may have {MAX_LENGTH} characters"
        )
    problems = check(body)
    if problems:
        raise DocumentError(DocumentErrorCode.INVALID_DOCUMENT, "; ".join(problems))


async def register(
    db: Database, body: str, source: str, check: Check, name: str | None = None
) -> str:
    """Register a document after it parses and validates; returns its ID."""
    _valid(body, check)
    identifier = document_id(body)
    await document_store.put_document(db, identifier, body, source, name)
    return identifier


async def resolve(
    db: Database,
    viewer: PersonRecord | None,
    data: dict[str, Any],
    known: Known,
    check: Check,
    registration: Registration | None = None,
) -> str | None:
    """The text to run for a request body (``query``, ``documentId``, ``extensions``).

    None when it names no document at all (the standard "no query" answer follows). A text
    sent with its persisted-query hash is registered when it validates and ``registration``
    (the requester's token) allows it."""
    query = data.get("query")
    if not isinstance(query, str | None):
        return query  # the view refuses it as it always has
    extensions = data.get("extensions")
    apq = _apq(extensions if isinstance(extensions, dict) else None)
    if "documentId" in data and data["documentId"] is not None:
        identifier = parse_document_id(data["documentId"])
        if query is not None or apq is not None:
            raise DocumentError(
                DocumentErrorCode.INVALID_DOCUMENT_ID,
                "Send documentId alone: not with query or a persistedQuery extension",
            )
        text = await lookup(db, identifier, known)
        if text is None:
            raise DocumentError(
                DocumentErrorCode.PERSISTED_DOCUMENT_NOT_FOUND,
                f"No registered document {identifier}",
            )
        known[identifier] = text
        return text
    if apq is not None:
        if query is None:
            text = await lookup(db, apq, known)
            if text is None:
                # Apollo's convention: a 200, so the client sends the text next
                raise DocumentError(
                    DocumentErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound", 200
                )
            known[apq] = text
            return text
        if document_id(query) != apq:
            raise DocumentError(
                DocumentErrorCode.PERSISTED_QUERY_HASH_MISMATCH,
                "persistedQuery.sha256Hash is not the SHA-256 of the query sent",
            )
        if await lookup(db, apq, known) is None:
            _refuse_untrusted(viewer)
            with suppress(DocumentError):  # an invalid document runs (and fails), unkept
                _valid(query, check)
                if registration is None or await registration.allows(query):
                    await document_store.put_document(db, apq, query, "apq")
                    known[apq] = query
        return query
    if query is not None and trusted_only() and (viewer is None or not viewer.is_support):
        identifier = document_id(query)
        if await lookup(db, identifier, known) is None:
            _refuse_untrusted(viewer)
        known[identifier] = query
    return query
