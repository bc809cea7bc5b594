"""The outermost HTTP layer: what applies to every request, however it is answered.

- a request id (the client's ``X-Request-Id`` when it is a short token, else a new one),
  returned as ``X-Request-Id`` and in every masked error;
- the body limit (413 before reading a larger declared body, or as soon as one grows past it);
- the execution deadline (``TIMEOUT``, 504) and cancellation when the client goes away;
- every error it answers is GraphQL JSON, an unexpected one logged with the request id;
- one access log line and the Prometheus metrics per request (graph/observe.py).

Nothing is armed per request: graph/flight.py's sweeper starts the disconnect watch of a
request still running after 50 ms and cancels one past its deadline.

With the fast front right below (no layer between), a POST goes to ``FastFront.guarded``
inside this layer's ``try``: the front answers on the server's own channel (adding the
request id and setting the status as the wrapped ``send`` would), and only a request it
hands on gets the wrapped channel (:func:`hand_on`). Everything above still applies to both.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
from asyncio import current_task, get_running_loop
from contextvars import ContextVar
from time import perf_counter
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from graph.flight import BodyTooLarge, Flight, Sweeper
from graph.limits import Protection
from graph.observe import Recorder

log = logging.getLogger(__name__)

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# request ids: this process's random prefix and a counter (unique across processes, cheap)
_PREFIX = os.urandom(5).hex()
_SEQUENCE = itertools.count(1)
_KEY = "ownership.request"
_CLIENT_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


# what the layers below learn about a request (for the log, the metrics and each other)
RequestInfo = Flight


def request_info(scope: Any) -> RequestInfo | None:
    return scope.get(_KEY) if isinstance(scope, dict) else None


def error_body(status: int, code: str, message: str, **extensions: Any) -> bytes:
    return orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}
    )


async def send_error(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def hand_on(app: ASGIApp, scope: Scope, flight: Flight) -> None:
    """The app below answers through the request's wrapped channel, with the request id in
    the context (each masked error carries it, graph/masking.py)."""
    token = REQUEST_ID.set(flight.request_id)
    try:
        await app(scope, flight.receive, flight.send)
    finally:
        REQUEST_ID.reset(token)


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        protection: Protection,
        limiter: Any = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.app = app
        self.protection = protection
        self.limiter = limiter
        # the metrics and the access log (graph/observe.py)
        self.recorder = recorder or Recorder(protection.access_log)
        self.sweeper = Sweeper(protection.deadline_seconds)
        # the fast front right below (graph/fast/front.py), with no layer between: it answers
        # a POST on the server's own channel and wraps it only for a request it hands on
        self.front = getattr(app, "guarded", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # each operation: its cost and rate limit
                request_id = f"{_PREFIX}{next(_SEQUENCE):06x}"
                scope[_KEY] = Flight(request_id, self.protection, self.limiter)
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        headers = dict(scope["headers"])
        client_id = headers.get(b"x-request-id")
        if client_id is not None and _CLIENT_ID.fullmatch(client_id):
            request_id = client_id.decode()
        else:
            request_id = f"{_PREFIX}{next(_SEQUENCE):06x}"
        loop = get_running_loop()
        flight = Flight(
            request_id, self.protection, self.limiter, receive, send, start, current_task(loop)
        )
        scope[_KEY] = flight
        sweeper = self.sweeper
        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > flight.limit:
                raise BodyTooLarge
            sweeper.flights.add(flight)  # Sweeper.add, inline
            if sweeper.handle is None or sweeper.loop is not loop:
                sweeper.start()
            front = self.front
            if front is not None and scope["method"] == "POST":
                await front(scope, flight)  # it calls hand_on for what it does not answer
            else:
                await hand_on(self.app, scope, flight)
        except asyncio.CancelledError:
            if flight.ended_by is None:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            await self._ended(send, flight)
        except BodyTooLarge:
            if not flight.started:
                await send_error(send, 413, _too_large(flight.limit), [flight.id_header])
            flight.status = 413
        except Exception:
            log.exception("unexpected error [request %s]", request_id)
            if not flight.started:
                body = error_body(
                    500, "INTERNAL_SERVER_ERROR", "Unexpected server error", requestId=request_id
                )
                await send_error(send, 500, body, [flight.id_header])
            flight.status = 500
        finally:
            sweeper.flights.discard(flight)
            if flight.watcher is not None:
                flight.close()
            # the scope holds the flight, the flight the server's channel (which holds the
            # scope): break that cycle, or each request leaves ~20 objects to the cyclic GC
            flight.raw_receive = flight.raw_send = flight.task = None  # type: ignore[assignment]
            recorder = self.recorder
            recorder.pending.append(
                {  # graph/observe.py KEYS, in that order
                    "requestId": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": flight.status,
                    # milliseconds to 2 decimals, as round(ms, 2) but without its cost
                    "durationMs": int((perf_counter() - start) * 100_000.0 + 0.5) / 100,
                    "operation": flight.operation,
                    "cost": flight.cost,
                    "tokenId": flight.token_id,
                    "endedBy": flight.ended_by,
                }
            )
            if recorder.timer is None or recorder.loop is not loop:  # Recorder.add, inline
                recorder.arm()

    async def _ended(self, send: Send, flight: Flight) -> None:
        if flight.ended_by == "disconnect":
            flight.status = 499  # nobody to answer: the client went away
            return
        if flight.started:
            flight.status = 504
            return
        seconds = self.protection.deadline_seconds
        body = error_body(
            504,
            "TIMEOUT",
            f"The request ran past its deadline of {seconds:g} s and was stopped.",
            deadlineSeconds=seconds,
            requestId=flight.request_id,
        )
        with contextlib.suppress(OSError):  # the connection may be gone too
            await send_error(send, 504, body, [flight.id_header])
        flight.status = 504


# HTTP refusals as GraphQL errors: status -> extensions.code
_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def http_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A refusal before any operation ran, as a GraphQL response body (never text/plain)."""
    code = _CODES.get(status, "BAD_REQUEST")
    return Response(
        error_body(status, code, message), status, headers, media_type="application/json"
    )


def _too_large(limit: int) -> bytes:
    return error_body(
        413, "PAYLOAD_TOO_LARGE", f"Request bodies are limited to {limit} bytes.", maxBytes=limit
    )
