"""What the fast front knows: the query documents strawberry parsed and validated.

:class:`RememberQueries` (a schema extension) records, in a bounded LRU (:data:`REMEMBERED`),
every *query* operation that strawberry parsed and validated with the schema's own rules and
limits and started to execute, with its cost plan; the front (graph/fast/front.py) answers
only documents found here, and graph/fast/warm.py puts trusted documents here at startup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import NamedTuple

from graphql import DocumentNode, FieldNode, GraphQLSchema, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.cost import CostPlan, plan_for

CACHE_SIZE = 256
_UNKNOWN = object()


class Prepared(NamedTuple):
    document: DocumentNode
    # the operation strawberry ran: the requested one, else the document's first
    operation_name: str | None
    # the data when it depends on nothing (see constant_data), else None
    constant: dict[str, str] | None
    # its cost plan (graph/cost.py), the one the stack's admission uses
    cost: CostPlan


def constant_data(
    schema: GraphQLSchema, document: DocumentNode, name: str | None
) -> dict[str, str] | None:
    """The data of an operation that depends on nothing: no variables, and only
    ``__typename`` at its root without directives (``{ __typename }``, the ping some clients
    send). Its answer still needs a valid token; it needs no executor."""
    operation = get_operation_ast(document, name)
    if operation is None or operation.variable_definitions:
        return None
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    data: dict[str, str] = {}
    for selection in operation.selection_set.selections:
        if (
            not isinstance(selection, FieldNode)
            or selection.directives
            or selection.name.value != "__typename"
        ):
            return None
        data[(selection.alias or selection.name).value] = root.name
    return data


class _Remembered:
    """Bounded LRU of (query text, operation name) -> the validated document."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.documents: OrderedDict[tuple[str, str | None], Prepared] = OrderedDict()
        self.served = 0
        self.handed_on = 0

    def put(self, key: tuple[str, str | None], prepared: Prepared) -> None:
        self.documents[key] = prepared
        self.documents.move_to_end(key)
        if len(self.documents) > self.size:
            self.documents.popitem(last=False)

    def get(self, key: tuple[str, str | None]) -> Prepared | None:
        prepared = self.documents.get(key)
        if prepared is not None:
            self.documents.move_to_end(key)
        return prepared


REMEMBERED = _Remembered(CACHE_SIZE)


class RememberQueries(SchemaExtension):
    """Remembers each query document strawberry validated and is about to execute."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        document = context.graphql_document
        if (
            query is not None
            and document is not None
            and not context.pre_execution_errors
            and context.operation_type is OperationType.QUERY
        ):
            # strawberry keeps the requested name (an InitVar) only here
            name = getattr(context, "_provided_operation_name", _UNKNOWN)
            if name is None or isinstance(name, str):
                chosen = context.operation_name
                schema = context.schema._schema
                constant = constant_data(schema, document, chosen)
                cost = plan_for(schema, (query, name), document, chosen)
                REMEMBERED.put((query, name), Prepared(document, chosen, constant, cost))
        yield
