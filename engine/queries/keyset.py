"""Keyset pagination over one sort column plus the id as tie-breaker (stable under inserts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from engine.queries.pages import Edge, Page, check_page_size
from engine.queries.sql import Params, decode_cursor, encode_cursor
from states.errors import ValidationFailed


class HasId(Protocol):
    @property
    def id(self) -> int: ...


V = TypeVar("V", bound=HasId)


@dataclass(frozen=True)
class Ordering:
    column: str  # qualified SQL column, e.g. "i.due_date"
    descending: bool

    @property
    def id_column(self) -> str:
        return self.column.split(".")[0] + ".id"

    def order_sql(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        return f"{self.column} {direction}, {self.id_column} {direction}"

    def after_sql(self, value: Any, last_id: int, p: Params) -> str:
        op = "<" if self.descending else ">"
        col, key = self.column, self.id_column
        return f"({col} {op} {p.add(value)} OR ({col} = {p.add(value)} AND {key} {op} {p.add(last_id)}))"


def keyset_page(
    orderings: dict[str, Ordering],
    order: str,
    first: int,
    after: str | None,
    where: str,
    p: Params,
    fetch: Callable[[str, str, Params, str], list[V]],
    sort_value: Callable[[V], Any],
) -> Page[V]:
    """Fetch `first` + 1 rows after the cursor; the extra row only says whether more follow."""
    check_page_size(first)
    if order not in orderings:
        raise ValidationFailed(f"unknown ordering '{order}'", "orderBy")
    ordering = orderings[order]
    if after:
        cursor_order, value, last_id = decode_cursor(after, 3)
        if cursor_order != order:
            raise ValidationFailed("the cursor was issued for another ordering", "after")
        where = f"{where} AND {ordering.after_sql(value, int(last_id), p)}"
    rows = fetch(where, ordering.order_sql(), p, p.add(first + 1))
    edges = []
    for row in rows[:first]:
        value = sort_value(row)
        edges.append(Edge(encode_cursor([order, _plain(value), row.id]), row))
    return Page(edges, len(rows) > first)


def _plain(value: Any) -> Any:
    """Cursor values compare like stored values: naive UTC text for instants, ISO dates."""
    if isinstance(value, datetime):
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return value.isoformat() if isinstance(value, date) else value
