"""Trusted documents in the GraphQL layer: checking texts against the schema, this
process's copy of registered texts, and warming them at startup.

The rules (which document a request runs, who may send what) are resolvers/documents.py;
the stored documents store/documents.py. At startup :meth:`Registry.load` registers the
``*.graphql`` files of the documents folders (graph/operations/, the dashboard's; and
``DOCUMENTS_DIR`` when set), then parses, validates and warms every registered document
(graph.fast.prepare), so its first request is answered like its hundredth.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)

from graph.fast import prepare
from graph.guard import request_info
from graph.limits import MAX_TOKENS, RULES
from resolvers import documents as rules
from resolvers.documents import DocumentError, Registration
from store import documents as document_store
from store.db import Database
from store.people import PersonRecord

log = logging.getLogger(__name__)

OPERATIONS = Path(__file__).parent / "operations"
KNOWN_SIZE = 10_000


def folders() -> list[Path]:
    """The documents folders registered at startup."""
    extra = os.environ.get("DOCUMENTS_DIR")
    return [OPERATIONS, *([Path(extra)] if extra else [])]


class Known(MutableMapping[str, str]):
    """Registered texts by ID: those loaded at startup kept, those met since bounded (LRU)."""

    def __init__(self, size: int = KNOWN_SIZE) -> None:
        self.pinned: dict[str, str] = {}
        self.recent: OrderedDict[str, str] = OrderedDict()
        self.size = size

    def __getitem__(self, key: str) -> str:
        if key in self.pinned:
            return self.pinned[key]
        value = self.recent[key]
        self.recent.move_to_end(key)
        return value

    def __setitem__(self, key: str, value: str) -> None:
        if key in self.pinned:
            return
        self.recent[key] = value
        self.recent.move_to_end(key)
        if len(self.recent) > self.size:
            self.recent.popitem(last=False)

    def __delitem__(self, key: str) -> None:
        self.pinned.pop(key, None)
        self.recent.pop(key, None)

    def __iter__(self) -> Iterator[str]:
        yield from self.pinned
        yield from self.recent

    def __len__(self) -> int:
        return len(self.pinned) + len(self.recent)


class Registry:
    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self.known = Known()
        # the documents folders' files: name (file name without .graphql) -> document ID
        self.manifest: dict[str, str] = {}

    def errors(self, body: str) -> list[GraphQLError]:
        try:
            document = parse(body, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return [error]
        return list(validate(self.schema, document, [*specified_rules, *RULES]))

    def check(self, body: str) -> list[str]:
        return [error.message for error in self.errors(body)]

    async def register(self, db: Database, body: str, source: str, name: str | None = None) -> str:
        return await rules.register(db, body, source, self.check, name)

    async def load(self, db: Database, extra: list[Path] | None = None) -> int:
        """Register the documents folders' files, then warm every registered document;
        returns how many documents this process now knows."""
        for folder in [*folders(), *(extra or [])]:
            for path in sorted(folder.glob("*.graphql")) if folder.is_dir() else ():
                try:
                    body = path.read_text(encoding="utf-8")
                    self.manifest[path.stem] = await self.register(db, body, "file", path.stem)
                except DocumentError as error:
                    log.error("trusted document %s was not registered: %s", path, error)
        plans = 0
        records = await document_store.all_documents(db)
        # those clients registered (APQ) first: the bounded caches then keep the folders' and
        # the CLI's, which stay in this process's memory whatever clients register
        records.sort(key=lambda record: record.source != "apq")
        for record in records:
            if record.source == "apq":
                self.known[record.id] = record.body
            else:
                self.known.pinned[record.id] = record.body
            try:
                document = parse(record.body, max_tokens=MAX_TOKENS)
            except GraphQLError:
                continue
            if not validate(self.schema, document, [*specified_rules, *RULES]):
                plans += prepare(self.schema, document, record.body)
        log.info("%d trusted documents ready (%d read plans compiled)", len(records), plans)
        return len(records)

    async def resolve(
        self, db: Database, viewer: PersonRecord | None, data: dict[str, Any], context: Any = None
    ) -> str | None:
        """The text a request runs; ``context`` (the request's) decides what its token may
        register on a miss and charges the registration to its rate limit."""
        registration = None if context is None else _registration(db, context)
        return await rules.resolve(db, viewer, data, self.known, self.check, registration)

    def servable(self, data: dict[str, Any]) -> str | None:
        """For the fast front, without waiting: the text a request's body runs when this
        process already knows it may (else None: the view answers, and may refuse)."""
        query = data.get("query")
        extensions = data.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        identifier = data.get("documentId")
        if query is None and identifier is not None and persisted is None:
            return self.known.get(identifier) if isinstance(identifier, str) else None
        if query is None and isinstance(persisted, dict) and identifier is None:
            digest = persisted.get("sha256Hash")
            if persisted.get("version") != 1 or not isinstance(digest, str):
                return None
            return self.known.get(rules.PREFIX + digest)
        if type(query) is not str or identifier is not None or persisted is not None:
            return None
        if rules.trusted_only() and rules.document_id(query) not in self.known:
            return None  # registered, or Support's: the view decides
        return query


def writes(body: str) -> bool:
    """Whether a text (one that validates) holds a mutation."""
    return any(
        isinstance(definition, OperationDefinitionNode)
        and definition.operation is OperationType.MUTATION
        for definition in parse(body, max_tokens=MAX_TOKENS).definitions
    )


def _registration(db: Database, context: Any) -> Registration:
    credential = getattr(context, "credential", None)
    request = getattr(context, "request", None)
    info = request_info(request.scope) if request is not None else None
    limiter = info.limiter if info is not None and info.protection.enabled else None
    if limiter is None or credential is None:
        return Registration(credential, writes)

    async def charge(points: int) -> bool:
        decision = limiter.try_charge(db, credential, points)
        if decision is None:  # past this process's allowance: one database round trip
            decision = await limiter.charge(db, credential, points)
        return bool(decision.allowed)

    return Registration(credential, writes, charge)
