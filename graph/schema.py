"""The schema: each aggregate's Query and Mutation merged, limits built once."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types

from graph import apps, people
from graph.audit import AuditEvent
from graph.masking import MaskUnexpectedErrors

MAX_DEPTH = 12
MAX_ALIASES = 50
MAX_TOKENS = 5000


@strawberry.type
class NodeQuery:
    node: relay.Node | None = relay.node(description="Any object you may see, by global ID.")
    nodes: list[relay.Node | None] = relay.node(description="Many objects by global ID.")


Query = merge_types("Query", (NodeQuery, people.Query, apps.Query))
Mutation = merge_types("Mutation", (people.Mutation, apps.Mutation))


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        types=[AuditEvent],
        extensions=[
            QueryDepthLimiter(max_depth=MAX_DEPTH),
            MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            MaxTokensLimiter(max_token_count=MAX_TOKENS),
            ParserCache(maxsize=256),
            ValidationCache(maxsize=256),
            MaskUnexpectedErrors(),
        ],
    )


schema = build_schema()
