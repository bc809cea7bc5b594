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


VisibleFetch = Callable[..., Awaitable[list[Any]]]


def record_node(
    record_type: type, fetch: VisibleFetch, attributes: Callable[[Any], Any] | None = None
) -> tuple[Any, Any]:
    """``is_type_of`` and ``resolve_nodes`` for a relay.Node type rooted on ``record_type``.

    ``fetch(db, viewer, keys)`` returns the records the viewer may see (None for the others),
    so ``node(id:)`` and ``nodes(ids:)`` are scoped exactly like the type's other reads.
    With ``attributes(info)`` (graph/fast/projection.py) it is called as ``fetch(db, viewer, keys,
    fields)`` with the attributes the selection reads.
    """

    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, record_type)

    async def resolve_nodes(
        cls: type, *, info: Any, node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ctx = info.context
        if attributes is None:
            return await in_order(node_ids, lambda keys: fetch(ctx.db, ctx.viewer, keys))
        fields = attributes(info)
        return await in_order(node_ids, lambda keys: fetch(ctx.db, ctx.viewer, keys, fields))

    return classmethod(is_type_of), classmethod(resolve_nodes)
