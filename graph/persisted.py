"""Trusted documents at the transports: the refusal over HTTP, and graphql-transport-ws
subscribe messages resolved like HTTP requests (graph/documents.py, resolvers/documents.py).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from resolvers.documents import DocumentError, DocumentErrorCode

GRAPHQL_RESPONSE = "application/graphql-response+json"


class Refused(Exception):
    """Raised by the view for a request whose document cannot run; its ``__call__`` answers."""

    def __init__(self, error: DocumentError, accept: str) -> None:
        super().__init__(error.message)
        self.error = error
        self.accept = accept


def error_body(error: DocumentError) -> dict[str, Any]:
    return {"message": error.message, "extensions": {"code": error.code.value}}


def refusal(refused: Refused) -> JSONResponse:
    error = refused.error
    headers = {}
    if error.code is DocumentErrorCode.PERSISTED_QUERY_NOT_FOUND:
        # Apollo's convention: never cached, the client's next request registers it
        headers["Cache-Control"] = "private, no-cache, must-revalidate"
    response = JSONResponse(
        {"errors": [error_body(error)]}, status_code=error.status, headers=headers
    )
    if GRAPHQL_RESPONSE in refused.accept:
        response.headers["content-type"] = GRAPHQL_RESPONSE
    return response


class TrustedTransportWS(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws whose ``subscribe`` payload may name a persisted document, and
    whose texts obey ``TRUSTED_DOCUMENTS_ONLY`` as over HTTP."""

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload") if isinstance(message, dict) else None
        registry = getattr(self.view, "documents", None)
        if registry is not None and isinstance(payload, dict) and self.connection_acknowledged:
            context = self.context
            try:
                text = await registry.resolve(context.db, context.viewer, payload, context)
            except DocumentError as error:
                await self.send_message(
                    {"id": message.get("id"), "type": "error", "payload": [error_body(error)]}
                )
                return
            if text is not None:  # no document at all: strawberry refuses the message
                payload["query"] = text
        await super().handle_subscribe(message)
