"""The Starlette application: lifespan owns the database client; /graphql serves the API,
/ the dashboard page (graph/static/); /healthz (alive), /readyz (the database answers),
/prometheus (metrics).

What applies to every request is the one ordered list in :func:`middleware`, outermost
first, with the fast front innermost: whatever is listed before it sees the requests the
front answers as well as those the stack answers."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from graph import ide
from graph.fast import FastFront
from graph.guard import Guard, http_error
from graph.http import GraphQLView
from graph.limits import Protection
from graph.metrics import metrics_endpoint
from graph.observe import Recorder, prometheus_endpoint
from graph.ratelimit import RateLimiter
from graph.schema import schema
from resolvers.live import EventHub
from store.db import Store

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
OPERATIONS = Path(__file__).parent / "operations"  # the dashboard's GraphQL documents

OpenStore = Callable[[], Awaitable[Store]]
OnReady = Callable[[Store], Awaitable[None]]
# Starts a background task on the open store; returns the coroutine function that stops it.
Background = Callable[[Store], Awaitable[Callable[[], Awaitable[None]]]]


READY_TIMEOUT = 2.0


async def _refusal(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (unknown path, method not allowed) as GraphQL errors."""
    assert isinstance(error, HTTPException)
    return http_error(error.status_code, error.detail, error.headers)


def middleware(
    view: GraphQLView,
    protection: Protection,
    limiter: RateLimiter | None,
    extra: Sequence[Middleware] = (),
    recorder: Recorder | None = None,
) -> list[Middleware]:
    """Every layer a request passes through, outermost first; the fast front is last, so
    each one before it applies to the front's answers too (tests/graph/test_front.py).

    1. Guard: request id, body limit, deadline, disconnects, JSON errors, access log, metrics
       (left out with OWNERSHIP_PROTECTION=0, for the benchmark's comparison only);
    2. CORS, when OWNERSHIP_CORS_ORIGINS names origins (off by default);
    3. ``extra``: what a caller adds (tests);
    4. the fast front (graph/fast/): authentication, cost and rate limit as the stack's.
    """
    layers: list[Middleware] = []
    if protection.enabled:
        layers.append(Middleware(Guard, protection=protection, limiter=limiter, recorder=recorder))
    if protection.cors_origins:
        layers.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(protection.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "Accept", "X-Request-Id"],
                expose_headers=["X-Request-Id", "Retry-After"],
                max_age=600,
            )
        )
    layers.extend(extra)
    layers.append(Middleware(FastFront, view=view, schema=schema))
    return layers


def create_app(
    open_store: OpenStore,
    on_ready: OnReady | None = None,
    background: Background | None = None,
    poll_interval: float = 0.5,
    protection: Protection | None = None,
    extra_middleware: Sequence[Middleware] = (),
) -> Starlette:
    """Build the app; ``open_store`` connects at startup, ``on_ready`` runs once connected,
    ``background`` (e.g. the notice task) runs while serving and is stopped before closing.

    ``poll_interval``: how often live events from other processes are looked for where the
    database has no change streams. ``protection``: the limits (default: from the
    environment, graph/limits.py).
    """
    protection = protection or Protection.from_env()
    limiter = RateLimiter(protection) if protection.enabled else None
    # the metrics and the access log of every HTTP request (graph/observe.py)
    recorder = Recorder(protection.access_log) if protection.enabled else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store()
        app.state.store = store
        app.state.hub = EventHub(store.db, poll_interval=poll_interval)
        await view.documents.load(store.db)  # trusted documents, parsed and warmed
        if on_ready is not None:
            await on_ready(store)
        stop = await background(store) if background is not None else None
        gc.freeze()  # startup objects live for the whole process: keep them out of GC passes
        try:
            yield
        finally:
            if stop is not None:
                await stop()
            if limiter is not None:
                await limiter.flush(store.db)
            if recorder is not None:
                recorder.close()  # what waits is counted and written
            await app.state.hub.close()
            await store.close()

    def db_of(request: Any) -> Any:
        return request.app.state.store.db

    async def health(request: Request) -> JSONResponse:
        # liveness: the process answers (the database is /readyz's business)
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> JSONResponse:
        store = getattr(request.app.state, "store", None)
        try:
            if store is None:
                raise RuntimeError("not started")
            async with asyncio.timeout(READY_TIMEOUT):
                await store.db.command("ping")
        except Exception as error:
            log.warning("not ready: %s", error)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ready", "database": "ok"})

    async def dashboard(request: Request) -> FileResponse:
        # the dashboard page; its data comes from /graphql with the user's token
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def documents_manifest(request: Request) -> JSONResponse:
        # the documents folders' operations by name -> documentId, for pages that send them
        return JSONResponse(view.documents.manifest, headers={"Cache-Control": "no-cache"})

    def hub_of(request: Any) -> Any:
        return getattr(request.app.state, "hub", None)

    view = GraphQLView(schema, db_of, hub_of)
    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/metrics", metrics_endpoint(db_of, hub_of), methods=["POST"]),
            Route("/healthz", health),
            Route("/readyz", ready),
            Route("/prometheus", prometheus_endpoint),
            Route(ide.PREFIX + "{name}", ide.asset),
            Route("/documents", documents_manifest),
            Route("/", dashboard),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            Mount("/operations", StaticFiles(directory=OPERATIONS), name="operations"),
        ],
        middleware=middleware(view, protection, limiter, extra_middleware, recorder),
        exception_handlers={HTTPException: _refusal},
        lifespan=lifespan,
    )
    app.state.documents = view.documents  # trusted documents (graph/documents.py)
    app.state.recorder = recorder  # graph/observe.py: flush() writes the waiting lines
    return app
