"""Relay connections with keyset cursors and ``totalCount``."""

from __future__ import annotations

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
    edges: list[Edge[NodeT]]
    nodes: list[NodeT]
    page_info: PageInfo
    total_count: int = strawberry.field(description="All items matching, across pages.")


def connection(page: Page[Any]) -> Connection[Any]:
    cursors = [encode_cursor(key) for key in page.keys]
    return Connection(
        edges=[
            Edge(node=item, cursor=cursor) for item, cursor in zip(page.items, cursors, strict=True)
        ],
        nodes=list(page.items),
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        total_count=page.total_count,
    )


def page_window(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> Window:
    return window(first=first, after=after, last=last, before=before)
