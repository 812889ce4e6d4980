"""The invoice list: filtered, ordered, keyset-paginated, with a total count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.queries import rows
from engine.queries.keyset import Ordering, keyset_page
from engine.queries.pages import Page
from engine.queries.sql import Params, day_text
from engine.services.customers import RISK_CLASSES, SEGMENTS, check_one_of
from engine.store.database import Store
from engine.store.unit_of_work import read_only
from engine.views import InvoiceView
from states.calendar import check_days
from states.money import CURRENCY_EXPONENTS

ORDERINGS: dict[str, Ordering] = {
    "DUE_DATE_ASC": Ordering("i.due_date", descending=False),
    "DUE_DATE_DESC": Ordering("i.due_date", descending=True),
    "ISSUE_DATE_DESC": Ordering("i.issue_date", descending=True),
    "OPEN_AMOUNT_DESC": Ordering("i.open_amount", descending=True),
    "NUMBER_ASC": Ordering("i.number", descending=False),
}


@dataclass(frozen=True)
class InvoiceFilter:
    states: tuple[str, ...] = ()
    customer_id: int | None = None
    segments: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    min_days_past_due: int | None = None
    max_days_past_due: int | None = None
    currency: str | None = None
    number: str | None = None

    def __post_init__(self) -> None:
        check_one_of(self.segments, SEGMENTS, "segment", "filter.segment")
        check_one_of(self.risks, RISK_CLASSES, "risk class", "filter.risk")
        if self.currency is not None:
            check_one_of((self.currency.upper(),), tuple(CURRENCY_EXPONENTS), "currency", "filter.currency")
        for days, field in ((self.min_days_past_due, "minDaysPastDue"), (self.max_days_past_due, "maxDaysPastDue")):
            if days is not None:
                check_days(days, f"filter.{field}")


def _where(flt: InvoiceFilter, today: date, p: Params) -> str:
    clauses = ["1 = 1"]
    if flt.states:
        clauses.append(f"i.state IN {p.many(flt.states)}")
    if flt.customer_id is not None:
        clauses.append(f"i.customer = {p.add(flt.customer_id)}")
    if flt.segments:
        clauses.append(f"c.segment IN {p.many(flt.segments)}")
    if flt.risks:
        clauses.append(f"c.risk_class IN {p.many(flt.risks)}")
    # days past due >= n  ⇔  due date <= today − n (keeps the index on due_date usable)
    if flt.min_days_past_due is not None:
        clauses.append(f"i.due_date <= {p.add(day_text(today - timedelta(days=flt.min_days_past_due)))}")
    if flt.max_days_past_due is not None:
        clauses.append(f"i.due_date >= {p.add(day_text(today - timedelta(days=flt.max_days_past_due)))}")
    if flt.currency:
        clauses.append(f"i.currency = {p.add(flt.currency.upper())}")
    if flt.number:
        clauses.append(f"i.number = {p.add(flt.number)}")
    return " AND ".join(clauses)


FROM = "FROM invoice i JOIN customer c ON c.id = i.customer"


def list_invoices(
    store: Store, flt: InvoiceFilter, order: str, first: int, after: str | None, today: date
) -> Page[InvoiceView]:
    def fetch(where: str, order_sql: str, p: Params, limit: str) -> list[InvoiceView]:
        selected = rows.columns("i", rows.INVOICE_COLUMNS)
        sql = f"SELECT {selected} {FROM} WHERE {where} ORDER BY {order_sql} LIMIT {limit}"
        with read_only(store) as uow:
            fetched = uow.select(sql, p.bound())
        return [rows.invoice_view(row) for row in fetched]

    def sort_value(v: InvoiceView) -> Any:
        return getattr(v, ORDERINGS[order].column.removeprefix("i."))

    p = Params()
    base = _where(flt, today, p)
    return keyset_page(ORDERINGS, order, first, after, base, p, fetch, sort_value)


def count_invoices(store: Store, flt: InvoiceFilter, today: date) -> int:
    p = Params()
    with read_only(store) as uow:
        return int(uow.select(f"SELECT COUNT(*) {FROM} WHERE {_where(flt, today, p)}", p.bound())[0])
