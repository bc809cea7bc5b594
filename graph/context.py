"""The per-request context: who is asking, the database and the request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bson import ObjectId
from strawberry.dataloader import DataLoader

from resolvers.auth import Credential
from resolvers.loaders import people_batch
from store.db import Database
from store.people import PersonRecord


@dataclass
class Loaders:
    """Fresh per request, so nothing cached outlives it (the API keeps no state in memory)."""

    people: DataLoader[ObjectId, PersonRecord | None]

    @classmethod
    def create(cls, db: Database) -> Loaders:
        return cls(people=DataLoader(load_fn=people_batch(db)))


@dataclass
class Context:
    db: Database
    viewer: PersonRecord
    loaders: Loaders
    request: Any = None
    response: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    # live events (resolvers/live.py EventHub); None where nothing fans out (tests, CLI)
    hub: Any = None
    # set for a cloud node's token: the one app whose metrics it may report
    node_app_id: ObjectId | None = None
    # the bearer token's credential (resolvers/auth.py): token id, person or node
    credential: Credential | None = None
    # WebSocket: the connection_init payload (strawberry sets it)
    connection_params: dict[str, Any] | None = None

    def renewed(self) -> Context:
        """The same request's context with fresh loaders: a re-run of an operation
        (graph/fast/execution.py) must not see what the first run loaded, or cached as failed."""
        return replace(self, loaders=Loaders.create(self.db), extra={})
