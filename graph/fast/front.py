"""The fast front: GraphQL queries over HTTP without the per-request framework work.

Stock handling of one POST /graphql goes through Starlette's routing, strawberry's view
(request adapter, sub-response, body parsing) and strawberry's ``Schema.execute`` (an
extension runner with a context manager per hook and per extension, parse and validation
through the extensions). For a document it has already seen, none of that changes the
answer: the document was parsed and validated once, and only execution depends on the
request. So this ASGI layer, in front of the Starlette app:

1. learns documents from strawberry itself: :class:`RememberQueries` (a schema extension)
   records, in a bounded LRU, every *query* operation that strawberry parsed and validated
   with the schema's own rules and limits and started to execute;
2. answers a POST whose JSON body names such a document: it authenticates exactly like the
   view (``GraphQLView.http_context``), executes the remembered document with graphql-core
   and the schema's executor (the compiled read path), and writes the JSON itself;
3. hands everything else to the app unchanged (the body is replayed): documents not seen
   yet, mutations, subscriptions, GET, other content types, batches, bodies orjson cannot
   read, missing or invalid tokens (the view's 401), ``Accept`` asking for a stream.

A result with any error is never written by the front: the request is handed to the app,
which runs it the standard way and shapes its errors (queries only read, so running one
twice changes nothing). So every response the front writes is one the stack would write:
tests/graph/test_front.py compares status, headers and body byte for byte, and
``OWNERSHIP_FAST_READS=0`` (or ``graph.fast.standard()``) switches the front off with the
compiled path.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple

import orjson
from graphql import DocumentNode, FieldNode, GraphQLSchema, execute, get_operation_ast
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graph.admission import Admission, admit
from graph.cost import CostPlan, plan_for
from graph.fast.switches import enabled
from graph.guard import request_info

log = logging.getLogger(__name__)

CACHE_SIZE = 256
_JSON = re.compile(rb"\s*application/json\s*(;.*)?", re.IGNORECASE | re.DOTALL)
_STREAMING = (b"multipart", b"event-stream")
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


class FastFront:
    """ASGI middleware answering remembered queries on ``path`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, view: Any, schema: Any, path: str = "/graphql") -> None:
        self.app = app
        self.view = view
        self.graphql_schema = schema._schema
        self.executor_class = schema.execution_context_class
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or not enabled()
        ):
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        replay = _replay(body, receive) if more is None else _replay_partial(body, more, receive)
        answer = None
        if more is None:
            try:
                answer = await self._answer(scope, body, replay)
            except Exception:  # a gap here must never fail a request: the stack answers
                log.exception("the fast front failed; the standard view answers")
        if answer is None:
            REMEMBERED.handed_on += 1
            await self.app(scope, replay, send)
            return
        payload, media_type = answer
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", media_type.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
        REMEMBERED.served += 1

    async def _answer(
        self, scope: Scope, body: bytes, receive: Receive
    ) -> tuple[bytes, str] | None:
        """The response body and media type, or None: the stack answers (nothing sent)."""
        content_type = accept = None
        for name, value in scope["headers"]:
            if name == b"content-type" and content_type is None:
                content_type = value
            elif name == b"accept" and accept is None:
                accept = value
        if content_type is None or _JSON.fullmatch(content_type) is None:
            return None
        if accept is not None and any(word in accept.lower() for word in _STREAMING):
            return None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if type(data) is not dict:
            return None
        # the text itself, or a persisted request's registered text (trusted documents:
        # graph/documents.py); None when only the view may decide
        query = self.view.documents.servable(data)
        name = data.get("operationName")
        variables = data.get("variables")
        extensions = data.get("extensions")
        if (
            type(query) is not str
            or (name is not None and type(name) is not str)
            or (variables is not None and type(variables) is not dict)
            or (extensions is not None and type(extensions) is not dict)
        ):
            return None
        prepared = REMEMBERED.get((query, name))
        if prepared is None:
            return None
        request = Request(scope, receive)
        request._body = body
        context = await self.view.http_context(request)
        if context is None:
            return None  # the view answers 401
        media_type: str = request.state.media_type
        # the same admission as the stack's (graph/admission.py): cost limit, rate limit
        info = request_info(scope)
        extensions: dict[str, Any] | None = None
        if info is not None and info.protection.enabled:
            admission = admit(info, context, prepared.cost, variables, prepared.operation_name)
            if type(admission) is not Admission:  # decided after a database round trip
                admission = await admission
            if admission.error is not None:
                return None  # the stack answers the same refusal (nothing charged twice)
            if admission.extension is not None:
                extensions = {"cost": admission.extension}
        if prepared.constant is not None:
            return _encode(prepared.constant, extensions), media_type
        result = execute(
            self.graphql_schema,
            prepared.document,
            context_value=context,
            variable_values=variables,
            operation_name=prepared.operation_name,
            executor_class=self.executor_class,
            is_awaitable=optimized_is_awaitable,
            operation_extensions=extensions,
        )
        if optimized_is_awaitable(result):
            result = await result
        if result.errors or result.extensions:
            return None
        return _encode(result.data, extensions), media_type


def _encode(data: Any, extensions: dict[str, Any] | None) -> bytes:
    if extensions is None:
        return orjson.dumps({"data": data})
    return orjson.dumps({"data": data, "extensions": extensions})


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole request body, or what was read before a non-body message (returned)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving the app the body already read, then the real channel."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _replay_partial(body: bytes, interrupted: Message, receive: Receive) -> Receive:
    """As :func:`_replay` when the client went away mid-body: what came, then that message."""
    queue: list[Message] = [
        {"type": "http.request", "body": body, "more_body": True},
        interrupted,
    ]

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed
