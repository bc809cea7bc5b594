"""What the door exports when the installed dependencies were not verified: standard
strawberry execution, whole documents, and a front that hands every request on. Nothing
here imports the package's modules that mirror dependency internals."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

# strawberry.Schema(execution_context_class=None) is strawberry's own executor
FastExecutionContext: Any = None
PLANS: Any = None


class RememberQueries(SchemaExtension):
    """Nothing to remember: no front answers."""


class FastFront:
    """Hands every request to the application unchanged."""

    def __init__(self, app: ASGIApp, **_options: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def selected_attributes(_info: Any, _type_name: str, _model: type[BaseModel]) -> None:
    return None  # whole documents


def connection_attributes(_info: Any, _type_name: str, _model: type[BaseModel]) -> None:
    return None


def prepare(_schema: Any, _document: Any, _body: str) -> int:
    return 0  # no front and no plans to warm
