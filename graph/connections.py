"""Relay connections with keyset cursors and ``totalCount``, and the connection arguments.

:func:`paged` gives a resolver the arguments every connection repeats: ``first``/``after``/
``last``/``before`` (and, where the list can be ordered, ``orderBy``) arrive as one checked
:class:`~store.pagination.Window`; a ``filter`` input arrives as a dict for the use case.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry

from resolvers.pagination import Direction, encode_cursor, window
from store.pagination import ID_ORDER, Order, Page, Window

NodeT = TypeVar("NodeT")

OrderDirection = strawberry.enum(
    Direction, name="OrderDirection", description="Ascending or descending."
)


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    node: NodeT
    cursor: str


@strawberry.type(description="A page of a list. Cursors are stable under inserts.")
class Connection(Generic[NodeT]):
    @strawberry.field
    def edges(self) -> list[Edge[NodeT]]:
        # built when asked for: most reads select only `nodes`
        encode = self.encode
        return [
            Edge(node=item, cursor=encode(key))
            for item, key in zip(self.nodes, self.keys, strict=True)
        ]

    nodes: list[NodeT]
    page_info: PageInfo
    total_count: int = strawberry.field(description="All items matching, across pages.")
    keys: strawberry.Private[list[Any]]  # the items' sort keys
    encode: strawberry.Private[Callable[[Any], str]] = encode_cursor  # a key's cursor


def connection(page: Page[Any]) -> Connection[Any]:
    keys = list(page.keys)
    encode = functools.partial(encode_cursor, order=page.order)
    return Connection(
        nodes=list(page.items),
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=encode(keys[0]) if keys else None,
            end_cursor=encode(keys[-1]) if keys else None,
        ),
        total_count=page.total_count,
        keys=keys,
        encode=encode,
    )


def page_window(
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order: Order = ID_ORDER,
) -> Window:
    return window(first=first, after=after, last=last, before=before, order=order)


_PAGING = ("first", "after", "last", "before")
_TYPES: dict[str, Any] = {"first": int | None, "after": str | None}
_TYPES |= {"last": int | None, "before": str | None}


def paged(
    orders: Callable[[dict[str, Any] | None], Order] | None = None,
    order_type: Any = None,
    order_description: str | None = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Decorate a connection resolver that takes ``window: Window`` (and optionally
    ``filter``): GraphQL sees ``first``, ``after``, ``last``, ``before`` in its place, plus
    ``orderBy: order_type`` when ``orders`` (a use case's orderBy -> store Order) is given.
    The resolver receives the checked window (cursors read in the chosen order) and the
    filter as a dict (empty when not given)."""

    def decorate(resolve: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        signature = inspect.signature(resolve)
        keyword = inspect.Parameter.KEYWORD_ONLY
        params: list[inspect.Parameter] = []
        seen = False  # parameters after ``window`` become keyword-only
        for param in signature.parameters.values():
            if param.name != "window":
                params.append(param.replace(kind=keyword) if seen else param)
                continue
            seen = True
            params += [
                inspect.Parameter(name, keyword, default=None, annotation=_TYPES[name])
                for name in _PAGING
            ]
            if orders is not None:
                described = strawberry.argument(description=order_description)
                annotation = Annotated[order_type | None, described]
                params.append(
                    inspect.Parameter("order_by", keyword, default=None, annotation=annotation)
                )
        assert seen, f"{resolve.__name__} takes no `window`"
        filtered = "filter" in signature.parameters

        @functools.wraps(resolve)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            order = orders(_as_dict(kwargs.pop("order_by", None))) if orders else ID_ORDER
            paging = [kwargs.pop(name, None) for name in _PAGING]
            kwargs["window"] = page_window(*paging, order=order)
            if filtered:
                kwargs["filter"] = _as_dict(kwargs.get("filter")) or {}
            return await resolve(*args, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _as_dict(value: Any) -> dict[str, Any] | None:
    return strawberry.asdict(value) if value is not None else None
