"""Shared ``resolve_nodes`` plumbing for ``node(id:)`` / ``nodes(ids:)``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from resolvers.ids import parse_key

R = TypeVar("R")


async def in_order(
    node_ids: Iterable[str], fetch: Callable[[list[Any]], Awaitable[list[R | None]]]
) -> list[R | None]:
    """Fetch the records behind node keys (already scoped by ``fetch``), in key order."""
    keys = [parse_key(key) for key in node_ids]
    valid = [key for key in keys if key is not None]
    found = await fetch(valid) if valid else []
    by_id = {record.id: record for record in found if record is not None}  # type: ignore[attr-defined]
    return [by_id.get(key) if key is not None else None for key in keys]
