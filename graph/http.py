"""GraphQL over HTTP: bearer authentication, orjson, and application/graphql-response+json."""

from __future__ import annotations

from typing import Any

import orjson
from graphql import ExecutionResult
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.types.unset import UNSET

from graph.context import Context, Loaders
from resolvers.auth import authenticate

GRAPHQL_RESPONSE = "application/graphql-response+json"
_MEDIA_TYPE = "graphql_media_type"


def _unauthenticated() -> Response:
    return JSONResponse(
        {
            "errors": [
                {
                    "message": "Authentication required: send `Authorization: Bearer <token>` "
                    "(create one with `ownership token create --email ...`).",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        },
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="ownership"'},
    )


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view; every operation needs a valid bearer token."""

    def __init__(self, schema: Any, db_of: Any) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self._db_of = db_of

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        if isinstance(request, Request) and not self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            db = self._db_of(request)
            viewer = await authenticate(db, request.headers.get("authorization"))
            if viewer is None:
                return _unauthenticated()
            accept = request.headers.get("accept", "")
            request.state.media_type = (
                GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"
            )
            context = Context(db=db, viewer=viewer, loaders=Loaders.create(db), request=request)
        return await super().run(request, context=context, root_value=root_value)

    async def get_context(self, request: Any, response: Any) -> None:  # type: ignore[override]
        # Operations get their Context in run(); only the GraphiQL page gets here.
        return None

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        setattr(sub_response, _MEDIA_TYPE, getattr(request.state, "media_type", None))
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = process_result(result)
        request_error = result.data is None and all(e.path is None for e in result.errors or ())
        if request_error and request.state.media_type == GRAPHQL_RESPONSE:
            # GraphQL over HTTP: a document that could not run has no `data` and is a 400.
            data.pop("data", None)  # type: ignore[misc]
            request.state.sub_response.status_code = 400
        return data

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = getattr(sub_response, _MEDIA_TYPE, None)
        if media_type is not None:
            response.headers["content-type"] = media_type
        return response
