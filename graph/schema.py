"""The schema: each aggregate's Query and Mutation merged, limits built once."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.tools import merge_types

from graph import apps, people, reports
from graph.audit import AuditEvent
from graph.limits import limit_extensions
from graph.masking import ShapeErrors


@strawberry.type
class NodeQuery:
    node: relay.Node | None = relay.node(description="Any object you may see, by global ID.")
    nodes: list[relay.Node | None] = relay.node(description="Many objects by global ID.")


Query = merge_types("Query", (NodeQuery, people.Query, apps.Query, reports.Query))
Mutation = merge_types("Mutation", (people.Mutation, apps.Mutation))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[AuditEvent],
        extensions=[*limit_extensions(), ShapeErrors],  # type: ignore[list-item]
    )


schema = build_schema()
