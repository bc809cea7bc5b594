"""Error shaping: a use case's refusal in a query becomes a GraphQL error with its code;
any other exception is masked so internals never reach a client."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from resolvers.errors import UserErrors


def _rewrite(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class ShapeErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_rewrite, error_message="Unexpected server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        refusal = error.original_error
        if not isinstance(refusal, UserErrors):
            return super().anonymise_error(error)
        first = refusal.errors[0]
        return GraphQLError(
            message=str(refusal),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": first.code.value, "field": first.field},
        )
