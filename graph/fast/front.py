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

Under the Guard (graph/guard.py, protection on) with no layer between, the Guard calls
:meth:`FastFront.guarded` instead: the front reads and answers on the server's own channel,
with none of the Guard's wrapping, and only a request it hands on gets the wrapped channel.
The Guard keeps what it does for every request (request id, body limit, deadline,
disconnects, the access log and the metrics), the front what it does for a query (the same
admission as the stack's: cost, rate limit, ``extensions.cost``).

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
from typing import Any

import orjson
from graphql import execute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.execution import optimized_is_awaitable

from graph.admission import Admission, admit
from graph.fast.body import encode, read_body, read_guarded, replay, replay_partial
from graph.fast.remember import REMEMBERED, RememberQueries
from graph.fast.switches import enabled
from graph.flight import Flight
from graph.guard import RequestInfo, hand_on, request_info

__all__ = ["REMEMBERED", "FastFront", "RememberQueries"]

log = logging.getLogger(__name__)

_JSON = re.compile(rb"\s*application/json\s*(;.*)?", re.IGNORECASE | re.DOTALL)
_STREAMING = (b"multipart", b"event-stream")


class FastFront:
    """ASGI middleware answering remembered queries on ``path`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, view: Any, schema: Any, path: str = "/graphql") -> None:
        self.app = app
        self.view = view
        self.graphql_schema = schema._schema
        self.executor_class = schema.execution_context_class
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Without the Guard right above: protection off, or layers between (CORS, tests)."""
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or not enabled()
        ):
            await self.app(scope, receive, send)
            return
        body, more = await read_body(receive)
        replayed = replay(body, receive) if more is None else replay_partial(body, more, receive)
        answer = None
        if more is None:
            try:
                answer = await self._answer(scope, body, replayed, request_info(scope))
            except Exception:  # a gap here must never fail a request: the stack answers
                log.exception("the fast front failed; the standard view answers")
        if answer is None:
            REMEMBERED.handed_on += 1
            await self.app(scope, replayed, send)
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

    async def guarded(self, scope: Scope, flight: Flight) -> None:
        """A POST under the Guard (graph/guard.py calls this instead of ``__call__``): the
        same answers, written to the server's channel with what the Guard's wrapped ``send``
        would add (the request id) and record (the status), or handed on to the app through
        the wrapped channel. The Guard's ``try`` around this call does the rest (deadline,
        disconnect, errors, the access log and the metrics)."""
        if scope["path"] != self.path or not enabled():
            await hand_on(self.app, scope, flight)
            return
        body, more = await read_guarded(flight)
        answer = None
        if more is None:
            try:
                # the wrapped receive (never called: the body is read), not the server's: a
                # context kept by a cycle must not keep the server's channel alive
                answer = await self._answer(scope, body, flight.receive, flight)
            except Exception:  # a gap here must never fail a request: the stack answers
                log.exception("the fast front failed; the standard view answers")
        if answer is None:
            REMEMBERED.handed_on += 1
            receive = flight.raw_receive
            # the wrapped receive reads (and counts) the body again, from the replay
            flight.body_done = False
            flight.raw_receive = (
                replay(body, receive) if more is None else replay_partial(body, more, receive)
            )
            await hand_on(self.app, scope, flight)
            return
        payload, media_type = answer
        send = flight.raw_send
        flight.status = 200
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(payload)).encode()),
                    (b"content-type", media_type.encode()),
                    (b"x-request-id", flight.request_id.encode()),
                ],
            }
        )
        flight.complete = True
        await send({"type": "http.response.body", "body": payload})
        REMEMBERED.served += 1

    async def _answer(
        self, scope: Scope, body: bytes, receive: Receive, info: RequestInfo | None
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
            return encode(prepared.constant, extensions), media_type
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
        return encode(result.data, extensions), media_type
