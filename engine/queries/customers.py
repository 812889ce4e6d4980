"""The customer list: filtered by segment, risk, state or a name search; keyset-paginated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.queries.keyset import Ordering, keyset_page
from engine.queries.pages import Page
from engine.queries.sql import Params
from engine.services.customers import RISK_CLASSES, SEGMENTS, check_one_of
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.views import CustomerView

ORDERINGS: dict[str, Ordering] = {
    "NAME_ASC": Ordering("c.name", descending=False),
    "EXTERNAL_REF_ASC": Ordering("c.external_ref", descending=False),
    "RISK_SCORE_DESC": Ordering("c.risk_score", descending=True),
}


@dataclass(frozen=True)
class CustomerFilter:
    segments: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    search: str | None = None  # part of the name or the external reference

    def __post_init__(self) -> None:
        check_one_of(self.segments, SEGMENTS, "segment", "filter.segment")
        check_one_of(self.risks, RISK_CLASSES, "risk class", "filter.risk")


def _where(flt: CustomerFilter, p: Params) -> str:
    clauses = ["1 = 1"]
    if flt.segments:
        clauses.append(f"c.segment IN {p.many(flt.segments)}")
    if flt.risks:
        clauses.append(f"c.risk_class IN {p.many(flt.risks)}")
    if flt.states:
        clauses.append(f"c.state IN {p.many(flt.states)}")
    if flt.search:
        like = "%" + flt.search.lower().replace("%", "").replace("_", "") + "%"
        clauses.append(f"(LOWER(c.name) LIKE {p.add(like)} OR LOWER(c.external_ref) LIKE {p.add(like)})")
    return " AND ".join(clauses)


def list_customers(store: Store, flt: CustomerFilter, order: str, first: int, after: str | None) -> Page[CustomerView]:
    def fetch(where: str, order_sql: str, p: Params, limit: str) -> list[CustomerView]:
        sql = f"SELECT c.* FROM customer c WHERE {where} ORDER BY {order_sql} LIMIT {limit}"
        with read_only(store) as uow:
            return [CustomerView.of(c) for c in uow.Customer.select_by_sql(sql, p.bound())]

    def sort_value(v: CustomerView) -> Any:
        return getattr(v, ORDERINGS[order].column.removeprefix("c."))

    p = Params()
    return keyset_page(ORDERINGS, order, first, after, _where(flt, p), p, fetch, sort_value)


def count_customers(store: Store, flt: CustomerFilter) -> int:
    p = Params()
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) FROM customer c WHERE {_where(flt, p)}", p.bound())[0])
