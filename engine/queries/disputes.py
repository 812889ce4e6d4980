"""The dispute list: filtered by state, customer, invoice or reason; keyset-paginated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.queries.keyset import Ordering, keyset_page
from engine.queries.pages import Page
from engine.queries.sql import Params
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.views import DisputeView

ORDERINGS: dict[str, Ordering] = {
    "OPENED_AT_DESC": Ordering("d.opened_at", descending=True),
    "DUE_AT_ASC": Ordering("d.due_at", descending=False),
}


@dataclass(frozen=True)
class DisputeFilter:
    states: tuple[str, ...] = ()
    customer_id: int | None = None
    invoice_id: int | None = None
    reason_codes: tuple[str, ...] = ()


def _where(flt: DisputeFilter, p: Params) -> str:
    clauses = ["1 = 1"]
    if flt.states:
        clauses.append(f"d.state IN {p.many(flt.states)}")
    if flt.customer_id is not None:
        clauses.append(f"d.customer = {p.add(flt.customer_id)}")
    if flt.invoice_id is not None:
        clauses.append(f"d.invoice = {p.add(flt.invoice_id)}")
    if flt.reason_codes:
        clauses.append(f"d.reason_code IN {p.many(flt.reason_codes)}")
    return " AND ".join(clauses)


def list_disputes(store: Store, flt: DisputeFilter, order: str, first: int, after: str | None) -> Page[DisputeView]:
    def fetch(where: str, order_sql: str, p: Params, limit: str) -> list[DisputeView]:
        sql = f"SELECT d.* FROM dispute d WHERE {where} ORDER BY {order_sql} LIMIT {limit}"
        with read_only(store) as uow:
            return [DisputeView.of(d) for d in uow.Dispute.select_by_sql(sql, p.bound())]

    def sort_value(v: DisputeView) -> Any:
        return getattr(v, ORDERINGS[order].column.removeprefix("d."))

    p = Params()
    return keyset_page(ORDERINGS, order, first, after, _where(flt, p), p, fetch, sort_value)


def count_disputes(store: Store, flt: DisputeFilter) -> int:
    p = Params()
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM dispute d WHERE {_where(flt, p)}", p.bound())[0])
