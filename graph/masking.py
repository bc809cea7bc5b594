"""Hide unexpected exceptions' details from clients; typed errors pass through unchanged."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected, error_message="Unexpected server error")
