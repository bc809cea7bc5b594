"""GraphQL over HTTP: bearer authentication, orjson, and application/graphql-response+json."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import orjson
from bson import ObjectId
from cross_web import HTTPException
from graphql import ExecutionResult
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from graph import ide, persisted
from graph.context import Context, Loaders
from graph.documents import Registry
from graph.guard import http_error, request_info
from graph.persisted import Refused, TrustedTransportWS
from resolvers.auth import identify
from resolvers.documents import DocumentError
from resolvers.errors import ErrorCode
from store.people import PersonRecord
from store.records import now

GRAPHQL_RESPONSE = "application/graphql-response+json"
_MEDIA_TYPE = "graphql_media_type"


class _MethodNotAllowed(Exception):
    """A mutation over GET (strawberry answers 400; GraphQL over HTTP says 405)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def _insufficient_scope() -> Response:
    """A valid token whose scope does not open /graphql (a cloud node's METRICS token)."""
    return JSONResponse(
        {
            "errors": [
                {
                    "message": "A METRICS token may only report its app's metrics at "
                    "POST /metrics; use a person's token for /graphql.",
                    "extensions": {"code": ErrorCode.INSUFFICIENT_SCOPE.value},
                }
            ]
        },
        status_code=403,
    )


def node_viewer() -> PersonRecord:
    """Who a cloud node's request runs as: nobody, so it sees no app and no person; only
    ``reportMetrics`` (which reads ``Context.node_app_id``) does anything for it."""
    return PersonRecord.model_validate(
        {"_id": ObjectId(), "email": "node@invalid", "name": "cloud node", "created_at": now()}
    )


def _code(error: Any) -> object:
    return (getattr(error, "extensions", None) or {}).get("code")


