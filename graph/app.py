"""The Starlette application: lifespan owns the database client; /graphql serves the API,
/ the dashboard page (graph/static/)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from graph import ide
from graph.fast import FastFront
from graph.http import GraphQLView
from graph.metrics import metrics_endpoint
from graph.schema import schema
from resolvers.live import EventHub
from store.db import Store

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

OpenStore = Callable[[], Awaitable[Store]]
OnReady = Callable[[Store], Awaitable[None]]
# Starts a background task on the open store; returns the coroutine function that stops it.
Background = Callable[[Store], Awaitable[Callable[[], Awaitable[None]]]]


def create_app(
    open_store: OpenStore,
    on_ready: OnReady | None = None,
    background: Background | None = None,
    poll_interval: float = 0.5,
) -> Starlette:
    """Build the app; ``open_store`` connects at startup, ``on_ready`` runs once connected,
    ``background`` (e.g. the notice task) runs while serving and is stopped before closing.

    ``poll_interval``: how often live events from other processes are looked for where the
    database has no change streams.
    """

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
            await app.state.hub.close()
            await store.close()

    def db_of(request: Any) -> Any:
        return request.app.state.store.db

    async def health(request: Request) -> JSONResponse:
        await request.app.state.store.db.command("ping")
        return JSONResponse({"status": "ok"})

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
            Route(ide.PREFIX + "{name}", ide.asset),
            Route("/documents", documents_manifest),
            Route("/", dashboard),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(FastFront, view=view, schema=schema)],
        lifespan=lifespan,
    )
    app.state.documents = view.documents  # trusted documents (graph/documents.py)
    return app
