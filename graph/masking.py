"""Error shaping and logging: a use case's refusal in a query becomes a GraphQL error with its
code; any other exception is masked (``Unexpected server error`` with the request id) so
internals never reach a client.

Logging (:class:`Schema`): an error the client caused (a typed refusal, a document that does
not validate, a bad variable) is logged at INFO in one line without a traceback; anything else
at ERROR with its traceback and the request id the client was given.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from graph.guard import REQUEST_ID
from resolvers.errors import UserErrors

log = logging.getLogger("ownership.errors")


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | UserErrors)


def _rewrite(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class ShapeErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_rewrite, error_message="Unexpected server error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        refusal = error.original_error
        if not isinstance(refusal, UserErrors):
            extensions: dict[str, Any] = {"code": "INTERNAL_SERVER_ERROR"}
            request_id = REQUEST_ID.get()
            if request_id is not None:
                extensions["requestId"] = request_id
            return GraphQLError(
                message=self.error_message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions=extensions,
            )
        first = refusal.errors[0]
        return GraphQLError(
            message=str(refusal),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": first.code.value, "field": first.field},
        )


def _code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, UserErrors):
        return original.errors[0].code.value
    return str((error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED"))


class Schema(strawberry.Schema):
    """strawberry's Schema, logging client errors at INFO and unexpected ones at ERROR."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        request_id = REQUEST_ID.get()
        for error in errors:
            if _unexpected(error):
                log.error(
                    "unexpected error [request %s] at %s: %s",
                    request_id,
                    error.path,
                    error.message,
                    exc_info=error.original_error,
                )
            elif log.isEnabledFor(logging.INFO):
                log.info(
                    "client error [request %s] %s: %s", request_id, _code(error), error.message
                )
