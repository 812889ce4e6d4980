"""Relay-style connections with `totalCount`; the count runs only when it is asked for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

from engine.queries.pages import MAX_PAGE_SIZE, Page, check_page_size

N = TypeVar("N")
DEFAULT_PAGE_SIZE = 20

FIRST_DESCRIPTION = f"Page size, at most {MAX_PAGE_SIZE}."
AFTER_DESCRIPTION = "The `endCursor` of the previous page."


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type
class Connection(Generic[N]):
    edges: list[Edge[N]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="All items matching the filter, across pages.")
    async def total_count(self) -> int:
        return await self.count()

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[N]:
        return [e.node for e in self.edges]


V = TypeVar("V")


def connection(
    page: Page[V], convert: Callable[[V], N], count: Callable[[], Awaitable[int]], after: str | None
) -> Connection[N]:
    edges = [Edge(cursor=e.cursor, node=convert(e.node)) for e in page.edges]
    info = PageInfo(
        has_next_page=page.has_next,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, count=count)


def fixed_count(value: int) -> Callable[[], Awaitable[int]]:
    async def count() -> int:
        return value

    return count


__all__ = ["AFTER_DESCRIPTION", "DEFAULT_PAGE_SIZE", "FIRST_DESCRIPTION", "check_page_size"]
