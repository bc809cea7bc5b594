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
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from graph.http import GraphQLView
from graph.schema import schema
from store.db import Store

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

OpenStore = Callable[[], Awaitable[Store]]
OnReady = Callable[[Store], Awaitable[None]]


def create_app(open_store: OpenStore, on_ready: OnReady | None = None) -> Starlette:
    """Build the app; ``open_store`` connects at startup, ``on_ready`` runs once connected."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = await open_store()
        app.state.store = store
        if on_ready is not None:
            await on_ready(store)
        gc.freeze()  # startup objects live for the whole process: keep them out of GC passes
        try:
            yield
        finally:
            await store.close()

    def db_of(request: Any) -> Any:
        return request.app.state.store.db

    async def health(request: Request) -> JSONResponse:
        await request.app.state.store.db.command("ping")
        return JSONResponse({"status": "ok"})

    async def dashboard(request: Request) -> FileResponse:
        # the dashboard page; its data comes from /graphql with the user's token
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    view = GraphQLView(schema, db_of)
    return Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            Route("/healthz", health),
            Route("/", dashboard),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