class TextFrames(ASGIWebSocketAdapter):
    """Every graphql-transport-ws message as a text frame.

    The protocol is JSON in text frames; graphql-ws (the client under Apollo Client, urql and
    GraphiQL) drops a binary frame with "Message is missing the 'type' property". Strawberry
    sends bytes whenever the view's encoder returns bytes, as orjson does."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view; every operation needs a valid bearer token.

    Over HTTP the token is in the ``Authorization`` header; over a WebSocket
    (graphql-transport-ws only) in the ``connection_init`` payload, as
    ``{"Authorization": "Bearer mxo_..."}`` (or ``authorization`` / ``token``).
    """

    websocket_adapter_class = TextFrames  # type: ignore[assignment]
    graphql_transport_ws_handler_class = TrustedTransportWS

    def __init__(
        self, schema: Any, db_of: Any, hub_of: Any = None, documents: Registry | None = None
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=20,
        )
        self._db_of = db_of
        self._hub_of = hub_of or (lambda request: None)
        # trusted documents (graph/documents.py): persisted IDs, TRUSTED_DOCUMENTS_ONLY
        self.documents = documents or Registry(schema._schema)

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Any:
        if isinstance(request, Request) and not self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            context = await self.http_context(request)
            if context is None:
                refused = getattr(request.state, "refused_scope", False)
                return _insufficient_scope() if refused else _unauthenticated()
        elif isinstance(request, WebSocket):
            # The viewer is known once connection_init arrives: see on_ws_connect.
            db = self._db_of(request)
            context = Context(
                db=db,
                viewer=None,  # type: ignore[arg-type]
                loaders=Loaders.create(db),
                request=request,
                hub=self._hub_of(request),
            )
        return await super().run(request, context=context, root_value=root_value)

    async def http_context(self, request: Request) -> Context | None:
        """The context of an HTTP operation, None without a valid token (one database read)
        or with one whose scope does not open /graphql (``request.state.refused_scope``).

        Also used by graph/fast/front.py, so both ways of answering see the same viewer and
        apply the same scope (the front answers only queries; graph/tokens.py ``ScopeGuard``
        refuses a READ_ONLY token's mutations wherever they run)."""
        db = self._db_of(request)
        credential = await identify(db, request.headers.get("authorization"))
        if credential is None:
            return None
        info = request_info(request.scope)
        if info is not None:
            info.token_id = credential.token_id
        if not credential.may_use_graphql:
            request.state.refused_scope = True
            return None
        viewer = credential.person or node_viewer()
        accept = request.headers.get("accept", "")
        request.state.media_type = (
            GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else "application/json"
        )
        return Context(
            db=db,
            viewer=viewer,
            loaders=Loaders.create(db),
            request=request,
            hub=self._hub_of(request),
            node_app_id=credential.node_app_id,
            credential=credential,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:  # type: ignore[override]
        """Authenticate a WebSocket by the token in its connection_init payload (else 4403)."""
        params = context.connection_params or {}
        value = params.get("Authorization") or params.get("authorization")
        if value is None and isinstance(params.get("token"), str):
            value = f"Bearer {params['token']}"
        credential = await identify(context.db, value if isinstance(value, str) else None)
        if credential is None or credential.person is None:
            code = ErrorCode.UNAUTHENTICATED if credential is None else ErrorCode.INSUFFICIENT_SCOPE
            raise ConnectionRejectionError({"code": code.value})
        context.viewer = credential.person
        context.credential = credential  # its scope, and its operations spend its rate limit
        return UNSET

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except _MethodNotAllowed as refusal:
            # GraphQL over HTTP: an operation the method may not carry is 405, saying which may
            response = http_error(405, refusal.reason, {"Allow": "POST"})
        except HTTPException as refusal:
            status = refusal.status_code
            if refusal.reason == "Unsupported content type":
                # a POST that is not JSON: never run one a browser sends without CORS preflight
                status = 415
            response = http_error(status, refusal.reason)
        except Refused as refused:  # a document that cannot run (graph/persisted.py)
            response = persisted.refusal(refused)
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        """The body as JSON: an object (one operation) or a list (a batch, refused later);
        anything else, or not UTF-8, is a 400 whose body says why."""
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raise HTTPException(400, f"The body is not JSON in UTF-8: {error}") from error
        if not isinstance(value, dict | list):
            raise HTTPException(400, 'The body must be a JSON object: {"query": "..."}')
        return value

    async def execute_operation(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: Any,
        sub_response: Response,
    ) -> Any:
        """Resolve the document a persisted request names and apply the trusted-documents
        rule (resolvers/documents.py), then run it as strawberry does."""
        if not isinstance(request_data, list):
            data: dict[str, Any] = {"query": request_data.query}
            data["extensions"] = request_data.extensions
            # strawberry keeps no documentId: read it from the request again
            if request_adapter.method == "GET":
                data["documentId"] = request_adapter.query_params.get("documentId")
            elif b"documentId" in (raw := await request_adapter.get_body()):
                body = self.parse_json(raw)
                data["documentId"] = body.get("documentId") if isinstance(body, dict) else None
            try:
                request_data.query = await self.documents.resolve(
                    context.db, context.viewer, data, context
                )
            except DocumentError as error:
                raise Refused(error, request.headers.get("accept", "")) from None
        return await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=request_data,
            context=context,
            root_value=root_value,
            sub_response=sub_response,
        )

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            adapter = kwargs.get("request_adapter")
            method = getattr(adapter, "method", None)
            if method == "GET" and isinstance(error.__cause__, InvalidOperationTypeError):
                raise _MethodNotAllowed(error.reason) from error.__cause__
            raise

    def should_render_graphql_ide(self, request: Any) -> bool:
        # a GET naming a persisted document is an operation, not a visit to the page
        params = request.query_params
        if params.get("documentId") is not None or params.get("extensions") is not None:
            return False
        return super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return ide.page()  # served from this server, never a CDN (graph/ide.py)

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
        info = request_info(request.scope)
        admission = info.admission if info is not None else None
        if admission is not None and admission.retry_after is not None:
            request.state.sub_response.status_code = 429
            request.state.sub_response.headers["Retry-After"] = str(admission.retry_after)
            return data
        request_error = result.data is None and all(e.path is None for e in result.errors or ())
        if request_error and request.state.media_type == GRAPHQL_RESPONSE:
            # GraphQL over HTTP: a document that could not run has no `data` and is a 400.
            data.pop("data", None)  # type: ignore[misc]
            request.state.sub_response.status_code = 400
        if any(_code(error) == ErrorCode.INSUFFICIENT_SCOPE for error in result.errors or ()):
            request.state.sub_response.status_code = 403  # refused by the token's scope
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
