"""Relay connections with keyset cursors and ``totalCount``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from resolvers.pagination import encode_cursor, window
from store.pagination import Page, Window

NodeT = TypeVar("NodeT")


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
    return Connection(
        nodes=list(page.items),
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=encode_cursor(keys[0]) if keys else None,
            end_cursor=encode_cursor(keys[-1]) if keys else None,
        ),
        total_count=page.total_count,
        keys=keys,
    )


def page_window(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> Window:
    return window(first=first, after=after, last=last, before=before)
