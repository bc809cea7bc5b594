"""``node(id:)`` / ``nodes(ids:)`` and the shared ``resolve_nodes`` plumbing of Node types.

Every well-formed global ID that is not an object the viewer may see answers null: an unknown
type, a type that is not a Node (MaintenanceWindow, LicenseExpansionRequest), a key that is not
an object ID, a missing or hidden object. A malformed ID (not base64 of ``Type:key``, empty)
is refused with ``extensions.code`` INVALID_ID.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import strawberry
from bson import ObjectId
from strawberry import relay
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import cast as strawberry_cast

from graph.context import Context
from resolvers.errors import ErrorCode, fail
from resolvers.ids import global_id, parse_key

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


Info = strawberry.Info[Context, None]
MAX_NODES = 100


def _node_type(info: Info, type_name: str) -> type[relay.Node] | None:
    """The Node type of this name in the schema, or None (unknown, or not a Node)."""
    definition = info.schema.get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition) or definition.is_interface:
        return None
    origin = definition.origin
    return origin if isinstance(origin, type) and issubclass(origin, relay.Node) else None


async def _resolve(info: Info, ids: list[tuple[str, ObjectId | None]]) -> list[Any]:
    """The visible objects behind parsed IDs, in order; None where there is none."""
    wanted: dict[type[relay.Node], list[int]] = defaultdict(list)
    for index, (type_name, key) in enumerate(ids):
        node_type = _node_type(info, type_name) if key is not None else None
        if node_type is not None:
            wanted[node_type].append(index)
    found: list[Any] = [None] * len(ids)

    async def fetch(node_type: type[relay.Node], indexes: list[int]) -> None:
        keys = [str(ids[index][1]) for index in indexes]
        records = await node_type.resolve_nodes(info=info, node_ids=keys, required=False)
        for index, record in zip(indexes, records, strict=True):
            if record is not None:
                found[index] = strawberry_cast(node_type, record)

    await asyncio.gather(*(fetch(node_type, indexes) for node_type, indexes in wanted.items()))
    return found


@strawberry.type
class NodeFields:
    @strawberry.field(description="Any object you may see, by global ID; null for any other.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        (record,) = await _resolve(info, [global_id(id, ["id"])])
        return record  # type: ignore[no-any-return]

    @strawberry.field(
        description=f"Objects by global ID, in order; null for each you may not see "
        f"(at most {MAX_NODES})."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        if len(ids) > MAX_NODES:
            fail(ErrorCode.INVALID_INPUT, f"ids: at most {MAX_NODES} IDs", ["ids"])
        parsed = [global_id(value, ["ids", str(index)]) for index, value in enumerate(ids)]
        return await _resolve(info, parsed)
