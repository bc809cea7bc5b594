"""Warm-up for documents known before any request (trusted documents, graph/documents.py).

:func:`prepare` does ahead of time what the first request of a document would otherwise
pay for: the front remembers each of its query operations (parsed and validated, see
:class:`graph.fast.remember.RememberQueries`), and the compiled read plan of each is built
into ``PLANS`` under the same key a request computes (the document's text and the
operation's offset; directive variables at their defaults).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from graphql import (
    DocumentNode,
    GraphQLSchema,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
)

from graph.cost import plan_for
from graph.fast.execution import FastExecutionContext
from graph.fast.remember import REMEMBERED, Prepared, constant_data
from graph.fast.switches import enabled

log = logging.getLogger(__name__)


def prepare(schema: GraphQLSchema, document: DocumentNode, body: str) -> int:
    """Remember and compile the query operations of a parsed, *validated* document whose
    text is ``body``; returns how many read plans were built."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    built = 0
    for operation in operations:
        if operation.operation is not OperationType.QUERY:
            continue
        name = operation.name.value if operation.name else None
        cost = plan_for(schema, (body, name), document, name)  # the admission's plan
        prepared = Prepared(document, name, constant_data(schema, document, name), cost)
        if name is not None:
            REMEMBERED.put((body, name), prepared)
        if len(operations) == 1:
            REMEMBERED.put((body, None), prepared)
        if enabled() and prepared.constant is None and _compile(schema, document, operation):
            built += 1
    return built


def _compile(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> bool:
    """Build the operation's read plan without running it (variables need no values: a plan
    depends only on those in directives, here at their defaults)."""
    optional = tuple(
        replace(v, type=v.type.type) if isinstance(v.type, NonNullTypeNode) else v
        for v in operation.variable_definitions or ()
    )
    relaxed = replace(operation, variable_definitions=optional)
    definitions = tuple(relaxed if d is operation else d for d in document.definitions)
    executor = FastExecutionContext.build(
        schema,
        replace(document, definitions=definitions),
        operation_name=operation.name.value if operation.name else None,
    )
    if isinstance(executor, list):
        log.warning("no read plan for a trusted document: %s", executor[0].message)
        return False
    root = schema.get_root_type(operation.operation)
    return root is not None and executor._find_plan(root) is not None
