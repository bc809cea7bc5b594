"""AuditEvent: who changed what, when, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from bson import ObjectId
from strawberry import relay
from strawberry.scalars import JSON

from graph.context import Context
from graph.fast import loads
from graph.nodes import record_node
from graph.people import Person
from resolvers import audit as audit_cases
from resolvers.ids import encode
from store import audit as audit_store
from store.audit import AuditEventRecord

Info = strawberry.Info[Context, None]
AuditAction = strawberry.enum(audit_store.AuditAction)


def _public(value: Any) -> Any:
    """Stored state as JSON: person references become Person IDs, times ISO strings."""
    if isinstance(value, ObjectId):
        return encode("Person", value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _public(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_public(item) for item in value]
    return value


@strawberry.type(description="One change to an app or person: actor, action, before, after.")
class AuditEvent(relay.Node):
    id: relay.NodeID[str]
    action: AuditAction  # type: ignore[valid-type]
    at: datetime
    version: int | None = strawberry.field(description="The app's version after this change.")
    production: bool | None = strawberry.field(
        description="Environment events: whether the environment is production."
    )

    @strawberry.field(description="Environment events: the environment's global ID.")
    def environment_id(self, root: strawberry.Parent[AuditEventRecord]) -> strawberry.ID | None:
        if root.environment_id is None:
            return None
        return strawberry.ID(encode("Environment", root.environment_id))

    @strawberry.field(
        description="Who made the change (none for system changes).",
        metadata=loads("actor_id", "people", many=False),
    )
    async def actor(self, root: strawberry.Parent[AuditEventRecord], info: Info) -> Person | None:
        if root.actor_id is None:
            return None
        return await info.context.loaders.people.load(root.actor_id)  # type: ignore[return-value]

    @strawberry.field(description="The changed fields before (snake_case keys; IDs are global).")
    def before(self, root: strawberry.Parent[AuditEventRecord]) -> JSON | None:
        return _public(root.before)

    @strawberry.field(description="The changed fields after (snake_case keys; IDs are global).")
    def after(self, root: strawberry.Parent[AuditEventRecord]) -> JSON | None:
        return _public(root.after)

    is_type_of, resolve_nodes = record_node(AuditEventRecord, audit_cases.visible_events)
