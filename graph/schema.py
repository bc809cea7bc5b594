"""The schema: each aggregate's Query and Mutation merged, limits built once."""

from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from graph import (
    alerts,
    apps,
    environments,
    licenses,
    notifications,
    people,
    reports,
    support,
    tokens,
)
from graph.audit import AuditEvent
from graph.fast import FastExecutionContext, RememberQueries
from graph.limits import limit_extensions
from graph.masking import Schema, ShapeErrors
from graph.nodes import NodeFields


@strawberry.type
class NodeQuery(NodeFields):
    """``node(id:)`` and ``nodes(ids:)`` (graph/nodes.py)."""


Query = merge_types(
    "Query",
    (NodeQuery, people.Query, apps.Query, notifications.Query, support.Query, reports.Query),
)
Mutation = merge_types(
    "Mutation",
    (
        people.Mutation,
        apps.Mutation,
        licenses.Mutation,
        notifications.Mutation,
        support.Mutation,
        environments.Mutation,
        alerts.Mutation,
        tokens.Mutation,
    ),
)
Subscription = merge_types("Subscription", (alerts.Subscription,))


def build_schema() -> Schema:
    """The schema; graph/fast/execution.py's executor compiles stored-field reads (``standard()``
    switches it off for a block, e.g. the differential tests and the benchmark)."""
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            AuditEvent,
            notifications.Notification,
            support.SupportRequest,
            environments.Environment,
            alerts.Alert,
            tokens.AccessToken,
        ],
        extensions=[*limit_extensions(), tokens.ScopeGuard, ShapeErrors, RememberQueries],  # type: ignore[list-item]
        execution_context_class=FastExecutionContext,
    )


schema = build_schema()
